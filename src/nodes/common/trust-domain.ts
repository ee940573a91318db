/**
 * The trust domain of the IMS core (RFC 3325 §2.3, TS 24.229 §4.4): the set of nodes whose
 * asserted identities a CSCF believes. Membership is decided by the peer's address — the source
 * address of a datagram, or the remote address of a TCP connection — against configured
 * addresses and prefixes (`"10.0.0.7"`, `"10.0.0.0/24"`, `"2001:db8::/32"`). Never by a source
 * port: a node's TCP connections come from ephemeral ports.
 *
 * What a request from outside loses (RFC 3325 §5: a proxy that receives P-Asserted-Identity from
 * an element it does not trust removes it; TS 24.229 §4.4 applies the same to the other header
 * fields whose content only the trust domain may vouch for): see {@link TRUST_DOMAIN_HEADERS}.
 *
 * On a single lab host every local process can use 127.0.0.1, so a trust domain of `127.0.0.1`
 * trusts every local process; deployments put the core on addresses that UEs cannot use.
 */
import { InvalidArgumentError } from '../../common/index.js';
import { formatDigestChallenge, parseDigestChallenge, withoutAkaKeys, formatDigestCredentials, parseDigestCredentials } from '../../auth/index.js';
import { parseIp } from '../../ip/index.js';
import type { SipMessage, SipRequest } from '../../sip/message/index.js';

/**
 * Header fields removed from a request received from outside the trust domain: the asserted
 * identity (RFC 3325 §5), the access network and charging information (RFC 7315 §4.4, §4.5,
 * §4.6), the asserted service (RFC 6050 §4), the served user (RFC 5502 §6) and the profile key
 * (RFC 5002 §5), each of which only a node of the domain may set.
 */
export const TRUST_DOMAIN_HEADERS = [
  'p-asserted-identity',
  'p-access-network-info',
  'p-charging-vector',
  'p-charging-function-addresses',
  'p-asserted-service',
  'p-served-user',
  'p-profile-key',
] as const;

interface Prefix {
  bytes: Uint8Array;
  bits: number;
}

/** Addresses and prefixes of the trusted nodes; `has(address)` answers membership. */
export class TrustDomain {
  private readonly prefixes: Prefix[];

  /** @throws InvalidArgumentError naming the entry that is neither an address nor `address/bits`. */
  constructor(readonly entries: readonly string[]) {
    this.prefixes = entries.map(parsePrefix);
  }

  /** True when `address` (an IP literal, brackets optional; IPv4-mapped IPv6 counts as IPv4) is inside. */
  has(address: string): boolean {
    let b: Uint8Array;
    try {
      b = unmap(parseIp(address.replace(/^\[(.*)\]$/, '$1')));
    } catch {
      return false;
    }
    return this.prefixes.some((p) => p.bytes.length === b.length && matches(p, b));
  }
}

/** Checks the entries of a configuration field; the message names the bad entry. */
export function checkTrustDomain(entries: readonly string[]): string | undefined {
  try {
    new TrustDomain(entries);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Removes the {@link TRUST_DOMAIN_HEADERS} from a request in place (RFC 3325 §5), and from a
 * REGISTER's Authorization the `integrity-protected` parameter: only a P-CSCF of the domain may
 * say that a REGISTER came over its security associations (TS 24.229 §5.2.2, §5.4.1.1), so the
 * S-CSCF must not skip AKA on anyone else's word (R-REG-4). Returns what it removed.
 */
export function stripUntrusted(req: SipRequest): string[] {
  const removed: string[] = [];
  for (const h of TRUST_DOMAIN_HEADERS) {
    if (req.headers.has(h)) {
      req.headers.remove(h);
      removed.push(h);
    }
  }
  if (req.method === 'REGISTER') {
    const lines = req.headers.getAll('authorization');
    const kept = lines.flatMap(withoutIntegrityMark);
    if (kept.length !== lines.length || kept.some((l, i) => l !== lines[i])) {
      req.headers.remove('authorization');
      for (const l of kept) req.headers.append('Authorization', l);
      removed.push('integrity-protected');
    }
  }
  return removed;
}

/**
 * One Authorization value without its `integrity-protected` parameter: re-formatted from the
 * parsed credentials (RFC 3261 §25.1 auth-params, TS 24.229 §7.2A.1); credentials that mention
 * the parameter but do not parse are dropped (the S-CSCF then challenges); others stay as sent.
 */
function withoutIntegrityMark(line: string): string[] {
  if (!/integrity-protected/i.test(line)) return [line];
  try {
    const { integrityProtected: _mark, ...rest } = parseDigestCredentials(line);
    return [formatDigestCredentials(rest)];
  } catch {
    return [];
  }
}

/**
 * A WWW-Authenticate value without the AKA keys the S-CSCF adds for the P-CSCF (TS 24.229
 * §7.2A.4: `ik` and `ck` go from the S-CSCF to the P-CSCF only; TS 33.203 §6.1: CK and IK never
 * leave the home network for anyone else). A value that names them but does not parse is dropped.
 */
export function challengeWithoutKeys(value: string): string[] {
  if (!/\b(ik|ck)\s*=/i.test(value)) return [value];
  try {
    return [formatDigestChallenge(withoutAkaKeys(parseDigestChallenge(value)))];
  } catch {
    return [];
  }
}

/**
 * Removes the AKA keys from every WWW-Authenticate of a response about to leave the trust domain
 * (see {@link challengeWithoutKeys}), in place; true when something was removed.
 */
export function stripAkaKeys(msg: SipMessage): boolean {
  const lines = msg.headers.getAll('www-authenticate');
  const kept = lines.flatMap(challengeWithoutKeys);
  if (kept.length === lines.length && kept.every((l, i) => l === lines[i])) return false;
  msg.headers.remove('www-authenticate');
  for (const l of kept) msg.headers.append('WWW-Authenticate', l);
  return true;
}

function parsePrefix(entry: string): Prefix {
  const m = /^([^/]+)(?:\/(\d{1,3}))?$/.exec(entry.trim());
  let bytes: Uint8Array | undefined;
  try {
    bytes = m ? unmap(parseIp(m[1].replace(/^\[(.*)\]$/, '$1'))) : undefined;
  } catch {
    bytes = undefined;
  }
  if (!m || !bytes) throw new InvalidArgumentError(`trust domain entry ${JSON.stringify(entry)} is not an IP address or ADDRESS/BITS`, 'trustDomain');
  const bits = m[2] === undefined ? bytes.length * 8 : Number(m[2]);
  if (bits > bytes.length * 8) throw new InvalidArgumentError(`trust domain entry ${JSON.stringify(entry)}: at most ${bytes.length * 8} prefix bits`, 'trustDomain');
  return { bytes, bits };
}

function unmap(b: Uint8Array): Uint8Array {
  const mapped = b.length === 16 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return mapped ? b.slice(12) : b;
}

function matches(p: Prefix, b: Uint8Array): boolean {
  const full = p.bits >> 3;
  for (let i = 0; i < full; i++) if (p.bytes[i] !== b[i]) return false;
  const rest = p.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (p.bytes[full] & mask) === (b[full] & mask);
}
