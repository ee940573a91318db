/**
 * A tiny pcapng writer for tests (draft-ietf-opsawg-pcapng §4), independent of the reader under
 * test: Section Header, Interface Description (with if_tsresol), Enhanced and Simple Packet
 * blocks, in either byte order.
 */
export interface NgPacket {
  iface: number;
  /** Timestamp in units of the interface's resolution. */
  ts: bigint;
  data: Uint8Array;
}

function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const padded = (body.length + 3) & ~3;
  const len = 12 + padded;
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, len, le);
  out.set(body, 8);
  dv.setUint32(len - 4, len, le);
  return out;
}

export class PcapngBuilder {
  private readonly parts: Uint8Array[] = [];
  private le = true;

  section(le = true): this {
    this.le = le;
    const body = new Uint8Array(16);
    const dv = new DataView(body.buffer);
    dv.setUint32(0, 0x1a2b3c4d, le);
    dv.setUint16(4, 1, le);
    dv.setUint16(6, 0, le);
    dv.setBigInt64(8, -1n, le);
    this.parts.push(block(0x0a0d0d0a, body, le));
    return this;
  }

  /** An interface; `tsresol` is the if_tsresol byte (6 = µs, 9 = ns), omitted when undefined. */
  iface(linktype: number, tsresol?: number): this {
    const opts = tsresol === undefined ? new Uint8Array(0) : new Uint8Array(12);
    const body = new Uint8Array(8 + opts.length);
    const dv = new DataView(body.buffer);
    dv.setUint16(0, linktype, this.le);
    dv.setUint32(4, 262144, this.le);
    if (tsresol !== undefined) {
      dv.setUint16(8, 9, this.le);
      dv.setUint16(10, 1, this.le);
      body[12] = tsresol;
      // opt_endofopt: code 0, length 0 (the last 4 bytes stay zero)
    }
    this.parts.push(block(1, body, this.le));
    return this;
  }

  packet(p: NgPacket): this {
    const body = new Uint8Array(20 + ((p.data.length + 3) & ~3));
    const dv = new DataView(body.buffer);
    dv.setUint32(0, p.iface, this.le);
    dv.setUint32(4, Number(p.ts >> 32n), this.le);
    dv.setUint32(8, Number(p.ts & 0xffffffffn), this.le);
    dv.setUint32(12, p.data.length, this.le);
    dv.setUint32(16, p.data.length, this.le);
    body.set(p.data, 20);
    this.parts.push(block(6, body, this.le));
    return this;
  }

  simplePacket(data: Uint8Array): this {
    const body = new Uint8Array(4 + ((data.length + 3) & ~3));
    new DataView(body.buffer).setUint32(0, data.length, this.le);
    body.set(data, 4);
    this.parts.push(block(3, body, this.le));
    return this;
  }

  /** A block the reader must skip (Name Resolution, type 4). */
  other(): this {
    this.parts.push(block(4, new Uint8Array(4), this.le));
    return this;
  }

  toBytes(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}
