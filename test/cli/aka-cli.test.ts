import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cliPath } from '../support/paths.js';

function imsec(...args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// TS 35.208 test set 1.
const K = '465b5ce8b199b49faa5f0a2ee238a6bc';
const OP = 'cdc202d5123e20f62b6d676ac72cb318';
const OPC = 'cd63cb71954a9f4e48a5994e37a02baf';
const RAND = '23553cbe9637a89d218ae64dae47bf35';
const SQN = String(0xff9bb4d0b607);
const AUTN = '55f328b43577b9b94a9ffac354dfafb3'; // (SQN ⊕ f5) ‖ AMF ‖ f1 of set 1

describe('imsec aka (CLI forms of issue [A] §8)', () => {
  test('[R-AKA-1] aka vector prints one JSON object with every field (TS 35.208 set 1)', () => {
    const r = imsec('aka', 'vector', '--k', K, '--opc', OPC, '--sqn', SQN, '--amf', 'b9b9', '--rand', RAND);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout), {
      rand: RAND, autn: AUTN, xres: 'a54211d5e3ba50bf', ck: 'b40ba9a3c58b2a05bbf0d987b21bf8cb', ik: 'f769bcd751044604127672711c6d3441',
      ak: 'aa689c648370', mac_a: '4a9ffac354dfafb3', sqn: 0xff9bb4d0b607, nonce: Buffer.from(RAND + AUTN, 'hex').toString('base64'),
    });
  });
  test('[R-AKA-2] aka vector --count gives n lines with increasing SEQ and the same IND, OP accepted in place of OPc', () => {
    const r = imsec('aka', 'vector', '--k', K, '--op', OP, '--sqn', '64', '--amf', '8000', '--count', '3');
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.sqn), [64, 96, 128]);
    assert.equal(new Set(lines.map((l) => l.rand)).size, 3);
  });
  test('[R-AKA-4] aka respond: ok, sync-failure with AUTS, mac-failure', () => {
    const ok = imsec('aka', 'respond', '--k', K, '--opc', OPC, '--rand', RAND, '--autn', AUTN);
    assert.deepEqual(JSON.parse(ok.stdout), { result: 'ok', res: 'a54211d5e3ba50bf', ck: 'b40ba9a3c58b2a05bbf0d987b21bf8cb', ik: 'f769bcd751044604127672711c6d3441' });
    const sync = imsec('aka', 'respond', '--k', K, '--opc', OPC, '--rand', RAND, '--autn', AUTN, '--sqn-ms', SQN);
    const s = JSON.parse(sync.stdout);
    assert.equal(s.result, 'sync-failure');
    assert.match(s.auts, /^[0-9a-f]{28}$/);
    const mac = imsec('aka', 'respond', '--k', K, '--opc', OPC, '--rand', RAND, '--autn', AUTN.slice(0, 31) + '0');
    assert.deepEqual(JSON.parse(mac.stdout), { result: 'mac-failure' });
    // The AUTS goes back through resync and yields SQN_MS.
    const rs = imsec('aka', 'resync', '--k', K, '--opc', OPC, '--rand', RAND, '--auts', s.auts);
    assert.equal(rs.code, 0, rs.stderr);
    assert.deepEqual(JSON.parse(rs.stdout), { sqn_ms: 0xff9bb4d0b607 });
  });
  test('[R-AKA-5] aka resync with a wrong MAC-S exits 1 with one clear line', () => {
    const r = imsec('aka', 'resync', '--k', K, '--opc', OPC, '--rand', RAND, '--auts', '00'.repeat(14));
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^imsec: .*MAC-S.*\n$/);
  });
  const bad: [string, string[]][] = [
    ['non-hex K', ['aka', 'vector', '--k', 'zz'.repeat(16), '--opc', OPC, '--sqn', '1', '--amf', '8000']],
    ['short K', ['aka', 'vector', '--k', 'aa', '--opc', OPC, '--sqn', '1', '--amf', '8000']],
    ['missing key', ['aka', 'vector', '--opc', OPC, '--sqn', '1', '--amf', '8000']],
    ['missing OP and OPc', ['aka', 'vector', '--k', K, '--sqn', '1', '--amf', '8000']],
    ['both --op and --opc', ['aka', 'vector', '--k', K, '--op', OP, '--opc', OPC, '--sqn', '1', '--amf', '8000']],
    ['SQN above 48 bits', ['aka', 'vector', '--k', K, '--opc', OPC, '--sqn', String(2 ** 48), '--amf', '8000']],
    ['AMF of 3 bytes', ['aka', 'vector', '--k', K, '--opc', OPC, '--sqn', '1', '--amf', '800000']],
    ['AUTS of 13 bytes', ['aka', 'resync', '--k', K, '--opc', OPC, '--rand', RAND, '--auts', '00'.repeat(13)]],
    ['unknown option', ['aka', 'respond', '--frobnicate']],
  ];
  for (const [what, args] of bad) {
    test(`bad arguments (${what}) → exit 2, one line on stderr, no stack trace`, () => {
      const r = imsec(...args);
      assert.equal(r.code, 2);
      assert.equal(r.stdout, '');
      assert.equal(r.stderr.split('\n').length, 2, r.stderr);
      assert.match(r.stderr, /^imsec: /);
      assert.doesNotMatch(r.stderr, /\s+at /);
    });
  }
});
