import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/common/index.js';
import { SipHeaders, headerKey, isListHeader, splitList, COMPACT_FORMS } from '../../../src/sip/index.js';

describe('RFC 3261 §7.3 header names', () => {
  test('names compare case-insensitively and compact forms stand for their long names (§7.3.3)', () => {
    const table: [string, string][] = [
      ['i', 'call-id'], ['m', 'contact'], ['e', 'content-encoding'], ['l', 'content-length'], ['c', 'content-type'],
      ['f', 'from'], ['s', 'subject'], ['k', 'supported'], ['t', 'to'], ['v', 'via'],
      ['o', 'event'], ['u', 'allow-events'], ['r', 'refer-to'], ['b', 'referred-by'], ['x', 'session-expires'],
      ['y', 'identity'], ['a', 'accept-contact'], ['j', 'reject-contact'], ['d', 'request-disposition'], ['n', 'identity-info'],
    ];
    for (const [short, long] of table) {
      assert.equal(headerKey(short), long);
      assert.equal(headerKey(short.toUpperCase()), long);
      assert.equal(COMPACT_FORMS[short].toLowerCase(), long);
    }
    assert.equal(headerKey('VIA'), 'via');
    assert.equal(headerKey('cAlL-iD'), 'call-id');
    assert.equal(headerKey('X-Unknown'), 'x-unknown');
    assert.equal(headerKey('q'), 'q');
  });
  test('list headers are known; unknown and credential headers are not lists', () => {
    for (const h of ['Via', 'v', 'Contact', 'Route', 'Record-Route', 'Path', 'Service-Route', 'Supported', 'k', 'Require', 'Allow', 'P-Associated-URI', 'Security-Client']) {
      assert.ok(isListHeader(h), h);
    }
    for (const h of ['WWW-Authenticate', 'Authorization', 'Proxy-Authorization', 'Date', 'Call-ID', 'From', 'To', 'CSeq', 'X-Whatever', 'Subject']) {
      assert.ok(!isListHeader(h), h);
    }
  });
});

describe('list splitting', () => {
  test('splits at commas outside quotes and angle brackets', () => {
    assert.deepEqual(splitList('a, b ,c'), ['a', 'b', 'c']);
    assert.deepEqual(splitList('"Doe, John" <sip:j@x>;tag=1, <sip:k@y;p=a,b>'), ['"Doe, John" <sip:j@x>;tag=1', '<sip:k@y;p=a,b>']);
    assert.deepEqual(splitList('"a \\" , b" <sip:x>, c'), ['"a \\" , b" <sip:x>', 'c']);
    assert.deepEqual(splitList(' , a,, '), ['a']);
    assert.deepEqual(splitList(''), []);
  });
});

describe('SipHeaders', () => {
  const make = (): SipHeaders =>
    new SipHeaders([
      ['Via', 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2'],
      ['v', 'SIP/2.0/TCP c;branch=z9hG4bK3'],
      ['WWW-Authenticate', 'Digest realm="r", nonce="n", algorithm=AKAv1-MD5'],
      ['WWW-Authenticate', 'Digest realm="r2", nonce="m"'],
      ['Date', 'Sat, 13 Nov 2010 23:29:00 GMT'],
      ['X-Custom', 'a, b'],
    ]);
  test('get returns the first raw value; getAll splits list headers only', () => {
    const h = make();
    assert.equal(h.get('via'), 'SIP/2.0/UDP a;branch=z9hG4bK1, SIP/2.0/UDP b;branch=z9hG4bK2');
    assert.deepEqual(h.getAll('V'), ['SIP/2.0/UDP a;branch=z9hG4bK1', 'SIP/2.0/UDP b;branch=z9hG4bK2', 'SIP/2.0/TCP c;branch=z9hG4bK3']);
    assert.deepEqual(h.getAll('www-authenticate'), ['Digest realm="r", nonce="n", algorithm=AKAv1-MD5', 'Digest realm="r2", nonce="m"']);
    assert.deepEqual(h.getAll('Date'), ['Sat, 13 Nov 2010 23:29:00 GMT']);
    assert.deepEqual(h.getAll('x-custom'), ['a, b']);
    assert.deepEqual(h.getLines('Via').length, 2);
    assert.equal(h.get('Missing'), undefined);
    assert.deepEqual(h.getAll('Missing'), []);
    assert.equal(h.count('via'), 2);
    assert.ok(h.has('DATE') && !h.has('Contact'));
  });
  test('append adds at the end; prepend goes before the first field of that name', () => {
    const h = new SipHeaders([['From', 'f'], ['Via', 'v1'], ['To', 't']]);
    h.prepend('Via', 'v0');
    h.prepend('Route', '<sip:r>');
    h.append('Via', 'v2');
    assert.deepEqual([...h], [['Route', '<sip:r>'], ['From', 'f'], ['Via', 'v0'], ['Via', 'v1'], ['To', 't'], ['Via', 'v2']]);
  });
  test('set replaces every field of the name at the first position; remove drops all', () => {
    const h = new SipHeaders([['A', '1'], ['Contact', 'c1'], ['B', '2'], ['m', 'c2']]);
    h.set('contact', 'c3');
    assert.deepEqual([...h], [['A', '1'], ['contact', 'c3'], ['B', '2']]);
    h.set('New', 'n');
    assert.deepEqual(h.entries().at(-1), { name: 'New', value: 'n' });
    assert.equal(h.remove('a'), 1);
    assert.equal(h.remove('nothing'), 0);
    assert.equal(h.size, 3);
  });
  test('removeFirst removes the first value, splitting a combined list line (RFC 3261 §16.7 step 3)', () => {
    const h = make();
    assert.equal(h.removeFirst('via'), 'SIP/2.0/UDP a;branch=z9hG4bK1');
    assert.deepEqual(h.getAll('via'), ['SIP/2.0/UDP b;branch=z9hG4bK2', 'SIP/2.0/TCP c;branch=z9hG4bK3']);
    assert.equal(h.removeFirst('via'), 'SIP/2.0/UDP b;branch=z9hG4bK2');
    assert.equal(h.count('via'), 1);
    assert.equal(h.removeFirst('WWW-Authenticate'), 'Digest realm="r", nonce="n", algorithm=AKAv1-MD5');
    assert.equal(h.removeFirst('nothing'), undefined);
  });
  test('replaceFirst changes the first value in place, splitting a combined list line (RFC 3261 §18.2.1)', () => {
    const h = make();
    assert.equal(h.replaceFirst('v', ' SIP/2.0/UDP a;branch=z9hG4bK1;received=10.0.0.9 '), true);
    assert.deepEqual(h.entries().slice(0, 2), [
      { name: 'Via', value: 'SIP/2.0/UDP a;branch=z9hG4bK1;received=10.0.0.9, SIP/2.0/UDP b;branch=z9hG4bK2' },
      { name: 'v', value: 'SIP/2.0/TCP c;branch=z9hG4bK3' },
    ]);
    // A single-valued field (WWW-Authenticate is not split at commas) is replaced whole.
    assert.equal(h.replaceFirst('WWW-Authenticate', 'Digest realm="x"'), true);
    assert.deepEqual(h.getAll('www-authenticate'), ['Digest realm="x"', 'Digest realm="r2", nonce="m"']);
    assert.equal(h.size, 6);
    assert.equal(h.replaceFirst('nothing', 'x'), false);
    assert.throws(() => h.replaceFirst('Via', 'a\r\nInjected: yes'), InvalidArgumentError);
  });
  test('values are trimmed; bad names and CR/LF in values are refused', () => {
    const h = new SipHeaders();
    h.append('X', '  v \t');
    assert.equal(h.get('x'), 'v');
    assert.throws(() => h.append('Bad Name', 'v'), InvalidArgumentError);
    assert.throws(() => h.append('', 'v'), InvalidArgumentError);
    assert.throws(() => h.append('X', 'a\r\nInjected: yes'), InvalidArgumentError);
    assert.throws(() => h.set('X', 'a\nb'), InvalidArgumentError);
    assert.throws(() => h.prepend('X', 'a\rb'), InvalidArgumentError);
  });
  test('clone is independent', () => {
    const h = make();
    const c = h.clone();
    c.remove('via');
    assert.equal(h.count('via'), 2);
    assert.equal(c.count('via'), 0);
  });
});
