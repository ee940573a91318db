/**
 * Test helpers for the ESP tests: the repository root (tests run from test/ as TypeScript or
 * from dist/test as JavaScript) and an independent ESP packet builder that
 * writes the RFC 4303 layout out step by step with node:crypto primitives — it shares no code
 * with src/ipsec/esp, so seal() can be compared against it byte for byte.
 */
import { createCipheriv, createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The directory holding package.json, found by walking up from this file. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
  return dir;
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export interface BuildInput {
  integrity: 'hmac-md5-96' | 'hmac-sha-1-96' | 'aes-gmac' | 'null';
  encryption: 'null' | 'aes-cbc' | 'des-ede3-cbc' | 'aes-gcm';
  spi: number;
  seq: number;
  /** Explicit IV as it appears on the wire (empty for null/HMAC). */
  iv: Uint8Array;
  payload: Uint8Array;
  nextHeader: number;
  integrityKey: Uint8Array;
  encryptionKey: Uint8Array;
  salt: Uint8Array;
}

function be32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0);
  return b;
}

/** RFC 4303 §2.4 padding + trailer for a payload, written the long way round. */
function trailer(payloadLength: number, blockSize: number, nextHeader: number): Buffer {
  const pad: number[] = [];
  while ((payloadLength + pad.length + 2) % blockSize !== 0) pad.push(pad.length + 1);
  return Buffer.from([...pad, pad.length, nextHeader]);
}

/** The ESP packet RFC 4303/2403/2404/3602/2451/4106/4543 prescribe for these inputs. */
export function buildEsp(x: BuildInput): Buffer {
  const header = Buffer.concat([be32(x.spi), be32(x.seq)]);
  const payload = Buffer.from(x.payload);
  if (x.encryption === 'aes-gcm') {
    const plain = Buffer.concat([payload, trailer(payload.length, 4, x.nextHeader)]);
    const c = createCipheriv('aes-128-gcm', x.encryptionKey, Buffer.concat([x.salt, x.iv]));
    c.setAAD(header);
    const ct = Buffer.concat([c.update(plain), c.final()]);
    return Buffer.concat([header, x.iv, ct, c.getAuthTag()]);
  }
  if (x.integrity === 'aes-gmac') {
    const body = Buffer.concat([header, x.iv, payload, trailer(payload.length, 4, x.nextHeader)]);
    const c = createCipheriv('aes-128-gcm', x.integrityKey, Buffer.concat([x.salt, x.iv]));
    c.setAAD(body);
    c.final();
    return Buffer.concat([body, c.getAuthTag()]);
  }
  let body: Buffer;
  if (x.encryption === 'null') {
    body = Buffer.concat([header, payload, trailer(payload.length, 4, x.nextHeader)]);
  } else {
    const block = x.encryption === 'aes-cbc' ? 16 : 8;
    const plain = Buffer.concat([payload, trailer(payload.length, block, x.nextHeader)]);
    const c = createCipheriv(x.encryption === 'aes-cbc' ? 'aes-128-cbc' : 'des-ede3-cbc', x.encryptionKey, x.iv);
    c.setAutoPadding(false);
    body = Buffer.concat([header, x.iv, c.update(plain), c.final()]);
  }
  const mac = createHmac(x.integrity === 'hmac-md5-96' ? 'md5' : 'sha1', x.integrityKey).update(body).digest();
  return Buffer.concat([body, mac.subarray(0, 12)]);
}

/** A SIP request as an IMS UE would send it (for realistic payloads). */
export function sipRequest(n = 1): Uint8Array {
  return new TextEncoder().encode(
    `REGISTER sip:ims.lab SIP/2.0\r\n` +
      `Via: SIP/2.0/UDP 10.0.0.1:5062;branch=z9hG4bK${n}\r\n` +
      `Max-Forwards: 70\r\n` +
      `From: <sip:alice@ims.lab>;tag=${n}\r\n` +
      `To: <sip:alice@ims.lab>\r\n` +
      `Call-ID: c${n}@10.0.0.1\r\n` +
      `CSeq: ${n} REGISTER\r\n` +
      `Contact: <sip:alice@10.0.0.1:5062>\r\n` +
      `Expires: 600000\r\n` +
      `Content-Length: 0\r\n\r\n`,
  );
}
