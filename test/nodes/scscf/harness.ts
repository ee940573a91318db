/**
 * Test harness for the S-CSCF core: the real HSS core (E2) over an in-memory HSS store (E1),
 * reached through our Diameter Cx client with every message encoded and decoded by the Diameter
 * codec (no sockets); the registrar store on SQLite; a ManualClock; and a scripted UE whose
 * ISIM side is the independent AKA code of src/auth (isimAuthenticate over Milenage), so the
 * expected RES never comes from the S-CSCF.
 */
import assert from 'node:assert/strict';
import { isimAuthenticate, freshUsimState, Milenage, computeOpc, type UsimSqnState } from '../../../src/auth/index.js';
import { akaPassword, digestResponse, parseAkaNonce, parseDigestChallenge, formatDigestCredentials, formatAuts, type DigestChallenge } from '../../../src/auth/digest/index.js';
import { ManualClock, SeededRng, fromHex, type Rng } from '../../../src/common/index.js';
import { decodeMessage, encodeMessage, parseMar, parseSar, type DiameterMessage } from '../../../src/diameter/index.js';
import { HssCore, provisionSubscriber } from '../../../src/nodes/hss/index.js';
import { DiameterCxClient, ScscfCore, parseScscfConfig, type ScscfConfig } from '../../../src/nodes/scscf/index.js';
import { createResponse, SipHeaders, SipRequest, type SipResponse } from '../../../src/sip/index.js';
import type { Destination } from '../../../src/sip/transport/index.js';
import type { HssStore, RegistrarStore } from '../../../src/store/index.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { SqliteRegistrarStore } from '../../../src/store/registrar-sqlite.js';

// TS 35.208 test set 1 K and OP (the OPc is computed by the independent Milenage of src/auth).
export const K = '465b5c8e53c8daa7e3b3c1ed6d0d5c5c';
export const OP = 'cdc202d5123e20f62b6d676ac72cb318';
export const REALM = 'ims.lab';
export const SERVER_NAME = 'sip:scscf.ims.lab:6060';

export interface Harness {
  clock: ManualClock;
  hssStore: HssStore;
  hss: HssCore;
  store: RegistrarStore;
  core: ScscfCore;
  config: ScscfConfig;
  /** NOTIFYs the core sent, with where they went. */
  sent: { req: SipRequest; dest: Destination }[];
  /** Cx requests seen, by command code (303 MAR, 301 SAR) with their Server-Assignment-Type when SAR. */
  cx: { command: number; sat?: number; items?: number; resync?: boolean }[];
  /** Answers NOTIFYs with this status (default 200). */
  notifyStatus: number;
  close(): Promise<void>;
  /** A new core over `store` and the same HSS (a restarted S-CSCF; set `store` first to reopen the database). */
  restart(): Promise<ScscfCore>;
}

export interface HarnessOptions {
  config?: Record<string, unknown>;
  registrarStore?: RegistrarStore;
  hssStore?: HssStore;
  rng?: Rng;
  hssRng?: Rng;
  /** Stands between the Cx client and the HSS core: answers in its place, throws (no answer), or holds the answer. Default: the HSS core's answer. */
  hssAnswer?: (request: DiameterMessage, hss: () => Promise<DiameterMessage>) => Promise<DiameterMessage>;
}

export async function provision(store: HssStore, impi: string, impus: (string | { impu: string; barred?: boolean; irs?: number; default?: boolean })[], extra: Record<string, unknown> = {}): Promise<void> {
  await provisionSubscriber(store, { impi, impus, k: K, op: OP, amf: '8000', ...extra });
}

export async function harness(o: HarnessOptions = {}): Promise<Harness> {
  const clock = new ManualClock(1_700_000_000_000);
  const hssStore = o.hssStore ?? new SqliteStore(':memory:');
  const hss = new HssCore({ store: hssStore, originHost: 'hss.ims.lab', originRealm: 'ims.lab', rng: o.hssRng ?? new SeededRng('hss-rand') });
  const store = o.registrarStore ?? new SqliteRegistrarStore(':memory:', { now: () => clock.now() });
  const config = parseScscfConfig({ sip: { listen: '127.0.0.1:6060' }, registrar: { authItems: 1 }, ...o.config });
  const h: Harness = {
    clock,
    hssStore,
    hss,
    store,
    config,
    sent: [],
    cx: [],
    notifyStatus: 200,
    core: undefined as unknown as ScscfCore,
    async close() {
      h.core.stop();
      await h.store.close();
      await hssStore.close();
    },
    async restart() {
      h.core.stop();
      h.core = make();
      await h.core.start();
      return h.core;
    },
  };
  let sid = 0;
  const cxClient = new DiameterCxClient({
    request: async (m: DiameterMessage) => {
      const wire = decodeMessage(encodeMessage({ ...m, hopByHop: 1, endToEnd: 1 }));
      if (wire.commandCode === 301) h.cx.push({ command: 301, sat: parseSar(wire).serverAssignmentType });
      else if (wire.commandCode === 303) {
        const mar = parseMar(wire);
        h.cx.push({ command: 303, items: mar.sipNumberAuthItems, resync: mar.sipAuthDataItem.authorization !== undefined });
      } else h.cx.push({ command: wire.commandCode });
      const answer = o.hssAnswer ? await o.hssAnswer(wire, () => hss.handle(wire)) : await hss.handle(wire);
      return decodeMessage(encodeMessage(answer));
    },
    newSessionId: () => `scscf.ims.lab;1;${++sid}`,
    originHost: 'scscf.ims.lab',
    originRealm: 'ims.lab',
    destinationRealm: 'ims.lab',
    destinationHost: 'hss.ims.lab',
    serverName: SERVER_NAME,
  });
  const rng = o.rng ?? new SeededRng('scscf');
  const make = (): ScscfCore =>
    new ScscfCore({
      config,
      cx: cxClient,
      store: h.store,
      clock,
      rng,
      send: async (req, dest) => {
        h.sent.push({ req, dest });
        return createResponse(req, h.notifyStatus);
      },
    });
  h.core = make();
  await h.core.start();
  return h;
}


/** Lets queued promise callbacks run (the core's async steps) without moving the clock. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

export interface RegisterOptions {
  impu?: string;
  impi?: string;
  contact?: string;
  expires?: number;
  callId?: string;
  cseq?: number;
  path?: string[];
  /** The Authorization header value; `null` for none. */
  authorization?: string | null;
  integrity?: 'yes' | 'no';
  extra?: [string, string][];
}

/** A REGISTER as the P-CSCF forwards it (TS 24.229 §5.1.1.2.1 initial: nonce="" response=""). */
export function register(o: RegisterOptions = {}): SipRequest {
  const impu = o.impu ?? 'sip:alice@ims.lab';
  const impi = o.impi ?? 'alice@ims.lab';
  const h = new SipHeaders();
  h.append('Via', `SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK${Math.random().toString(16).slice(2)}`);
  for (const p of o.path ?? []) h.append('Path', p);
  h.append('Max-Forwards', '69');
  h.append('From', `<${impu}>;tag=ue1`);
  h.append('To', `<${impu}>`);
  h.append('Call-ID', o.callId ?? 'reg-call-1');
  h.append('CSeq', `${o.cseq ?? 1} REGISTER`);
  h.append('Contact', o.contact ?? '<sip:alice@192.0.2.10:5070>');
  if (o.expires !== undefined) h.append('Expires', String(o.expires));
  const auth =
    o.authorization === undefined
      ? `Digest username="${impi}", realm="${REALM}", nonce="", uri="sip:${REALM}", response=""${o.integrity ? `, integrity-protected="${o.integrity}"` : ''}`
      : o.authorization;
  if (auth !== null) h.append('Authorization', auth);
  for (const [n, v] of o.extra ?? []) h.append(n, v);
  return new SipRequest('REGISTER', `sip:${REALM}`, h);
}

/** Sends a request into the core and returns the response it answered with. */
export async function send(core: ScscfCore, req: SipRequest): Promise<SipResponse> {
  let resp: SipResponse | undefined;
  const out = await core.onRequest(req, (status, reason, opts) => {
    assert.equal(resp, undefined, 'answered twice');
    resp = createResponse(req, status, reason, opts ?? {});
  });
  assert.equal(out.kind, 'answered');
  assert.ok(resp, 'no response');
  return resp;
}

/** The UE's ISIM: Milenage with K/OP, SQN state per TS 33.102 Annex C. */
export class TestIsim {
  readonly m: Milenage;
  state: UsimSqnState = freshUsimState();
  constructor(k = K, op = OP) {
    this.m = new Milenage(fromHex(k), computeOpc(fromHex(k), fromHex(op)));
  }

  /** Answers a 401 the way TS 24.229 §5.1.1.5.1 says; returns the Authorization value. */
  answer(resp: SipResponse, o: { impi?: string; integrity?: 'yes' | 'no'; version?: 1 | 2; tamper?: boolean } = {}): { authorization: string; challenge: DigestChallenge; result: ReturnType<typeof isimAuthenticate> } {
    assert.equal(resp.status, 401);
    const challenge = parseDigestChallenge(resp.headers.get('www-authenticate')!);
    const { rand, autn } = parseAkaNonce(challenge.nonce);
    const result = isimAuthenticate(this.m, rand, autn, this.state);
    const impi = o.impi ?? 'alice@ims.lab';
    const base = { username: impi, realm: challenge.realm, nonce: challenge.nonce, uri: `sip:${REALM}`, algorithm: challenge.algorithm, ...(o.integrity ? { integrityProtected: o.integrity } : {}) };
    if (result.result === 'ok') {
      this.state = result.state!;
      const version = challenge.algorithm === 'AKAv2-MD5' ? 2 : 1;
      const res = o.tamper ? result.res.map((b, i) => (i === 0 ? b ^ 1 : b)) : result.res;
      const response = digestResponse({
        algorithm: challenge.algorithm as 'AKAv1-MD5',
        username: impi, realm: challenge.realm, password: akaPassword(version, res, result.ik, result.ck), method: 'REGISTER', uri: `sip:${REALM}`, nonce: challenge.nonce,
        qop: 'auth', nc: 1, cnonce: 'c0ffee',
      });
      return { authorization: formatDigestCredentials({ ...base, response, qop: 'auth', nc: '00000001', cnonce: 'c0ffee' }), challenge, result };
    }
    if (result.result === 'sync-failure') return { authorization: formatDigestCredentials({ ...base, response: '', auts: result.auts }), challenge, result };
    return { authorization: formatDigestCredentials({ ...base, response: '' }), challenge, result };
  }
}

/** A full registration: REGISTER → 401 → REGISTER with the response → the final response. */
export async function registerFully(core: ScscfCore, isim: TestIsim, o: RegisterOptions = {}): Promise<SipResponse> {
  const r1 = await send(core, register({ ...o, integrity: 'no' }));
  assert.equal(r1.status, 401, `expected 401, got ${r1.status}`);
  const { authorization } = isim.answer(r1, { impi: o.impi, integrity: 'yes' });
  return send(core, register({ ...o, cseq: (o.cseq ?? 1) + 1, authorization }));
}

export { formatAuts };
