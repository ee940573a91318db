/**
 * MILENAGE, 3GPP TS 35.206 §4: the example algorithm set f1, f1*, f2, f3, f4, f5, f5* built on
 * AES-128 (the kernel function E_K).
 *
 *   OPc  = OP ⊕ E_K(OP)
 *   TEMP = E_K(RAND ⊕ OPc)
 *   IN1  = SQN ‖ AMF ‖ SQN ‖ AMF
 *   OUT1 = E_K(TEMP ⊕ rot(IN1 ⊕ OPc, r1) ⊕ c1) ⊕ OPc      f1 = OUT1[0..63], f1* = OUT1[64..127]
 *   OUT2 = E_K(rot(TEMP ⊕ OPc, r2) ⊕ c2) ⊕ OPc            f5 = OUT2[0..47], f2 = OUT2[64..127]
 *   OUT3 = E_K(rot(TEMP ⊕ OPc, r3) ⊕ c3) ⊕ OPc            f3 = OUT3
 *   OUT4 = E_K(rot(TEMP ⊕ OPc, r4) ⊕ c4) ⊕ OPc            f4 = OUT4
 *   OUT5 = E_K(rot(TEMP ⊕ OPc, r5) ⊕ c5) ⊕ OPc            f5* = OUT5[0..47]
 *
 * with r1..r5 = 64, 0, 32, 64, 96 and c1..c5 = 0, 1, 2, 4, 8 (in the last bit positions),
 * §4.1. rot(x, r) rotates x by r bits towards the most significant bit; every r is a multiple
 * of 32, so here it is a rotation of the four 32-bit words.
 */
import { InvalidArgumentError } from '../../common/index.js';
import { Aes128, putWord, word } from './aes128.js';

/** Largest SQN: 48 bits (TS 33.102 §6.3.2). */
export const SQN_MAX = 2 ** 48 - 1;

function check(b: Uint8Array, n: number, what: string): void {
  if (!(b instanceof Uint8Array) || b.length !== n) {
    throw new InvalidArgumentError(`${what} must be ${n} bytes, got ${b?.length}`, what);
  }
}

function checkSqn(sqn: number): void {
  if (!Number.isInteger(sqn) || sqn < 0 || sqn > SQN_MAX) throw new InvalidArgumentError(`SQN must be an integer 0..2^48-1, got ${sqn}`, 'sqn');
}

function checkAmf(amf: number): void {
  if (!Number.isInteger(amf) || amf < 0 || amf > 0xffff) throw new InvalidArgumentError(`AMF must be 16 bits, got ${amf}`, 'amf');
}

/** f1 output: MAC-A (network authentication) and MAC-S (resynchronisation). */
export interface F1Result {
  macA: Uint8Array;
  macS: Uint8Array;
}

/** f2..f5 output for one RAND. */
export interface F2345Result {
  res: Uint8Array;
  ck: Uint8Array;
  ik: Uint8Array;
  ak: Uint8Array;
}

/**
 * Output block of all five Milenage encryptions for one RAND; fields are views into one buffer.
 */
export interface MilenageOutput extends F1Result, F2345Result {
  akStar: Uint8Array;
}

/**
 * One subscriber's Milenage instance: the AES key schedule of K and OPc, kept for as many
 * computations as needed. K and OPc are held only as round keys and words, never printed.
 */
export class Milenage {
  private readonly aes: Aes128;
  private o0 = 0;
  private o1 = 0;
  private o2 = 0;
  private o3 = 0;
  /** Scratch for E_K output. */
  private readonly out = new Int32Array(4);
  /** TEMP ⊕ OPc for the last RAND. */
  private y0 = 0;
  private y1 = 0;
  private y2 = 0;
  private y3 = 0;
  private t0 = 0;
  private t1 = 0;
  private t2 = 0;
  private t3 = 0;

  /** @param k subscriber key K (16 bytes) @param opc OPc (16 bytes) */
  constructor(k: Uint8Array, opc: Uint8Array) {
    check(k, 16, 'K');
    this.aes = new Aes128(k);
    this.setOpc(opc);
  }

  private setOpc(opc: Uint8Array): void {
    check(opc, 16, 'OPc');
    this.o0 = word(opc, 0);
    this.o1 = word(opc, 4);
    this.o2 = word(opc, 8);
    this.o3 = word(opc, 12);
  }

  /**
   * Switch this instance to another subscriber, reusing its storage. An HSS serving many users
   * keeps one instance per worker and re-keys it per request instead of allocating.
   */
  rekey(k: Uint8Array, opc: Uint8Array): this {
    check(k, 16, 'K');
    this.aes.setKey(k);
    this.setOpc(opc);
    return this;
  }

  /** Build from K and OP, deriving OPc (TS 35.206 §4.1). */
  static fromOp(k: Uint8Array, op: Uint8Array): Milenage {
    return new Milenage(k, computeOpc(k, op));
  }

  /** TEMP = E_K(RAND ⊕ OPc); keeps TEMP and TEMP ⊕ OPc for the output functions. */
  private temp(rand: Uint8Array): void {
    check(rand, 16, 'RAND');
    const o = this.out;
    this.aes.encryptWords(word(rand, 0) ^ this.o0, word(rand, 4) ^ this.o1, word(rand, 8) ^ this.o2, word(rand, 12) ^ this.o3, o);
    this.t0 = o[0];
    this.t1 = o[1];
    this.t2 = o[2];
    this.t3 = o[3];
    this.y0 = o[0] ^ this.o0;
    this.y1 = o[1] ^ this.o1;
    this.y2 = o[2] ^ this.o2;
    this.y3 = o[3] ^ this.o3;
  }

  /** OUT1 for the current TEMP into dst[at..at+16). */
  private out1(sqn: number, amf: number, dst: Uint8Array, at: number): void {
    const i0 = Math.floor(sqn / 0x10000) | 0;
    const i1 = ((sqn & 0xffff) << 16) | amf;
    // rot(IN1 ⊕ OPc, 64): words 2,3,0,1 of IN1 ⊕ OPc; c1 = 0.
    const o = this.out;
    this.aes.encryptWords(this.t0 ^ i0 ^ this.o2, this.t1 ^ i1 ^ this.o3, this.t2 ^ i0 ^ this.o0, this.t3 ^ i1 ^ this.o1, o);
    putWord(dst, at, o[0] ^ this.o0);
    putWord(dst, at + 4, o[1] ^ this.o1);
    putWord(dst, at + 8, o[2] ^ this.o2);
    putWord(dst, at + 12, o[3] ^ this.o3);
  }

  /** OUTn (n = 2..5) for the current TEMP into dst[at..at+16). */
  private outN(n: 2 | 3 | 4 | 5, dst: Uint8Array, at: number): void {
    const o = this.out;
    const { y0, y1, y2, y3 } = this;
    switch (n) {
      case 2: // r2 = 0, c2 = 1
        this.aes.encryptWords(y0, y1, y2, y3 ^ 1, o);
        break;
      case 3: // r3 = 32, c3 = 2
        this.aes.encryptWords(y1, y2, y3, y0 ^ 2, o);
        break;
      case 4: // r4 = 64, c4 = 4
        this.aes.encryptWords(y2, y3, y0, y1 ^ 4, o);
        break;
      case 5: // r5 = 96, c5 = 8
        this.aes.encryptWords(y3, y0, y1, y2 ^ 8, o);
        break;
    }
    putWord(dst, at, o[0] ^ this.o0);
    putWord(dst, at + 4, o[1] ^ this.o1);
    putWord(dst, at + 8, o[2] ^ this.o2);
    putWord(dst, at + 12, o[3] ^ this.o3);
  }

  /** f1 and f1*: MAC-A and MAC-S over SQN ‖ RAND ‖ AMF. */
  f1(rand: Uint8Array, sqn: number, amf: number): F1Result {
    checkSqn(sqn);
    checkAmf(amf);
    this.temp(rand);
    const b = new Uint8Array(16);
    this.out1(sqn, amf, b, 0);
    return { macA: b.subarray(0, 8), macS: b.subarray(8, 16) };
  }

  /** f2, f3, f4, f5: RES, CK, IK, AK. */
  f2345(rand: Uint8Array): F2345Result {
    this.temp(rand);
    const b = new Uint8Array(48);
    this.outN(2, b, 0);
    this.outN(3, b, 16);
    this.outN(4, b, 32);
    return { ak: b.subarray(0, 6), res: b.subarray(8, 16), ck: b.subarray(16, 32), ik: b.subarray(32, 48) };
  }

  /** f5*: AK used to conceal SQN_MS in AUTS. */
  f5star(rand: Uint8Array): Uint8Array {
    this.temp(rand);
    const b = new Uint8Array(16);
    this.outN(5, b, 0);
    return b.subarray(0, 6);
  }

  /** Every function at once (vectors, tests). */
  all(rand: Uint8Array, sqn: number, amf: number): MilenageOutput {
    checkSqn(sqn);
    checkAmf(amf);
    this.temp(rand);
    const b = new Uint8Array(80);
    this.out1(sqn, amf, b, 0);
    this.outN(2, b, 16);
    this.outN(3, b, 32);
    this.outN(4, b, 48);
    this.outN(5, b, 64);
    return {
      macA: b.subarray(0, 8),
      macS: b.subarray(8, 16),
      ak: b.subarray(16, 22),
      res: b.subarray(24, 32),
      ck: b.subarray(32, 48),
      ik: b.subarray(48, 64),
      akStar: b.subarray(64, 70),
    };
  }

  /**
   * The material of one authentication vector (TS 33.102 §6.3.2) in one 80-byte buffer:
   * [0..16) AUTN = SQN ⊕ AK ‖ AMF ‖ MAC-A, [16..24) XRES, [24..40) CK, [40..56) IK, [56..62) AK.
   * Five AES blocks: TEMP, OUT1..OUT4.
   */
  vectorInto(rand: Uint8Array, sqn: number, amf: number, b: Uint8Array): void {
    this.temp(rand);
    const o = this.out;
    const { o0, o1, o2, o3 } = this;
    // OUT2 (f5 ‖ · ‖ f2): AK conceals SQN in AUTN.
    this.aes.encryptWords(this.y0, this.y1, this.y2, this.y3 ^ 1, o);
    const ak0 = (o[0] ^ o0) | 0;
    const ak1 = ((o[1] ^ o1) >>> 16) | 0;
    putWord(b, 16, o[2] ^ o2); // XRES
    putWord(b, 20, o[3] ^ o3);
    putWord(b, 56, ak0); // AK (6 bytes)
    b[60] = ak1 >>> 8;
    b[61] = ak1;
    // OUT1 (f1 ‖ f1*): MAC-A
    const hi = Math.floor(sqn / 0x10000) | 0;
    const lo = sqn & 0xffff;
    const i1 = (lo << 16) | amf;
    this.aes.encryptWords(this.t0 ^ hi ^ o2, this.t1 ^ i1 ^ o3, this.t2 ^ hi ^ o0, this.t3 ^ i1 ^ o1, o);
    // AUTN = SQN ⊕ AK ‖ AMF ‖ MAC-A
    putWord(b, 0, hi ^ ak0);
    putWord(b, 4, (((lo ^ ak1) & 0xffff) << 16) | amf);
    putWord(b, 8, o[0] ^ o0);
    putWord(b, 12, o[1] ^ o1);
    this.outN(3, b, 24); // CK
    this.outN(4, b, 40); // IK
  }
}

/** OPc = OP ⊕ E_K(OP), TS 35.206 §4.1. */
export function computeOpc(k: Uint8Array, op: Uint8Array): Uint8Array {
  check(k, 16, 'K');
  check(op, 16, 'OP');
  const e = new Aes128(k).encryptBlock(op);
  for (let i = 0; i < 16; i++) e[i] ^= op[i];
  return e;
}
