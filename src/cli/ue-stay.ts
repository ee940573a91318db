/**
 * `imsec ue register --stay`: the soft UE as a process that stays registered until SIGINT or
 * SIGTERM (TS 24.229 §5.1.1). It re-registers before expiry with the change-over of R-RR-2,
 * keeps the reg-event subscription (TS 24.229 §5.1.1.3) so it follows network-initiated
 * re-authentication and de-registration, answers incoming requests, and prints one JSON line per
 * event on stdout:
 *
 * ```
 * {"event":"registered","time":"…","impus":[…],"expires":600,"mechanism":{…},"ue":{…},"pcscf":{…}}
 * {"event":"request","time":"…","method":"MESSAGE","from":"<sip:bob@ims.lab>;tag=…","status":200}
 * {"event":"message","time":"…","from":"sip:bob@ims.lab","text":"hello"}
 * {"event":"state","time":"…","state":"reregistering"}
 * {"event":"deregistered","time":"…","confirmed":true}
 * ```
 *
 * On a signal it de-registers (protected REGISTER, Expires 0) and exits 0.
 */
import type { Logger } from '../common/index.js';
import { createUe, parseUeConfig, UeError, type UeConfigInput, type UeRegistration } from '../nodes/ue/index.js';
import { CliFailure } from './errors.js';
import { serveUntilSignal } from './node-process.js';

/** The registration as the JSON lines show it (no key material). */
export function registrationJson(reg: UeRegistration, localAddress: string): Record<string, unknown> {
  return {
    impus: reg.impus,
    serviceRoute: reg.serviceRoute,
    expires: reg.expires,
    expiresAt: new Date(reg.expiresAt).toISOString(),
    mechanism: { alg: reg.alg, ealg: reg.ealg, mod: reg.mod },
    ue: { address: localAddress, spiC: reg.ue.spiC, spiS: reg.ue.spiS, portC: reg.ue.portC, portS: reg.ue.portS },
    pcscf: { address: reg.pcscf.address, spiC: reg.pcscf.spiC, spiS: reg.pcscf.spiS, portC: reg.pcscf.portC, portS: reg.pcscf.portS },
  };
}

/** Register and stay registered until a signal (or `until`, for tests); see the module comment. */
export async function runUeStay(input: UeConfigInput, o: { message?: string[] }, log: Logger, out: NodeJS.WritableStream, until?: Promise<unknown>): Promise<void> {
  // Staying registered means re-registering and following the network's reg events.
  input.reRegister = { ...((input.reRegister) ?? {}), auto: true };
  input.subscribeRegEvent = true;
  const config = parseUeConfig(input);
  const ue = createUe(config, { logger: log });
  await ue.start();
  const emit = (event: string, fields: Record<string, unknown> = {}): void => {
    out.write(`${JSON.stringify({ event, time: new Date().toISOString(), ...fields })}\n`);
  };
  ue.onStateChange((state) => {
    const st = ue.state();
    if (state === 'registered' && st.registration) emit('registered', registrationJson(st.registration, config.localAddress));
    else emit('state', { state, ...(st.lastFailure ? { failure: st.lastFailure } : {}) });
  });
  ue.onIncomingRequest((r) => emit('request', { method: r.method, uri: r.uri, from: r.from, callId: r.callId, status: r.status, ...(r.problem ? { problem: r.problem } : {}) }));
  ue.onMessage((m) => emit('message', { from: m.from, to: m.to, contentType: m.contentType, text: m.text }));
  try {
    await ue.register();
  } catch (err) {
    await ue.stop();
    if (err instanceof UeError) throw new CliFailure(`registration failed: ${err.reason}${err.status ? ` (${err.status})` : ''}: ${err.message}`);
    throw err;
  }
  if (o.message) {
    const [to, text] = o.message;
    ue.sendMessage(to, text).then(
      (resp) => emit('message-sent', { to, status: resp.status }),
      (err: Error) => emit('message-sent', { to, error: err.message }),
    );
  }
  await serveUntilSignal(
    'ue',
    async () => {
      if (ue.state().state === 'registered') {
        await ue.deregister();
        const st = ue.state();
        emit('deregistered', { confirmed: st.lastFailure === undefined, ...(st.lastFailure ? { failure: st.lastFailure } : {}) });
      }
      await ue.stop();
    },
    log,
    until,
  );
}
