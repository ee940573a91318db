/**
 * File edge of the capture module (the only file here that touches node:fs): write a whole
 * pcap, or append packets to a pcap file as they happen (the header is written when the file
 * is new or empty, and checked when it exists).
 */
import { appendFileSync, closeSync, fstatSync, openSync, readSync, writeFileSync } from 'node:fs';
import { LINKTYPE_RAW, PCAP_FILE_HEADER_LENGTH, PcapError, pcapFileHeader, pcapRecord, type PcapOptions } from './pcap-writer.js';
import { readPcap } from './pcap-reader.js';

/** Writes `bytes` (e.g. {@link PcapWriter.toBytes}) to `path`, replacing the file. */
export function writePcapFile(path: string, bytes: Uint8Array): void {
  writeFileSync(path, bytes);
}

/** Appends packets to a pcap file, one write per packet (synchronous: safe to call anywhere). */
export class PcapFileAppender {
  readonly snaplen: number;

  constructor(
    readonly path: string,
    opts: PcapOptions = {},
  ) {
    this.snaplen = opts.snaplen ?? 65535;
    const fd = openSync(path, 'a+');
    try {
      const size = fstatSync(fd).size;
      if (size === 0) {
        appendFileSync(fd, pcapFileHeader(opts));
      } else {
        const head = new Uint8Array(PCAP_FILE_HEADER_LENGTH);
        const got = readSync(fd, head, 0, head.length, 0);
        const existing = readPcap(head.subarray(0, got));
        if (existing.linktype !== (opts.linktype ?? LINKTYPE_RAW)) {
          throw new PcapError(`existing pcap has link type ${existing.linktype}, not ${opts.linktype ?? LINKTYPE_RAW}`, 20);
        }
        if (existing.nanosecond || new DataView(head.buffer).getUint32(0, true) !== 0xa1b2c3d4) {
          throw new PcapError('existing pcap is not little-endian microsecond pcap; cannot append', 0);
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  /** Appends one packet seen at `timestampMs`. */
  append(packet: Uint8Array, timestampMs: number): void {
    appendFileSync(this.path, pcapRecord(packet, timestampMs, this.snaplen));
  }
}
