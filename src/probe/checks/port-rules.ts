/**
 * Port rules (R-SA-5; TS 33.203 §7.1, TS 24.229 §5.2.2.1 and §7.8): protected ports carry only
 * protected traffic; on the unprotected port the P-CSCF takes only an initial REGISTER and the
 * two failure reports, never another request from a registered user's address.
 */
import { statusOf } from '../probe-ue.js';
import { fail, pass, untestable, type CheckDef } from './check.js';

export const portRuleChecks: CheckDef[] = [
  {
    id: 'ports.unprotected-request',
    title: 'a MESSAGE on the unprotected port from a registered user\'s address',
    spec: ['R-SA-5'],
    clause: 'TS 33.203 §7.1; TS 24.229 §5.2.2.1 (only REGISTER unprotected)',
    async run(s) {
      const { ue, set } = await s.registeredUe('unp');
      const since = ue.received.length;
      const m = ue.messageText({});
      const frame = await ue.sendPlain(m.text);
      s.note(frame, 'MESSAGE in the clear to the unprotected port, from the registered UE\'s address');
      const seen = await ue.anyFor(m.callId, since, Math.max(s.ctx.limits.quietMs, s.ctx.limits.answerMs));
      if (seen?.msg?.kind === 'request') {
        s.note(seen, 'the unprotected MESSAGE was forwarded and delivered');
        return fail('an unprotected MESSAGE was forwarded as if protected');
      }
      const st = statusOf(seen);
      if (st !== undefined && st >= 200 && st < 300) {
        s.note(seen, `answered ${st}`);
        return fail(`an unprotected MESSAGE was accepted (${st})`);
      }
      s.note(seen, `answered ${st}`);
      const control = await ue.ping(set);
      s.note(control.frame, 'control: the same MESSAGE over the SA');
      const cst = statusOf(control.resp);
      s.note(control.resp, `control answered ${cst}`);
      if (cst === undefined || cst >= 300) return untestable(`not delivered, but over the SA the same request got ${cst ?? 'no answer'} too, so a delivery could not have shown`);
      return pass(`not forwarded (${st ?? 'no answer'}); over the SA the same request got ${statusOf(control.resp)}`);
    },
  },
  {
    id: 'ports.plain-on-protected',
    title: 'unprotected SIP to the protected server port',
    spec: ['R-SA-5'],
    clause: 'TS 33.203 §7.1 (protected ports carry only ESP); TS 24.229 §5.2.2.1',
    async run(s) {
      const { ue, set } = await s.registeredUe('plp');
      // From a port of its own: over kernel ESP anything from port_uc to port_ps is sealed by the policy.
      const other = await ue.extraPort();
      return s.mustDrop(ue, set, `MESSAGE in the clear from the UE's address (port ${other.port}) to port_ps ${set.ps.port}`, async () => {
        const m = ue.messageText({});
        return { frame: await ue.sendPlain(m.text, set.ps, other), callId: m.callId };
      });
    },
  },
];
