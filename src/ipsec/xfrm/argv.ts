/**
 * Argument arrays for iproute2's `ip xfrm` (ip-xfrm(8), iproute2 6.x) that install the SAs of
 * TS 33.203 in the Linux kernel: one state (SAD entry, RFC 4301 §4.4.2) per SA and one policy
 * (SPD entry, §4.4.1) per SA and transport, since UDP and TCP share the SAs (R-SA-3).
 *
 * Pure: these functions only build arrays; {@link XfrmDatapath} runs them with execFile (never a
 * shell). Ownership: every state and policy carries a `reqid` from our range, so cleanup deletes
 * only our own entries and never flushes the kernel's tables.
 *
 * Kernel algorithm names (crypto API) for the TS 33.203 Annex H transforms:
 * | alg / ealg    | ip xfrm                                                   |
 * |---------------|-----------------------------------------------------------|
 * | hmac-md5-96   | `auth-trunc hmac(md5) 0x<IK_ESP 16 B> 96` (RFC 2403)      |
 * | hmac-sha-1-96 | `auth-trunc hmac(sha1) 0x<IK_ESP 20 B> 96` (RFC 2404)     |
 * | null (ealg)   | `enc ecb(cipher_null) ""` (RFC 2410)                      |
 * | aes-cbc       | `enc cbc(aes) 0x<CK_ESP 16 B>` (RFC 3602)                 |
 * | des-ede3-cbc  | `enc cbc(des3_ede) 0x<CK_ESP 24 B>` (RFC 2451)            |
 * | aes-gcm       | `aead rfc4106(gcm(aes)) 0x<CK ‖ salt> 128` (RFC 4106)     |
 * | aes-gmac      | `aead rfc4543(gcm(aes)) 0x<IK ‖ salt> 128` (RFC 4543)     |
 */
import { InvalidArgumentError, toHex } from '../../common/index.js';
import { ipVersionOf } from '../../ip/index.js';
import type { SecurityAssociation, Transport } from '../sa/types.js';

export interface XfrmOptions {
  /** reqid of this SA: marks the entries as ours and ties its policies to its state. */
  reqid: number;
  /** Anti-replay window (RFC 4303 §3.4.3, R-SA-8); default 64. */
  replayWindow?: number;
  /** Policy priority (lower wins); default 1000. */
  priority?: number;
}

const ENC: Record<string, string> = { null: 'ecb(cipher_null)', 'aes-cbc': 'cbc(aes)', 'des-ede3-cbc': 'cbc(des3_ede)' };
const AUTH: Record<string, string> = { 'hmac-md5-96': 'hmac(md5)', 'hmac-sha-1-96': 'hmac(sha1)' };

function hexKey(k: Uint8Array): string {
  return `0x${toHex(k)}`;
}

function spiHex(spi: number): string {
  return `0x${(spi >>> 0).toString(16).padStart(8, '0')}`;
}

function hostPrefix(address: string): string {
  const v = ipVersionOf(address);
  if (v === 0) throw new InvalidArgumentError(`not an IP address: ${JSON.stringify(address)}`, 'address');
  return `${address}/${v === 4 ? 32 : 128}`;
}

function checkReqid(reqid: number): void {
  if (!Number.isInteger(reqid) || reqid < 1 || reqid > 0xffffffff) throw new InvalidArgumentError(`reqid must be 1..2^32-1, got ${reqid}`, 'reqid');
}

/** The ALGO-LIST of a state (contains the keys: never log it). */
export function algorithmArgs(sa: SecurityAssociation): string[] {
  const { integrity, encryption, keys } = sa;
  if (encryption === 'aes-gcm') return ['aead', 'rfc4106(gcm(aes))', hexKey(new Uint8Array([...keys.encryptionKey, ...keys.salt])), '128'];
  if (integrity === 'aes-gmac') return ['aead', 'rfc4543(gcm(aes))', hexKey(new Uint8Array([...keys.integrityKey, ...keys.salt])), '128'];
  const auth = AUTH[integrity];
  const enc = ENC[encryption];
  if (!auth || !enc) throw new InvalidArgumentError(`no kernel transform for ${integrity}/${encryption}`, 'transform');
  return ['auth-trunc', auth, hexKey(keys.integrityKey), '96', 'enc', enc, encryption === 'null' ? '' : hexKey(keys.encryptionKey)];
}

/** `mode ...` (and `encap espinudp` for UDP-enc-tun, RFC 3948 between the protected ports). */
function modeArgs(sa: SecurityAssociation): string[] {
  switch (sa.mode) {
    case 'trans':
      return ['mode', 'transport'];
    case 'tun':
      return ['mode', 'tunnel'];
    case 'UDP-enc-tun':
      return ['mode', 'tunnel', 'encap', 'espinudp', String(sa.src.port), String(sa.dst.port), '0.0.0.0'];
  }
}

/** `ip xfrm state add ...` for one SA (argv after `ip`). */
export function xfrmStateAddArgs(sa: SecurityAssociation, opts: XfrmOptions): string[] {
  checkReqid(opts.reqid);
  const replay = opts.replayWindow ?? 64;
  const args = ['xfrm', 'state', 'add', 'src', sa.src.address, 'dst', sa.dst.address, 'proto', 'esp', 'spi', spiHex(sa.spi), 'reqid', String(opts.reqid)];
  const mode = modeArgs(sa);
  args.push(...mode.slice(0, 2), 'replay-window', String(replay), ...algorithmArgs(sa), ...mode.slice(2));
  return args;
}

/** `ip xfrm state delete ...` for one SA. */
export function xfrmStateDeleteArgs(sa: SecurityAssociation): string[] {
  return ['xfrm', 'state', 'delete', 'src', sa.src.address, 'dst', sa.dst.address, 'proto', 'esp', 'spi', spiHex(sa.spi)];
}

function selectorArgs(sa: SecurityAssociation, transport: Transport): string[] {
  return ['src', hostPrefix(sa.src.address), 'dst', hostPrefix(sa.dst.address), 'proto', transport, 'sport', String(sa.src.port), 'dport', String(sa.dst.port)];
}

/**
 * `ip xfrm policy add ...` binding the selector of one SA and transport to its state (`update`:
 * in place of a policy on the same selector and direction).
 */
export function xfrmPolicyAddArgs(sa: SecurityAssociation, transport: Transport, opts: XfrmOptions, verb: 'add' | 'update' = 'add'): string[] {
  checkReqid(opts.reqid);
  const mode = sa.mode === 'trans' ? 'transport' : 'tunnel';
  return [
    'xfrm',
    'policy',
    verb,
    ...selectorArgs(sa, transport),
    'dir',
    sa.direction,
    'priority',
    String(opts.priority ?? 1000),
    'tmpl',
    'src',
    sa.src.address,
    'dst',
    sa.dst.address,
    'proto',
    'esp',
    ...(sa.direction === 'out' ? ['spi', spiHex(sa.spi)] : []),
    'reqid',
    String(opts.reqid),
    'mode',
    mode,
  ];
}

/** What identifies the kernel policy of one SA and transport: its selector and direction. */
export function xfrmPolicyKey(sa: SecurityAssociation, transport: Transport): string {
  return [...selectorArgs(sa, transport), sa.direction].join(' ');
}

/** `ip xfrm policy delete ...` for one SA and transport. */
export function xfrmPolicyDeleteArgs(sa: SecurityAssociation, transport: Transport): string[] {
  return ['xfrm', 'policy', 'delete', ...selectorArgs(sa, transport), 'dir', sa.direction];
}

const KEY_AFTER: Record<string, number> = { 'auth-trunc': 2, auth: 2, enc: 2, aead: 2 };

/** The argv with key material replaced by `[key]`: the only form fit for errors and logs. */
export function redactArgs(args: readonly string[]): string[] {
  const out = [...args];
  for (let i = 0; i < out.length; i++) {
    const off = KEY_AFTER[out[i]];
    if (off !== undefined && i + off < out.length) out[i + off] = '[key]';
  }
  return out;
}

/** Quote one argv element for display as a shell word (for the `ip xfrm` key export line). */
export function shellQuote(arg: string): string {
  if (arg !== '' && /^[A-Za-z0-9_./:=@%+-]+$/.test(arg)) return arg;
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

/**
 * The `ip xfrm state add ...` command line of the SA, built by the same argv builder as the
 * xfrm datapath, followed by its `ip xfrm policy add ...` lines (one per transport).
 */
export function xfrmLinesForSa(sa: SecurityAssociation, opts: XfrmOptions): string[] {
  const line = (args: string[]): string => ['ip', ...args].map(shellQuote).join(' ');
  return [line(xfrmStateAddArgs(sa, opts)), ...sa.transports.map((t) => line(xfrmPolicyAddArgs(sa, t, opts)))];
}
