/**
 * AES-128 encryption (FIPS-197), table-driven on 32-bit words, one expanded key per instance.
 *
 * Milenage (TS 35.206) runs five or six single-block encryptions under one subscriber key per
 * authentication vector. Going through node:crypto costs a cipher object per key and a native
 * call per block, which is slower than the block itself; this implementation keeps the key
 * schedule in an Int32Array and works without allocating per block.
 *
 * Only encryption is needed: Milenage uses E_K in the forward direction only.
 */
import { InvalidArgumentError } from '../../common/index.js';

const SBOX = new Uint8Array(256);
const TE0 = new Int32Array(256);
const TE1 = new Int32Array(256);
const TE2 = new Int32Array(256);
const TE3 = new Int32Array(256);
const RCON = [0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0x1b, 0x36];

/** FIPS-197 §5.1.1: the S-box is the multiplicative inverse in GF(2^8) followed by an affine map. */
function buildTables(): void {
  const exp = new Uint8Array(256);
  const log = new Uint8Array(256);
  let x = 1;
  for (let i = 0; i < 255; i++) {
    exp[i] = x;
    log[x] = i;
    x ^= (x << 1) ^ (x & 0x80 ? 0x11b : 0); // multiply by 3
    x &= 0xff;
  }
  for (let i = 0; i < 256; i++) {
    const inv = i === 0 ? 0 : exp[(255 - log[i]) % 255];
    let s = inv;
    let r = inv;
    for (let k = 0; k < 4; k++) {
      r = ((r << 1) | (r >>> 7)) & 0xff;
      s ^= r;
    }
    SBOX[i] = s ^ 0x63;
  }
  for (let i = 0; i < 256; i++) {
    const s = SBOX[i];
    const s2 = ((s << 1) ^ (s & 0x80 ? 0x11b : 0)) & 0xff;
    const s3 = s2 ^ s;
    const w = (s2 << 24) | (s << 16) | (s << 8) | s3;
    TE0[i] = w;
    TE1[i] = (w >>> 8) | (w << 24);
    TE2[i] = (w >>> 16) | (w << 16);
    TE3[i] = (w >>> 24) | (w << 8);
  }
}
buildTables();

/** Read a big-endian 32-bit word. */
export function word(b: Uint8Array, at: number): number {
  return (b[at] << 24) | (b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3];
}

/** Write a big-endian 32-bit word. */
export function putWord(b: Uint8Array, at: number, w: number): void {
  b[at] = w >>> 24;
  b[at + 1] = w >>> 16;
  b[at + 2] = w >>> 8;
  b[at + 3] = w;
}

export class Aes128 {
  /** FIPS-197 §5.2: 44 round-key words. */
  private readonly rk = new Int32Array(44);

  constructor(key: Uint8Array) {
    this.setKey(key);
  }

  /** Replace the key, reusing this instance's storage (no allocation on a hot path). */
  setKey(key: Uint8Array): void {
    if (key.length !== 16) throw new InvalidArgumentError(`AES-128 key must be 16 bytes, got ${key.length}`);
    const rk = this.rk;
    for (let i = 0; i < 4; i++) rk[i] = word(key, i * 4);
    for (let i = 4; i < 44; i++) {
      let t = rk[i - 1];
      if ((i & 3) === 0) {
        t =
          ((SBOX[(t >>> 16) & 0xff] << 24) | (SBOX[(t >>> 8) & 0xff] << 16) | (SBOX[t & 0xff] << 8) | SBOX[t >>> 24]) ^
          (RCON[(i >>> 2) - 1] << 24);
      }
      rk[i] = rk[i - 4] ^ t;
    }
  }

  /**
   * Encrypt the block (a0, a1, a2, a3) of big-endian words; the result goes to out[0..3].
   * FIPS-197 §5.1 with the four T-tables combining SubBytes, ShiftRows and MixColumns.
   */
  encryptWords(a0: number, a1: number, a2: number, a3: number, out: Int32Array): void {
    const rk = this.rk;
    let s0 = a0 ^ rk[0];
    let s1 = a1 ^ rk[1];
    let s2 = a2 ^ rk[2];
    let s3 = a3 ^ rk[3];
    let t0: number, t1: number, t2: number, t3: number;
    // Rounds 1–9, unrolled (two per step, alternating s → t → s).
    t0 = TE0[s0 >>> 24] ^ TE1[(s1 >>> 16) & 0xff] ^ TE2[(s2 >>> 8) & 0xff] ^ TE3[s3 & 0xff] ^ rk[4];
    t1 = TE0[s1 >>> 24] ^ TE1[(s2 >>> 16) & 0xff] ^ TE2[(s3 >>> 8) & 0xff] ^ TE3[s0 & 0xff] ^ rk[5];
    t2 = TE0[s2 >>> 24] ^ TE1[(s3 >>> 16) & 0xff] ^ TE2[(s0 >>> 8) & 0xff] ^ TE3[s1 & 0xff] ^ rk[6];
    t3 = TE0[s3 >>> 24] ^ TE1[(s0 >>> 16) & 0xff] ^ TE2[(s1 >>> 8) & 0xff] ^ TE3[s2 & 0xff] ^ rk[7];
    s0 = TE0[t0 >>> 24] ^ TE1[(t1 >>> 16) & 0xff] ^ TE2[(t2 >>> 8) & 0xff] ^ TE3[t3 & 0xff] ^ rk[8];
    s1 = TE0[t1 >>> 24] ^ TE1[(t2 >>> 16) & 0xff] ^ TE2[(t3 >>> 8) & 0xff] ^ TE3[t0 & 0xff] ^ rk[9];
    s2 = TE0[t2 >>> 24] ^ TE1[(t3 >>> 16) & 0xff] ^ TE2[(t0 >>> 8) & 0xff] ^ TE3[t1 & 0xff] ^ rk[10];
    s3 = TE0[t3 >>> 24] ^ TE1[(t0 >>> 16) & 0xff] ^ TE2[(t1 >>> 8) & 0xff] ^ TE3[t2 & 0xff] ^ rk[11];
    t0 = TE0[s0 >>> 24] ^ TE1[(s1 >>> 16) & 0xff] ^ TE2[(s2 >>> 8) & 0xff] ^ TE3[s3 & 0xff] ^ rk[12];
    t1 = TE0[s1 >>> 24] ^ TE1[(s2 >>> 16) & 0xff] ^ TE2[(s3 >>> 8) & 0xff] ^ TE3[s0 & 0xff] ^ rk[13];
    t2 = TE0[s2 >>> 24] ^ TE1[(s3 >>> 16) & 0xff] ^ TE2[(s0 >>> 8) & 0xff] ^ TE3[s1 & 0xff] ^ rk[14];
    t3 = TE0[s3 >>> 24] ^ TE1[(s0 >>> 16) & 0xff] ^ TE2[(s1 >>> 8) & 0xff] ^ TE3[s2 & 0xff] ^ rk[15];
    s0 = TE0[t0 >>> 24] ^ TE1[(t1 >>> 16) & 0xff] ^ TE2[(t2 >>> 8) & 0xff] ^ TE3[t3 & 0xff] ^ rk[16];
    s1 = TE0[t1 >>> 24] ^ TE1[(t2 >>> 16) & 0xff] ^ TE2[(t3 >>> 8) & 0xff] ^ TE3[t0 & 0xff] ^ rk[17];
    s2 = TE0[t2 >>> 24] ^ TE1[(t3 >>> 16) & 0xff] ^ TE2[(t0 >>> 8) & 0xff] ^ TE3[t1 & 0xff] ^ rk[18];
    s3 = TE0[t3 >>> 24] ^ TE1[(t0 >>> 16) & 0xff] ^ TE2[(t1 >>> 8) & 0xff] ^ TE3[t2 & 0xff] ^ rk[19];
    t0 = TE0[s0 >>> 24] ^ TE1[(s1 >>> 16) & 0xff] ^ TE2[(s2 >>> 8) & 0xff] ^ TE3[s3 & 0xff] ^ rk[20];
    t1 = TE0[s1 >>> 24] ^ TE1[(s2 >>> 16) & 0xff] ^ TE2[(s3 >>> 8) & 0xff] ^ TE3[s0 & 0xff] ^ rk[21];
    t2 = TE0[s2 >>> 24] ^ TE1[(s3 >>> 16) & 0xff] ^ TE2[(s0 >>> 8) & 0xff] ^ TE3[s1 & 0xff] ^ rk[22];
    t3 = TE0[s3 >>> 24] ^ TE1[(s0 >>> 16) & 0xff] ^ TE2[(s1 >>> 8) & 0xff] ^ TE3[s2 & 0xff] ^ rk[23];
    s0 = TE0[t0 >>> 24] ^ TE1[(t1 >>> 16) & 0xff] ^ TE2[(t2 >>> 8) & 0xff] ^ TE3[t3 & 0xff] ^ rk[24];
    s1 = TE0[t1 >>> 24] ^ TE1[(t2 >>> 16) & 0xff] ^ TE2[(t3 >>> 8) & 0xff] ^ TE3[t0 & 0xff] ^ rk[25];
    s2 = TE0[t2 >>> 24] ^ TE1[(t3 >>> 16) & 0xff] ^ TE2[(t0 >>> 8) & 0xff] ^ TE3[t1 & 0xff] ^ rk[26];
    s3 = TE0[t3 >>> 24] ^ TE1[(t0 >>> 16) & 0xff] ^ TE2[(t1 >>> 8) & 0xff] ^ TE3[t2 & 0xff] ^ rk[27];
    t0 = TE0[s0 >>> 24] ^ TE1[(s1 >>> 16) & 0xff] ^ TE2[(s2 >>> 8) & 0xff] ^ TE3[s3 & 0xff] ^ rk[28];
    t1 = TE0[s1 >>> 24] ^ TE1[(s2 >>> 16) & 0xff] ^ TE2[(s3 >>> 8) & 0xff] ^ TE3[s0 & 0xff] ^ rk[29];
    t2 = TE0[s2 >>> 24] ^ TE1[(s3 >>> 16) & 0xff] ^ TE2[(s0 >>> 8) & 0xff] ^ TE3[s1 & 0xff] ^ rk[30];
    t3 = TE0[s3 >>> 24] ^ TE1[(s0 >>> 16) & 0xff] ^ TE2[(s1 >>> 8) & 0xff] ^ TE3[s2 & 0xff] ^ rk[31];
    s0 = TE0[t0 >>> 24] ^ TE1[(t1 >>> 16) & 0xff] ^ TE2[(t2 >>> 8) & 0xff] ^ TE3[t3 & 0xff] ^ rk[32];
    s1 = TE0[t1 >>> 24] ^ TE1[(t2 >>> 16) & 0xff] ^ TE2[(t3 >>> 8) & 0xff] ^ TE3[t0 & 0xff] ^ rk[33];
    s2 = TE0[t2 >>> 24] ^ TE1[(t3 >>> 16) & 0xff] ^ TE2[(t0 >>> 8) & 0xff] ^ TE3[t1 & 0xff] ^ rk[34];
    s3 = TE0[t3 >>> 24] ^ TE1[(t0 >>> 16) & 0xff] ^ TE2[(t1 >>> 8) & 0xff] ^ TE3[t2 & 0xff] ^ rk[35];
    t0 = TE0[s0 >>> 24] ^ TE1[(s1 >>> 16) & 0xff] ^ TE2[(s2 >>> 8) & 0xff] ^ TE3[s3 & 0xff] ^ rk[36];
    t1 = TE0[s1 >>> 24] ^ TE1[(s2 >>> 16) & 0xff] ^ TE2[(s3 >>> 8) & 0xff] ^ TE3[s0 & 0xff] ^ rk[37];
    t2 = TE0[s2 >>> 24] ^ TE1[(s3 >>> 16) & 0xff] ^ TE2[(s0 >>> 8) & 0xff] ^ TE3[s1 & 0xff] ^ rk[38];
    t3 = TE0[s3 >>> 24] ^ TE1[(s0 >>> 16) & 0xff] ^ TE2[(s1 >>> 8) & 0xff] ^ TE3[s2 & 0xff] ^ rk[39];
    out[0] = ((SBOX[t0 >>> 24] << 24) | (SBOX[(t1 >>> 16) & 0xff] << 16) | (SBOX[(t2 >>> 8) & 0xff] << 8) | SBOX[t3 & 0xff]) ^ rk[40];
    out[1] = ((SBOX[t1 >>> 24] << 24) | (SBOX[(t2 >>> 16) & 0xff] << 16) | (SBOX[(t3 >>> 8) & 0xff] << 8) | SBOX[t0 & 0xff]) ^ rk[41];
    out[2] = ((SBOX[t2 >>> 24] << 24) | (SBOX[(t3 >>> 16) & 0xff] << 16) | (SBOX[(t0 >>> 8) & 0xff] << 8) | SBOX[t1 & 0xff]) ^ rk[42];
    out[3] = ((SBOX[t3 >>> 24] << 24) | (SBOX[(t0 >>> 16) & 0xff] << 16) | (SBOX[(t1 >>> 8) & 0xff] << 8) | SBOX[t2 & 0xff]) ^ rk[43];
  }

  /** Encrypt one 16-byte block (convenience; allocates). */
  encryptBlock(block: Uint8Array): Uint8Array {
    if (block.length !== 16) throw new InvalidArgumentError(`AES block must be 16 bytes, got ${block.length}`);
    const out = new Int32Array(4);
    this.encryptWords(word(block, 0), word(block, 4), word(block, 8), word(block, 12), out);
    const b = new Uint8Array(16);
    for (let i = 0; i < 4; i++) putWord(b, i * 4, out[i]);
    return b;
  }
}
