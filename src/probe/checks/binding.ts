/**
 * Binding checks (R-SA-4, R-SA-9; TS 33.203 §7.1 SA table, TS 24.229 §5.2.6.3.1 and
 * §5.2.2.1, RFC 4301 §5.2): an SA carries only the identities bound to it and only packets whose
 * (inner) addresses and ports are its selector.
 */
import { sealSip } from '../hand-sa.js';
import { statusOf, type HandSet, type ProbeUe } from '../probe-ue.js';
import { fail, pass, untestable, type CheckDef, type CheckScope, type Outcome } from './check.js';

const XFRM_INNER = 'over kernel ESP (mod=trans) the probe cannot craft a packet whose selector differs from its SA: Node has no raw IP socket, and the kernel seals only what its policy selects';

/** A protected MESSAGE claiming `spoof` (From and/or P-Preferred-Identity) must not arrive asserting it. */
async function spoofed(s: CheckScope, o: { from?: string; ppi?: string | null; what: string }): Promise<Outcome> {
  const { ue, set } = await s.registeredUe('id');
  const victim = s.ctx.sub.victim.impu;
  const since = ue.received.length;
  const m = ue.messageText({ from: o.from, ppi: o.ppi });
  const { frame } = await ue.sendProtected(set, m.text);
  s.note(frame, `protected MESSAGE with ${o.what}`);
  const seen = await ue.anyFor(m.callId, since, Math.max(s.ctx.limits.quietMs, s.ctx.limits.answerMs));
  if (seen?.msg?.kind === 'request') {
    const h = (seen.msg).headers;
    const pai = h.getLines('P-Asserted-Identity').join(', ');
    const ppi = h.getLines('P-Preferred-Identity').join(', ');
    const bare = victim.replace(/^sips?:/, '');
    s.note(seen, `delivered with P-Asserted-Identity: ${pai || '(none)'}${ppi ? `, P-Preferred-Identity: ${ppi}` : ''}`);
    if (pai.includes(bare)) return fail(`the request was delivered asserting ${victim}, an IMPU not bound to the SA`);
    if (ppi.includes(bare)) return fail(`the request was delivered still carrying P-Preferred-Identity ${victim}`);
    if (pai === '' && (o.from ?? '').includes(victim)) return fail(`the request was delivered with From ${victim} and no asserted identity`);
    return pass(pai ? `delivered, but asserting the SA's own identity (${pai}), not ${victim}` : `delivered without any asserted or preferred identity: ${victim} was not asserted`);
  }
  const st = statusOf(seen);
  if (seen) s.note(seen, `answered ${st}`);
  if (st !== undefined && st >= 200 && st < 300) return fail(`accepted (${st}) with ${o.what}`);
  const control = await ue.ping(set);
  s.note(control.frame, 'control: a MESSAGE with the SA\'s own identity');
  const cst = statusOf(control.resp);
  s.note(control.resp, `control answered ${cst}`);
  if (cst === undefined || cst >= 300) return untestable(`${st === undefined ? 'nothing came back' : `answered ${st}`}, but the control MESSAGE with the SA's own identity got ${cst ?? 'no answer'} too, so this proves nothing`);
  return pass(`${st === undefined ? `discarded (nothing within ${s.ctx.limits.quietMs} ms)` : `refused (${st})`} while the SA's own identity got ${cst}`);
}

/** A MESSAGE sealed on the right SA whose inner source is not the SA's. */
function innerFrom(ue: ProbeUe, set: HandSet, src: { address: string; port: number }): () => Promise<{ frame: number; callId: string }> {
  return async () => {
    const m = ue.messageText({});
    const bytes = sealSip(set.ucPs, m.text, { src });
    return { frame: await ue.sendPlain(bytes, set.ps, ue.uc), callId: m.callId };
  };
}

export const bindingChecks: CheckDef[] = [
  {
    id: 'binding.impu-ppi',
    title: 'another user\'s IMPU in P-Preferred-Identity on a valid SA',
    spec: ['R-SA-4'],
    clause: 'TS 33.203 §7.1 (SA bound to IMPI/IMPUs); TS 24.229 §5.2.6.3.1; RFC 3325 §6',
    run: (s) => spoofed(s, { ppi: s.ctx.sub.victim.impu, what: `P-Preferred-Identity ${s.ctx.sub.victim.impu}` }),
  },
  {
    id: 'binding.impu-from',
    title: 'another user\'s IMPU in From (no P-Preferred-Identity) on a valid SA',
    spec: ['R-SA-4'],
    clause: 'TS 33.203 §7.1; TS 24.229 §5.2.6.3.1',
    run: (s) => spoofed(s, { from: s.ctx.sub.victim.impu, ppi: null, what: `From ${s.ctx.sub.victim.impu}` }),
  },
  {
    id: 'binding.other-impi',
    title: 'REGISTER for another IMPI from a bound port',
    spec: ['R-SA-4'],
    clause: 'TS 33.203 §7.1 (seed 001 §7.1 rule 3); TS 24.229 §5.2.2.1',
    async run(s) {
      const { ue, set } = await s.registeredUe('impi');
      const v = s.ctx.sub.victim;
      const r = await ue.protectedRegister(set, { protectedVia: true, auth: ue.initialAuth(v.impi), client: ue.offer(), verify: set.serverList, impu: v.impu });
      s.note(r.frame, `protected REGISTER for ${v.impi} on ${s.ctx.sub.id.impi}'s SA`);
      const st = statusOf(r.resp);
      s.note(r.resp, `answer ${st}`);
      if (st === 401) return fail(`forwarded: the network challenged ${v.impi} over an SA bound to ${s.ctx.sub.id.impi}`);
      if (st !== undefined && st >= 200 && st < 300) return fail(`accepted (${st}) for ${v.impi}`);
      return pass(`refused (${st ?? 'no answer'}); no challenge for ${v.impi} came back`);
    },
  },
  {
    id: 'binding.source',
    title: 'source address or port not the SA\'s (inner header of UDP-enc-tun)',
    spec: ['R-SA-9', 'R-SA-4'],
    clause: 'RFC 4301 §5.2 step 4 (selector check after decapsulation); RFC 3948 §3.1.2; TS 33.203 §7.1',
    xfrmReason: XFRM_INNER,
    async run(s) {
      const { ue, set } = await s.registeredUe('src');
      const port = await s.mustDrop(ue, set, `ESP on the right SA, inner source port ${ue.uc.port + 1} instead of port_uc ${ue.uc.port}`, innerFrom(ue, set, { address: ue.uc.address, port: ue.uc.port + 1 }));
      if (port.verdict !== 'PASS') return port;
      const other = ue.uc.address.includes(':') ? '2001:db8::1' : '192.0.2.1';
      const addr = await s.mustDrop(ue, set, `ESP on the right SA, inner source address ${other} (RFC 5737/3849 documentation address, never sent to)`, innerFrom(ue, set, { address: other, port: ue.uc.port }));
      if (addr.verdict !== 'PASS') return addr;
      return pass(`both dropped: ${port.reason}; ${addr.reason}`);
    },
  },
];
