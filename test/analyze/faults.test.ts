/**
 * Fault-injected registrations (R-LAB-2, R-LAB-3's threats seen in a capture): each capture is
 * built with the project's own encoders (support.ts) and must show exactly the matching finding.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Analyzer, type AnalysisReport } from '../../src/analyze/index.js';
import { CaptureReader } from '../../src/capture/index.js';
import { buildRegistration, type Faults } from './support.js';

function analyze(f: Faults): { r: AnalysisReport; frames: Record<string, number> } {
  const built = buildRegistration(f);
  const a = new Analyzer();
  const reader = new CaptureReader();
  reader.push(built.pcap, (fr) => a.frame(fr));
  reader.end();
  return { r: a.finish(), frames: built.frames };
}

const rules = (r: AnalysisReport) => r.findings.map((f) => f.rule).sort();

describe('TS 33.203 §7 registration, no fault', () => {
  test('[R-LAB-2][R-SA-2][R-AKA-6] a clean registration decodes fully, every ESP verifies, no finding', () => {
    const { r } = analyze({});
    assert.deepEqual(r.findings, []);
    assert.equal(r.summary.esp.packets, 3);
    assert.equal(r.summary.esp.verified, 3);
    const g = r.registrations[0];
    assert.equal(g.state, 'registered');
    assert.deepEqual(g.digest, { verified: 1, failed: 0, unchecked: 0 });
    assert.equal(g.nonceMatchesMaa, true);
    assert.deepEqual([...g.impus].sort(), ['sip:alice@ims.lab', 'tel:+15550101']);
    assert.equal(r.saSets[0].state, 'active');
    assert.equal(r.saSets[0].keyed, true);
    // Every SIP message inside ESP is on the ladder, marked with its SPI.
    assert.deepEqual(r.ladder.filter((l) => l.esp).map((l) => l.summary), ['REGISTER sip:ims.lab', '200 OK (REGISTER)', 'MESSAGE sip:carol@ims.lab']);
  });
});

describe('IPv6 (RFC 8200)', () => {
  test('[R-LAB-2][R-SA-1] the same registration and re-registration over IPv6: all ESP verified, no finding', () => {
    const { r } = analyze({ ipv6: true, reregister: 'ok' });
    assert.deepEqual(r.findings, []);
    assert.equal(r.summary.esp.verified, 7);
    assert.equal(r.saSets[0].ue, '2001:db8::2');
    assert.equal(r.registrations[0].digest.verified, 2);
  });
});

describe('fault injection, each fault by name', () => {
  test('[R-SM-4] bid-down: Security-Verify ≠ Security-Server (RFC 3329 §2.3.1, TS 33.203 §7.2)', () => {
    const { r, frames } = analyze({ bidDown: true });
    const f = r.findings.find((x) => x.rule === 'secagree.verify-mismatch');
    assert.ok(f, rules(r).join());
    assert.equal(f.severity, 'error');
    assert.equal(f.spec, 'R-SM-4');
    assert.deepEqual(f.frames, [frames.register2]);
    assert.deepEqual(rules(r), ['secagree.verify-mismatch']);
  });

  test('[R-SM-4] Security-Client changed between the REGISTERs (TS 33.203 §7.2 SM7)', () => {
    const { r, frames } = analyze({ clientChanged: true });
    assert.deepEqual(rules(r), ['secagree.client-changed']);
    assert.deepEqual(r.findings[0].frames, [frames.register2]);
  });

  test('[R-SA-4] IMPU spoofing: a protected MESSAGE asserting an IMPU not bound to its SA', () => {
    const { r, frames } = analyze({ impuSpoof: true });
    assert.deepEqual(rules(r), ['sa.impu-not-bound']);
    assert.deepEqual(r.findings[0].frames, [frames.message]);
    assert.match(r.findings[0].message, /sip:bob@ims\.lab/);
  });

  test('[R-SA-8] replayed ESP: the same packet sent again is found at its frame (RFC 4303 §3.4.3)', () => {
    const { r, frames } = analyze({ replay: true });
    assert.deepEqual(rules(r), ['esp.replay']);
    assert.deepEqual(r.findings[0].frames, [frames.replay]);
    assert.equal(r.summary.esp.replayed, 1);
  });

  test('[R-FAIL-1] wrong ICV: the ESP packet fails the integrity check, and the registration stalls on it', () => {
    const { r, frames } = analyze({ wrongIcv: true });
    assert.deepEqual(rules(r), ['esp.icv', 'reg.stalled']);
    assert.deepEqual(r.findings.find((x) => x.rule === 'esp.icv')!.frames, [frames.register2]);
    assert.match(r.findings.find((x) => x.rule === 'reg.stalled')!.message, /fails the integrity check/);
  });

  test('[R-FAIL-4] phone silent after the 401: diagnosed as no ESP at all from the UE', () => {
    const { r, frames } = analyze({ silentAfter401: true });
    assert.deepEqual(rules(r), ['reg.stalled']);
    const f = r.findings[0];
    assert.deepEqual(f.frames, [frames.challenge]);
    assert.match(f.message, /within 60\.0 s of the 401|no protected REGISTER/);
    assert.match(f.message, /no ESP at all from the UE 10\.0\.0\.2/);
  });

  test('[R-AKA-6] ck/ik left in the 401 to the UE (TS 24.229 §5.2.2.1)', () => {
    const { r, frames } = analyze({ keysToUe: true });
    assert.deepEqual(rules(r), ['aka.keys-to-ue']);
    assert.deepEqual(r.findings[0].frames, [frames.challenge]);
  });

  test('[R-FAIL-2] network authentication failure: a new Security-Client is expected, the attempt\'s SAs go (TS 24.229 §5.1.1.5.3)', () => {
    const same = analyze({ macFailure: 'same-client' });
    assert.deepEqual(rules(same.r), ['fail.client-not-new']);
    assert.deepEqual(same.r.findings[0].frames, [same.frames.failure]);
    assert.match(same.r.findings[0].message, /spi-c, spi-s, port-c/);
    const fresh = analyze({ macFailure: 'new-client' });
    assert.deepEqual(fresh.r.findings, [], 'no stall either: the UE reported the failure');
    assert.deepEqual(fresh.r.registrations[0].steps.map((s) => s.kind), ['initial', 'mac-failure']);
    assert.equal(fresh.r.saSets[0].state, 'failed');
  });

  test('[R-SA-5] SIP in the clear to a protected port (TS 33.203 §7.1)', () => {
    const { r, frames } = analyze({ clearOnProtected: true });
    assert.deepEqual(rules(r), ['port.clear-on-protected']);
    assert.deepEqual(r.findings[0].frames, [frames.options]);
  });

  test('[R-FAIL-3] synchronisation failure: a 14-byte AUTS is a sync-failure step; a malformed one is named (RFC 3310 §3.4)', () => {
    const good = analyze({ syncFailure: 'good' });
    assert.deepEqual(good.r.findings, []);
    assert.deepEqual(good.r.registrations[0].steps.map((s) => s.kind), ['initial', 'sync-failure']);
    const bad = analyze({ syncFailure: 'bad' });
    assert.deepEqual(rules(bad.r), ['aka.auts-malformed']);
    assert.deepEqual(bad.r.findings[0].frames, [bad.frames.failure]);
  });

  test('[R-SA-3] ESP on an SPI no sec-agree negotiated; the stall diagnosis points at it', () => {
    const { r, frames } = analyze({ unknownSpi: true });
    assert.deepEqual(rules(r), ['esp.unknown-spi', 'reg.stalled']);
    assert.deepEqual(r.findings.find((f) => f.rule === 'esp.unknown-spi')!.frames, [frames.register2]);
    assert.match(r.findings.find((f) => f.rule === 'reg.stalled')!.message, /SPI this sec-agree did not negotiate/);
  });

  test('[R-SM-6] the answer to the 401 in the clear (TS 33.203 §7.2), and the stall says so', () => {
    const { r, frames } = analyze({ answerInClear: true });
    assert.deepEqual(rules(r), ['reg.answer-in-clear', 'reg.stalled']);
    assert.deepEqual(r.findings[0].frames, [frames.register2]);
    assert.match(r.findings.find((f) => f.rule === 'reg.stalled')!.message, /answered in the clear/);
  });

  test('[R-REG-4] the forwarded REGISTER\'s integrity-protected value against how it arrived (TS 24.229 §7.2A.1)', () => {
    assert.deepEqual(analyze({ forwardedIntegrity: 'yes' }).r.findings, []);
    const { r, frames } = analyze({ forwardedIntegrity: 'no' });
    assert.deepEqual(rules(r), ['reg.integrity-protected']);
    assert.deepEqual(r.findings[0].frames, [frames.forwarded]);
  });

  test('[R-SA-3] a packet whose ports are not those of the SA its SPI names', () => {
    const { r, frames } = analyze({ wrongSaPorts: true });
    assert.deepEqual(rules(r), ['sa.wrong-sa']);
    assert.deepEqual(r.findings[0].frames, [frames.message]);
  });

  test('[R-SA-7] ESP after the registration expiry + 30 s (TS 24.229 §5.1.1.2.2)', () => {
    const { r, frames } = analyze({ late: true });
    assert.deepEqual(rules(r), ['sa.lifetime']);
    assert.deepEqual(r.findings[0].frames, [frames.message]);
  });

  test('[R-RR-1][R-RR-2] re-registration: a new set with new SPIs and a new port_uc, the old set kept as old', () => {
    const { r } = analyze({ reregister: 'ok' });
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.saSets.map((s) => s.state), ['old', 'active']);
    assert.deepEqual(r.registrations[0].steps.map((s) => `${s.kind}:${s.outcome}`), ['initial:401', 'auth-response:200', 're-registration:401', 'auth-response:200']);
    assert.deepEqual(r.registrations[0].digest, { verified: 2, failed: 0, unchecked: 0 });
    assert.equal(r.summary.esp.verified, 7);
  });

  test('[R-SA-7] a de-registration the network challenges (TS 24.229 §5.1.1.5.1) is answered, not stalled: the protected de-REGISTER on the new set ends it, every set deleted', () => {
    const { r } = analyze({ challengedDeregister: true });
    assert.deepEqual(rules(r), []);
    const g = r.registrations[0];
    assert.equal(g.state, 'deregistered');
    assert.deepEqual(g.steps.map((x) => [x.kind, x.outcome]), [['initial', 401], ['auth-response', 200], ['de-registration', 401], ['auth-response', 200]]);
    assert.deepEqual(r.saSets.map((x) => x.state), ['deleted', 'deleted']);
  });

  test('[R-RR-1] re-registration reusing the live SPIs, or moving port_ps, is named', () => {
    const same = analyze({ reregister: 'same-spis' });
    assert.deepEqual(rules(same.r), ['rr.spi-not-new']);
    assert.deepEqual(same.r.findings[0].frames, [same.frames.rechallenge]);
    const moved = analyze({ reregister: 'new-ps' });
    assert.deepEqual(rules(moved.r), ['rr.port-not-kept']);
    assert.match(moved.r.findings[0].message, /P-CSCF port_ps 6100 → 6101/);
  });

  test('[R-RR-2] the replaced set used past 64·T1 after the change-over (TS 24.229 §5.2.2.1)', () => {
    const { r, frames } = analyze({ reregister: 'ok', oldSetLate: true });
    assert.deepEqual(rules(r), ['sa.lifetime']);
    assert.deepEqual(r.findings[0].frames, [frames.late]);
    assert.match(r.findings[0].message, /SA set 1 after the set ended \(old, /);
  });

  test('[R-SA-9] a protected REGISTER from another address than the SA was bound to', () => {
    const { r, frames } = analyze({ spoofedSource: true });
    assert.deepEqual(rules(r), ['sa.source-mismatch']);
    assert.deepEqual(r.findings[0].frames, [frames.register2]);
    assert.match(r.findings[0].message, /from 10\.0\.0\.66, but SA set 1 was bound to 10\.0\.0\.2/);
  });

  test('[R-SA-4] a REGISTER on bound SAs for a different IMPI', () => {
    const { r, frames } = analyze({ otherImpi: true });
    assert.ok(rules(r).includes('sa.impi-mismatch'), rules(r).join());
    assert.deepEqual(r.findings.find((f) => f.rule === 'sa.impi-mismatch')!.frames, [frames.register2]);
  });

  test('[R-RR-5] network-initiated re-authentication: a shortened reg-event NOTIFY is a step of the registration', () => {
    const { r } = analyze({ shortened: true });
    assert.deepEqual(r.findings, []);
    assert.deepEqual(r.registrations[0].steps.map((s) => s.kind), ['initial', 'auth-response', 'network-reauth']);
  });

  test('[R-SA-3] two UEs given the same P-CSCF SPIs while both sets live: the SPI no longer names one SA', () => {
    const a = buildRegistration();
    const b = buildRegistration({ user: { name: 'bob', address: '10.0.0.5', offsetMs: 10_000 } });
    const an = new Analyzer();
    const reader = new CaptureReader();
    reader.push(a.pcap, (fr) => an.frame(fr));
    const second = new CaptureReader();
    const base = a.frames.message;
    second.push(b.pcap, (fr) => an.frame({ ...fr, number: fr.number + base }));
    const r = an.finish();
    assert.deepEqual(rules(r), ['sa.spi-reused']);
    assert.deepEqual(r.findings[0].frames, [base + b.frames.challenge]);
    assert.match(r.findings[0].message, /SA set 2 of bob@ims\.lab takes SPIs that the live set 1 of alice@ims\.lab holds/);
    assert.deepEqual(r.registrations.map((g) => g.state), ['registered', 'registered']);
  });
});

