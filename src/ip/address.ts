/**
 * IP address text <-> bytes. IPv4 dotted decimal (RFC 791 §3.2 notation, no leading zeros) and
 * IPv6 text (RFC 4291 §2.2: full, `::`-compressed, and with an embedded IPv4 tail), formatted
 * back in the canonical form of RFC 5952 §4 (and §5 for IPv4-mapped addresses).
 */
import { InvalidArgumentError } from '../common/index.js';

/** 4 for IPv4 text, 6 for IPv6 text, 0 for neither. */
export function ipVersionOf(text: string): 0 | 4 | 6 {
  if (isIpv4Text(text)) return 4;
  if (parseIpv6(text)) return 6;
  return 0;
}

/**
 * True for IPv4 dotted-decimal text, which is then canonical as it stands (RFC 5952 §5 writes the
 * same notation, and leading zeros are refused): nothing to parse again or format. Allocates nothing.
 */
export function isIpv4Text(text: string): boolean {
  return ipv4Value(text) >= 0;
}

/**
 * The 32-bit value of IPv4 dotted decimal (four octets of 0-255, no leading zeros), or -1: one
 * scan of the characters. Every packet of the userspace datapath and every endpoint check asks it
 * (a split and four regular expressions cost 3 % of a swarm's CPU).
 */
function ipv4Value(s: string): number {
  const n = s.length;
  if (n < 7 || n > 15) return -1;
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits === 1 && octet === 0) return -1; // a leading zero
      octet = octet * 10 + (c - 0x30);
      if (octet > 255) return -1;
      digits++;
    } else return -1;
  }
  return dots === 3 && digits > 0 ? value * 256 + octet : -1;
}

function parseIpv4(s: string): Uint8Array | undefined {
  const v = ipv4Value(s);
  if (v < 0) return undefined;
  return Uint8Array.of(v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff);
}

function parseIpv6(s: string): Uint8Array | undefined {
  if (s.length < 2 || s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return undefined;
  const out = new Uint8Array(16);
  let tail: Uint8Array | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.indexOf('.') >= 0) {
    tail = parseIpv4(s.slice(lastColon + 1));
    if (!tail) return undefined;
    text = s.slice(0, lastColon + 1) + '0:0'; // placeholder groups, replaced below
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): string[] | undefined => {
    if (h === '') return [];
    const g = h.split(':');
    return g.every((x) => /^[0-9a-fA-F]{1,4}$/.test(x)) ? g : undefined;
  };
  const head = groups(halves[0]);
  const rest = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !rest) return undefined;
  const n = head.length + rest.length;
  if (halves.length === 2 ? n > 7 : n !== 8) return undefined;
  const all = [...head, ...Array<string>(8 - n).fill('0'), ...rest];
  for (let i = 0; i < 8; i++) {
    const v = parseInt(all[i], 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  }
  if (tail) out.set(tail, 12);
  return out;
}

/** Parses IPv4 or IPv6 text into 4 or 16 bytes; throws INVALID_ARGUMENT otherwise. */
export function parseIp(text: string): Uint8Array {
  const b = parseIpv4(text) ?? parseIpv6(text);
  if (!b) throw new InvalidArgumentError(`not an IP address: ${JSON.stringify(text.slice(0, 60))}`, 'address');
  return b;
}

/** A 4- or 16-byte address given as text or bytes, as bytes. */
export function ipBytes(a: string | Uint8Array): Uint8Array {
  if (typeof a === 'string') return parseIp(a);
  if (a.length !== 4 && a.length !== 16) throw new InvalidArgumentError(`an IP address has 4 or 16 bytes, got ${a.length}`, 'address');
  return a;
}

/** Formats 4 bytes as dotted decimal, 16 bytes as RFC 5952 text. */
export function formatIp(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length !== 16) throw new InvalidArgumentError(`an IP address has 4 or 16 bytes, got ${b.length}`, 'address');
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted tail.
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i] << 8) | b[2 * i + 1]);
  // §4.2.1-4.2.3: compress the longest run of two or more zero groups, the first on a tie.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}
