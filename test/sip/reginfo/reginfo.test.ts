/** application/reginfo+xml (RFC 3680 §5): the codec, and the replay of its fuzz corpus. */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { decodeReginfo, encodeReginfo, formatReginfo, type Reginfo } from '../../../src/sip/index.js';
import { XmlParseError } from '../../../src/xml/index.js';
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
