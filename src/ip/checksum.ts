/**
 * The Internet checksum (RFC 1071): the 16-bit one's complement of the one's complement sum of
 * 16-bit big-endian words, an odd last byte padded with a zero byte. Used by the IPv4 header
 * (RFC 791 §3.1) and by UDP/TCP over their pseudo-headers (RFC 768, RFC 9293 §3.1,
 * RFC 8200 §8.1).
 */

/** Adds `b` to a running 32-bit sum (RFC 1071 §4.1), as if it started at an even offset. */
export function sumWords(b: Uint8Array, sum = 0): number {
  const n = b.length - (b.length & 1);
  for (let i = 0; i < n; i += 2) {
    sum += (b[i] << 8) | b[i + 1];
    // Fold early so the accumulator never leaves the safe small-integer range.
    if (sum > 0x7fff0000) sum = (sum & 0xffff) + (sum >>> 16);
  }
  if (b.length & 1) sum += b[n] << 8;
  return sum;
}

/** Folds a running sum to 16 bits and complements it. */
export function finishChecksum(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** RFC 1071 checksum of the concatenation of `parts` (each part but the last of even length). */
export function internetChecksum(...parts: Uint8Array[]): number {
  let sum = 0;
  for (const p of parts) sum = sumWords(p, sum);
  return finishChecksum(sum);
}

/**
 * Sum of the UDP/TCP pseudo-header: source and destination addresses, protocol and the
 * upper-layer length (IPv4 RFC 768 / RFC 9293 §3.1: 12 bytes; IPv6 RFC 8200 §8.1: 40 bytes,
 * whose 32-bit length and next header add up the same way).
 */
export function pseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  let sum = sumWords(src);
  sum = sumWords(dst, sum);
  return sum + protocol + (length >>> 16) + (length & 0xffff);
}
