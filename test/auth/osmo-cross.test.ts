/**
 * Cross-check against an independent C implementation: libosmocore's osmo-auc-gen
 * (../shared/INTEROP.md). Random subscribers, SQNs, AMFs and RANDs; AUTN, RES, CK, IK, the
 * IMS nonce, and resynchronisation both ways.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Milenage, generateVector, buildAuts, verifyAuts } from '../../src/auth/index.js';
import { SeededRng, toHex, toBase64, concatBytes, bytesToUint } from '../../src/common/index.js';
import { needPeer } from '../support/peers.js';

const run = promisify(execFile);
const CASES = 300;

interface Case { k: Uint8Array; opc: Uint8Array; rand: Uint8Array; sqn: number; amf: number }

function makeCases(seed: string, n: number): Case[] {
  const rng = new SeededRng(seed);
  return Array.from({ length: n }, () => ({
    k: rng.bytes(16),
    opc: rng.bytes(16),
    rand: rng.bytes(16),
    sqn: bytesToUint(rng.bytes(6)),
    amf: bytesToUint(rng.bytes(2)),
  }));
}

async function osmo(args: string[]): Promise<{ code: number; fields: Map<string, string> }> {
  try {
    const { stdout } = await run('osmo-auc-gen', ['-3', '-a', 'milenage', ...args]);
    return { code: 0, fields: parse(stdout) };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: typeof err.code === 'number' ? err.code : -1, fields: parse(err.stdout ?? '') };
  }
}

function parse(out: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of out.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) m.set(line.slice(0, i).trim(), line.slice(i + 1).trim());
  }
  return m;
}

async function pool<T>(items: T[], width: number, fn: (x: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  }));
}

describe('osmo-auc-gen cross-check (libosmocore Milenage)', () => {
  test(`[R-AKA-1] ${CASES} random (K, OPc, SQN, AMF, RAND): AUTN, RES, CK, IK and IMS nonce equal osmo-auc-gen`, async (t) => {
    if (!needPeer(t, 'osmo-auc-gen')) return;
    const mismatches: string[] = [];
    await pool(makeCases('osmo-vectors', CASES), 4, async (c, i) => {
      const av = generateVector(new Milenage(c.k, c.opc), c.rand, c.sqn, c.amf);
      const r = await osmo(['-k', toHex(c.k), '-o', toHex(c.opc), '-s', String(c.sqn), '-f', c.amf.toString(16).padStart(4, '0'), '-r', toHex(c.rand)]);
      const got = [r.fields.get('AUTN'), r.fields.get('RES'), r.fields.get('CK'), r.fields.get('IK'), r.fields.get('IMS nonce')];
      const want = [toHex(av.autn), toHex(av.xres), toHex(av.ck), toHex(av.ik), toBase64(concatBytes(av.rand, av.autn))];
      if (r.code !== 0 || JSON.stringify(got) !== JSON.stringify(want)) mismatches.push(`case ${i}: osmo ${JSON.stringify(got)} ours ${JSON.stringify(want)}`);
    });
    assert.deepEqual(mismatches, []);
  });

  test('[R-AKA-5] our AUTS is accepted by osmo-auc-gen -A and its SQN.MS equals ours; a corrupted AUTS is refused by both', async (t) => {
    if (!needPeer(t, 'osmo-auc-gen')) return;
    const mismatches: string[] = [];
    await pool(makeCases('osmo-resync', 100), 4, async (c, i) => {
      const m = new Milenage(c.k, c.opc);
      const auts = buildAuts(m, c.rand, c.sqn);
      const base = ['-k', toHex(c.k), '-o', toHex(c.opc), '-r', toHex(c.rand), '-s', '0', '-f', '0000'];
      const good = await osmo([...base, '-A', toHex(auts)]);
      if (good.code !== 0 || good.fields.get('SQN.MS') !== String(c.sqn)) mismatches.push(`case ${i}: osmo SQN.MS ${good.fields.get('SQN.MS')} (exit ${good.code}), ours ${c.sqn}`);
      const ours = verifyAuts(m, c.rand, auts);
      if (!ours.ok || ours.sqnMs !== c.sqn) mismatches.push(`case ${i}: we did not verify our own AUTS`);
      const bad = auts.slice();
      bad[6 + (i % 8)] ^= 0x01;
      const refused = await osmo([...base, '-A', toHex(bad)]);
      if (refused.code === 0) mismatches.push(`case ${i}: osmo accepted a corrupted MAC-S`);
      if (verifyAuts(m, c.rand, bad).ok) mismatches.push(`case ${i}: we accepted a corrupted MAC-S`);
    });
    assert.deepEqual(mismatches, []);
  });
});
