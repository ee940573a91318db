/**
 * A streaming reader for both capture file formats people hand around: classic libpcap
 * (draft-ietf-opsawg-pcap §4-§5, either byte order, µs or ns) and pcapng (draft-ietf-opsawg-pcapng
 * §4: Section Header, Interface Description, Enhanced/Simple/obsolete Packet blocks; several
 * sections, interfaces and link types in one file). Bytes go in by {@link CaptureReader.push} in
 * chunks of any size; each packet comes out by callback as a view that is valid only during the
 * call, so a file of any size is read with one block of memory. Pure: no I/O.
 *
 * pcapng block (§3.1): `Block Type(4) | Block Total Length(4) | Body | Block Total Length(4)`.
 * - SHB 0x0A0D0D0A: Byte-Order Magic 0x1A2B3C4D, Major 1, Minor, Section Length(8), options.
 * - IDB 1: LinkType(2), Reserved(2), SnapLen(4), options (if_tsresol = code 9, §4.2).
 * - EPB 6: Interface ID(4), Timestamp high(4), low(4), Captured Len(4), Original Len(4), data.
 * - SPB 3: Original Len(4), data (interface 0, no timestamp).
 * - PB 2 (obsolete): Interface ID(2), Drops(2), Timestamp high, low, Captured Len, Len, data.
 */
import { PcapError, PCAP_MAGIC_NS, PCAP_MAGIC_US } from './pcap-writer.js';

/** One captured packet. `data` is a view valid only until the callback returns. */
export interface CaptureFrame {
  /** 1-based, counting every packet block, as Wireshark numbers frames. */
  readonly number: number;
  /** Unix epoch milliseconds (with fractions); 0 when the block has none (SPB). */
  readonly timestampMs: number;
  /** tcpdump.org LINKTYPE_* of the packet's interface. */
  readonly linktype: number;
  /** Interface index within the file (pcap: 0; pcapng: section base + IDB index). */
  readonly interfaceId: number;
  readonly data: Uint8Array;
  readonly originalLength: number;
}

/** A capture that cannot be read further, naming the frame where it stopped. */
export class CaptureFormatError extends PcapError {
  constructor(
    message: string,
    offset: number,
    /** The frame being read (the next frame number when between frames). */
    readonly frame: number,
  ) {
    super(`frame ${frame}: ${message} (file offset ${offset})`, offset);
  }
}

const SHB = 0x0a0d0d0a;
const IDB = 1;
const PB = 2;
const SPB = 3;
const EPB = 6;
const BOM = 0x1a2b3c4d;
/** Largest block accepted: bigger means a corrupt length (and would defeat flat memory). */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024;

interface Iface {
  linktype: number;
  /** Timestamp units per millisecond. */
  unitsPerMs: number;
}

type Format = 'unknown' | 'pcap' | 'pcapng';

/** Incremental pcap/pcapng reader (see the module comment). */
export class CaptureReader {
  private buf: Uint8Array = new Uint8Array(0);
  private off = 0;
  private fileOffset = 0;
  private format: Format = 'unknown';
  private le = true;
  private frameNo = 0;
  // pcap
  private pcapLinktype = 0;
  private pcapNs = false;
  // pcapng
  private ifaces: Iface[] = [];
  private ifaceBase = 0;
  private totalIfaces = 0;

  /** Frames read so far. */
  get frames(): number {
    return this.frameNo;
  }

  /** Feeds bytes; calls `onFrame` for each complete packet. Throws {@link CaptureFormatError}. */
  push(chunk: Uint8Array, onFrame: (f: CaptureFrame) => void): void {
    const rest = this.buf.length - this.off;
    if (rest === 0) this.buf = chunk;
    else {
      const b = new Uint8Array(rest + chunk.length);
      b.set(this.buf.subarray(this.off));
      b.set(chunk, rest);
      this.buf = b;
    }
    this.off = 0;
    for (;;) {
      if (this.format === 'unknown' && !this.detect()) break;
      const used = this.format === 'pcapng' ? this.ngBlock(onFrame) : this.pcapRecord(onFrame);
      if (used === 0) break;
      this.off += used;
      this.fileOffset += used;
    }
  }

  /** Declares the end of input: throws when a block or record was cut short. */
  end(): void {
    const rest = this.buf.length - this.off;
    if (this.format === 'unknown') throw this.fail(`capture of ${rest} byte(s) is too short for a pcap or pcapng header`);
    if (rest > 0) throw this.fail(`truncated ${this.format === 'pcap' ? 'pcap record' : 'pcapng block'}: ${rest} byte(s) left at the end`, 1);
  }

  private fail(message: string, ahead = 0): CaptureFormatError {
    return new CaptureFormatError(message, this.fileOffset, this.frameNo + ahead);
  }

  private u32(at: number): number {
    const b = this.buf;
    const i = this.off + at;
    return this.le ? (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0 : ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
  }

  private u16(at: number): number {
    const b = this.buf;
    const i = this.off + at;
    return this.le ? b[i] | (b[i + 1] << 8) : (b[i] << 8) | b[i + 1];
  }

  private avail(): number {
    return this.buf.length - this.off;
  }

  /** Learns the format from the first bytes (and skips a pcap file header); false: need more. */
  private detect(): boolean {
    if (this.avail() < 4) return false;
    const b = this.buf;
    const o = this.off;
    const beMagic = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
    if (beMagic === SHB) {
      this.format = 'pcapng';
      return true;
    }
    const leMagic = (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
    if (leMagic === PCAP_MAGIC_US || leMagic === PCAP_MAGIC_NS) this.le = true;
    else if (beMagic === PCAP_MAGIC_US || beMagic === PCAP_MAGIC_NS) this.le = false;
    else throw this.fail(`not a pcap or pcapng file (magic 0x${beMagic.toString(16).padStart(8, '0')})`, 1);
    if (this.avail() < 24) return false;
    this.format = 'pcap';
    this.pcapNs = this.u32(0) === PCAP_MAGIC_NS;
    const major = this.u16(4);
    if (major !== 2) throw this.fail(`pcap version ${major}.x is not 2.x`, 1);
    this.pcapLinktype = this.u32(20) & 0x0fffffff;
    this.off += 24;
    this.fileOffset += 24;
    return true;
  }

  private pcapRecord(onFrame: (f: CaptureFrame) => void): number {
    if (this.avail() < 16) return 0;
    const caplen = this.u32(8);
    if (caplen > MAX_BLOCK_BYTES) throw this.fail(`pcap record of ${caplen} bytes is corrupt`, 1);
    if (this.avail() < 16 + caplen) return 0;
    const sec = this.u32(0);
    const frac = this.u32(4);
    this.frameNo++;
    onFrame({
      number: this.frameNo,
      timestampMs: sec * 1000 + (this.pcapNs ? frac / 1e6 : frac / 1e3),
      linktype: this.pcapLinktype,
      interfaceId: 0,
      data: this.buf.subarray(this.off + 16, this.off + 16 + caplen),
      originalLength: this.u32(12),
    });
    return 16 + caplen;
  }

  private ngBlock(onFrame: (f: CaptureFrame) => void): number {
    if (this.avail() < 12) return 0;
    const b = this.buf;
    const o = this.off;
    const beType = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
    if (beType === SHB) {
      // The byte order is learnt from this block's Byte-Order Magic (§4.1).
      const bom = ((b[o + 8] << 24) | (b[o + 9] << 16) | (b[o + 10] << 8) | b[o + 11]) >>> 0;
      if (bom === BOM) this.le = false;
      else if (bom === 0x4d3c2b1a) this.le = true;
      else throw this.fail(`pcapng Section Header with byte-order magic 0x${bom.toString(16)}`, 1);
    }
    const type = this.u32(0);
    const len = this.u32(4);
    if (len < 12 || len % 4 !== 0 || len > MAX_BLOCK_BYTES) throw this.fail(`pcapng block of type ${type} has a bad length ${len}`, 1);
    if (this.avail() < len) return 0;
    if (this.u32(len - 4) !== len) throw this.fail(`pcapng block of type ${type}: trailing length ${this.u32(len - 4)} differs from ${len}`, 1);
    switch (type) {
      case SHB:
        if (len < 28) throw this.fail('pcapng Section Header too short', 1);
        if (this.u16(12) !== 1) throw this.fail(`pcapng version ${this.u16(12)}.x is not 1.x`, 1);
        this.ifaceBase = this.totalIfaces;
        this.ifaces = [];
        break;
      case IDB:
        if (len < 20) throw this.fail('pcapng Interface Description too short', 1);
        this.ifaces.push({ linktype: this.u16(8), unitsPerMs: this.tsresol(16, len - 4) });
        this.totalIfaces++;
        break;
      case EPB:
      case PB:
        this.packet(type, len, onFrame);
        break;
      case SPB: {
        const iface = this.iface(0);
        const orig = this.u32(8);
        const cap = Math.min(orig, len - 16);
        this.frameNo++;
        onFrame({ number: this.frameNo, timestampMs: 0, linktype: iface.linktype, interfaceId: this.ifaceBase, data: this.buf.subarray(this.off + 12, this.off + 12 + cap), originalLength: orig });
        break;
      }
      default:
        // Name resolution, statistics, custom and decryption-secrets blocks carry no packet.
        break;
    }
    return len;
  }

  private iface(id: number): Iface {
    const i = this.ifaces[id];
    if (!i) throw this.fail(`packet on interface ${id}, but the section describes ${this.ifaces.length}`, 1);
    return i;
  }

  private packet(type: number, len: number, onFrame: (f: CaptureFrame) => void): void {
    if (len < 32) throw this.fail('pcapng packet block too short', 1);
    const id = type === EPB ? this.u32(8) : this.u16(8);
    const iface = this.iface(id);
    const hi = this.u32(12);
    const lo = this.u32(16);
    const cap = this.u32(20);
    const orig = this.u32(24);
    if (28 + cap > len - 4) throw this.fail(`pcapng packet of ${cap} captured bytes exceeds its block of ${len}`, 1);
    this.frameNo++;
    onFrame({
      number: this.frameNo,
      timestampMs: (hi * 4294967296 + lo) / iface.unitsPerMs,
      linktype: iface.linktype,
      interfaceId: this.ifaceBase + id,
      data: this.buf.subarray(this.off + 28, this.off + 28 + cap),
      originalLength: orig,
    });
  }

  /** if_tsresol (§4.2, option 9): 10^-n or, with the top bit, 2^-n seconds; default µs. */
  private tsresol(from: number, to: number): number {
    let at = from;
    while (at + 4 <= to) {
      const code = this.u16(at);
      const olen = this.u16(at + 2);
      if (code === 0) break;
      if (code === 9 && olen >= 1) {
        const v = this.buf[this.off + at + 4];
        const perSecond = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** (v & 0x7f);
        return perSecond / 1000;
      }
      at += 4 + ((olen + 3) & ~3);
    }
    return 1000;
  }
}
