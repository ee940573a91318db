/**
 * Helpers for the HSS tests: provisioning data (TS 35.208 test set 1 keys), Cx requests built
 * with the Diameter package's own builders (independent of the HSS code under test), SQN
 * recovery from AUTN with a separate Milenage instance, and an in-memory SQLite store.
 */
import assert from 'node:assert/strict';
import { Milenage, computeOpc } from '../../../src/auth/milenage/index.js';
import { bytesToUint, fromHex, SeededRng } from '../../../src/common/index.js';
import {
  buildLir, buildMar, buildSar, buildUar, readResult, ServerAssignmentType, UserDataAlreadyAvailable,
  type DiameterMessage, type DiameterResult, type SipAuthDataItem,
} from '../../../src/diameter/index.js';
import type { HssStore, NewSubscriber } from '../../../src/store/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { HssCore, type HssCoreOptions } from '../../../src/nodes/hss/core.js';

/**
 * TS 35.208 §4.3 test set 1 (hex): the HSS tests' subscriber keys (provisioning data, typed in as the
 * other node tests do, so that the HSS tests do not depend on ../shared; the Milenage conformance
 * tests read the whole published file).
 */
export const SET1 = { K: '465b5ce8b199b49faa5f0a2ee238a6bc', OP: 'cdc202d5123e20f62b6d676ac72cb318', OPc: 'cd63cb71954a9f4e48a5994e37a02baf' };

/** TS 35.208 §4.3 test set 1. */
export function testSet1(): { k: Uint8Array; op: Uint8Array; opc: Uint8Array } {
  const k = fromHex(SET1.K);
  const op = fromHex(SET1.OP);
  const opc = fromHex(SET1.OPc);
  assert.deepEqual(computeOpc(k, op), opc, 'OPc of set 1');
  return { k, op, opc };
}

export const REALM = 'ims.lab';
export const HSS_HOST = 'hss.ims.lab';
export const SCSCF = 'sip:scscf.ims.lab:6060';
export const SCSCF_HOST = 'scscf.ims.lab';
export const SCSCF2 = 'sip:scscf2.ims.lab:6060';
export const SCSCF2_HOST = 'scscf2.ims.lab';

/**
 * `alice<i>@ims.lab` with set 1 = {sip:alice<i>@ims.lab (default), tel:+1555100<i>} and set 2 =
 * {sip:alice<i>-work@ims.lab}; AKAv1 and AKAv2 allowed.
 */
export function alice(i: number | string = '', extra: Partial<NewSubscriber> = {}): NewSubscriber {
  const { k, opc } = testSet1();
  return {
    impi: `alice${i}@${REALM}`,
    k,
    opc,
    amf: 0x8000,
    seqHe: 0,
    indBits: 5,
    authSchemes: ['Digest-AKAv1-MD5', 'Digest-AKAv2-MD5'],
    serviceProfile: null,
    impus: [
      { impu: `sip:alice${i}@${REALM}`, irs: 1, barred: false, pseudonym: false, isDefault: true },
      { impu: `tel:+1555100${i === '' ? 0 : i}`, irs: 1, barred: false, pseudonym: false, isDefault: false },
      { impu: `sip:alice${i}-work@${REALM}`, irs: 2, barred: false, pseudonym: false, isDefault: false },
    ],
    implicitSets: [],
    ...extra,
  };
}

export function memoryStore(): HssStore {
  return new SqliteStore(':memory:');
}

export const CAPABILITIES = { mandatory: [1, 2], optional: [7], serverNames: [SCSCF] };

export function makeCore(store: HssStore, extra: Partial<HssCoreOptions> = {}): HssCore {
  return new HssCore({
    store,
    originHost: HSS_HOST,
    originRealm: REALM,
    rng: new SeededRng('hss-test'),
    maxAuthItems: 5,
    serverCapabilities: CAPABILITIES,
    allowedPeers: [SCSCF_HOST, SCSCF2_HOST, 'icscf.ims.lab'],
    ...extra,
  });
}

let sid = 0;
const head = (originHost: string) => ({ sessionId: `${originHost};1;${++sid}`, originHost, originRealm: REALM, destinationRealm: REALM });

export function mar(o: { impi: string; impu: string; n?: number; scheme?: string; item?: SipAuthDataItem; serverName?: string; originHost?: string }): DiameterMessage {
  return buildMar({
    ...head(o.originHost ?? SCSCF_HOST),
    userName: o.impi,
    publicIdentity: o.impu,
    sipAuthDataItem: o.item ?? { scheme: o.scheme ?? 'Digest-AKAv1-MD5' },
    sipNumberAuthItems: o.n ?? 1,
    serverName: o.serverName ?? SCSCF,
  });
}

export function uar(o: { impi: string; impu: string; type?: number; visited?: string }): DiameterMessage {
  return buildUar({
    ...head('icscf.ims.lab'),
    userName: o.impi,
    publicIdentity: o.impu,
    visitedNetworkIdentifier: new TextEncoder().encode(o.visited ?? REALM),
    ...(o.type !== undefined ? { userAuthorizationType: o.type } : {}),
  });
}

export function sar(o: { impi?: string; impus: string[]; type: number; serverName?: string; originHost?: string; dataAvailable?: boolean }): DiameterMessage {
  return buildSar({
    ...head(o.originHost ?? SCSCF_HOST),
    ...(o.impi !== undefined ? { userName: o.impi } : {}),
    publicIdentities: o.impus,
    serverName: o.serverName ?? SCSCF,
    serverAssignmentType: o.type,
    userDataAlreadyAvailable: o.dataAvailable ? UserDataAlreadyAvailable.USER_DATA_ALREADY_AVAILABLE : UserDataAlreadyAvailable.USER_DATA_NOT_AVAILABLE,
  });
}

export function lir(impu: string, extra: { type?: number } = {}): DiameterMessage {
  return buildLir({ ...head('icscf.ims.lab'), publicIdentity: impu, ...(extra.type !== undefined ? { userAuthorizationType: extra.type } : {}) });
}

export const sat = ServerAssignmentType;

/** The result of an answer in its namespace: `2001` (Result-Code) or `2001/10415` (3GPP Experimental-Result). */
export function resultOf(m: DiameterMessage): string {
  const r = readResult(m.avps) as DiameterResult;
  assert.ok(r, 'answer carries a result');
  return r.vendorId ? `${r.code}/${r.vendorId}` : String(r.code);
}

/** SQN = (SQN ⊕ AK) ⊕ AK with AK = f5_K(RAND), computed by a Milenage instance of the test's own. */
export function recoverSqn(k: Uint8Array, opc: Uint8Array, rand: Uint8Array, autn: Uint8Array): number {
  const ak = new Milenage(k, opc).f2345(rand).ak;
  const b = new Uint8Array(6);
  for (let i = 0; i < 6; i++) b[i] = autn[i] ^ ak[i];
  return bytesToUint(b);
}

/** Tiny XML reading for User-Data assertions: the text of every `<tag>` in document order. */
export function xmlTexts(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]);
}
