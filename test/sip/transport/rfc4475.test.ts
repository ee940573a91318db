/**
 * The RFC 4475 torture messages (../shared/vectors/rfc4475, byte-exact copies of the RFC's archive)
 * through the inbound step of a UDP transport: valid messages are handed up, invalid ones never
 * are — a request is answered with the error the RFC asks for when it can be routed, anything
 * else is dropped and counted.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { acceptInbound } from '../../../src/sip/transport/inbound.js';
import { sharedJson, sharedVectorPath } from '../../support/shared.js';

interface Entry {
  file: string;
  name: string;
  rfc_section: string;
  validity: 'valid' | 'invalid' | 'semantic';
}
const vectors = sharedJson<{ messages: Entry[] }>('rfc4475', 'index.json');
const ctx = { protocol: 'udp' as const, local: { address: '127.0.0.1', port: 5060 }, remote: { address: '192.0.2.1', port: 5060 } };
const run = (e: Entry) => acceptInbound(new Uint8Array(readFileSync(sharedVectorPath('rfc4475', e.file))), ctx);

describe('RFC 4475 torture tests through a UDP transport', vectors.options, () => {
  const index = vectors.value;
  test('RFC 4475 §3.1.1: every valid message is handed up', () => {
    const valid = index.messages.filter((m) => m.validity === 'valid');
    assert.equal(valid.length, 13);
    for (const e of valid) assert.equal(run(e).kind, 'message', `${e.rfc_section} ${e.name}`);
  });

  // RFC 3261 §16.3 step 1: "Any other components, well-formed or not, SHOULD be ignored and remain
  // unchanged when the message is forwarded. For instance, an element would not reject a request
  // because of a malformed Date header field." A transport checks what every element reads (the
  // start line, Via, From, To, Call-ID, CSeq, Max-Forwards, Route, Content-Length); the two torture
  // messages whose only fault is elsewhere go up to the element, which answers 400 if it reads it.
  const elementsJudge = ['baddate', 'regbadct'];

  test('RFC 4475 §3.1.2, RFC 3261 §16.3 step 1: no message invalid in a core field is handed up; requests get 400/505 when routable, the rest is dropped', () => {
    const invalid = index.messages.filter((m) => m.validity === 'invalid' && !elementsJudge.includes(m.name));
    assert.equal(invalid.length, 17);
    for (const e of invalid) {
      const r = run(e);
      assert.notEqual(r.kind, 'message', `${e.rfc_section} ${e.name}`);
      if (r.kind === 'reject') assert.ok([400, 505].includes(r.response.status), `${e.name}: ${r.response.status}`);
    }
  });

  test('RFC 3261 §16.3 step 1, RFC 4475 §3.1.2.12 and §3.1.2.13: a malformed Date or Contact goes up unchanged, left to the element that reads it', () => {
    const date = run(index.messages.find((m) => m.name === 'baddate')!);
    assert.equal(date.kind, 'message');
    assert.match(date.kind === 'message' ? date.msg.headers.get('Date')! : '', /EST$/);
    const contact = run(index.messages.find((m) => m.name === 'regbadct')!);
    assert.equal(contact.kind, 'message');
    assert.match(contact.kind === 'message' ? contact.msg.headers.get('Contact')! : '', /^sip:user@example\.com\?Route=/);
  });

  const expected: [string, number][] = [
    ['clerr', 400], // §3.1.2.2 Content-Length larger than the message
    ['scalar02', 400], // §3.1.2.4 negative Content-Length / huge CSeq
    ['badvers', 505], // §3.1.2.16 unknown protocol version
    ['mismatch01', 400], // §3.1.2.17 start line and CSeq method mismatch
    ['mismatch02', 400], // §3.1.2.18 (400 "also acceptable")
    ['insuf', 400], // §3.3.1 missing required header fields
    ['multi01', 400], // §3.3.8 multiple values in single-value required fields
    ['mcl01', 400], // §3.3.9 multiple Content-Length values
  ];
  for (const [name, status] of expected) {
    test(`RFC 4475 ${index.messages.find((m) => m.name === name)!.rfc_section} ${name} is answered ${status}`, () => {
      const r = run(index.messages.find((m) => m.name === name)!);
      assert.equal(r.kind, 'reject');
      assert.equal(r.kind === 'reject' && r.response.status, status);
      assert.deepEqual(r.kind === 'reject' && r.destination, { address: '192.0.2.1', port: 5060 });
    });
  }

  test('RFC 4475 §3.1.2.5 a response with out-of-range scalar values is discarded', () => {
    const r = run(index.messages.find((m) => m.name === 'scalarlg')!);
    assert.deepEqual(r, { kind: 'drop', reason: 'invalid' });
  });
});
