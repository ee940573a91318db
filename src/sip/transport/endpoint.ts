/**
 * Address helpers shared by the transports: IP family detection, canonical endpoint keys and the
 * `host[:port]` forms used in Via sent-by (RFC 3261 §20.42: an IPv6 reference is bracketed).
 */
import { InvalidArgumentError, joinedKey } from '../../common/index.js';
import { ipVersionOf } from '../../ip/index.js';
import type { Endpoint } from './types.js';

/**
 * 4 or 6 for an IP literal, 0 for anything else: the pure parser of ip/address, plus the zone
 * index an IPv6 literal may carry (RFC 4007 §11.2, `fe80::1%eth0`), as node:net's isIP accepts it.
 */
function isIP(a: string): 0 | 4 | 6 {
  const zone = a.indexOf('%');
  if (zone < 0) return ipVersionOf(a);
  return ipVersionOf(a.slice(0, zone)) === 6 && /^%[0-9a-zA-Z\-.:]+$/.test(a.slice(zone)) ? 6 : 0;
}

/**
 * Memo of {@link ipFamily} and {@link canonicalAddress}: every message asks them about the same few
 * addresses (its peers), and parsing the literal each time cost 1.7 % of `imsec core`'s CPU under
 * load. Bounded: emptied when full, so a node seeing many addresses pays only the parse.
 */
const MEMO_MAX = 4096;
const families = new Map<string, 0 | 4 | 6>();
const canonicals = new Map<string, string>();

function remember<V>(memo: Map<string, V>, key: string, value: V): V {
  if (memo.size >= MEMO_MAX) memo.clear();
  memo.set(key, value);
  return value;
}

/** 4 or 6 for an IP literal (brackets allowed), 0 for anything else (a host name). */
export function ipFamily(address: string): 0 | 4 | 6 {
  return families.get(address) ?? remember(families, address, isIP(stripBrackets(address)));
}

export function stripBrackets(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}

/**
 * Canonical text of an IP address, so that `::1`, `[::1]` and `0:0:0:0:0:0:0:1` compare equal,
 * and an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, what a dual-stack socket reports) equals
 * its IPv4 form. Host names are lower-cased.
 */
export function canonicalAddress(address: string): string {
  return canonicals.get(address) ?? remember(canonicals, address, canonicalOf(address));
}

function canonicalOf(address: string): string {
  const a = stripBrackets(address);
  const fam = isIP(a);
  if (fam === 4) return a;
  if (fam === 6) {
    const u = new URL(`http://[${a}]/`).hostname.slice(1, -1);
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(u);
    if (mapped) {
      const hi = parseInt(mapped[1], 16);
      const lo = parseInt(mapped[2], 16);
      return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
    }
    return u;
  }
  return a.toLowerCase();
}

/** A map key for an endpoint. */
export function endpointKey(e: Endpoint): string {
  return joinedKey(canonicalAddress(e.address), e.port);
}

/** `host` as it must appear in a SIP header: IPv6 literals in brackets. */
export function hostForHeader(address: string): string {
  return ipFamily(address) === 6 ? `[${stripBrackets(address)}]` : address;
}

export function formatEndpoint(e: Endpoint): string {
  return `${hostForHeader(e.address)}:${e.port}`;
}

/** Throws unless the port is an integer in 1..65535 (0 allowed when binding). */
export function checkPort(port: number, allowZero = false): void {
  if (!Number.isInteger(port) || port < (allowZero ? 0 : 1) || port > 65535) {
    throw new InvalidArgumentError(`invalid port ${port}`, 'port');
  }
}
