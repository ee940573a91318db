/**
 * Where `imsec load` puts each emulated UE (R-LAB-4, R-SA-4): `swarmPlace` deals the UEs out over
 * the source addresses in turn, at most `uesPerAddress` on each, every UE with its own port index
 * on its address (so no two UEs share a selector). UEs that start one after another come from
 * different addresses: a swarm that filled one address after another brought its whole rate from
 * one or two addresses, over imsec's P-CSCF's cap on half-open registrations per address (32),
 * and `bench register-ipsec`'s fill lost 242 of 5,000 registrations to 503.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { swarmPlace } from '../../src/load/index.js';
import { fcParams } from '../support/fuzz.js';

test('[R-LAB-4] [R-SA-4] every UE has its own (address, port index), at most uesPerAddress per address, consecutive UEs on different addresses', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 3000 }), fc.integer({ min: 1, max: 200 }), (ues, perAddress) => {
      const addresses = Math.ceil(ues / perAddress);
      const seen = new Set<string>();
      const perSlot = new Map<number, number>();
      for (let i = 0; i < ues; i++) {
        const { slot, portIndex } = swarmPlace(i, ues, perAddress);
        assert.ok(slot >= 0 && slot < addresses, `slot ${slot} of ${addresses}`);
        assert.ok(portIndex >= 0 && portIndex < perAddress, `port index ${portIndex} of ${perAddress}`);
        const key = `${slot}|${portIndex}`;
        assert.ok(!seen.has(key), `UE ${i} shares ${key}`);
        seen.add(key);
        perSlot.set(slot, (perSlot.get(slot) ?? 0) + 1);
        // Two UEs started one after the other come from different addresses (when there are two).
        if (i > 0 && addresses > 1) assert.notEqual(slot, swarmPlace(i - 1, ues, perAddress).slot, `UEs ${i - 1} and ${i}`);
      }
      assert.ok(Math.max(...perSlot.values()) <= perAddress);
      assert.equal(perSlot.size, addresses);
    }),
    fcParams(import.meta.url, 200),
  );
});

test('[R-LAB-4] the bench fill: 5,000 UEs at 64 per address, any 79 consecutive UEs on 79 different addresses', () => {
  const ues = 5000;
  const perAddress = 64;
  const addresses = Math.ceil(ues / perAddress);
  assert.equal(addresses, 79);
  for (let start = 0; start + addresses <= ues; start += 397) {
    const slots = new Set<number>();
    for (let i = start; i < start + addresses; i++) slots.add(swarmPlace(i, ues, perAddress).slot);
    assert.equal(slots.size, addresses, `UEs ${start}..${start + addresses - 1}`);
  }
  // The old plan (address ⌊i / 64⌋) had 64 consecutive UEs on one address.
  assert.deepEqual(swarmPlace(1, ues, perAddress), { slot: 1, portIndex: 0 });
  assert.deepEqual(swarmPlace(79, ues, perAddress), { slot: 0, portIndex: 1 });
});
