import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SeededRng } from '../../../src/common/rng.js';
import { ThigError } from '../../../src/nodes/icscf/errors.js';
import { NetworkMatcher } from '../../../src/nodes/icscf/network.js';
import { hasOurTokens, hideTopology, revealTopology, type ThigPolicy } from '../../../src/nodes/icscf/thig.js';
import { ThigKey } from '../../../src/nodes/icscf/thig-token.js';
import { formatUri, parseMessage, routesOf, serializeMessage, viasOf, type SipMessage } from '../../../src/sip/index.js';

const KV = Uint8Array.from(Buffer.from('8c4fbd9b0e7a2d3f61c05a1e9f7b2c44', 'hex'));
const home = new NetworkMatcher({ domains: ['ims.lab'], addresses: ['127.0.0.1:6060'] });

function policy(kv: Uint8Array = KV, extra: Partial<ThigPolicy> = {}): ThigPolicy {
  return {
    key: new ThigKey(kv),
    domain: 'ims.lab',
    domains: ['ims.lab'],
    host: 'icscf.ims.lab',
    port: 4060,
    isHome: (h, p) => home.has(h, p),
    isSelf: (h, p) => h === 'icscf.ims.lab' && (p ?? 5060) === 4060,
    ...extra,
  };
}

const text = (m: SipMessage): string => Buffer.from(serializeMessage(m)).toString('latin1');
const msg = (lines: string[]): SipMessage => parseMessage(Buffer.from([...lines, 'Content-Length: 0', '', ''].join('\r\n'), 'latin1'));

/** A request leaving the home network: two home Vias on one line, one on another, then a foreign one; Record-Route mixed. */
const OUTGOING = [
  'INVITE sip:bob@other.lab SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:6060;branch=z9hG4bKs1 ,  SIP/2.0/TCP pcscf.ims.lab:5060;branch=z9hG4bKp1;rport=5060;received=10.0.0.7',
  'v: SIP/2.0/UDP ue.ims.lab:5060;branch=z9hG4bKu1',
  'Via: SIP/2.0/UDP gw.other.lab;branch=z9hG4bKg1',
  'Record-Route: <sip:icscf.ims.lab:4060;lr>',
  'Record-Route: <sip:127.0.0.1:6060;lr>, <sip:pcscf.ims.lab;lr>',
  'Record-Route: <sip:border.other.lab;lr>',
  'Path: <sip:pcscf.ims.lab;lr>',
  'Route: <sip:proxy.other.lab;lr>',
  'From: <sip:alice@ims.lab>;tag=a1',
  'To: <sip:bob@other.lab>',
  'Call-ID: thig-1',
  'CSeq: 1 INVITE',
  'Max-Forwards: 69',
  'Contact: <sip:alice@10.0.0.7:5060>',
];

describe('THIG hide/reveal of Via, Record-Route, Route, Path (R-HIDE-1)', () => {
  test('[R-HIDE-1] hides every run of home entries, keeps foreign and own entries, and nothing of the home network shows', () => {
    const original = msg(OUTGOING);
    const { msg: hidden, count } = hideTopology(original, policy(), new SeededRng(1));
    assert.equal(count, 3); // one Via run (3 entries over 2 fields), one Record-Route run, one Path run
    const out = text(hidden);
    for (const leak of ['127.0.0.1:6060', 'pcscf.ims.lab', 'ue.ims.lab', '10.0.0.7:5060;branch', 'z9hG4bKs1']) assert.ok(!out.includes(leak), `leaks ${leak}`);
    const vias = viasOf(hidden);
    assert.equal(vias.length, 2);
    assert.equal(vias[0].host, 'icscf.ims.lab');
    assert.equal(vias[0].params.get('tokenized-by'), 'ims.lab');
    assert.equal(vias[1].host, 'gw.other.lab');
    const rr = routesOf(hidden, 'Record-Route');
    assert.deepEqual(
      rr.map((r) => (r.uri.kind === 'sip' ? r.uri.host : '')),
      ['icscf.ims.lab', 'icscf.ims.lab', 'border.other.lab'],
    );
    assert.equal(rr[0].uri.kind === 'sip' && rr[0].uri.user, undefined, 'own Record-Route stays visible');
    assert.ok(rr[1].uri.kind === 'sip' && rr[1].uri.params.get('tokenized-by') === 'ims.lab' && rr[1].uri.params.has('lr'));
    assert.equal(hidden.headers.get('route'), '<sip:proxy.other.lab;lr>');
    assert.ok(hasOurTokens(hidden, policy()));
    assert.ok(!hasOurTokens(original, policy()));
    // The input message is not changed.
    assert.equal(text(original), text(msg(OUTGOING)));
  });

  test('[R-HIDE-1] reveal restores the exact original bytes, field by field, including separators and compact names', () => {
    const original = msg(OUTGOING);
    const hidden = hideTopology(original, policy(), new SeededRng(2)).msg;
    const back = revealTopology(hidden, policy());
    assert.equal(back.count, 3);
    assert.equal(text(back.msg), text(original));
  });

  test('[R-HIDE-1] two I-CSCFs with the same Kv: one hides, the other reveals; a third with another Kv refuses', () => {
    const original = msg(OUTGOING);
    const hidden = hideTopology(original, policy(Uint8Array.from(KV)), new SeededRng(3)).msg;
    assert.equal(text(revealTopology(hidden, policy(Uint8Array.from(KV), { host: 'icscf2.ims.lab' })).msg), text(original));
    const otherKv = Uint8Array.from(KV);
    otherKv[0] ^= 0xff;
    assert.throws(() => revealTopology(hidden, policy(otherKv)), (e: unknown) => e instanceof ThigError && e.code === 'THIG' && e.reason === 'auth');
  });

  test('[R-HIDE-1] the same message hidden twice gives different tokens (random IV)', () => {
    const a = text(hideTopology(msg(OUTGOING), policy(), new SeededRng(4)).msg);
    const b = text(hideTopology(msg(OUTGOING), policy(), new SeededRng(5)).msg);
    assert.notEqual(a, b);
  });

  test('[R-HIDE-1] a tampered token in a message is refused, not half-restored', () => {
    const hidden = hideTopology(msg(OUTGOING), policy(), new SeededRng(6)).msg;
    const raw = text(hidden);
    const m = /thig=([A-Za-z0-9_-]+)/.exec(raw)!;
    const tok = m[1];
    const flipped = tok.slice(0, 40) + (tok[40] === 'A' ? 'B' : 'A') + tok.slice(41);
    const tampered = parseMessage(Buffer.from(raw.replace(tok, flipped), 'latin1'));
    assert.throws(() => revealTopology(tampered, policy()), ThigError);
  });

  test('[R-HIDE-1] a response coming back restores the exact original Via and Record-Route', () => {
    // The foreign UAS answers the hidden request: Via copied, Record-Route copied (RFC 3261 §12.1.1).
    const hidden = hideTopology(msg(OUTGOING), policy(), new SeededRng(7)).msg;
    const h = hidden.headers;
    const resp = msg([
      'SIP/2.0 200 OK',
      ...h.getLines('via').map((v) => `Via: ${v}`),
      ...h.getLines('record-route').map((v) => `Record-Route: ${v}`),
      'From: <sip:alice@ims.lab>;tag=a1',
      'To: <sip:bob@other.lab>;tag=b1',
      'Call-ID: thig-1',
      'CSeq: 1 INVITE',
    ]);
    const back = revealTopology(resp, policy()).msg;
    const orig = msg(OUTGOING);
    // Field names may differ in spelling (the response writes `Via:`), values must be identical.
    assert.deepEqual(back.headers.getAll('via'), orig.headers.getAll('via'));
    assert.deepEqual(back.headers.getLines('record-route'), orig.headers.getLines('record-route'));
  });

  test('[R-HIDE-1] a Record-Route run hidden towards a UAC expands reversed in that UAC’s Route (RFC 3261 §12.1.2)', () => {
    // 200 OK leaving the network towards a foreign UAC: Record-Route = [pcscf, scscf, foreign].
    const resp = msg([
      'SIP/2.0 200 OK',
      'Via: SIP/2.0/UDP gw.other.lab;branch=z9hG4bKg2',
      'Record-Route: <sip:pcscf.ims.lab;lr>, <sip:127.0.0.1:6060;lr>, <sip:border.other.lab;lr>',
      'From: <sip:carol@other.lab>;tag=c1',
      'To: <sip:alice@ims.lab>;tag=a2',
      'Call-ID: thig-2',
      'CSeq: 1 INVITE',
    ]);
    const hidden = hideTopology(resp, policy(), new SeededRng(8), { towardsUac: true }).msg;
    const rr = routesOf(hidden, 'Record-Route');
    assert.equal(rr.length, 2);
    // The UAC's route set is the Record-Route reversed; its BYE comes back with it as Route.
    const routeSet = rr.map((r) => `<${formatUri(r.uri)}>`).reverse();
    const bye = msg([
      'BYE sip:alice@10.0.0.7 SIP/2.0',
      'Via: SIP/2.0/UDP ue.other.lab;branch=z9hG4bKb1',
      `Route: ${routeSet.join(', ')}`,
      'From: <sip:carol@other.lab>;tag=c1',
      'To: <sip:alice@ims.lab>;tag=a2',
      'Call-ID: thig-2',
      'CSeq: 2 BYE',
    ]);
    const back = revealTopology(bye, policy()).msg;
    assert.deepEqual(
      routesOf(back, 'Route').map((r) => (r.uri.kind === 'sip' ? `${r.uri.host}:${r.uri.port ?? ''}` : '')),
      ['border.other.lab:', '127.0.0.1:6060', 'pcscf.ims.lab:'],
    );
  });

  test('[R-HIDE-1] tokens of another domain are left alone; nothing to hide leaves the message as it was', () => {
    const foreign = hideTopology(msg(OUTGOING), { ...policy(), domain: 'other.lab', domains: ['other.lab'] }, new SeededRng(9)).msg;
    const r = revealTopology(foreign, policy());
    assert.equal(r.count, 0);
    assert.equal(r.msg, foreign);
    const plain = msg(['OPTIONS sip:x@other.lab SIP/2.0', 'Via: SIP/2.0/UDP gw.other.lab;branch=z9hG4bKo', 'From: <sip:a@other.lab>;tag=1', 'To: <sip:x@other.lab>', 'Call-ID: o', 'CSeq: 1 OPTIONS']);
    const h = hideTopology(plain, policy(), new SeededRng(10));
    assert.equal(h.count, 0);
    assert.equal(h.msg, plain);
  });

  test('[R-HIDE-1] only the configured headers are hidden', () => {
    const h = hideTopology(msg(OUTGOING), policy(KV, { headers: ['via'] }), new SeededRng(11)).msg;
    assert.equal(h.headers.getLines('record-route').join('|'), msg(OUTGOING).headers.getLines('record-route').join('|'));
    assert.ok(!text(h).includes('z9hG4bKs1'));
  });
});
