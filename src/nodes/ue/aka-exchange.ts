/**
 * The IMS AKA exchange of a UE registration (TS 24.229 §5.1.1.5, TS 33.203 §6.1, §7.2) from the
 * first answer to the REGISTER on: the 401's checks, failure reports with a new Security-Client,
 * temporary SAs, the protected REGISTER and its 2xx. Shared by the initial registration, the
 * re-registration and the de-registration (TS 24.229 §5.1.1.5.1: "A UE can be re-authenticated
 * during subsequent reregistrations, deregistrations or registrations of additional public user
 * identities"); it works through the {@link AkaHost} the UE core gives it.
 */
import type { DigestCredentials } from '../../auth/index.js';
import type { SecAgreeEndpoint, SecMechanism } from '../../secagree/index.js';
import type { SipResponse } from '../../sip/index.js';
import { MAX_MAC_FAILURES, MAX_RESYNCS, createAttemptSet, newAttempt, type Attempt, type AttemptRef } from './attempt.js';
import { analyzeChallenge, type ChallengeOutcome } from './decide.js';
import { UeError } from './errors.js';
import { challengeResponse, macFailureCredentials, syncFailureCredentials } from './requests.js';
import type { UeCoreConfig, UeCorePorts, UeRegistration } from './types.js';

/** What the exchange needs of the UE core. */
export interface AkaHost {
  readonly cfg: UeCoreConfig;
  readonly ports: UeCorePorts;
  /** The initial registration's state moves on to `authenticating`. */
  authenticating(): void;
  /**
   * Sends the protected REGISTER (new Security-Client, Security-Verify, the AKA response) from
   * `clientPort` to the P-CSCF's `pcscfPortS`; `expires` 0 for a de-registration.
   */
  sendProtectedRegister(p: { auth: DigestCredentials; securityClient: SecMechanism[]; securityVerify: SecMechanism[]; expires?: number }, pcscfPortS: number, clientPort: number): Promise<SipResponse>;
  unexpected(resp: SipResponse, what: string): UeError;
  /** The 2xx of the protected REGISTER: the set becomes the registration's. */
  registered(setId: number, resp: SipResponse, local: SecAgreeEndpoint, d: Extract<ChallengeOutcome, { kind: 'answer' }>, offer: SecMechanism[]): UeRegistration;
  /** The credentials a later re-registration or de-registration repeats (TS 24.229 §5.1.1.4.2). */
  rememberCredentials(c: DigestCredentials): void;
}

export type AkaOutcome = { kind: 'registered'; reg: UeRegistration } | { kind: 'deregistered'; resp: SipResponse } | { kind: 'no-challenge'; resp: SipResponse };

/** Which REGISTER the exchange answers for: its name in errors and, for a re-registration or de-registration, the registration whose SAs carry it. */
export interface AkaRound {
  what: string;
  over?: UeRegistration;
  /**
   * A de-registration (TS 24.229 §5.1.1.6): the protected REGISTER answering the challenge is
   * populated as the challenged one (§5.1.1.5.1 step 3), so with Expires 0, and its 2xx ends the
   * registration instead of making one.
   */
  deregister?: boolean;
}

/**
 * The AKA exchange of TS 24.229 §5.1.1.5.1 from the first answer on, shared by registration,
 * re-registration and de-registration (`round.over`: the current registration, whose SAs carry
 * the requests):
 * 1. a 2xx without challenge is returned as such; anything but 401 fails;
 * 2. the 401 is analysed (R-SM-5, R-AKA-4): refuse → stop;
 * 3. bad MAC (R-FAIL-2) or stale SQN (R-FAIL-3): TS 24.229 §5.1.1.5.3 — the attempt's SPIs and
 *    port-c go, no SA is made for it, and the report (empty response / AUTS) carries a new
 *    Security-Client with new spi-c, spi-s and port-c; its answer is the next round (a new
 *    401 is handled as usual);
 * 4. otherwise temporary SAs keyed by IK/CK (TS 33.203 §7.2) and the protected REGISTER from
 *    the new port-c to the P-CSCF's port-s (R-SM-6); its 2xx activates them, or, for a
 *    de-registration, ends the registration (the caller deletes every SA, R-SA-7).
 */
export async function akaExchange(h: AkaHost, ref: AttemptRef, first: SipResponse, send: (auth: DigestCredentials, offer: SecMechanism[]) => Promise<SipResponse>, round: AkaRound): Promise<AkaOutcome> {
  const { what, over } = round;
  let resp = first;
  for (let resyncs = 0, macFailures = 0; ; ) {
    if (resp.status >= 200 && resp.status < 300) return { kind: 'no-challenge', resp };
    if (resp.status !== 401) throw h.unexpected(resp, what);
    const a = ref.a;
    const d = analyzeChallenge(resp, a.offer, h.ports.isim);
    if (d.kind === 'refuse') throw new UeError(d.reason, d.detail);
    if (d.kind === 'mac-failure' || d.kind === 'sync-failure') {
      if (d.kind === 'mac-failure' && ++macFailures > MAX_MAC_FAILURES) throw new UeError('mac-failure', 'network authentication failed (bad MAC) again after reporting it');
      if (d.kind === 'sync-failure' && ++resyncs > MAX_RESYNCS) throw new UeError('sync-failure', 'synchronisation failed again after resynchronisation');
      ref.a = await freshAttempt(h, a, over);
      const auth = d.kind === 'mac-failure' ? macFailureCredentials(h.cfg.id, d.challenge) : syncFailureCredentials(h.cfg.id, d.challenge, d.auts);
      resp = await send(auth, ref.a.offer);
      if (d.kind === 'mac-failure' && resp.status !== 401) {
        h.ports.log.info({ status: resp.status }, 'network-authentication-failure REGISTER answered');
        throw new UeError('mac-failure', `network authentication failed (bad MAC): reported, answered ${resp.status} ${resp.reason}`, resp.status);
      }
      continue;
    }
    a.setId = createAttemptSet(h.ports.sa, h.cfg, d, a);
    await h.ports.saSettled();
    if (!over) h.authenticating();
    const auth = challengeResponse(h.cfg.id, d.challenge, d.version, d, h.ports.rng);
    const resp2 = await h.sendProtectedRegister({ auth, securityClient: a.offer, securityVerify: d.security.verify, ...(round.deregister ? { expires: 0 } : {}) }, d.security.pcscf.portS, a.local.portC);
    if (resp2.status < 200 || resp2.status >= 300) throw h.unexpected(resp2, `protected ${what}`);
    if (round.deregister) return { kind: 'deregistered', resp: resp2 };
    const reg = h.registered(a.setId, resp2, a.local, d, a.offer);
    h.rememberCredentials({ username: auth.username, realm: auth.realm, nonce: auth.nonce, uri: auth.uri, response: auth.response, ...(auth.algorithm !== undefined ? { algorithm: auth.algorithm } : {}) });
    a.setId = undefined;
    return { kind: 'registered', reg };
  }
}

/** TS 24.229 §5.1.1.5.3: give up an attempt's SPIs and port-c; a new Security-Client gets new ones. */
async function freshAttempt(h: AkaHost, old: Attempt, over: UeRegistration | undefined): Promise<Attempt> {
  old.abandon();
  const avoidPorts = [h.cfg.serverPort, old.local.portC, ...(over ? [over.ue.portC] : [])];
  const portC = await h.ports.freePort(avoidPorts);
  return newAttempt(h.ports.sa, h.cfg, portC, over ? [over.pcscf.spiC, over.pcscf.spiS] : []);
}
