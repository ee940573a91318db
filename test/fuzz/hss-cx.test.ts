/**
 * Fuzz the HSS Cx handlers (nodes/hss/core.ts) and its configuration parser: whatever request
 * reaches the HSS — typed fields with arbitrary values, or a valid request with bytes flipped —
 * the HSS answers it (an answer message, never a request) or throws an ImsError (a
 * DiameterAvpError the node turns into a Result-Code), nothing else, and never hangs. A config
 * object of any shape parses or throws HssConfigError. Failing inputs belong in
 * test/fuzz/corpus/hss-cx/ (hex of the request, one per file) and are replayed below.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, ImsError } from '../../src/common/index.js';
import { buildLir, buildMar, buildSar, buildUar, decodeMessage, encodeMessage, isRequest, type DiameterMessage } from '../../src/diameter/index.js';
import { HssConfigError, parseHssConfig } from '../../src/nodes/hss/config.js';
import type { HssCore } from '../../src/nodes/hss/core.js';
import { alice, makeCore, memoryStore } from '../nodes/hss/support.js';
import { fuzzTarget } from '../support/fuzz.js';

const RUNS = 300;
const fuzz = fuzzTarget<never>(import.meta.url, () => ({ ext: '', data: '' }));

async function core(): Promise<HssCore> {
  const store = memoryStore();
  await store.createSubscriber(alice());
  await store.createSubscriber(alice(2));
  return makeCore(store);
}

/** The contract: an answer or an ImsError. */
async function answerOrTyped(c: HssCore, m: DiameterMessage): Promise<void> {
  try {
    const a = await c.handle(m);
    assert.equal(isRequest(a), false, 'the HSS answers, it never sends a request back');
    assert.equal(a.hopByHop, m.hopByHop);
  } catch (err) {
    if (!(err instanceof ImsError)) throw err;
  }
}

/** Encodes with identifiers (a builder's own ImsError means the typed input was not encodable: skipped). */
function wire(build: () => DiameterMessage): Uint8Array | undefined {
  try {
    return encodeMessage({ ...build(), hopByHop: 7, endToEnd: 9 });
  } catch (err) {
    if (err instanceof ImsError) return undefined;
    throw err;
  }
}

const ident = fc.oneof(fc.constantFrom('alice@ims.lab', 'sip:alice@ims.lab', 'tel:+15551000', 'alice2@ims.lab', 'sip:alice-work@ims.lab', ''), fc.string({ maxLength: 40 }));
const u32 = fc.oneof(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 0xffffffff }));
const head = { sessionId: 's;1', originHost: 'scscf.ims.lab', originRealm: 'ims.lab', destinationRealm: 'ims.lab' };

describe('fuzz: HSS Cx handlers answer or throw an ImsError', () => {
  test('[R-CX-2] typed UAR/MAR/SAR/LIR with arbitrary identities, types, counts and auth items', async () => {
    const c = await core();
    const request = fc.oneof(
      fc.record({ impi: ident, impu: ident, type: u32, vni: fc.uint8Array({ maxLength: 20 }) }).map((r) => () => buildUar({ ...head, userName: r.impi, publicIdentity: r.impu, visitedNetworkIdentifier: r.vni, userAuthorizationType: r.type })),
      fc
        .record({ impi: ident, impu: ident, n: u32, scheme: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }), auth: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: undefined }), host: fc.constantFrom('scscf.ims.lab', 'x.lab') })
        .map((r) => () => buildMar({ ...head, originHost: r.host, userName: r.impi, publicIdentity: r.impu, sipAuthDataItem: { ...(r.scheme !== undefined ? { scheme: r.scheme } : {}), ...(r.auth !== undefined ? { authorization: r.auth } : {}) }, sipNumberAuthItems: r.n, serverName: 'sip:scscf.ims.lab:6060' })),
      fc
        .record({ impi: fc.option(ident, { nil: undefined }), impus: fc.array(ident, { maxLength: 3 }), type: u32, avail: fc.integer({ min: 0, max: 3 }), name: fc.constantFrom('sip:scscf.ims.lab:6060', 'sip:other') })
        .map((r) => () => buildSar({ ...head, ...(r.impi !== undefined ? { userName: r.impi } : {}), publicIdentities: r.impus, serverName: r.name, serverAssignmentType: r.type, userDataAlreadyAvailable: r.avail })),
      fc.record({ impu: ident, type: fc.option(u32, { nil: undefined }) }).map((r) => () => buildLir({ ...head, publicIdentity: r.impu, ...(r.type !== undefined ? { userAuthorizationType: r.type } : {}) })),
    );
    await fc.assert(
      fc.asyncProperty(request, async (build) => {
        const bytes = wire(build);
        if (bytes !== undefined) await answerOrTyped(c, decodeMessage(bytes));
      }),
      fuzz.params(RUNS),
    );
  });

  test('[R-CX-2] valid requests with bytes flipped: what still decodes is answered or refused with an ImsError', async () => {
    const c = await core();
    const seeds = [
      wire(() => buildMar({ ...head, userName: 'alice@ims.lab', publicIdentity: 'sip:alice@ims.lab', sipAuthDataItem: { scheme: 'Digest-AKAv1-MD5' }, sipNumberAuthItems: 2, serverName: 'sip:scscf.ims.lab:6060' }))!,
      wire(() => buildSar({ ...head, userName: 'alice@ims.lab', publicIdentities: ['sip:alice@ims.lab'], serverName: 'sip:scscf.ims.lab:6060', serverAssignmentType: 1, userDataAlreadyAvailable: 0 }))!,
      wire(() => buildUar({ ...head, userName: 'alice@ims.lab', publicIdentity: 'sip:alice@ims.lab', visitedNetworkIdentifier: new TextEncoder().encode('ims.lab') }))!,
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 6 }), async (seed, flips) => {
        const b = seed.slice();
        for (const [at, v] of flips) b[20 + (at % (b.length - 20))] = v;
        let m: DiameterMessage;
        try {
          m = decodeMessage(b);
        } catch (err) {
          if (err instanceof ImsError) return;
          throw err;
        }
        await answerOrTyped(c, m);
      }),
      fuzz.params(RUNS),
    );
  });

  test('[R-CX-2] corpus replay (test/fuzz/corpus/hss-cx)', async () => {
    const c = await core();
    const files = fuzz.corpus('.hex');
    for (const { name: f, bytes } of files) {
      let m: DiameterMessage;
      try {
        m = decodeMessage(fromHex(bytes.toString('utf8').trim()));
      } catch (err) {
        assert.ok(err instanceof ImsError, f);
        continue;
      }
      await answerOrTyped(c, m);
    }
  });
});

describe('fuzz: HSS configuration', () => {
  test('[R-CX-1] any JSON value parses to a configuration or throws HssConfigError', () => {
    const keys = fc.constantFrom('dataDir', 'store', 'diameter', 'rest', 'maxAuthItems', 'serverCapabilities', 'visitedNetworks', 'scscfHosts', 'logLevel', 'listen', 'peers', 'originHost', 'host', 'port', 'mandatory', 'x');
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.dictionary(keys, tie('v'), { maxKeys: 4 }), fc.array(tie('v'), { maxLength: 3 }), fc.constantFrom('127.0.0.1:3868', '[::1]:1', 'a:b', 'info')),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(keys, value, { maxKeys: 5 }), (raw) => {
        try {
          const c = parseHssConfig(raw);
          assert.ok(c.diameter.listen.port >= 0 && c.diameter.listen.port <= 65535);
        } catch (err) {
          if (!(err instanceof HssConfigError)) throw err;
        }
      }),
      fuzz.params(1000),
    );
  });
});
