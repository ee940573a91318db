/**
 * application/reginfo+xml (RFC 3680 §5) and the bounded XML reader under it; the TS 29.228
 * Annex E User-Data reader; identity keys; static host resolution.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  decodeImsSubscription,
  decodeReginfo,
  encodeReginfo,
  formatImsSubscription,
  formatReginfo,
  impuKey,
  parseXml,
  resolveSipUri,
  sameImpu,
  XmlParseError,
  type Reginfo,
} from '../../../src/nodes/common/index.js';
import { buildUserData } from '../../../src/nodes/hss/index.js';
import { repoRoot } from '../../support/paths.js';

const vector = (p: string) => readFileSync(join(repoRoot, p), 'utf8');

describe('RFC 3680 §5.3: reginfo', () => {
  test('[R-RR-5] the RFC 3680 §5.3 example decodes to the values printed in the RFC', () => {
    const r = decodeReginfo(vector('test/vectors/rfc3680/example-5.3.xml'));
    assert.deepEqual(r, {
      version: 0,
      state: 'full',
      registrations: [
        {
          aor: 'sip:user@example.com',
          id: 'as9',
          state: 'active',
          contacts: [
            { id: '76', state: 'active', event: 'registered', uri: 'sip:user@pc887.example.com', durationRegistered: 7322, q: '0.8' },
            { id: '77', state: 'terminated', event: 'expired', uri: 'sip:user@university.edu', durationRegistered: 3600, q: '0.5' },
          ],
        },
      ],
    });
  });

  test('encode → decode gives the value back, every event and optional field included', () => {
    const r: Reginfo = {
      version: 7,
      state: 'partial',
      registrations: [
        {
          aor: 'sip:alice@ims.lab',
          id: 'r1',
          state: 'terminated',
          contacts: ['registered', 'created', 'refreshed', 'shortened', 'expired', 'deactivated', 'probation', 'unregistered', 'rejected'].map((event, i) => ({
            id: `c${i}`,
            state: i % 2 ? 'terminated' : 'active',
            event: event as 'registered',
            uri: `sip:alice@192.0.2.${i}:5060;transport=udp`,
            expires: i * 10,
            durationRegistered: i,
            retryAfter: 5,
            q: '0.9',
            callId: `cid-${i}@h`,
            cseq: i + 1,
            displayName: 'Alice & <Bob> "x"',
            displayNameLang: 'en',
            unknownParams: [{ name: '+sip.instance', value: '"<urn:uuid:1>"' }, { name: 'audio', value: '' }],
          })),
        },
        { aor: 'tel:+15550001', id: 'r2', state: 'init', contacts: [] },
      ],
    };
    assert.deepEqual(decodeReginfo(encodeReginfo(r)), r);
    assert.match(formatReginfo(r), /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="7" state="partial">/);
  });

  test('documents RFC 3680\'s schema refuses are XmlParseError (XML_PARSE)', () => {
    const bad = [
      '<reginfo version="0" state="sideways"/>',
      '<reginfo state="full"/>',
      '<reginfo version="-1" state="full"/>',
      '<notreginfo version="0" state="full"/>',
      '<reginfo version="0" state="full"><registration aor="sip:a@b" id="1" state="gone"/></reginfo>',
      '<reginfo version="0" state="full"><registration id="1" state="active"/></reginfo>',
      '<reginfo version="0" state="full"><registration aor="sip:a@b" id="1" state="active"><contact id="1" state="active" event="registered"/></registration></reginfo>',
      '<reginfo version="0" state="full"><registration aor="sip:a@b" id="1" state="active"><contact id="1" state="active" event="exploded"><uri>sip:x</uri></contact></registration></reginfo>',
      '<reginfo version="0" state="full"><registration aor="sip:a@b" id="1" state="active"><contact id="1" state="active" event="registered" expires="soon"><uri>sip:x</uri></contact></registration></reginfo>',
    ];
    for (const b of bad) assert.throws(() => decodeReginfo(b), (e: unknown) => e instanceof XmlParseError && e.code === 'XML_PARSE', b);
  });

  test('elements and attributes of other namespaces (RFC 5628 GRUUs) are skipped', () => {
    const r = decodeReginfo(
      '<reginfo xmlns="urn:ietf:params:xml:ns:reginfo" xmlns:gr="urn:ietf:params:xml:ns:gruuinfo" version="1" state="full">' +
        '<registration aor="sip:a@b" id="1" state="active"><contact id="1" state="active" event="registered" expires="60">' +
        '<uri>sip:a@192.0.2.1</uri><gr:pub-gruu uri="sip:a@b;gr=urn:uuid:1"/></contact></registration></reginfo>',
    );
    assert.equal(r.registrations[0].contacts[0].expires, 60);
  });
});

describe('the bounded XML reader', () => {
  test('entities, character references, CDATA, comments and the XML declaration', () => {
    const e = parseXml('<?xml version="1.0"?><!-- c --><a x="&lt;&#65;&#x42;&quot;"><![CDATA[<raw>]]>&amp;t<b/></a>');
    assert.deepEqual(e, { name: 'a', attrs: [['x', '<AB"']], children: ['<raw>&t', { name: 'b', attrs: [], children: [] }] });
  });

  test('refuses a DOCTYPE (no entity expansion), unknown entities, mismatched tags, trailing content, depth beyond the limit', () => {
    const cases: [string, RegExp][] = [
      ['<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>', /document type/],
      ['<a>&nbsp;</a>', /unknown entity/],
      ['<a><b></a></b>', /closes/],
      ['<a/><b/>', /after the root/],
      ['<a x="1" x="2"/>', /duplicate attribute/],
      ['<a x="<"/>', /attribute value/],
      [`${'<a>'.repeat(40)}${'</a>'.repeat(40)}`, /too deeply/],
      ['<a>\u0001</a>', /not allowed/],
      ['', /no root/],
    ];
    for (const [doc, msg] of cases) assert.throws(() => parseXml(doc), (e: unknown) => e instanceof XmlParseError && msg.test(e.message), doc);
    assert.throws(() => parseXml(new Uint8Array([0x3c, 0x61, 0xff, 0x2f, 0x3e])), /not UTF-8/);
  });
});

describe('TS 29.228 Annex E: User-Data', () => {
  test('reads the HSS\'s own User-Data (independent builder): identities, barring, one ServiceProfile per implicit set', () => {
    const xml = buildUserData('alice@ims.lab', [
      { impus: [{ impu: 'sip:alice@ims.lab', barred: false }, { impu: 'tel:+15550001', barred: true }], serviceProfile: '<InitialFilterCriteria><Priority>0</Priority></InitialFilterCriteria>' },
      { impus: [{ impu: 'sip:alice-work@ims.lab', barred: false }], serviceProfile: null },
    ]);
    const s = decodeImsSubscription(xml);
    assert.equal(s.privateId, 'alice@ims.lab');
    assert.deepEqual(
      s.serviceProfiles.map((p) => p.publicIdentities.map((i) => [i.identity, i.barred])),
      [[['sip:alice@ims.lab', false], ['tel:+15550001', true]], [['sip:alice-work@ims.lab', false]]],
    );
  });

  test('format → decode round trip', () => {
    const v = { privateId: 'a@b', serviceProfiles: [{ publicIdentities: [{ identity: 'sip:a@b', barred: false, identityType: 0, displayName: 'A & B' }, { identity: 'tel:+1', barred: true }] }] };
    assert.deepEqual(decodeImsSubscription(formatImsSubscription(v)), v);
    assert.throws(() => decodeImsSubscription('<Other/>'), { code: 'XML_PARSE' });
  });
});

describe('identities and host resolution', () => {
  test('impuKey: host case, escapes, URI parameters and tel visual separators do not make another identity', () => {
    assert.ok(sameImpu('sip:alice@IMS.lab', 'sip:alice@ims.lab;user=phone'));
    assert.ok(sameImpu('sip:%61lice@ims.lab', 'sip:alice@ims.lab'));
    assert.ok(sameImpu('tel:+1-555-0001', 'tel:+15550001'));
    assert.ok(!sameImpu('sip:Alice@ims.lab', 'sip:alice@ims.lab'), 'the user part is case-sensitive');
    assert.ok(!sameImpu('sip:alice@ims.lab:5060', 'sip:alice@ims.lab'));
    assert.equal(impuKey('not a uri'), undefined);
  });

  test('resolveSipUri: host table (any case), IP literals, default ports, transport parameter, maddr; errors are SIP_RESOLVE', () => {
    const hosts = { 'scscf.ims.lab': '127.0.0.1', 'v6.ims.lab': '::1' };
    assert.deepEqual(resolveSipUri('sip:orig@SCSCF.ims.lab:6060;lr', hosts), { address: '127.0.0.1', port: 6060, transport: 'udp' });
    assert.deepEqual(resolveSipUri('sip:a@192.0.2.1;transport=TCP', hosts), { address: '192.0.2.1', port: 5060, transport: 'tcp' });
    assert.deepEqual(resolveSipUri('sip:[::1]:5070', hosts), { address: '::1', port: 5070, transport: 'udp' });
    assert.deepEqual(resolveSipUri('sips:v6.ims.lab', hosts), { address: '::1', port: 5061, transport: 'tcp' });
    assert.deepEqual(resolveSipUri('sip:x@unknown.lab;maddr=10.0.0.1', hosts), { address: '10.0.0.1', port: 5060, transport: 'udp' });
    for (const bad of ['sip:nowhere.lab', 'tel:+1555', 'sip:scscf.ims.lab;transport=sctp']) assert.throws(() => resolveSipUri(bad, hosts), { code: 'SIP_RESOLVE' }, bad);
  });
});

describe('fuzz corpus replay (test/fuzz/corpus/reginfo)', () => {
  test('every kept input decodes or fails with XML_PARSE, never anything else', () => {
    const dir = join(repoRoot, 'test', 'fuzz', 'corpus', 'reginfo');
    const files = readdirSync(dir);
    assert.ok(files.length > 0);
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      try {
        const r = decodeReginfo(text);
        assert.deepEqual(decodeReginfo(encodeReginfo(r)), r, f);
      } catch (e) {
        assert.equal((e as { code?: string }).code, 'XML_PARSE', `${f}: ${(e as Error).message}`);
      }
    }
  });
});
