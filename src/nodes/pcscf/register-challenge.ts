/**
 * The P-CSCF's answer to the S-CSCF's challenge during registration: from the 401 with IK/CK to
 * the temporary SA set and the 401 with Security-Server the UE gets (TS 33.203 §7.2). Split from
 * register-flow.ts, which calls it; the state it changes is the core's (state.ts, the SaManager).
 */
import { buildSecurityServer, choosePcscfMechanism } from '../../secagree/index.js';
import type { SipResponse } from '../../sip/index.js';
import type { RequestContext } from '../../sip/stack/index.js';
import type { CoreContext } from './ports.js';
import { addSecurityServer, akaKeysOf, removeAkaKeys } from './register-rules.js';
import type { PendingRegistration } from './tables.js';

/**
 * Step 2 of the module comment of register-flow.ts (TS 33.203 §7.2, §7.4; TS 24.229 §5.2.2.1):
 * the 401 from the S-CSCF. IK and CK are taken out (R-AKA-6), the policy's mechanism chosen
 * (R-SM-2), the P-CSCF's SPIs and ports allocated (R-SA-3, R-RR-1), the four temporary SAs
 * created and installed, and Security-Server added before the 401 goes back to the UE (R-SM-3).
 * `out` is the 401 as it will be relayed (a copy of `resp`, our Via removed).
 */
export async function onChallenge(c: CoreContext, pending: PendingRegistration, resp: SipResponse, out: SipResponse, ctx: RequestContext): Promise<void> {
  let keys;
  try {
    keys = akaKeysOf(resp);
    removeAkaKeys(out);
  } catch {
    c.state.fail(pending, 'bad-challenge', 'unreadable WWW-Authenticate from upstream');
    return void ctx.reply(500, 'Server Internal Error');
  }
  if (!pending.offer || !pending.selection) {
    // An auth-failure report without an offer: nothing to protect, relay the challenge as is.
    c.state.removePending(pending);
    return void ctx.respond(out);
  }
  if (!keys) {
    c.state.fail(pending, 'no-keys', 'the 401 carries no ik/ck (R-AKA-6)');
    return void ctx.reply(500, 'Server Internal Error');
  }
  // R-SM-2: the policy's choice (already known acceptable from the gate).
  const sel = choosePcscfMechanism(pending.offer, c.o.policy);
  if (!sel.ok) {
    c.state.fail(pending, sel.reason, sel.detail);
    return void ctx.reply(494, 'Security Agreement Required');
  }
  let ports: { portC: number; portS: number };
  try {
    ports = c.o.ports.portsFor(pending.ueAddress, sel.ue.portS);
  } catch (err) {
    c.state.fail(pending, 'no-ports', (err as Error).message);
    return void ctx.reply(503, 'Service Unavailable', { headers: [['Retry-After', '30']] });
  }
  // R-SA-3: our inbound SPIs, MSB 0, unique among live SAs, never 1..255, never the UE's.
  const r = c.o.sa.reserveLocal({ avoidSpis: [sel.ue.spiC, sel.ue.spiS] });
  const local = { spiC: r.spiC, spiS: r.spiS, portC: ports.portC, portS: ports.portS };
  r.release();
  const created = c.o.sa.createSet({
    impi: pending.impi,
    impus: pending.impu ? [pending.impu] : [],
    ueAddress: pending.ueAddress,
    pcscfAddress: c.o.protectedAddress,
    remote: sel.ue,
    local,
    integrity: sel.alg,
    encryption: sel.ealg,
    mode: sel.mod,
    ik: keys.ik,
    ck: keys.ck,
  });
  keys.ik.fill(0);
  keys.ck.fill(0);
  if (!created.ok) {
    if (created.reason === 'selector-in-use') c.counters.selectorRejected++;
    c.state.fail(pending, created.reason, created.detail);
    return void ctx.reply(created.reason === 'selector-in-use' ? 403 : 503, created.reason === 'selector-in-use' ? 'Forbidden' : 'Service Unavailable');
  }
  const set = created.set;
  const server = buildSecurityServer(sel, local);
  pending.setId = set.id;
  pending.server = server;
  pending.state = 'challenged';
  pending.timer?.cancel();
  c.state.pendingBySet.set(set.id, pending);
  try {
    await c.o.ports.open(set);
  } catch (err) {
    c.state.fail(pending, 'install-failed', (err as Error).message);
    c.o.sa.deleteSet(set.id, 'failed');
    return void ctx.reply(503, 'Service Unavailable');
  }
  if (c.o.sa.get(set.id)?.state !== 'temporary') {
    // Deleted (or replaced) while its SAs were being installed: nothing left to protect the answer with.
    c.log.warn({ impi: pending.impi, setId: set.id, status: resp.status }, 'pcscf: the new temporary SAs went while being installed, 500 to the REGISTER');
    return void ctx.reply(500, 'Server Internal Error');
  }
  addSecurityServer(out, server);
  c.counters.challenges++;
  c.log.info({ impi: pending.impi, setId: set.id, alg: sel.alg, ealg: sel.ealg, mod: sel.mod, spiC: local.spiC, spiS: local.spiS, portC: local.portC, portS: local.portS }, 'pcscf: temporary SAs created, 401 to the UE');
  ctx.respond(out);
}
