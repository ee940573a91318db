/**
 * Strings kept for a registration's life (issue [K]: "interned strings", R-LAB-4): values that
 * many registrations keep alike (a Service-Route, a Path, a peer's URI or address) share one copy
 * from a bounded pool. Copies are counted in a V8 heap snapshot; each value is made at run time
 * from bytes, as a parser makes it, so that no literal is shared by the compiler.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { detached, interned, internedList, ListPool, StringPool } from '../../src/common/index.js';
import { heapStringCopies } from '../support/heap-strings.js';

/** A fresh string object with the content `s` (as a parser cuts one from a message). */
const fresh = (s: string): string => Buffer.from(`x${s}`).toString('latin1').slice(1);

describe('StringPool (issue [K] memory per registered UE)', () => {
  test('[R-LAB-4] 300 records keeping the same Service-Route through `interned` hold one copy; through `detached`, 300', async () => {
    const route = `<sip:orig@scscf-${process.pid}.ims.lab:6060;lr>`;
    const viaPool = Array.from({ length: 300 }, () => interned(fresh(route)));
    const n = await heapStringCopies(route);
    assert.ok(n >= 1 && n <= 2, `${n} copies: the pool's (and the test's own value)`);
    assert.ok(viaPool.every((r) => r === route));
    viaPool.length = 0;
    const copies = Array.from({ length: 300 }, () => detached(fresh(route)));
    assert.ok((await heapStringCopies(route)) >= 300, 'the control keeps a copy per record');
    assert.equal(copies.length, 300);
  });

  test('[R-LAB-4] the pool is bounded: full, it starts again empty, and what recurs comes back', () => {
    const pool = new StringPool(3);
    for (const s of ['sip:a.example.com', 'sip:b.example.com', 'sip:c.example.com']) pool.get(fresh(s));
    assert.equal(pool.size, 3);
    assert.equal(pool.get(fresh('sip:a.example.com')), 'sip:a.example.com');
    assert.equal(pool.size, 3, 'a value already there adds nothing');
    assert.equal(pool.get(fresh('sip:d.example.com')), 'sip:d.example.com');
    assert.equal(pool.size, 1, 'full: cleared, then the new value');
    assert.equal(pool.get(''), '');
    assert.equal(pool.size, 2);
  });
});

describe('ListPool (issue [K]: a Path, a Service-Route, a route set kept once)', () => {
  test('[R-LAB-4] equal lists from different messages are one frozen array, of interned strings', () => {
    const route = `<sip:orig@scscf-${process.pid}.ims.lab:6060;lr>`;
    const a = internedList([fresh(route), fresh('<sip:pcscf.ims.lab;lr>')]);
    const b = internedList([fresh(route), fresh('<sip:pcscf.ims.lab;lr>')]);
    assert.equal(a, b, 'one array for both holders');
    assert.deepEqual(a, [route, '<sip:pcscf.ims.lab;lr>']);
    assert.equal(a[0], interned(fresh(route)), 'its strings are the string pool\'s');
    assert.ok(Object.isFrozen(a), 'shared, so nobody may change it');
    assert.throws(() => Reflect.apply(Array.prototype.push, a, ['<sip:x;lr>']), TypeError);
    assert.equal(internedList([]), internedList([]), 'one empty list');
    assert.notEqual(internedList([fresh(route)]), a, 'another content, another list');
  });

  test('[R-LAB-4] lists differ by element, not by their text joined; the pool is bounded', () => {
    const pool = new ListPool(2);
    const joined = pool.get(['<sip:a;lr>,<sip:b;lr>']);
    const two = pool.get(['<sip:a;lr>', '<sip:b;lr>']);
    assert.notEqual(joined, two);
    assert.deepEqual(two, ['<sip:a;lr>', '<sip:b;lr>']);
    assert.equal(pool.size, 2);
    assert.equal(pool.get(['<sip:a;lr>', '<sip:b;lr>']), two, 'a list already there comes back');
    pool.get(['<sip:c;lr>']);
    assert.equal(pool.size, 1, 'full: cleared, then the new list');
    assert.deepEqual(pool.get(['<sip:a;lr>', '<sip:b;lr>']), ['<sip:a;lr>', '<sip:b;lr>']);
  });
});
