/**
 * Key export (TS 33.203 keys made visible on purpose, for debugging with Wireshark). These lines
 * and xfrm/argv.ts's `xfrmLinesForSa` (the same SAs installed by hand) are the only places SA keys
 * are ever rendered: write them to a file the user asked for, never to a log.
 */
import { ipVersionOf } from '../../ip/index.js';
import { wiresharkEspSaLine } from '../esp/index.js';
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
