/**
 * Bid-down checks (R-SM-2, R-SM-4; RFC 3329 §2.3.1 and §2.4, TS 33.203 §7.2 step 3, TS 24.229
 * §5.2.2.1): the protected REGISTER's Security-Verify must repeat the Security-Server the P-CSCF
 * sent and its Security-Client must be the first REGISTER's; on any difference the P-CSCF
 * aborts, answers an error and deletes the new SAs. And the Security-Server must choose from
 * what the UE offered.
 */
import type { SecMechanism } from '../../secagree/index.js';
import { statusOf } from '../probe-ue.js';
import { describe, fail, pass, untestable, type CheckDef, type CheckScope, type Outcome } from './check.js';

const CLAUSE = 'RFC 3329 §2.3.1; TS 33.203 §7.2 step 3; TS 24.229 §5.2.2.1';

type Tamper = (server: SecMechanism[], chosen: SecMechanism, offer: SecMechanism[]) => { verify?: SecMechanism[]; client?: SecMechanism[]; what: string };

/** Register up to the protected REGISTER, send it changed by `tamper`, judge the answer and what is left of the new SAs. */
async function tamperedSecond(s: CheckScope, tamper: Tamper): Promise<Outcome> {
  const ue = await s.ue('bd');
  const offer = ue.offer();
  const first = await ue.initial(offer);
  s.note(first.frame, 'initial REGISTER with Security-Client');
  if (statusOf(first.resp) !== 401) return untestable(`the initial REGISTER got ${statusOf(first.resp) ?? 'no answer'}, not a 401`);
  const c = ue.challenge(first.resp!);
  s.note(c.frame, `401 with Security-Server ${c.server.map(describe).join(', ')}`);
  const chosen = ue.chosen(c.server, offer);
  if (!chosen) return untestable('the Security-Server names nothing the probe offered');
  const set = ue.buildSet(chosen, offer, c.keys, c.server);
  const t = tamper(c.server, chosen, offer);
  const r = await ue.protectedRegister(set, { protectedVia: true, auth: ue.credentials(c), client: t.client ?? offer, ...(t.verify ? { verify: t.verify } : {}) });
  s.note(r.frame, `protected REGISTER with ${t.what} (correct RES)`);
  const st = statusOf(r.resp);
  s.note(r.resp, `answer ${st}`);
  if (st !== undefined && st >= 200 && st < 300) {
    s.track(ue, set);
    return fail(`the protected REGISTER with ${t.what} was accepted (${st}): the P-CSCF did not compare it with what it sent`);
  }
  // R-SM-4: the new SAs are deleted. A correct REGISTER on them must not be accepted now.
  const again = await ue.protectedRegister(set, { protectedVia: true, auth: ue.credentials(c), client: offer, verify: c.server });
  s.note(again.frame, 'the correct protected REGISTER on the same new SAs');
  const st2 = statusOf(again.resp);
  s.note(again.resp, `answer ${st2}`);
  if (st2 !== undefined && st2 >= 200 && st2 < 300) {
    s.track(ue, set);
    return fail(`refused ${st ?? 'silently'}, but the new SAs were kept: a correct REGISTER on them then got ${st2} (R-SM-4: abort and delete them)`);
  }
  if (st === undefined && st2 === undefined) return untestable(`neither the changed nor the correct protected REGISTER on the new SAs was answered: the SAs may never have worked, so the silence proves nothing`);
  return pass(`refused (${st ?? 'no answer'}); the new SAs are gone: a correct REGISTER on them got ${st2 ?? 'no answer'}`);
}

const weaker = (alg: string | undefined): string => (alg === 'hmac-md5-96' ? 'hmac-sha-1-96' : 'hmac-md5-96');

export const bidDownChecks: CheckDef[] = [
  {
    id: 'bid-down.verify-weaker',
    title: 'Security-Verify names another (weaker) algorithm than Security-Server',
    spec: ['R-SM-4'],
    clause: CLAUSE,
    run: (s) => tamperedSecond(s, (server, chosen) => ({ verify: server.map((m) => (m === chosen ? { ...m, alg: weaker(m.alg) } : m)), what: `Security-Verify alg=${weaker(chosen.alg)} instead of ${chosen.alg}` })),
  },
  {
    id: 'bid-down.verify-dropped',
    title: 'Security-Verify drops a mechanism of Security-Server',
    spec: ['R-SM-4'],
    clause: `${CLAUSE}; RFC 3329 §2.4 (the man in the middle removes the strongest mechanisms)`,
    run: (s) =>
      tamperedSecond(s, (server) =>
        server.length > 1
          ? { verify: server.slice(1), what: 'Security-Verify without the first mechanism of Security-Server' }
          : { verify: [{ name: 'digest', extensions: [{ name: 'd-alg', value: 'md5' }] }], what: 'Security-Verify with ipsec-3gpp dropped (only "digest" left)' },
      ),
  },
  {
    id: 'bid-down.verify-missing',
    title: 'protected REGISTER without Security-Verify',
    spec: ['R-SM-4'],
    clause: `${CLAUSE}; TS 24.229 §5.1.1.5.1`,
    run: (s) => tamperedSecond(s, () => ({ what: 'no Security-Verify' })),
  },
  {
    id: 'bid-down.client-changed',
    title: 'Security-Client changed between the two REGISTERs',
    spec: ['R-SM-4'],
    clause: `${CLAUSE}; TS 33.203 §7.2 (the P-CSCF checks the Security-Client is unchanged)`,
    run: (s) =>
      tamperedSecond(s, (server, chosen, offer) => {
        const kept = offer.filter((m) => m.alg === chosen.alg);
        return kept.length < offer.length
          ? { verify: server, client: kept, what: `Security-Client without ${offer.filter((m) => m.alg !== chosen.alg).map((m) => m.alg).join(', ')}` }
          : { verify: server, client: [...offer, { ...offer[0], alg: weaker(offer[0].alg) }], what: 'Security-Client with a mechanism added' };
      }),
  },
  {
    id: 'bid-down.server-choice',
    title: 'Security-Server chooses only from the offer',
    spec: ['R-SM-2', 'R-SM-5'],
    clause: 'TS 33.203 §7.2 step 2 and Annex H; RFC 3329 §2.3.1',
    async run(s) {
      const ue = await s.ue('sc');
      const offer = ue.offer(undefined, [{ alg: 'hmac-md5-96', ealg: 'null' }]);
      const first = await ue.initial(offer);
      s.note(first.frame, `initial REGISTER offering only hmac-md5-96 / ealg=null / mod=${ue.mode}`);
      const st = statusOf(first.resp);
      s.note(first.resp, `answer ${st}`);
      if (st === undefined) return untestable('no answer to the initial REGISTER');
      if (st !== 401) return pass(`refused the offer (${st}) rather than choosing something else`);
      const c = ue.challenge(first.resp!);
      const foreign = c.server.filter((m) => m.name.toLowerCase() === 'ipsec-3gpp' && !ue.chosen([m], offer));
      if (foreign.length > 0) return fail(`the Security-Server chose what was never offered: ${foreign.map(describe).join(', ')}`);
      if (!ue.chosen(c.server, offer)) return fail('the 401 lists no ipsec-3gpp mechanism from the offer');
      return pass(`the Security-Server chose only from the offer: ${c.server.map(describe).join(', ')}`);
    },
  },
];
