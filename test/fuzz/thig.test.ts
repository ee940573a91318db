/**
 * Fuzz the I-CSCF topology hiding (R-HIDE-1): the token decoder returns a payload or throws
 * ThigError, nothing else; revealing any parseable message returns a message or throws ThigError;
 * hiding then revealing gives back the exact bytes of every generated message. Inputs that once
 * failed are kept in test/fuzz/corpus/thig/ and replayed here and by test/nodes/icscf/thig-corpus.test.ts.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { SeededRng } from '../../src/common/rng.js';
import { hideTopology } from '../../src/nodes/icscf/thig.js';
import { openThigToken, sealThigToken } from '../../src/nodes/icscf/thig-token.js';
import { parseMessage } from '../../src/sip/index.js';
import { fuzzPolicy, text, thigMessageContract, tokenContract, THIG_CORPUS_DIR } from '../nodes/icscf/thig-contract.js';
import { fuzzTarget, mutatedText } from '../support/fuzz.js';

const RUNS = 400;
const fuzz = fuzzTarget<string>(import.meta.url, (s) => ({ ext: '.sip', data: Buffer.from(s, 'latin1') }));

const host = fc.constantFrom('127.0.0.1:6060', '127.0.0.1:7070', 'pcscf.ims.lab', 'scscf.ims.lab:6060', 'ims.lab', 'icscf.ims.lab:4060', 'gw.other.lab', '[2001:db8::1]:5060', 'x.example');
const viaParam = fc.constantFrom(';branch=z9hG4bK1', ';rport', ';received=10.0.0.1', ';comment="a, b"', ';ttl=5', '', ';tokenized-by=other.lab;thig=AAAA');
const via = fc.tuple(fc.constantFrom('UDP', 'TCP', 'TLS'), host, fc.array(viaParam, { maxLength: 3 })).map(([t, h, ps]) => `SIP/2.0/${t} ${h}${ps.join('')}`);
const routeEntry = fc.tuple(fc.constantFrom('', 'user@', 'AAAA@'), host, fc.constantFrom(';lr', ';lr;transport=tcp', '', ';tokenized-by=other.lab'), fc.constantFrom('', ';x="1,2"', ' ')).map(([u, h, p, hp]) => `<sip:${u}${h}${p}>${hp}`);
const sep = fc.constantFrom(', ', ',', ' ,  ', ',\t');

/** Entries spread over fields with random separators and name spellings. */
function fields(names: string[], entry: fc.Arbitrary<string>): fc.Arbitrary<string[]> {
  return fc.array(fc.tuple(fc.constantFrom(...names), fc.array(entry, { minLength: 1, maxLength: 4 }), sep), { maxLength: 3 }).map((fs) => fs.map(([n, es, s]) => `${n}: ${es.join(s)}`));
}

const message = fc
  .tuple(fields(['Via', 'v', 'VIA'], via), fields(['Record-Route', 'record-route'], routeEntry), fields(['Route'], routeEntry), fields(['Path'], routeEntry), fc.boolean())
  .map(([v, rr, r, p, isReq]) =>
    [
      isReq ? 'MESSAGE sip:bob@other.lab SIP/2.0' : 'SIP/2.0 200 OK',
      ...(v.length ? v : ['Via: SIP/2.0/UDP a.other.lab;branch=z9hG4bKa']),
      ...rr,
      'From: <sip:a@ims.lab>;tag=1',
      ...r,
      'To: <sip:b@other.lab>',
      ...p,
      'Call-ID: f',
      'CSeq: 1 MESSAGE',
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  );

/** A hidden message with a few characters changed. */
const mutated = mutatedText(
  message.map((raw) => text(hideTopology(parseMessage(Buffer.from(raw, 'latin1')), fuzzPolicy, new SeededRng(raw)).msg)),
  'A_-=;,<>@:x\r',
  4,
);

/** The contract, remembering a failing input for the corpus. */
const guarded = fuzz.guard(thigMessageContract);

describe('fuzz: THIG tokens and hide/reveal (R-HIDE-1)', () => {
  test('corpus inputs keep the contract', () => {
    const files = readdirSync(THIG_CORPUS_DIR).filter((f) => f.endsWith('.sip'));
    assert.ok(files.length > 0, 'corpus is not empty');
    for (const f of files) thigMessageContract(readFileSync(join(THIG_CORPUS_DIR, f), 'latin1'));
  });

  test('[R-HIDE-1] arbitrary token text: a payload or ThigError', () => {
    const b64 = fc.uint8Array({ minLength: 0, maxLength: 120 }).map((b) => Buffer.from(b).toString('base64url'));
    fc.assert(fc.property(fc.oneof(fc.string({ maxLength: 200 }), b64, fc.string({ unit: fc.constantFrom(...'AZaz09-_'.split('')), maxLength: 200 })), tokenContract), fuzz.params(RUNS));
  });

  test('[R-HIDE-1] generated payloads seal and open to the same value', () => {
    fc.assert(
      fc.property(fc.constantFrom('via' as const, 'route' as const, 'record-route' as const, 'path' as const), fc.boolean(), fc.string({ minLength: 1, maxLength: 200 }).filter((s) => !s.includes('\r')), (header, rev, t) => {
        const payload = { header, reverseInRoute: rev, text: t };
        const tok = sealThigToken(fuzzPolicy.key, new SeededRng(t), 'ims.lab', payload);
        assert.deepEqual(openThigToken(fuzzPolicy.key, 'ims.lab', header === 'via' ? 'via' : 'route', tok), payload);
      }),
      fuzz.params(RUNS),
    );
  });

  test('[R-HIDE-1] generated messages: hide then reveal gives back the exact bytes', () => {
    fc.assert(fc.property(message, guarded), fuzz.params(RUNS));
  });

  test('[R-HIDE-1] mutated hidden messages: reveal returns a message or throws ThigError', () => {
    fc.assert(fc.property(mutated, guarded), fuzz.params(RUNS));
  });
});
