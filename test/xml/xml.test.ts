/** The bounded XML reader under the reginfo and User-Data codecs. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseXml, XmlParseError } from '../../src/xml/index.js';

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
