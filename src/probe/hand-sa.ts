/**
 * SAs held by hand (TS 33.203 §7.1, Annex I; RFC 4303; RFC 3948): one {@link EspSa} per
 * direction, keyed by Annex I expansion of IK/CK, with the selector written down by its user
 * rather than taken from an SA table. Sealing and opening are the pure RFC 3948 UDP-encapsulated
 * tunnel-mode functions; a crafted packet (another inner source, another SPI, a sequence number
 * of its own) is sealed with the same keys so that only the crafted field differs.
 */
import { cryptoRng } from '../common/index.js';
import { EspSa, decodeEspHeader, deriveEspKeys, type EncryptionAlg, type EspKeys, type IntegrityAlg } from '../ipsec/index.js';
import { decapsulate, encapsulate } from '../ipsec/index.js';
import type { Endpoint } from '../ip/index.js';
import { ProbeError } from './errors.js';

/** One unidirectional SA held by hand: SPI, transform, Annex I keys and the selector. */
export interface HandSa {
  readonly spi: number;
  readonly esp: EspSa;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly alg: IntegrityAlg;
  readonly ealg: EncryptionAlg;
  readonly keys: EspKeys;
}

export interface HandSaParams {
  spi: number;
  alg: string;
  ealg: string;
  ik: Uint8Array;
  ck: Uint8Array;
  src: Endpoint;
  dst: Endpoint;
  /** Last sequence number already used (the next packet carries this + 1). Default 0. */
  initialSeq?: number;
}

/** TS 33.203 Annex I: the SA's keys come from IK (integrity) and CK (encryption). */
export function handSa(p: HandSaParams): HandSa {
  const alg = p.alg as IntegrityAlg;
  const ealg = p.ealg as EncryptionAlg;
  const keys = deriveEspKeys(alg, ealg, p.ik, p.ck);
  const esp = new EspSa({ spi: p.spi, integrity: alg, encryption: ealg, keys, replayWindow: 64, initialSeq: p.initialSeq ?? 0 });
  return { spi: p.spi, esp, src: p.src, dst: p.dst, alg, ealg, keys };
}

/** A copy of `sa` with another SPI and/or next sequence number (same keys, same selector). */
export function craftedSa(sa: HandSa, o: { spi?: number; initialSeq?: number }): HandSa {
  const spi = o.spi ?? sa.spi;
  const esp = new EspSa({ spi, integrity: sa.alg, encryption: sa.ealg, keys: sa.keys, replayWindow: 64, initialSeq: o.initialSeq ?? sa.esp.lastSeq });
  return { ...sa, spi, esp };
}

function utf8(sip: string | Uint8Array): Uint8Array {
  return typeof sip === 'string' ? new TextEncoder().encode(sip) : sip;
}

/**
 * RFC 3948 UDP-encapsulated tunnel mode: the SIP text in an inner IP/UDP packet, sealed. The
 * inner source and destination are the SA's selector unless `inner` says otherwise (a crafted
 * packet whose inner header does not match its SA, RFC 4301 §5.2).
 */
export function sealSip(sa: HandSa, sip: string | Uint8Array, inner: { src?: Endpoint; dst?: Endpoint } = {}): Uint8Array {
  return encapsulate(sa.esp, inner.src ?? sa.src, inner.dst ?? sa.dst, utf8(sip), cryptoRng);
}

/** The SPI of an ESP-in-UDP datagram (RFC 3948 §2.2: no non-ESP marker). Throws EspParseError. */
export function spiOf(datagram: Uint8Array): number {
  return decodeEspHeader(datagram).spi;
}

/** The sequence number of an ESP-in-UDP datagram (RFC 4303 §2.2). Throws EspParseError. */
export function seqOf(datagram: Uint8Array): number {
  return decodeEspHeader(datagram).seq;
}

/** Open a datagram on a hand-held inbound SA; throws {@link ProbeError} with the reason when it does not verify. */
export function openSip(sa: HandSa, datagram: Uint8Array): { seq: number; src: Endpoint; dst: Endpoint; text: string } {
  const r = decapsulate(sa.esp, datagram);
  if (!r.ok) throw new ProbeError(`ESP on SPI 0x${sa.spi.toString(16)} did not open: ${r.reason}`);
  return { seq: r.seq, src: r.src, dst: r.dst, text: new TextDecoder().decode(r.payload) };
}

/** A copy of an ESP datagram with one bit of its ICV (the last byte) flipped. */
export function withBadIcv(datagram: Uint8Array): Uint8Array {
  const out = datagram.slice();
  out[out.length - 1] ^= 0x01;
  return out;
}

/** A SIP message as text: start line, headers in order, CRLF, body; Content-Length computed. */
export function sipText(start: string, headers: [string, string][], body = ''): string {
  const lines = [start, ...headers.map(([k, v]) => `${k}: ${v}`), `Content-Length: ${new TextEncoder().encode(body).length}`];
  return `${lines.join('\r\n')}\r\n\r\n${body}`;
}
