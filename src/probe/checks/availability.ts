/**
 * Availability checks (R-AKA-7, R-AKA-6, R-SA-6, R-FAIL-4; seed 003 §6.1, TS 33.203 §6.1,
 * TS 24.229 §5.2.2.1 and Table 7.8.1): wrong-RES REGISTERs in a victim's name leave it
 * registered and reachable; a bounded burst of half-open registrations blocks no legitimate one
 * and leaves nothing behind after reg-await-auth; at most three SA sets per IMPI; the 401 that
 * reaches the UE carries no ck/ik.
 */
import type { SipResponse } from '../../sip/index.js';
import { ProbeError } from '../errors.js';
import type { SecMechanism } from '../../secagree/index.js';
import { statusOf, type Challenge, type HandSet, type ProbeUe } from '../probe-ue.js';
import { fail, pass, untestable, type CheckDef } from './check.js';

const ok = (st: number | undefined): boolean => st !== undefined && st >= 200 && st < 300;

export const availabilityChecks: CheckDef[] = [
  {
    id: 'availability.wrong-res',
    title: 'a registered victim stays registered and reachable after wrong-RES REGISTERs in its name',
    spec: ['R-AKA-7', 'R-FAIL-1'],
    clause: 'TS 33.203 §6.1 (a failed authentication changes no registration); TS 24.229 §5.4.1.2.3; seed 003 §6.1.2',
    async run(s) {
      const victim = await s.ue('vic');
      const set = await s.registered(victim);
      const before = await victim.ping(set);
      s.note(before.frame, 'before: the victim sends a MESSAGE to itself over its SAs');
      s.note(before.resp, `answered ${statusOf(before.resp)}`);
      if (!ok(statusOf(before.resp))) return untestable(`the registered victim is not reachable even before any attack (MESSAGE to itself: ${statusOf(before.resp) ?? 'no answer'})`);
      const n = s.ctx.limits.wrongRes;
      for (let i = 1; i <= n; i++) {
        const att = await s.ue('att');
        const offer = att.offer();
        const first = await att.initial(offer);
        s.note(first.frame, `attempt ${i}/${n}: initial REGISTER in the victim's name from new ports`);
        if (statusOf(first.resp) !== 401) {
          s.note(first.resp, `answer ${statusOf(first.resp)}`);
          continue;
        }
        const c = att.challenge(first.resp!);
        const chosen = att.chosen(c.server, offer);
        if (!chosen) continue;
        const tmp = att.buildSet(chosen, offer, c.keys, c.server);
        const r = await att.protectedRegister(tmp, { protectedVia: true, auth: att.credentials(c, true), client: offer, verify: c.server });
        s.note(r.frame, `attempt ${i}/${n}: protected REGISTER with a wrong RES (worst case: right IK)`);
        s.note(r.resp, `answer ${statusOf(r.resp)}`);
        if (ok(statusOf(r.resp))) {
          s.track(att, tmp);
          return fail(`a wrong RES was accepted (${statusOf(r.resp)})`);
        }
      }
      const p = await victim.ping(set);
      s.note(p.frame, 'the victim sends a MESSAGE to itself over its SAs');
      s.note(p.resp, `answered ${statusOf(p.resp)}`);
      if (!ok(statusOf(p.resp))) return fail(`after ${n} wrong-RES REGISTERs the victim is no longer reachable (${statusOf(p.resp) ?? 'no answer'})`);
      return pass(`after ${n} wrong-RES REGISTERs the victim is still registered and reachable (MESSAGE to itself: ${statusOf(p.resp)})`);
    },
  },
  {
    id: 'availability.half-open',
    title: 'a burst of half-open registrations blocks no legitimate one and leaves nothing after reg-await-auth',
    spec: ['R-FAIL-4', 'R-AKA-7'],
    clause: 'TS 24.229 §5.2.2.1 and Table 7.8.1 (reg-await-auth); TS 33.203 §7.2; seed 003 §6.1.3',
    async run(s) {
      const n = s.ctx.limits.flood;
      const counts = new Map<string, number>();
      // The half-open attempts hold no SAs on the probe's side until the one completed at the end.
      let last: { ue: ProbeUe; c: Challenge; chosen: SecMechanism; offer: SecMechanism[] } | undefined;
      for (let i = 1; i <= n; i++) {
        const ue = await s.ue('flood');
        const offer = ue.offer();
        const first = await ue.initial(offer);
        const st = statusOf(first.resp);
        counts.set(String(st ?? 'none'), (counts.get(String(st ?? 'none')) ?? 0) + 1);
        if (i === 1 || i === n) s.note(first.frame, `half-open registration ${i}/${n}`);
        if (st === 401) {
          const c = ue.challenge(first.resp!);
          const chosen = ue.chosen(c.server, offer);
          if (chosen) last = { ue, c, chosen, offer };
        }
      }
      const legit = await s.ue('legit');
      try {
        await s.registered(legit);
      } catch (e) {
        if (e instanceof ProbeError) return fail(`after ${n} half-open registrations a legitimate one failed: ${e.message}`);
        throw e;
      }
      const summary = [...counts].map(([k, v]) => `${v}× ${k}`).join(', ');
      if (!last) return untestable(`no half-open registration got a 401 (${summary}): nothing to leave behind`);
      await new Promise<void>((r) => s.ctx.clock.setTimeout(s.ctx.limits.awaitAuthMs, r));
      const lastSet = last.ue.buildSet(last.chosen, last.offer, last.c.keys, last.c.server);
      const late = await last.ue.protectedRegister(lastSet, { protectedVia: true, auth: last.ue.credentials(last.c), client: last.offer, verify: last.c.server });
      s.note(late.frame, `after ${s.ctx.limits.awaitAuthMs} ms: the last half-open registration completed with the right RES on its temporary SAs`);
      s.note(late.resp, `answer ${statusOf(late.resp)}`);
      if (ok(statusOf(late.resp))) {
        s.track(last.ue, lastSet);
        return fail(`the temporary SAs of a half-open registration outlived reg-await-auth (${statusOf(late.resp)} after ${s.ctx.limits.awaitAuthMs} ms)`);
      }
      return pass(`${n} half-open registrations (${summary}); a legitimate one then registered; after ${s.ctx.limits.awaitAuthMs} ms the last half-open one's SAs were gone (${statusOf(late.resp) ?? 'no answer'})`);
    },
  },
  {
    id: 'availability.sa-limit',
    title: 'more than three SA sets per IMPI are refused',
    spec: ['R-SA-6'],
    clause: 'TS 33.203 §7.1 (seed 001 §7.1: at most three SAs per direction per IMPI)',
    async run(s) {
      const sets: { ue: ProbeUe; set: HandSet }[] = [];
      const refusals: string[] = [];
      for (let i = 1; i <= 4; i++) {
        const ue = await s.ue('lim');
        try {
          sets.push({ ue, set: await s.registered(ue) });
        } catch (e) {
          if (!(e instanceof ProbeError)) throw e;
          refusals.push(`registration ${i}: ${e.message}`);
        }
      }
      let live = 0;
      for (const [i, x] of sets.entries()) {
        const p = await x.ue.ping(x.set);
        s.note(p.frame, `MESSAGE over set ${i + 1}`);
        s.note(p.resp, `answered ${statusOf(p.resp)}`);
        if (statusOf(p.resp) !== undefined) live++;
      }
      const detail = `${sets.length} of 4 registrations succeeded${refusals.length ? ` (${refusals.join('; ')})` : ''}; ${live} SA sets still carry traffic`;
      if (live > 3) return fail(detail);
      if (live === 0) return untestable(`${detail}: none answered, so nothing was measured`);
      return pass(detail);
    },
  },
  {
    id: 'availability.no-keys-in-401',
    title: 'ck/ik never appear in the 401 that reaches the UE',
    spec: ['R-AKA-6'],
    clause: 'TS 33.203 §7.2 step 2 (the P-CSCF removes CK and IK); TS 24.229 §5.2.2.1',
    async run(s) {
      const ue = await s.ue('keys');
      const offer = ue.offer();
      const first = await ue.initial(offer);
      s.note(first.frame, 'initial REGISTER');
      if (statusOf(first.resp) !== 401) return untestable(`no 401 (${statusOf(first.resp) ?? 'no answer'})`);
      const r401 = first.resp!.msg as SipResponse;
      s.note(first.resp, '401 as the UE receives it');
      const lines = r401.headers.getLines('WWW-Authenticate');
      const leak = lines.find((l) => /(^|[\s,])(ik|ck)\s*=/i.test(l));
      const c = ue.challenge(first.resp!);
      const chosen = ue.chosen(c.server, offer);
      if (chosen) {
        const set = ue.buildSet(chosen, offer, c.keys, c.server);
        const r = await ue.protectedRegister(set, { protectedVia: true, auth: ue.credentials(c), client: offer, verify: c.server });
        if (ok(statusOf(r.resp))) s.track(ue, set);
      }
      if (leak) return fail(`the 401 carries the keys: WWW-Authenticate ${leak.replace(/((?:ik|ck)\s*=\s*)"?[0-9a-f]+"?/gi, '$1"…"')}`);
      return pass(`no ik= or ck= in the ${lines.length} WWW-Authenticate field(s) of the 401`);
    },
  },
];
