/**
 * Fuzz the two readers of G3: the core configuration (arbitrary JSON → a configuration or a
 * CoreConfigError with code CONFIG, nothing else; whatever parses prints and parses back to the
 * same value) and the demo's ladder decoder (arbitrary bytes as SIP, Diameter or ESP, in any
 * TCP segmentation → entries or a recorded problem, never an exception, never a hang).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { WirePacket } from '../../src/capture/index.js';
import { CoreConfigError, coreConfigJson, parseCoreConfig } from '../../src/nodes/core/index.js';
import { LadderDecoder } from '../../src/nodes/demo/index.js';
import { deriveEspKeys } from '../../src/ipsec/esp/index.js';
import type { SecurityAssociation } from '../../src/ipsec/sa/index.js';
import { decodeFuzzValue, encodeFuzzValue, fuzzTarget } from '../support/fuzz.js';

const RUNS = 500;
const fuzz = fuzzTarget<unknown>(import.meta.url, (raw) => ({ ext: '.json', data: encodeFuzzValue(raw) }));

/** A configuration or a CoreConfigError (CONFIG); what parses round-trips through its printed form. */
const configContract = fuzz.guard((raw) => {
  let c;
  try {
    c = parseCoreConfig(raw);
  } catch (e) {
    assert.ok(e instanceof CoreConfigError && e.code === 'CONFIG', `threw ${String(e)}`);
    return;
  }
  const printed = JSON.parse(JSON.stringify(coreConfigJson(c)));
  const back = parseCoreConfig(printed);
  // Keys of non-demo subscribers are redacted in print: compare everything else.
  assert.deepEqual({ ...back, subscribers: back.subscribers.map((s) => s.impi) }, { ...c, subscribers: c.subscribers.map((s) => s.impi) });
});

const keyish = fc.oneof(fc.constant('[secret]'), fc.stringMatching(/^[0-9a-f]{32}$/), fc.string({ maxLength: 6 }));
const sub = fc.record(
  {
    impi: fc.oneof(fc.constant('alice@ims.lab'), fc.constant('carol@ims.lab'), fc.string({ maxLength: 8 })),
    impus: fc.oneof(fc.constant(['sip:carol@ims.lab']), fc.array(fc.string({ maxLength: 10 }), { maxLength: 2 })),
    k: keyish,
    op: keyish,
    opc: keyish,
    amf: fc.oneof(fc.constant('8000'), fc.string({ maxLength: 5 })),
  },
  { requiredKeys: [] },
);
const port = fc.oneof(fc.integer({ min: 0, max: 65535 }), fc.integer(), fc.string({ maxLength: 4 }));
const config = fc.record(
  {
    realm: fc.oneof(fc.constant('ims.lab'), fc.string({ maxLength: 10 })),
    host: fc.oneof(fc.constant('127.0.0.1'), fc.string({ maxLength: 6 })),
    dataDir: fc.string({ maxLength: 6 }),
    hss: fc.record({ diameterPort: port, rest: fc.oneof(fc.constant(null), fc.constant('127.0.0.1:0'), fc.string({ maxLength: 6 })), settings: fc.object({ maxDepth: 1 }) }, { requiredKeys: [] }),
    scscf: fc.record({ sipPort: port, settings: fc.oneof(fc.object({ maxDepth: 1 }), fc.array(fc.nat())) }, { requiredKeys: [] }),
    pcscf: fc.record({ sipPort: port, protectedPorts: fc.oneof(fc.constant('auto'), fc.constant('5100-5199'), fc.string({ maxLength: 9 }), fc.record({ min: port, max: port })), datapath: fc.oneof(fc.constant('xfrm'), fc.string({ maxLength: 5 })) }, { requiredKeys: [] }),
    subscribers: fc.array(sub, { maxLength: 3 }),
    logLevel: fc.oneof(fc.constant('warn'), fc.string({ maxLength: 5 })),
    extra: fc.anything(),
  },
  { requiredKeys: [] },
);

describe('fuzz: core configuration', () => {
  test('corpus: every saved configuration keeps the contract', () => {
    for (const { name, bytes } of fuzz.corpus('.json')) {
      try {
        configContract(decodeFuzzValue(bytes.toString('utf8')));
      } catch (e) {
        assert.fail(`${name}: ${String(e)}`);
      }
    }
  });

  test('a configuration or a CoreConfigError (CONFIG); what parses round-trips through its printed form', () => {
    fc.assert(fc.property(fc.oneof(config, fc.anything()), configContract), fuzz.params(RUNS));
  });
});

describe('fuzz: ladder decoder', () => {
  const keys = deriveEspKeys('hmac-md5-96', 'null', new Uint8Array(16).fill(1), new Uint8Array(16).fill(2));
  const sa = { id: '1/uc-ps', setId: 1, flow: 'uc-ps', direction: 'out', spi: 0x1000, src: { address: '127.0.0.1', port: 1 }, dst: { address: '127.0.0.1', port: 2 }, transports: ['udp'], integrity: 'hmac-md5-96', encryption: 'null', mode: 'UDP-enc-tun', keys, impi: 'a', impus: [], state: 'active' } as SecurityAssociation;
  const sipLike = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(`REGISTER sip:x SIP/2.0\r\n${s}\r\n\r\n`)),
    fc.string({ maxLength: 200 }).map((s) => new TextEncoder().encode(`SIP/2.0 401 X\r\nCSeq: 1 REGISTER\r\nWWW-Authenticate: ${s}\r\nContent-Length: 0\r\n\r\n`)),
  );
  const diameterLike = fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 16, maxLength: 120 }).map((b) => new Uint8Array([1, 0, 0, (b.length + 4) & 0xfc, ...b])));
  const espLike = fc.uint8Array({ maxLength: 120 }).map((b) => new Uint8Array([0, 0, 0x10, 0, ...b]));

  test('every packet gives entries or a recorded problem, never an exception', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.tuple(sipLike, fc.constantFrom('udp' as const, 'tcp' as const)).map(([bytes, proto]) => ({ kind: 'sip' as const, proto, bytes })),
            diameterLike.map((bytes) => ({ kind: 'diameter' as const, proto: 'tcp' as const, bytes })),
            espLike.map((bytes) => ({ kind: 'esp' as const, proto: 'udp' as const, bytes })),
          ),
          { maxLength: 6 },
        ),
        (items) => {
          const d = new LadderDecoder({ nameOf: () => undefined, saFor: (spi) => (spi === 0x1000 ? sa : undefined) });
          let seq = 0;
          for (const it of items) {
            const p: WirePacket = { seq: ++seq, at: 0, kind: it.kind, proto: it.proto, from: sa.src, to: sa.dst, bytes: it.bytes };
            const out = d.decode(p);
            assert.ok(Array.isArray(out));
            for (const e of out) assert.equal(typeof e.summary, 'string');
          }
        },
      ),
      fuzz.params(RUNS),
    );
  });
});
