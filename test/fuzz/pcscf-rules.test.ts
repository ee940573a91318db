/**
 * Fuzzing the P-CSCF's REGISTER rules and configuration parser with fast-check (STYLE §6): for
 * any header values a UE (or the S-CSCF) may send, the sec-agree gate returns an outcome and
 * never throws; the header edits and readers either work or throw an ImsError, nothing else;
 * the config parser returns a config or throws PcscfConfigError. Inputs are mutations of a real
 * REGISTER's header values. The corpus, corpus/pcscf-rules/, holds header arrays (`*.jsonl`, one
 * array a line: the seed REGISTER, edge cases and any failing input found) and configurations
 * (`*.config.json`); every run replays it, and a missing or empty corpus fails.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ImsError } from '../../src/common/index.js';
import { DEFAULT_PCSCF_POLICY } from '../../src/secagree/index.js';
import {
  applyTerminatingPrivacy,
  checkIdentity,
  classifyUnprotectedRegister,
  credentialsOf,
  parsePcscfConfig,
  PcscfConfigError,
  requestedExpires,
  secAgreeGate,
  setIntegrityProtected,
  stripSecAgree,
} from '../../src/nodes/pcscf/index.js';
import { SipHeaders, SipRequest } from '../../src/sip/index.js';
import { fuzzTarget } from '../support/fuzz.js';

const RUNS = 800;
const POLICY = { ...DEFAULT_PCSCF_POLICY, mods: ['UDP-enc-tun' as const] };

const SEED: [string, string][] = [
  ['Require', 'sec-agree'],
  ['Proxy-Require', 'sec-agree'],
  ['Security-Client', 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=UDP-enc-tun;spi-c=3000000001;spi-s=3000000002;port-c=31000;port-s=31001'],
  ['Security-Verify', 'ipsec-3gpp;alg=hmac-sha-1-96;ealg=aes-cbc;prot=esp;mod=UDP-enc-tun;spi-c=1001;spi-s=1002;port-c=5100;port-s=5101'],
  ['Authorization', 'Digest username="alice@ims.lab", realm="ims.lab", nonce="", uri="sip:ims.lab", response="", integrity-protected="no"'],
  ['Contact', '<sip:alice@127.0.0.1:31001>;expires=600'],
  ['P-Preferred-Identity', '<sip:alice@ims.lab>'],
  ['Privacy', 'id;critical'],
];
const SPECIAL = ['"', ',', ';', '=', '<', '>', '\\', ' ', '\t', '0', '-1', '4294967296', 'sec-agree', 'ipsec-3gpp', 'null', 'aes-gcm', 'q=1', 'auts="', '@', ':'];

const header = fc.tuple(fc.nat({ max: SEED.length - 1 }), fc.array(fc.record({ at: fc.nat(), text: fc.constantFrom(...SPECIAL), del: fc.nat({ max: 8 }) }), { maxLength: 4 })).map(([i, edits]) => {
  let v = SEED[i][1];
  for (const e of edits) {
    const at = e.at % (v.length + 1);
    v = v.slice(0, at) + e.text + v.slice(at + e.del);
  }
  return [SEED[i][0], v.replace(/[\r\n]/g, ' ').trim() || 'x'] as [string, string];
});

function request(headers: [string, string][]): SipRequest {
  const h = new SipHeaders([
    ['Via', 'SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bKf'],
    ['From', '<sip:alice@ims.lab>;tag=1'],
    ['To', '<sip:alice@ims.lab>'],
    ['Call-ID', 'f1'],
    ['CSeq', '1 REGISTER'],
  ]);
  for (const [n, v] of headers) h.append(n, v);
  return new SipRequest('REGISTER', 'sip:ims.lab', h);
}

const rules = fuzzTarget<[string, string][]>(import.meta.url, (headers) => ({ ext: '.jsonl', data: `${JSON.stringify(headers)}\n` }));
const configs = fuzzTarget<unknown>(import.meta.url, (raw) => ({ ext: '.config.json', data: `${JSON.stringify(raw)}\n` }));

/** Every rule over one request: only ImsErrors may escape, and the gate never throws. */
const exercise = rules.guard((headers) => {
  const req = request(headers);
  const g = secAgreeGate(req, POLICY);
  assert.ok(typeof g.ok === 'boolean');
  if (!g.ok) assert.ok([400, 421, 494].includes(g.status));
  const only = (fn: () => unknown): void => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof ImsError)) throw e;
    }
  };
  only(() => classifyUnprotectedRegister(credentialsOf(req)));
  only(() => setIntegrityProtected(req, 'yes'));
  only(() => stripSecAgree(req));
  requestedExpires(req);
  only(() => checkIdentity(req, ['sip:alice@ims.lab']));
  applyTerminatingPrivacy(req, { ueTrusted: true });
});

/** A configuration or a PcscfConfigError, nothing else. */
const configContract = configs.guard((raw) => {
  try {
    const c = parsePcscfConfig(raw);
    assert.ok(c.sip.listen.port >= 0);
  } catch (e) {
    assert.ok(e instanceof PcscfConfigError, String(e));
  }
});

describe('fuzz: P-CSCF REGISTER rules and configuration', () => {
  test('saved corpus replays', () => {
    let lines = 0;
    for (const { name, bytes } of rules.corpus('.jsonl')) {
      for (const line of bytes.toString('utf8').split('\n').filter(Boolean)) {
        assert.doesNotThrow(() => exercise(JSON.parse(line) as [string, string][]), name);
        lines++;
      }
    }
    assert.ok(lines > 0, 'the corpus holds header arrays');
    for (const { name, bytes } of configs.corpus('.config.json')) assert.doesNotThrow(() => configContract(JSON.parse(bytes.toString('utf8'))), name);
  });

  test('the REGISTER rules return an outcome or throw an ImsError, never anything else', () => {
    fc.assert(fc.property(fc.array(header, { minLength: 1, maxLength: 8 }), exercise), rules.params(RUNS));
  });

  test('the configuration parser returns a config or throws PcscfConfigError', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.constantFrom('min', 'max', 'algs', 'ealgs', 'listen', 'ports', 'subscribe', 'expires', 'ueTrusted', 'host', 'port'), fc.oneof(fc.string(), fc.integer(), fc.array(fc.constantFrom('hmac-md5-96', 'null', 'aes-gcm', 'x')))));
    const key = fc.constantFrom('sip', 'protected', 'icscf', 'hosts', 'names', 'visitedNetworkId', 'policy', 'datapath', 'registrationTimerMs', 'maxSetsPerImpi', 'trustedCore', 'regEvent', 'privacy', 'logLevel', 'other');
    fc.assert(fc.property(fc.dictionary(key, value), configContract), configs.params(RUNS));
  });
});
