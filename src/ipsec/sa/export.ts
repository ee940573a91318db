/**
 * Key export (TS 33.203 keys made visible on purpose, for debugging with Wireshark or for
 * installing the same SAs by hand). These lines are the only places SA keys are ever rendered:
 * write them to a file the user asked for, never to a log.
 */
import { ipVersionOf } from '../../ip/index.js';
import { wiresharkEspSaLine } from '../esp/index.js';
import { shellQuote, xfrmPolicyAddArgs, xfrmStateAddArgs, type XfrmOptions } from '../xfrm/argv.js';
import type { SecurityAssociation } from './types.js';

/** One Wireshark 4.0 `esp_sa` UAT record for the SA (see C1's {@link wiresharkEspSaLine}). */
export function wiresharkLineForSa(sa: SecurityAssociation): string {
  return wiresharkEspSaLine({
    family: ipVersionOf(sa.src.address) === 6 ? 'IPv6' : 'IPv4',
    src: sa.src.address,
    dst: sa.dst.address,
    spi: sa.spi,
    encryption: sa.encryption,
    integrity: sa.integrity,
    keys: sa.keys,
  });
}

/** `esp_sa` records for several SAs (e.g. the four of a set), one per line. */
export function wiresharkLinesForSas(sas: readonly SecurityAssociation[]): string[] {
  return sas.map(wiresharkLineForSa);
}

/**
 * The `ip xfrm state add ...` command line of the SA, built by the same argv builder as the
 * xfrm datapath, followed by its `ip xfrm policy add ...` lines (one per transport).
 */
export function xfrmLinesForSa(sa: SecurityAssociation, opts: XfrmOptions): string[] {
  const line = (args: string[]): string => ['ip', ...args].map(shellQuote).join(' ');
  return [line(xfrmStateAddArgs(sa, opts)), ...sa.transports.map((t) => line(xfrmPolicyAddArgs(sa, t, opts)))];
}
