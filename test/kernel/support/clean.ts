/**
 * Whether any of our XFRM entries (reqid in the default range, src/ipsec/xfrm) is left in a
 * namespace after a scenario, and whether the entry that is not ours (support/xfrm-state.ts)
 * is still there.
 */
import assert from 'node:assert/strict';
import { DEFAULT_REQID_BASE, DEFAULT_REQID_COUNT } from '../../../src/ipsec/xfrm/index.js';
import { FOREIGN_REQID, kernelPolicyReqids, kernelStates } from './xfrm-state.js';

export const ours = (reqid: number): boolean => reqid >= DEFAULT_REQID_BASE && reqid < DEFAULT_REQID_BASE + DEFAULT_REQID_COUNT;

/** Our entries (reqid in the default range) in a namespace, and whether the foreign ones are intact. */
export function entries(ns: string): { ourStates: number; ourPolicies: number; foreignIntact: boolean } {
  const states = kernelStates(ns);
  const policies = kernelPolicyReqids(ns);
  return {
    ourStates: states.filter((s) => ours(s.reqid)).length,
    ourPolicies: policies.filter(ours).length,
    foreignIntact: states.some((s) => s.reqid === FOREIGN_REQID && s.spi === 0x7007) && policies.includes(FOREIGN_REQID),
  };
}

/** Waits (at most 5 s) until nothing of ours is left in `ns`, then asserts it. */
export async function assertClean(ns: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  let e = entries(ns);
  while ((e.ourStates > 0 || e.ourPolicies > 0) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    e = entries(ns);
  }
  assert.deepEqual(e, { ourStates: 0, ourPolicies: 0, foreignIntact: true }, `${ns}: none of our entries left, the foreign one intact`);
}
