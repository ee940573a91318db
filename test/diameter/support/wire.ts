/**
 * An independent Diameter byte builder for tests (RFC 6733 §3 header, §4.1 AVP). It shares no
 * code with src/diameter: fields are written with Buffer's big-endian writers from the RFC layout,
 * so expected bytes never come from the encoder under test.
 */

export const V = 0x80;
export const M = 0x40;

/** One AVP: code, flags, optional vendor, data; padded to 4 bytes with zeros. */
export function wAvp(code: number, flags: number, data: Buffer | string, vendor?: number): Buffer {
  const d = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  const hdr = vendor === undefined ? 8 : 12;
  const len = hdr + d.length;
  const out = Buffer.alloc((len + 3) & ~3);
  out.writeUInt32BE(code, 0);
  out.writeUInt8(flags | (vendor === undefined ? 0 : V), 4);
  out.writeUIntBE(len, 5, 3);
  if (vendor !== undefined) out.writeUInt32BE(vendor, 8);
  d.copy(out, hdr);
  return out;
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v);
  return b;
}

export function i32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  return b;
}

/** Whole message: version 1, length, flags, 24-bit command, app id, hop-by-hop, end-to-end, AVPs. */
export function wMsg(flags: number, command: number, appId: number, hbh: number, e2e: number, avps: Buffer[]): Buffer {
  const body = Buffer.concat(avps);
  const h = Buffer.alloc(20);
  h.writeUInt8(1, 0);
  h.writeUIntBE(20 + body.length, 1, 3);
  h.writeUInt8(flags, 4);
  h.writeUIntBE(command, 5, 3);
  h.writeUInt32BE(appId, 8);
  h.writeUInt32BE(hbh, 12);
  h.writeUInt32BE(e2e, 16);
  return Buffer.concat([h, body]);
}

export const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
