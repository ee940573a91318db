/**
 * Reads classic libpcap files (draft-ietf-opsawg-pcap §4-§5) of either byte order and either
 * time resolution (magic 0xa1b2c3d4: microseconds, 0xa1b23c4d: nanoseconds). Used by tests and
 * tools to look at what PcapWriter wrote, or at captures from elsewhere.
 */
import { PCAP_FILE_HEADER_LENGTH, PCAP_MAGIC_NS, PCAP_MAGIC_US, PCAP_RECORD_HEADER_LENGTH, PcapError } from './pcap-writer.js';

export interface PcapPacket {
  /** Unix epoch milliseconds (with fractions). */
  timestampMs: number;
  /** Captured bytes (a view). */
  data: Uint8Array;
  originalLength: number;
}

export interface PcapCapture {
  linktype: number;
  snaplen: number;
  nanosecond: boolean;
  packets: PcapPacket[];
}

/** Reads a classic pcap file of either byte order and resolution; throws {@link PcapError}. */
export function readPcap(bytes: Uint8Array): PcapCapture {
  if (bytes.length < PCAP_FILE_HEADER_LENGTH) throw new PcapError(`pcap of ${bytes.length} byte(s) is shorter than its header`, 0);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  const m = dv.getUint32(0, true);
  if (m === PCAP_MAGIC_US || m === PCAP_MAGIC_NS) le = true;
  else {
    const mb = dv.getUint32(0, false);
    if (mb !== PCAP_MAGIC_US && mb !== PCAP_MAGIC_NS) throw new PcapError(`not a pcap file (magic 0x${m.toString(16)})`, 0);
    le = false;
  }
  const nanosecond = dv.getUint32(0, le) === PCAP_MAGIC_NS;
  const major = dv.getUint16(4, le);
  if (major !== 2) throw new PcapError(`pcap version ${major}.x is not 2.x`, 4);
  const snaplen = dv.getUint32(16, le);
  const linktype = dv.getUint32(20, le) & 0x0fffffff;
  const packets: PcapPacket[] = [];
  let at = PCAP_FILE_HEADER_LENGTH;
  while (at < bytes.length) {
    if (at + PCAP_RECORD_HEADER_LENGTH > bytes.length) throw new PcapError('truncated pcap record header', at);
    const sec = dv.getUint32(at, le);
    const frac = dv.getUint32(at + 4, le);
    const caplen = dv.getUint32(at + 8, le);
    const orig = dv.getUint32(at + 12, le);
    at += PCAP_RECORD_HEADER_LENGTH;
    if (caplen > bytes.length - at) throw new PcapError(`pcap record of ${caplen} byte(s) exceeds the file`, at - 8);
    packets.push({ timestampMs: sec * 1000 + (nanosecond ? frac / 1e6 : frac / 1e3), data: bytes.subarray(at, at + caplen), originalLength: orig });
    at += caplen;
  }
  return { linktype, snaplen, nanosecond, packets };
}
