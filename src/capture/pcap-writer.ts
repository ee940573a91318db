/**
 * The classic libpcap file format (draft-ietf-opsawg-pcap §4-§5): a 24-byte file header, then
 * per packet a 16-byte record header and the captured bytes. We write little-endian,
 * microsecond resolution (magic 0xa1b2c3d4), version 2.4 (pcap-reader.ts reads both orders).
 * ```
 * File header:   magic(4) major(2)=2 minor(2)=4 reserved1(4) reserved2(4) snaplen(4) linktype(4)
 * Record header: ts_sec(4) ts_usec(4) captured_len(4) original_len(4)
 * ```
 * Link types (tcpdump.org LINKTYPE_*): RAW = 101 (an IPv4 or IPv6 packet, told apart by the
 * version nibble), ETHERNET = 1.
 */
import { ImsError, InvalidArgumentError } from '../common/index.js';

export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

/** A pcap file that cannot be read (bad magic, truncated record, ...). */
export class PcapError extends ImsError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('PCAP', message);
  }
}

export interface PcapOptions {
  /** Largest captured length per packet, default 65535 (longer packets are cut). */
  snaplen?: number;
  /** LINKTYPE_RAW (default) or LINKTYPE_ETHERNET. */
  linktype?: number;
}

/** The 24-byte file header. */
export function pcapFileHeader(opts: PcapOptions = {}): Uint8Array {
  const snaplen = opts.snaplen ?? 65535;
  const linktype = opts.linktype ?? LINKTYPE_RAW;
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > 0x7fffffff) throw new InvalidArgumentError(`bad snaplen ${snaplen}`, 'snaplen');
  if (!Number.isInteger(linktype) || linktype < 0 || linktype > 0xffff) throw new InvalidArgumentError(`bad linktype ${linktype}`, 'linktype');
  const out = new Uint8Array(PCAP_FILE_HEADER_LENGTH);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, PCAP_MAGIC_US, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, snaplen, true);
  dv.setUint32(20, linktype, true);
  return out;
}

/** One record (header and captured bytes) for a packet seen at `timestampMs` (Unix epoch ms, fractions kept to the µs). */
export function pcapRecord(packet: Uint8Array, timestampMs: number, snaplen = 65535): Uint8Array {
  if (!Number.isFinite(timestampMs) || timestampMs < 0 || timestampMs >= 2 ** 32 * 1000) {
    throw new InvalidArgumentError(`timestamp ${timestampMs} ms is outside the pcap range`, 'timestampMs');
  }
  const micros = Math.round(timestampMs * 1000);
  const sec = Math.floor(micros / 1e6);
  const usec = micros - sec * 1e6;
  const caplen = Math.min(packet.length, snaplen);
  const out = new Uint8Array(PCAP_RECORD_HEADER_LENGTH + caplen);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, sec, true);
  dv.setUint32(4, usec, true);
  dv.setUint32(8, caplen, true);
  dv.setUint32(12, packet.length, true);
  out.set(packet.subarray(0, caplen), PCAP_RECORD_HEADER_LENGTH);
  return out;
}

/** In-memory pcap writer: pure, no I/O (see pcap-file.ts for the file edge). */
export class PcapWriter {
  readonly snaplen: number;
  readonly linktype: number;
  private readonly parts: Uint8Array[];
  private packets = 0;

  constructor(opts: PcapOptions = {}) {
    const header = pcapFileHeader(opts);
    this.snaplen = opts.snaplen ?? 65535;
    this.linktype = opts.linktype ?? LINKTYPE_RAW;
    this.parts = [header];
  }

  /** Number of packets added. */
  get count(): number {
    return this.packets;
  }

  /** Appends one packet (for LINKTYPE_RAW: an IPv4 or IPv6 packet). */
  add(packet: Uint8Array, timestampMs: number): this {
    this.parts.push(pcapRecord(packet, timestampMs, this.snaplen));
    this.packets++;
    return this;
  }

  /** The whole file so far. */
  toBytes(): Uint8Array {
    let n = 0;
    for (const p of this.parts) n += p.length;
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of this.parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
}
