/**
 * Memory per registered UE (issue [K], R-LAB-4). The parser hands out header values as V8 slices
 * of the message text (a copy per value would cost a third of the parse), and a slice keeps its
 * whole parent alive: values kept for a registration's life (its IMPI and IMPUs, a Contact's
 * instance, the algorithm names of its SAs, an identity read from Cx User-Data) kept several whole
 * messages per UE alive at 100,000 registrations (heap snapshots of `imsec core`). Whoever keeps
 * a value cuts it loose (`detached`, common/strings.ts). Each case keeps what the node keeps and
 * drops the message; the control keeps a slice and must find the text.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { detached, ManualClock, SeededRng } from '../../../src/common/index.js';
import { SaManager, type SaSet } from '../../../src/ipsec/index.js';
import { applyContacts } from '../../../src/nodes/scscf/bindings.js';
import { authorizationOf, contactsOf, createResponse, parseMessage, securityClientOf, serializeMessage, SipHeaders, SipRequest, topVia, viaBranch, type SipMessage, type SipResponse } from '../../../src/sip/index.js';
import { SipStack } from '../../../src/sip/stack/index.js';
import { TransactionLayer } from '../../../src/sip/transaction/layer.js';
import { openTransports } from '../../../src/sip/transport/open.js';
import type { StoredBinding } from '../../../src/store/index.js';
import { parseXml } from '../../../src/xml/index.js';
import { heapHoldsString, heapStringCopies, heapStringsWhere } from '../../support/heap-strings.js';

/** A REGISTER whose text holds a marker nobody else has (made at run time, not a literal). */
function register(marker: string): SipMessage {
  const text = [
    'REGISTER sip:ims.example.com SIP/2.0',
    `Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK${marker}`,
    'Max-Forwards: 70',
    'From: <sip:alice@ims.example.com>;tag=f1',
    'To: <sip:alice@ims.example.com>',
    `Call-ID: retention-${marker}`,
    'CSeq: 1 REGISTER',
    'Contact: <sip:192.0.2.1:5060>;+sip.instance="<urn:gsma:imei:35000000-000000-0>"',
    'Authorization: Digest username="alice@ims.example.com", realm="ims.example.com", nonce="", uri="sip:ims.example.com", response=""',
    'Security-Client: ipsec-3gpp;alg=hmac-sha-1-96;ealg=null;spi-c=11111;spi-s=22222;port-c=5062;port-s=5064',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(Buffer.from(text));
}

const holdsRegister = (marker: string): Promise<boolean> => heapHoldsString('REGISTER sip:', 'Max-Forwards', marker);

/** The P-CSCF's SA set for the REGISTER, made from the values it read from it (TS 33.203 §7.1). */
function setFrom(msg: SipMessage, sa: SaManager): SaSet {
  const impi = authorizationOf(msg)[0].username;
  const [offer] = securityClientOf(msg);
  const r = sa.createSet({ impi, impus: [msg.headers.get('To')!.slice(1, -1)], ueAddress: '192.0.2.1', pcscfAddress: '192.0.2.9', remote: { spiC: offer.spiC!, spiS: offer.spiS!, portC: offer.portC!, portS: offer.portS! }, integrity: offer.alg as 'hmac-sha-1-96', encryption: 'null', mode: 'trans', ik: new Uint8Array(16), ck: new Uint8Array(16) });
  assert.ok(r.ok);
  return r.set;
}

/** The S-CSCF's binding for the REGISTER's Contact (RFC 3261 §10.3 step 7). A helper, so that the
 * message is no local of the suspended test (a suspended async function keeps its locals). */
function bindingFrom(msg: SipMessage): StoredBinding {
  const r = applyContacts([], { contacts: contactsOf(msg), callId: msg.headers.get('Call-ID')!, cseq: 1, path: [] }, 0, { defaultExpires: 3600, minExpires: 60, maxExpires: 7200, maxContacts: 10 }, () => 'b1');
  assert.ok(r.ok);
  return r.bindings[0];
}

/** A non-INVITE server transaction on UDP answered 200 for the REGISTER, now in Completed. A
 * helper, for the same reason as bindingFrom. */
function answered(layer: TransactionLayer, msg: SipMessage): void {
  assert.ok(msg.kind === 'request');
  const r = layer.receiveRequest(msg, { reliable: false, send: () => Promise.resolve() });
  assert.ok(r.kind === 'new');
  r.tx.respond(createResponse(r.tx.request, 200));
  assert.equal(r.tx.state, 'completed');
}

describe('[R-LAB-4] what a node keeps of a REGISTER does not keep the REGISTER', () => {
  test('[R-LAB-4] control: a plain slice of a header value, kept, keeps the whole text', async () => {
    const marker = randomBytes(12).toString('hex');
    const kept = register(marker).headers.get('Authorization')!.slice(7, 30);
    assert.equal(await holdsRegister(marker), true);
    assert.equal(kept, 'username="alice@ims.exa');
  });

  test('[R-LAB-4] the P-CSCF SA set (IMPI, IMPUs, algorithm, UE address) keeps no message text (TS 33.203 §7.1)', async () => {
    const marker = randomBytes(12).toString('hex');
    const sa = new SaManager({ role: 'pcscf', clock: new ManualClock(0), rng: new SeededRng(1) });
    const set = setFrom(register(marker), sa);
    assert.equal(await holdsRegister(marker), false);
    assert.deepEqual([set.impi, set.impus, set.integrity, set.sas[0].integrity], ['alice@ims.example.com', ['sip:alice@ims.example.com'], 'hmac-sha-1-96', 'hmac-sha-1-96']);
    sa.clear();
  });

  test('[R-LAB-4] an S-CSCF binding (Contact, instance, Call-ID, Path) keeps no message text (RFC 3261 §10.3)', async () => {
    const marker = randomBytes(12).toString('hex');
    const binding = bindingFrom(register(marker));
    assert.equal(await holdsRegister(marker), false);
    assert.equal(binding.instance, '<urn:gsma:imei:35000000-000000-0>');
    assert.equal(binding.callId, `retention-${marker}`);
  });

  test('[R-LAB-4] the S-CSCF\'s bindings of many UEs behind one P-CSCF share one copy of its Path (RFC 3327 §5.3; issue [K]: interned strings)', async () => {
    const path = `<sip:term@pcscf-${randomBytes(6).toString('hex')}.ims.example.com;lr>`;
    const bindings: StoredBinding[] = [];
    for (let i = 0; i < 200; i++) {
      // As the registrar reads it: a Path value cut from each REGISTER.
      const text = `Path: ${path}\r\n`;
      const r = applyContacts([], { contacts: contactsOf(register(`${i}`)), callId: `c${i}`, cseq: 1, path: [text.slice(6, -2)] }, 0, { defaultExpires: 3600, minExpires: 60, maxExpires: 7200, maxContacts: 10 }, () => `b${i}`);
      assert.ok(r.ok);
      bindings.push(r.bindings[0]);
    }
    assert.ok(bindings.every((b) => b.path[0] === path));
    const copies = await heapStringCopies(path);
    assert.ok(copies >= 1 && copies <= 2, `${copies} copies of the Path: the pool's (and the test's own)`);
  });

  test('[R-LAB-4] a transaction lingering for Timer J (RFC 3261 §17.2.2) keeps its response as bytes, not the request text', async () => {
    const marker = randomBytes(12).toString('hex');
    const clock = new ManualClock(0);
    const layer = new TransactionLayer({ clock });
    answered(layer, register(marker));
    // The send's promise callbacks hold the transaction until they have run.
    await new Promise((r) => setImmediate(r));
    // The response's Via, From, To, Call-ID and CSeq, and the key's branch, were slices of the REGISTER's text.
    assert.equal(await holdsRegister(marker), false);
    assert.equal(layer.size.servers, 1, 'the transaction still absorbs retransmissions');
    layer.clear();
  });

  test('[R-LAB-4] a non-INVITE client transaction in "Completed" for Timer K (RFC 3261 §17.1.2.2) keeps neither its request nor its response text, and still absorbs a retransmitted final', async () => {
    const marker = randomBytes(12).toString('hex');
    const clock = new ManualClock(0);
    const layer = new TransactionLayer({ clock });
    completedClient(layer, marker);
    await new Promise((r) => setImmediate(r));
    assert.equal(await holdsRegister(marker), false, 'the request text');
    assert.equal(await heapHoldsString('SIP/2.0 200', marker), false, 'the response text');
    assert.equal(layer.size.clients, 1, 'the transaction is still there, in "Completed"');
    const again = register(marker) as SipRequest;
    assert.equal(layer.receiveResponse(parseMessage(serializeMessage(createResponse(again, 200, 'OK'))) as SipResponse), true, 'a retransmitted 200 is absorbed');
    clock.advance(5000);
    assert.equal(layer.size.clients, 0, 'Timer K ended it');
  });

  test('[R-LAB-4] a proxy\'s response context waiting for its server transaction\'s Timer J (RFC 3261 §16.7 step 9, §17.2.2) keeps neither the request nor the response text', async () => {
    const marker = randomBytes(12).toString('hex');
    const clock = new ManualClock(0);
    const open = async (): Promise<SipStack> => new SipStack({ transports: await openTransports({ address: '127.0.0.1' }), clock, proxy: true });
    const [uac, proxy, uas] = [await open(), await open(), await open()];
    const portOf = (st: SipStack): number => st.transportLayer.all.find((t) => t.protocol === 'udp')!.local.port;
    try {
      uas.onRequest((_req, ctx) => void ctx.reply(200, 'OK'));
      proxy.onRequest(async (req, ctx) => ctx.respond(await ctx.proxy().forward(req, { address: '127.0.0.1', port: portOf(uas) })));
      const { status, branch } = await sendMessage(uac, portOf(proxy), marker);
      assert.equal(status, 200);
      // The proxy's client transaction is over for the proxy with its final response (§17.1.2.2:
      // "Completed" only absorbs retransmissions until Timer K): only the server's Timer J remains.
      await new Promise((r) => setImmediate(r));
      assert.deepEqual(proxy.proxy.size, { contexts: 1, branches: 0 }, 'the context is maintained for its server transaction');
      assert.equal(await heapHoldsString('MESSAGE sip:', 'Max-Forwards', marker), false, 'the request text');
      assert.equal(await heapHoldsString('SIP/2.0 200', marker), false, 'the response text');
      // Strings holding the UAC's branch: this test's copy, the UAC's client key (Timer K) and the
      // proxy's server key, one copy that its lingering entry and its response context share.
      assert.equal(await heapStringsWhere((x) => x.includes(branch)), 3, 'one copy of the server transaction key at the proxy');
      clock.advance(31999);
      assert.deepEqual(proxy.proxy.size, { contexts: 1, branches: 0 });
      clock.advance(1);
      assert.deepEqual(proxy.proxy.size, { contexts: 0, branches: 0 }, 'Timer J ended the server transaction, and with it the context');
    } finally {
      for (const st of [uac, proxy, uas]) await st.close();
    }
  });

  test('[R-LAB-4] a known Method is one string for every request that has it; methods stay case-sensitive (RFC 3261 §7.1)', async () => {
    // What a response context and the transaction layer keep of each request for Timer J.
    const methods = Array.from({ length: 200 }, (_, i) => (register(`m${i}`) as SipRequest).method);
    assert.ok(methods.every((m) => m === 'REGISTER'));
    const copies = await heapStringCopies('REGISTER');
    assert.ok(copies >= 1 && copies <= 2, `${copies} copies of "REGISTER" for 200 requests`);
    // Not a known method: its own spelling, as parsed.
    const lower = parseMessage(Buffer.from('register sip:a@b SIP/2.0\r\nContent-Length: 0\r\n\r\n'));
    assert.equal(lower.kind === 'request' && lower.method, 'register');
  });

  test('[R-LAB-4] detached: equal to its source, and cut loose from the text it came from', async () => {
    const marker = randomBytes(12).toString('hex');
    const own = detached(register(marker).headers.get('Authorization')!.slice(7, 30));
    assert.equal(own, 'username="alice@ims.exa');
    assert.equal(detached('short'), 'short');
    assert.equal(await holdsRegister(marker), false);
  });

  test('[R-LAB-4] an XML text node (a Cx User-Data identity) does not keep the document', async () => {
    const marker = randomBytes(12).toString('hex');
    const kept = identityOf(`<?xml version="1.0"?><IMSSubscription><PrivateID>alice@ims.example.com</PrivateID><Note>${marker}</Note><Identity>sip:alice@ims.example.com</Identity></IMSSubscription>`);
    assert.equal(kept, 'sip:alice@ims.example.com');
    assert.equal(await heapHoldsString('<IMSSubscription>', marker), false);
  });
});

/** The text of the document's Identity element; the element tree is dropped on return. */
function identityOf(xml: string): string {
  const identity = parseXml(xml).children[2];
  assert.ok(typeof identity !== 'string');
  return identity.children[0] as string;
}

/** A REGISTER carrying `marker` sent through a client transaction of `layer` over a channel that
 * keeps nothing, and its 200 received: the transaction enters "Completed". A helper, so that the
 * messages are no locals of the suspended test. */
function completedClient(layer: TransactionLayer, marker: string): void {
  const req = register(marker) as SipRequest;
  const got: number[] = [];
  layer.sendRequest(req, { reliable: false, send: () => Promise.resolve() }, { onResponse: (r) => got.push(r.status) });
  assert.equal(layer.receiveResponse(parseMessage(serializeMessage(createResponse(req, 200, 'OK'))) as SipResponse), true);
  assert.deepEqual(got, [200]);
}

/** Sends a MESSAGE whose Call-ID carries `marker` to `port`; resolves with the final status. A
 * helper, so that the request is no local of the suspended test. */
/** Status and the UAC's branch (a copy: the response's text goes). */
async function sendMessage(uac: SipStack, port: number, marker: string): Promise<{ status: number; branch: string }> {
  const h = new SipHeaders([
    ['To', '<sip:bob@127.0.0.1>'],
    ['From', `<sip:alice@127.0.0.1>;tag=${uac.newTag()}`],
    ['Call-ID', `retention-${marker}`],
    ['CSeq', '1 MESSAGE'],
  ]);
  const resp = await uac.sendRequest(new SipRequest('MESSAGE', 'sip:bob@127.0.0.1', h), { address: '127.0.0.1', port });
  return { status: resp.status, branch: detached(viaBranch(topVia(resp)!)!) };
}
