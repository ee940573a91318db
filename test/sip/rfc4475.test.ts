/**
 * RFC 4475 SIP torture test messages: one test per message (../shared/vectors/rfc4475, copied
 * byte-exact from the RFC's archive). Valid messages must parse and round-trip; invalid ones
 * must fail with a SipParseError naming the problem, or make checkRequest return the response
 * the RFC section asks for; semantic ones must parse and then behave as their section says.
 * Expected values are read from the RFC text and the message bytes, never from our encoder.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sharedJson, sharedVectorPath } from '../support/shared.js';
import {
  SipParseError, SipStreamFramer, badField, checkRequest, contactsOf, contentTypeOf, cseqOf, callIdOf, fromOf, maxForwardsOf, messagesEqual,
  parseContact, parseExpires, parseMaxForwards, parseMessage, parseNameAddr, parseSipDate, parseUri, parseWarning, routesOf, serializeMessage,
  toOf, topVia, unescapeUri, unquote, validateMessage, viasOf, branchOf,
  type SipMessage, type SipRequest, type SipResponse, type SipUri, type NameAddr, type CheckRequestOptions,
} from '../../src/sip/index.js';

interface IndexEntry {
  file: string;
  rfc_section: string;
  validity: 'valid' | 'invalid' | 'semantic';
}
const index = sharedJson<{ messages: IndexEntry[] }>('rfc4475', 'index.json');

function raw(file: string): Uint8Array {
  const b = readFileSync(sharedVectorPath('rfc4475', file));
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

function load(file: string): SipMessage {
  return parseMessage(raw(file));
}

function req(file: string): SipRequest {
  const m = load(file);
  assert.equal(m.kind, 'request');
  return m;
}

function res(file: string): SipResponse {
  const m = load(file);
  assert.equal(m.kind, 'response');
  return m;
}

/** serialize → parse gives an equal message, and serializing that again gives the same bytes. */
function roundTrips(m: SipMessage): void {
  const bytes = serializeMessage(m);
  const again = parseMessage(bytes);
  assert.ok(messagesEqual(m, again), 'serialize → parse gives an equal message');
  assert.deepEqual(serializeMessage(again), bytes);
}

/** Parse fails with a SipParseError whose reason matches. */
function parseFails(file: string, reason: RegExp): SipParseError {
  let err: unknown;
  try {
    parseMessage(raw(file));
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof SipParseError, `expected SipParseError, got ${String(err)}`);
  assert.equal(err.code, 'SIP_PARSE');
  assert.match(err.reason, reason);
  return err;
}

/** The message parses (framing is fine) but checkRequest answers `status`. */
function answers(file: string, status: number, detail?: RegExp, opts?: CheckRequestOptions): NonNullable<ReturnType<typeof checkRequest>> {
  const m = req(file);
  const r = checkRequest(m, opts);
  assert.ok(r, `checkRequest should refuse ${file}`);
  assert.equal(r.status, status, `${file}: ${r.status} ${r.reason} (${r.detail})`);
  if (detail) assert.match(r.detail, detail);
  return r;
}

function wellFormedRequest(m: SipRequest, opts?: CheckRequestOptions): void {
  validateMessage(m);
  assert.equal(checkRequest(m, opts), null);
  roundTrips(m);
}

const sip = (u: NameAddr['uri']): SipUri => {
  assert.equal(u.kind, 'sip');
  return u;
};

const tests: Record<string, { title: string; run: () => void }> = {
  // 3.1.1 Parser tests: valid messages
  'wsinv.dat': {
    title: 'short tortuous INVITE parses and round-trips',
    run() {
      const m = req('wsinv.dat');
      wellFormedRequest(m);
      assert.equal(m.method, 'INVITE');
      assert.equal(m.uri, 'sip:vivekg@chair-dnrc.example.com;unknownparam');
      const to = toOf(m)!;
      assert.equal(sip(to.uri).user, 'vivekg');
      assert.equal(to.params.get('tag'), '1918181833n');
      const from = fromOf(m)!;
      assert.equal(from.displayName, 'J Rosenberg \\"');
      assert.equal(from.params.get('tag'), '98asjd8');
      assert.equal(maxForwardsOf(m), 68);
      assert.deepEqual(cseqOf(m), { seq: 9, method: 'INVITE' });
      const vias = viasOf(m);
      assert.deepEqual(vias.map((v) => [v.transport, v.host, v.params.get('branch')]), [
        ['UDP', '192.0.2.2', '390skdjuw'],
        ['TCP', 'spindle.example.com', 'z9hG4bK9ikj8'],
        ['UDP', '192.168.255.111', 'z9hG4bK30239'],
      ]);
      assert.equal(m.headers.get('Subject'), '');
      assert.equal(m.headers.get('newfangledheader'), 'newfangled value continued newfangled value');
      assert.deepEqual(m.headers.getAll('UnknownHeaderWithUnusualValue'), [';;,,;;,;']);
      const route = routesOf(m)[0];
      assert.deepEqual([...sip(route.uri).params], [['lr', null], ['unknownwith', 'value'], ['unknown-no-value', null]]);
      const contacts = contactsOf(m);
      assert.ok(contacts !== '*');
      assert.equal(contacts[0].displayName, 'Quoted string ""');
      assert.deepEqual([...contacts[0].params], [['newparam', 'newvalue'], ['secondparam', null], ['q', '0.33']]);
      assert.equal(m.body.length, 150);
    },
  },
  'intmeth.dat': {
    title: 'wide range of valid characters parses and round-trips',
    run() {
      const m = req('intmeth.dat');
      wellFormedRequest(m);
      assert.equal(m.method, "!interesting-Method0123456789_*+`.%indeed'~");
      assert.deepEqual(cseqOf(m), { seq: 139122385, method: m.method });
      const uri = sip(parseUri(m.uri));
      assert.equal(uri.user, "1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*");
      assert.equal(uri.password, "&it+has=1,weird!*pas$wo~d_too.(doesn't-it)");
      assert.equal(uri.host, 'example.com');
      assert.equal(branchOf(m), "z9hG4bK-.!%66*_+`'~");
      assert.equal(toOf(m)!.displayName, 'BEL:\x07 NUL:\x00 DEL:\x7f');
      const from = fromOf(m)!;
      assert.equal(from.displayName, "token1~` token2'+_ token3*%!.-");
      assert.equal(unquote(from.params.get("fromParam''~+*_!.-%") as string), 'работающий');
      assert.equal(from.params.get('tag'), "_token~1'+`*%!-.");
      assert.equal(callIdOf(m), 'intmeth.word%ZK-!.*_+\'@word`~)(><:\\/"][?}{');
      assert.equal(m.headers.get("extensionHeader-!.%*+_`'~"), '\uFEFF大停電');
    },
  },
  'esc01.dat': {
    title: 'valid use of the % escaping mechanism parses and round-trips',
    run() {
      const m = req('esc01.dat');
      wellFormedRequest(m);
      assert.equal(unescapeUri(sip(parseUri(m.uri)).user!), 'sips:user@example.com');
      assert.equal(unescapeUri(sip(toOf(m)!.uri).user!), 'user');
      assert.equal(unescapeUri(sip(fromOf(m)!.uri).user!), 'I have spaces');
      const contacts = contactsOf(m);
      assert.ok(contacts !== '*');
      const cu = sip(contacts[0].uri);
      assert.equal(unescapeUri(cu.user!), 'caller');
      const params = [...cu.params].map(([k, v]) => [unescapeUri(k), v === null ? null : unescapeUri(v)]);
      // "value%25%34%31" unescapes once to "value%41", never to "valueA" (RFC 4475 §3.1.1.3).
      assert.deepEqual(params, [['lr', null], ['name', 'value%41']]);
      assert.equal(contentTypeOf(m)!.subtype, 'sdp');
    },
  },
  'escnull.dat': {
    title: 'escaped nulls in URIs parse and round-trip',
    run() {
      const m = req('escnull.dat');
      wellFormedRequest(m);
      const aor = unescapeUri(sip(toOf(m)!.uri).user!);
      assert.equal(aor, 'null-\x00-null');
      assert.equal(aor.length, 11);
      const contacts = contactsOf(m);
      assert.ok(contacts !== '*');
      assert.deepEqual(contacts.map((c) => unescapeUri(sip(c.uri).user!)), ['\x00', '\x00\x00']);
    },
  },
  'esc02.dat': {
    title: 'use of % when it is not an escape parses and round-trips',
    run() {
      const m = req('esc02.dat');
      wellFormedRequest(m);
      assert.equal(m.method, 'RE%47IST%45R');
      assert.notEqual(m.method, 'REGISTER');
      assert.equal(toOf(m)!.displayName, '%Z%45');
      assert.equal(branchOf(m), 'z9hG4bK209%fzsnel234');
      // "C%6Fntact" is an unknown header, not Contact.
      assert.equal(m.headers.getAll('Contact').length, 2);
      assert.equal(m.headers.get('C%6Fntact'), '<sip:alias2@host2.example.com>');
    },
  },
  'lwsdisp.dat': {
    title: 'no LWS between display name and < parses and round-trips',
    run() {
      const m = req('lwsdisp.dat');
      wellFormedRequest(m);
      const from = fromOf(m)!;
      assert.equal(from.displayName, 'caller');
      assert.equal(sip(from.uri).user, 'caller');
      assert.equal(from.params.get('tag'), '323');
    },
  },
  'longreq.dat': {
    title: 'long values in header fields parse and round-trip',
    run() {
      const m = req('longreq.dat');
      wellFormedRequest(m);
      assert.equal(viasOf(m).length, 34);
      assert.equal(fromOf(m)!.params.get('tag')!.length, 155);
      assert.match(toOf(m)!.displayName!, /^I have a user name of (extreme){10} proportion$/);
      assert.equal(m.body.length, 150);
    },
  },
  'dblreq.dat': {
    title: 'extra trailing octets in a UDP datagram are discarded',
    run() {
      const m = req('dblreq.dat');
      wellFormedRequest(m);
      assert.equal(m.method, 'REGISTER');
      assert.equal(m.body.length, 0);
      assert.equal(callIdOf(m), 'dblreq.0ha0isndaksdj99sdfafnl3lk233412');
      assert.ok(!m.headers.has('Content-Type'));
    },
  },
  'semiuri.dat': {
    title: 'semicolon-separated parameters in URI user part parse and round-trip',
    run() {
      const m = req('semiuri.dat');
      wellFormedRequest(m);
      const uri = sip(parseUri(m.uri));
      assert.equal(uri.user, 'user;par=u%40example.net');
      assert.equal(uri.host, 'example.com');
      assert.equal(uri.params.size, 0);
      assert.equal(m.headers.getAll('Accept').length, 6);
    },
  },
  'transports.dat': {
    title: 'varied and unknown transport types parse and round-trip',
    run() {
      const m = req('transports.dat');
      wellFormedRequest(m);
      assert.deepEqual(viasOf(m).map((v) => v.transport), ['UDP', 'SCTP', 'TLS', 'UNKNOWN', 'TCP']);
    },
  },
  'mpart01.dat': {
    title: 'multipart MIME message with a binary body parses and round-trips',
    run() {
      const bytes = raw('mpart01.dat');
      const m = req('mpart01.dat');
      wellFormedRequest(m);
      const headEnd = Buffer.from(bytes).indexOf('\r\n\r\n') + 4;
      assert.equal(m.body.length, 553);
      assert.deepEqual(Buffer.from(m.body), Buffer.from(bytes.subarray(headEnd, headEnd + 553)));
      const ct = contentTypeOf(m)!;
      assert.equal(`${ct.type}/${ct.subtype}`, 'multipart/mixed');
      assert.equal(ct.params.get('boundary'), '7a9cbec02ceef655');
    },
  },
  'unreason.dat': {
    title: 'unusual reason phrase parses and round-trips',
    run() {
      const m = res('unreason.dat');
      validateMessage(m);
      roundTrips(m);
      assert.equal(m.status, 200);
      assert.equal(m.reason, '= 2**3 * 5**2 но сто девяносто девять - простое');
    },
  },
  'noreason.dat': {
    title: 'empty reason phrase parses and round-trips',
    run() {
      const m = res('noreason.dat');
      validateMessage(m);
      roundTrips(m);
      assert.equal(m.status, 100);
      assert.equal(m.reason, '');
    },
  },

  // 3.1.2 Parser tests: invalid messages
  'badinv01.dat': {
    title: 'extraneous header field separators get 400',
    run() {
      answers('badinv01.dat', 400, /Via/);
      assert.throws(() => parseContact('"Joe" <sip:joe@example.org>;;;;'), SipParseError);
    },
  },
  'clerr.dat': {
    title: 'Content-Length larger than the message is a parse error (the request is kept for a 400)',
    run() {
      const e = parseFails('clerr.dat', /Content-Length larger than the body/);
      assert.equal(e.partial?.kind, 'request');
      assert.equal(e.partial.method, 'INVITE');
    },
  },
  'ncl.dat': {
    title: 'negative Content-Length is a parse error',
    run() {
      const e = parseFails('ncl.dat', /bad Content-Length/);
      assert.equal(e.header, 'Content-Length');
    },
  },
  'scalar02.dat': {
    title: 'request scalar fields with overlarge values get 400',
    run() {
      answers('scalar02.dat', 400, /CSeq: sequence number out of range/);
      const m = req('scalar02.dat');
      assert.throws(() => parseMaxForwards(m.headers.get('Max-Forwards')!), SipParseError);
      assert.throws(() => parseExpires(m.headers.get('Expires')!), SipParseError);
      assert.throws(() => parseContact(m.headers.get('Contact')!), /bad expires/);
    },
  },
  'scalarlg.dat': {
    title: 'response scalar fields with overlarge values fail validation (the response is dropped)',
    run() {
      const m = res('scalarlg.dat');
      assert.throws(() => validateMessage(m), (e: unknown) => e instanceof SipParseError && e.header === 'CSeq' && /out of range/.test(e.reason));
      assert.throws(() => parseWarning(m.headers.get('Warning')!), /warn-code must be 3 digits/);
    },
  },
  'quotbal.dat': {
    title: 'unterminated quoted string in display name gets 400',
    run() {
      answers('quotbal.dat', 400, /To: unterminated quoted-string/);
    },
  },
  'ltgtruri.dat': {
    title: '<> enclosing the Request-URI is a parse error',
    run() {
      const e = parseFails('ltgtruri.dat', /bad Request-URI/);
      assert.equal(e.offset, 7);
    },
  },
  'lwsruri.dat': {
    title: 'embedded LWS in the Request-URI is a parse error',
    run() {
      parseFails('lwsruri.dat', /Request-Line/);
    },
  },
  'lwsstart.dat': {
    title: 'multiple SP separating Request-Line elements is a parse error',
    run() {
      parseFails('lwsstart.dat', /more than one SP/);
    },
  },
  'trws.dat': {
    title: 'SP characters at the end of the Request-Line are a parse error',
    run() {
      parseFails('trws.dat', /extra SP/);
    },
  },
  'escruri.dat': {
    title: 'escaped headers in a SIP Request-URI get 400',
    run() {
      answers('escruri.dat', 400, /headers are not allowed in a Request-URI/);
    },
  },
  'baddate.dat': {
    // "an element shouldn't do that unless the contents of the Date header field were actually
    // important to its processing" (RFC 4475 §3.1.2.12; RFC 3261 §16.3 step 1 names this very case).
    title: 'non-GMT time zone in Date: not refused by an element that does not read Date; invalid where it is read',
    run() {
      const m = req('baddate.dat');
      for (const role of ['uas', 'proxy', 'registrar'] as const) assert.equal(checkRequest(m, { role }), null, role);
      assert.throws(() => parseSipDate(m.headers.get('Date')!), (e: unknown) => e instanceof SipParseError && /SIP-date must be in GMT/.test(e.reason));
      assert.throws(() => validateMessage(m), (e: unknown) => e instanceof SipParseError && e.header === 'Date');
      assert.equal(badField(new SipParseError('SIP-date must be in GMT', 0, { header: 'Date' }))?.reason, 'Bad Date');
    },
  },
  'regbadct.dat': {
    // "It is reasonable for an element receiving this request to respond with a 400" (RFC 4475
    // §3.1.2.13): the registrar, which reads Contact (RFC 3261 §10.3 step 6); a proxy forwards it
    // unchanged (§16.3 step 1).
    title: 'name-addr URI with headers not enclosed in <> gets 400 from a registrar; a proxy does not read Contact',
    run() {
      answers('regbadct.dat', 400, /Contact: URI with headers must be enclosed in <>/, { role: 'registrar' });
      assert.equal(checkRequest(req('regbadct.dat'), { role: 'proxy' }), null);
    },
  },
  'badaspec.dat': {
    title: 'spaces within addr-spec get 400',
    run() {
      answers('badaspec.dat', 400, /To: white space inside <>/);
    },
  },
  'baddn.dat': {
    title: 'non-token characters in an unquoted display name get 400',
    run() {
      answers('baddn.dat', 400, /From: display name is neither tokens nor a quoted-string/);
    },
  },
  'badvers.dat': {
    title: 'unknown protocol version gets 505',
    run() {
      const r = answers('badvers.dat', 505);
      assert.equal(r.reason, 'Version Not Supported');
    },
  },
  'mismatch01.dat': {
    title: 'start line and CSeq method mismatch gets 400',
    run() {
      answers('mismatch01.dat', 400, /CSeq method differs/);
    },
  },
  'mismatch02.dat': {
    title: 'unknown method with CSeq method mismatch gets 501',
    run() {
      answers('mismatch02.dat', 501);
      answers('mismatch02.dat', 501, undefined, { role: 'proxy' });
    },
  },
  'bigcode.dat': {
    title: 'overlarge response code is a parse error',
    run() {
      parseFails('bigcode.dat', /bad Status-Code/);
    },
  },

  // 3.2 Transaction layer semantics
  'badbranch.dat': {
    title: 'missing transaction identifier: branch is just the magic cookie',
    run() {
      const m = req('badbranch.dat');
      wellFormedRequest(m);
      assert.equal(branchOf(m), 'z9hG4bK');
    },
  },

  // 3.3 Application-layer semantics
  'insuf.dat': {
    title: 'missing required header fields get 400',
    run() {
      const m = req('insuf.dat');
      for (const h of ['Call-ID', 'From', 'To']) assert.ok(!m.headers.has(h));
      answers('insuf.dat', 400, /missing mandatory header/);
    },
  },
  'unkscm.dat': {
    title: 'Request-URI with unknown scheme parses and gets 416',
    run() {
      const m = req('unkscm.dat');
      validateMessage(m);
      assert.equal(parseUri(m.uri).kind, 'absolute');
      answers('unkscm.dat', 416);
    },
  },
  'novelsc.dat': {
    title: 'Request-URI with known but atypical scheme parses and gets 416',
    run() {
      const m = req('novelsc.dat');
      validateMessage(m);
      assert.equal(parseUri(m.uri).scheme, 'soap.beep');
      answers('novelsc.dat', 416);
    },
  },
  'unksm2.dat': {
    title: 'unknown URI schemes in header fields parse; a registrar answers 400, a proxy forwards',
    run() {
      const m = req('unksm2.dat');
      validateMessage(m);
      assert.equal(toOf(m)!.uri.scheme, 'isbn');
      assert.equal(fromOf(m)!.uri.scheme, 'http');
      answers('unksm2.dat', 400, /address-of-record/, { role: 'registrar' });
      assert.equal(checkRequest(m, { role: 'proxy' }), null);
    },
  },
  'bext01.dat': {
    title: 'Proxy-Require and Require with unknown extensions get 420 listing them',
    run() {
      const uas = answers('bext01.dat', 420);
      assert.deepEqual(uas.headers, [['Unsupported', 'nothingSupportsThis, nothingSupportsThisEither']]);
      const proxy = answers('bext01.dat', 420, undefined, { role: 'proxy' });
      assert.deepEqual(proxy.headers, [['Unsupported', 'noProxiesSupportThis, norDoAnyProxiesSupportThis']]);
    },
  },
  'invut.dat': {
    title: 'unknown Content-Type: an endpoint answers 415, a proxy forwards',
    run() {
      const r = answers('invut.dat', 415, undefined, { contentTypes: ['application/sdp'] });
      assert.deepEqual(r.headers, [['Accept', 'application/sdp']]);
      assert.equal(checkRequest(req('invut.dat'), { role: 'proxy' }), null);
    },
  },
  'regaut01.dat': {
    title: 'unknown Authorization scheme parses and is kept unmodified',
    run() {
      const m = req('regaut01.dat');
      wellFormedRequest(m, { role: 'registrar' });
      assert.equal(m.headers.get('Authorization'), 'NoOneKnowsThisScheme opaque-data=here');
      assert.match(new TextDecoder().decode(serializeMessage(m)), /\r\nAuthorization: NoOneKnowsThisScheme opaque-data=here\r\n/);
    },
  },
  'multi01.dat': {
    title: 'multiple values in single-value required fields get 400',
    run() {
      answers('multi01.dat', 400, /more than one/);
    },
  },
  'mcl01.dat': {
    title: 'multiple Content-Length values are a framing error on datagrams and streams',
    run() {
      const e = parseFails('mcl01.dat', /conflicting Content-Length/);
      assert.equal((e.partial as SipRequest).method, 'OPTIONS');
      assert.throws(() => new SipStreamFramer().push(raw('mcl01.dat'), () => {}), /conflicting Content-Length/);
    },
  },
  'bcast.dat': {
    title: '200 OK with a broadcast Via sent-by parses',
    run() {
      const m = res('bcast.dat');
      validateMessage(m);
      roundTrips(m);
      assert.equal(topVia(m)!.host, '192.0.2.198');
      assert.equal(viasOf(m)[1].host, '255.255.255.255');
    },
  },
  'zeromf.dat': {
    title: 'Max-Forwards of zero: a proxy answers 483, an endpoint processes it',
    run() {
      const m = req('zeromf.dat');
      assert.equal(maxForwardsOf(m), 0);
      answers('zeromf.dat', 483, undefined, { role: 'proxy' });
      assert.equal(checkRequest(m, { role: 'uas' }), null);
    },
  },
  'cparam01.dat': {
    title: 'REGISTER with a Contact header parameter (not a URI parameter)',
    run() {
      const m = req('cparam01.dat');
      wellFormedRequest(m, { role: 'registrar' });
      const contacts = contactsOf(m);
      assert.ok(contacts !== '*');
      assert.ok(contacts[0].params.has('unknownparam'));
      assert.equal(sip(contacts[0].uri).params.size, 0);
    },
  },
  'cparam02.dat': {
    title: 'REGISTER with a URI parameter in the Contact',
    run() {
      const m = req('cparam02.dat');
      wellFormedRequest(m, { role: 'registrar' });
      const contacts = contactsOf(m);
      assert.ok(contacts !== '*');
      assert.ok(sip(contacts[0].uri).params.has('unknownparam'));
      assert.equal(contacts[0].params.size, 0);
    },
  },
  'regescrt.dat': {
    title: 'REGISTER with an escaped header in the Contact URI',
    run() {
      const m = req('regescrt.dat');
      wellFormedRequest(m, { role: 'registrar' });
      const contacts = contactsOf(m);
      assert.ok(contacts !== '*');
      const headers = sip(contacts[0].uri).headers;
      assert.deepEqual(headers, [['Route', '%3Csip:sip.example.com%3E']]);
      assert.equal(unescapeUri(headers[0][1]), '<sip:sip.example.com>');
    },
  },
  'sdp01.dat': {
    title: 'unacceptable Accept offering: an endpoint answers 406, a proxy forwards',
    run() {
      answers('sdp01.dat', 406);
      assert.equal(checkRequest(req('sdp01.dat'), { role: 'proxy' }), null);
    },
  },

  // 3.4 Backward compatibility
  'inv2543.dat': {
    title: 'INVITE with RFC 2543 syntax is accepted',
    run() {
      const bytes = raw('inv2543.dat');
      const m = req('inv2543.dat');
      wellFormedRequest(m);
      assert.equal(checkRequest(m, { role: 'proxy' }), null);
      assert.equal(branchOf(m), undefined);
      assert.equal(fromOf(m)!.params.get('tag'), undefined);
      assert.ok(!m.headers.has('Max-Forwards') && !m.headers.has('Content-Length'));
      const headEnd = Buffer.from(bytes).indexOf('\r\n\r\n') + 4;
      assert.equal(m.body.length, bytes.length - headEnd);
      // Without <>, ";user=phone" after the addr-spec is a header parameter (RFC 3261 §20.10).
      const to = parseNameAddr(m.headers.get('To')!);
      assert.equal(to.params.get('user'), 'phone');
      assert.equal(sip(to.uri).params.size, 0);
    },
  },
};

const GROUPS: [string, string][] = [
  ['3.1.1.', '3.1.1 Parser tests: valid messages'],
  ['3.1.2.', '3.1.2 Parser tests: invalid messages'],
  ['3.2.', '3.2 Transaction layer semantics'],
  ['3.3.', '3.3 Application-layer semantics'],
  ['3.4.', '3.4 Backward compatibility'],
];

for (const [prefix, title] of GROUPS) {
  describe(`RFC 4475 ${title}`, index.options, () => {
    for (const e of index.value.messages.filter((m) => m.rfc_section.startsWith(prefix))) {
      const t = tests[e.file];
      test(`[RFC 4475 ${e.rfc_section}] ${e.file}: ${t ? t.title : 'NO TEST'}`, () => {
        assert.ok(t, `no test for ${e.file}`);
        t.run();
      });
    }
  });
}

describe('RFC 4475 vector set', index.options, () => {
  test('[RFC 4475 §3] all 49 messages have exactly one test', () => {
    assert.equal(index.value.messages.length, 49);
    assert.deepEqual(Object.keys(tests).sort(), index.value.messages.map((m) => m.file).sort());
  });
});
