/**
 * The S-CSCF registrar with IMS AKA (TS 24.229 §5.4.1 with TS 33.203 §6.1): one REGISTER in, one
 * final response out, with the Cx dialogue in between. For each REGISTER (serialised per IMPI):
 *
 * 1. Read To (the IMPU), Authorization (the IMPI; else derived from the IMPU, §5.4.1.1 item 3),
 *    the integrity-protected indicator, Contact, Expires, Path; a non-zero expiry below the
 *    minimum → 423 with Min-Expires before any vector is spent.
 * 2. `auts` present → resynchronisation: the held vectors are dropped, MAR with RAND‖AUTS, and a
 *    fresh challenge from the new batch (R-FAIL-3, TS 24.229 §5.4.1.2.1 step 2).
 * 3. A response to the pending challenge (same nonce, reg-await-auth running):
 *    - empty response, no auts: the UE could not authenticate the network → SAR
 *      AUTHENTICATION_FAILURE, 403 (R-FAIL-2, §5.4.1.2.3);
 *    - marked unprotected ("no"): not accepted as a proof, a new challenge (R-RR-4);
 *    - otherwise verified (RES against XRES): wrong → SAR AUTHENTICATION_FAILURE, 403, the
 *      registration stays exactly as it was (R-AKA-7); right → step 5.
 * 4. Otherwise: protected ("yes") from a registered user, and a de-registration or the
 *    skip-AKA policy (R-REG-4) → step 5 without AKA; else a challenge: the oldest held vector or
 *    a new batch by MAR (R-AKA-2), 401 with nonce = base64(RAND‖AUTN), the AKA algorithm, qop
 *    "auth" and ik/ck for the P-CSCF (R-AKA-6), and reg-await-auth started; when it runs out
 *    → SAR AUTHENTICATION_TIMEOUT (R-AKA-8).
 * 5. Bindings are applied (RFC 3261 §10.3); none left → SAR USER_DEREGISTRATION and 200;
 *    else SAR REGISTRATION / RE_REGISTRATION, the implicit set from User-Data, and 200 with
 *    Contact, Service-Route, P-Associated-URI and Path (R-REG-2, R-REG-3).
 */
import { parseAkaNonce, type DigestCredentials } from '../../auth/digest/index.js';
import { detached, interned, randomToken, type Clock, type Logger, type Rng, type TimerHandle, noopLogger } from '../../common/index.js';
import { callIdOf, contactsOf, cseqOf, expiresOf, formatRoute, formatUri, routesOf, toOf, type ContactList } from '../../sip/headers/index.js';
import type { SipRequest } from '../../sip/message/index.js';
import type { StoredRegistration } from '../../store/index.js';
import { implicitSet } from './implicit-set.js';
import { challengeFor, credentialsOf, derivePrivateIdentity, integrityOf, verifyChallengeResponse, type Integrity, type PendingChallenge } from './auth.js';
import { applyContacts, checkMinExpires, contactHeaderValues, expireBindings, isDeregistration, type BindingChange, type ContactRequest } from './bindings.js';
import type { ScscfConfig } from './config.js';
import { SAR, type CxFailureKind, type CxPort } from './cx-client.js';
import type { Reply } from './reg-event.js';
import type { KeyedLock, RegistrationTable } from './table.js';
import { VectorQueue, type HeldVector } from './vectors.js';

/** Counters of the registrar (no identities, no secrets). */
export interface RegistrarCounters {
  registers: number;
  challenges: number;
  registrations: number;
  reregistrations: number;
  deregistrations: number;
  authFailures: number;
  networkAuthFailures: number;
  authTimeouts: number;
  resyncs: number;
  skippedAka: number;
  /** Registrations refused by AKA (bad MAC at the UE, wrong RES, time-out), by whether the user was registered before. */
  failedInitial: number;
  failedRe: number;
  /** REGISTERs answered 503 because the HSS did not answer in time or was too busy. */
  hssBusy: number;
}

export interface RegistrarDeps {
  config: Pick<ScscfConfig, 'realm' | 'registrar' | 'overload'>;
  /** Service-Route value, e.g. `<sip:orig@scscf.ims.lab:6060;lr>`. */
  serviceRoute: string;
  cx: CxPort;
  clock: Clock;
  rng: Rng;
  table: RegistrationTable;
  lock: KeyedLock;
  logger?: Logger;
  /**
   * Persists and installs a registration (store, table, expiry timer). Resolves with the sender
   * of the subscribers' NOTIFYs, which the registrar calls once the 200 has left.
   */
  commit(reg: StoredRegistration, changes: BindingChange[]): Promise<NotifySubscribers>;
  /**
   * Removes a registration (store, table, timer). Resolves with the sender of the NOTIFYs that
   * end its subscriptions, called once the 200 has left.
   */
  remove(reg: StoredRegistration, changes: BindingChange[]): Promise<NotifySubscribers>;
}

/**
 * Sends the reg-event NOTIFYs of a change. TS 24.229 §5.4.1.4 and §5.4.2.1.2 (and the flows of
 * TS 24.228): the 200 to the REGISTER goes first, the NOTIFYs after it, so a P-CSCF learning of
 * a de-registration from its own subscription already has the 200 for the UE on its way.
 */
export type NotifySubscribers = () => void;

/** Where the REGISTER came from. */
export interface RegisterSource {
  transport: 'udp' | 'tcp';
  address: string;
  port: number;
}

interface Parsed {
  impu: string;
  impi: string;
  creds: DigestCredentials | undefined;
  integrity: Integrity;
  contacts: ContactList;
  expiresHeader: number | undefined;
  callId: string;
  cseq: number;
  path: string[];
}

/** The identity text of a URI without parameters or headers (`sip:user@host[:port]`, `tel:+…`). */
function bareUri(text: string): string {
  return text.replace(/^<|>$/g, '').replace(/[;?].*$/, '');
}

export class Registrar {
  readonly vectors = new VectorQueue();
  readonly counters: RegistrarCounters = {
    registers: 0, challenges: 0, registrations: 0, reregistrations: 0, deregistrations: 0, authFailures: 0, networkAuthFailures: 0, authTimeouts: 0, resyncs: 0, skippedAka: 0, failedInitial: 0, failedRe: 0, hssBusy: 0,
  };
  private readonly challenges = new Map<string, { c: PendingChallenge; timer: TimerHandle }>();
  private readonly log: Logger;

  constructor(private readonly d: RegistrarDeps) {
    this.log = d.logger ?? noopLogger;
  }

  /** Challenges awaiting an answer (reg-await-auth running). */
  get pendingChallenges(): number {
    return this.challenges.size;
  }

  /** The pending challenge of an IMPI (tests, diagnostics). */
  pending(impi: string): PendingChallenge | undefined {
    return this.challenges.get(impi)?.c;
  }

  /** Handles one REGISTER; always answers through `reply`. */
  async register(req: SipRequest, reply: Reply, source?: RegisterSource): Promise<void> {
    this.counters.registers++;
    let p: Parsed;
    try {
      p = this.parse(req);
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'scscf: bad REGISTER');
      return reply(400, 'Bad Request', { headers: [['Warning', `399 - "${(err as Error).message.replace(/["\\\r\n]/g, ' ').slice(0, 100)}"`]] });
    }
    // 1. Expiry below the minimum: refused before any vector is spent (RFC 3261 §10.3 step 7).
    const tooBrief = checkMinExpires(p, this.d.config.registrar);
    if (tooBrief && !tooBrief.ok) return reply(tooBrief.status, tooBrief.reason, { headers: tooBrief.headers });
    await this.d.lock.run(p.impi, () => this.registerLocked(req, p, reply, source));
  }

  /**
   * The answer to a REGISTER whose MAR or SAR failed: 403 when the HSS refused the user (TS 24.229
   * §5.4.1.2.1, `warning` says why); 503 with Retry-After when the HSS did not answer or was too
   * busy, a temporary condition (RFC 3261 §21.5.4, §20.33); 500 for an unexpected HSS error (§21.5.1).
   */
  private cxRefused(kind: CxFailureKind, reply: Reply, warning?: string): void {
    if (kind === 'user' || kind === 'auth') return reply(403, 'Forbidden', warning !== undefined ? { headers: [['Warning', warning]] } : {});
    if (kind === 'busy') {
      this.counters.hssBusy++;
      return reply(503, 'Service Unavailable', { headers: [['Retry-After', String(this.d.config.overload.retryAfterSeconds)], ['Warning', '399 - "HSS unavailable"']] });
    }
    return reply(500, 'Server Internal Error', { headers: [['Warning', '399 - "HSS error"']] });
  }

  private parse(req: SipRequest): Parsed {
    const to = toOf(req);
    if (!to) throw new Error('no To');
    if (to.uri.kind !== 'sip' && to.uri.kind !== 'tel') throw new Error('To is not a SIP or tel URI');
    const impu = bareUri(formatUri(to.uri));
    const creds = credentialsOf(req, this.d.config.realm);
    const impi = creds?.username !== undefined && creds.username !== '' ? creds.username : derivePrivateIdentity(impu);
    const callId = callIdOf(req);
    const cseq = cseqOf(req);
    if (callId === undefined || cseq === undefined) throw new Error('no Call-ID or CSeq');
    return {
      impu,
      impi,
      creds,
      integrity: integrityOf(creds),
      contacts: contactsOf(req),
      expiresHeader: expiresOf(req),
      callId,
      cseq: cseq.seq,
      path: routesOf(req, 'Path').map((r) => formatRoute([r])),
    };
  }

  private async registerLocked(req: SipRequest, p: Parsed, reply: Reply, source: RegisterSource | undefined): Promise<void> {
    const reg = this.d.table.find(p.impu);
    const registered = reg !== undefined && reg.impi === p.impi;
    const held = this.challenges.get(p.impi);
    const creds = p.creds;
    // 2. Synchronisation failure.
    if (creds?.auts !== undefined) return this.resync(p, creds, held?.c, reply);
    // 3. An answer to the pending challenge.
    if (creds && creds.nonce !== '' && held && creds.nonce === held.c.nonce) {
      this.endChallenge(p.impi);
      if (creds.response === '') {
        this.counters.networkAuthFailures++;
        this.countFailure(registered);
        this.log.info({ impi: p.impi }, 'scscf: UE reports network authentication failure');
        await this.sar(p.impi, [held.c.impu], SAR.AUTHENTICATION_FAILURE);
        return reply(403, 'Forbidden', { headers: [['Warning', '399 - "network authentication failure"']] });
      }
      if (p.integrity !== 'unprotected') {
        const v = verifyChallengeResponse(creds, held.c, req.method, req.body);
        if (!v.ok) {
          this.counters.authFailures++;
          this.countFailure(registered);
          this.log.info({ impi: p.impi, why: v.why }, 'scscf: authentication failed');
          await this.sar(p.impi, [held.c.impu], SAR.AUTHENTICATION_FAILURE);
          return reply(403, 'Forbidden', { headers: [['Warning', '399 - "authentication failed"']] });
        }
        return this.authenticated(p, registered ? reg : undefined, reply, source);
      }
      // An answer marked unprotected proves nothing (R-RR-4): challenge again.
    } else if (p.integrity === 'protected' && registered && (isDeregistration(p, this.d.config.registrar) || this.d.config.registrar.skipAkaWhenProtected)) {
      // 4. R-REG-4: protected re-registration or de-registration of a registered user.
      this.counters.skippedAka++;
      return this.authenticated(p, reg, reply, source);
    }
    return this.challenge(p, reply);
  }

  private async challenge(p: Parsed, reply: Reply, fresh?: HeldVector[]): Promise<void> {
    let v = fresh ? undefined : this.vectors.take(p.impi);
    if (fresh) {
      this.vectors.push(p.impi, fresh);
      v = this.vectors.take(p.impi);
    } else if (!v) {
      const r = await this.d.cx.mar({ impi: p.impi, impu: p.impu, scheme: this.d.config.registrar.authScheme, items: this.d.config.registrar.authItems });
      if (!r.ok) {
        this.log.warn({ impi: p.impi, impu: p.impu, why: r.message }, 'scscf: no authentication vector');
        return this.cxRefused(r.kind, reply);
      }
      this.vectors.push(p.impi, r.vectors);
      v = this.vectors.take(p.impi);
    }
    if (!v) {
      this.log.warn({ impi: p.impi }, 'scscf: no vector to challenge with');
      return reply(500, 'Server Internal Error');
    }
    const { nonce, header } = challengeFor(v, this.d.config.realm, this.d.config.registrar.sendKeys);
    this.endChallenge(p.impi);
    const c: PendingChallenge = { impi: p.impi, impu: p.impu, nonce, realm: this.d.config.realm, vector: v, sentAt: this.d.clock.now() };
    const timer = this.d.clock.setTimeout(this.d.config.registrar.awaitAuthSeconds * 1000, () => void this.timeout(p.impi, nonce));
    this.challenges.set(p.impi, { c, timer });
    this.counters.challenges++;
    this.log.debug({ impi: p.impi, impu: p.impu, algorithm: v.version === 2 ? 'AKAv2-MD5' : 'AKAv1-MD5' }, 'scscf: challenge');
    reply(401, 'Unauthorized', { headers: [['WWW-Authenticate', header]] });
  }

  /** reg-await-auth ran out (TS 24.229 §5.4.1.2.1, R-AKA-8): the HSS flag goes back. */
  private timeout(impi: string, nonce: string): Promise<void> {
    return this.d.lock.run(impi, async () => {
      const held = this.challenges.get(impi);
      if (!held || held.c.nonce !== nonce) return;
      this.challenges.delete(impi);
      this.counters.authTimeouts++;
      this.countFailure(this.d.table.find(held.c.impu)?.impi === impi);
      this.log.info({ impi }, 'scscf: authentication timed out');
      await this.sar(impi, [held.c.impu], SAR.AUTHENTICATION_TIMEOUT);
    });
  }

  private countFailure(registered: boolean): void {
    if (registered) this.counters.failedRe++;
    else this.counters.failedInitial++;
  }

  private endChallenge(impi: string): void {
    const held = this.challenges.get(impi);
    if (!held) return;
    held.timer.cancel();
    this.challenges.delete(impi);
  }

  /** R-FAIL-3 / R-AKA-5: RAND of the challenge the UE answered, AUTS from the UE, fresh vectors. */
  private async resync(p: Parsed, creds: DigestCredentials, pending: PendingChallenge | undefined, reply: Reply): Promise<void> {
    let rand: Uint8Array | undefined;
    if (pending && pending.nonce === creds.nonce) rand = pending.vector.rand;
    else {
      try {
        rand = parseAkaNonce(creds.nonce).rand;
      } catch {
        rand = undefined;
      }
    }
    this.endChallenge(p.impi);
    if (!rand) return reply(403, 'Forbidden', { headers: [['Warning', '399 - "auts without a challenge"']] });
    this.vectors.clear(p.impi);
    this.counters.resyncs++;
    const r = await this.d.cx.mar({ impi: p.impi, impu: p.impu, scheme: this.d.config.registrar.authScheme, items: this.d.config.registrar.authItems, resync: { rand, auts: creds.auts! } });
    if (!r.ok) {
      this.log.info({ impi: p.impi, why: r.message }, 'scscf: resynchronisation refused');
      if (r.kind === 'user' || r.kind === 'auth') await this.sar(p.impi, [p.impu], SAR.AUTHENTICATION_FAILURE);
      return this.cxRefused(r.kind, reply, '399 - "resynchronisation failed"');
    }
    this.log.info({ impi: p.impi }, 'scscf: resynchronised');
    return this.challenge(p, reply, r.vectors);
  }

  private async sar(impi: string, impus: string[], type: number): Promise<boolean> {
    const r = await this.d.cx.sar({ impi, impus, type, userDataAvailable: true });
    if (!r.ok) this.log.warn({ impi, type, why: r.message }, 'scscf: SAR failed');
    return r.ok;
  }

  /** Step 5: bindings, SAR, store, 200. */
  private async authenticated(p: Parsed, current: StoredRegistration | undefined, reply: Reply, source: RegisterSource | undefined): Promise<void> {
    const now = this.d.clock.now();
    const live = current ? expireBindings(current.bindings, now).kept : [];
    if (p.contacts !== '*' && p.contacts.length === 0) {
      // RFC 3261 §10.2.3: a query for the current bindings.
      return reply(200, 'OK', { headers: this.okHeaders(current, live, p.path, now) });
    }
    const req: ContactRequest = {
      contacts: p.contacts,
      callId: p.callId,
      cseq: p.cseq,
      path: p.path,
      ...(p.expiresHeader !== undefined ? { expiresHeader: p.expiresHeader } : {}),
      ...(source ? { received: { transport: source.transport, address: interned(source.address), port: source.port } } : {}),
    };
    const applied = applyContacts(live, req, now, this.d.config.registrar, () => randomToken(this.d.rng, 6));
    if (!applied.ok) {
      if (applied.status >= 500) this.log.warn({ impi: p.impi, impu: p.impu, status: applied.status, headers: applied.headers }, 'scscf: REGISTER refused');
      return reply(applied.status, applied.reason, { headers: applied.headers });
    }
    if (applied.bindings.length === 0) {
      await this.sar(p.impi, [p.impu], SAR.USER_DEREGISTRATION);
      const notify = current ? await this.d.remove(current, applied.changes) : undefined;
      this.vectors.clear(p.impi);
      this.counters.deregistrations++;
      this.log.info({ impi: p.impi, impu: p.impu }, 'scscf: de-registered');
      // TS 24.229 §5.4.1.4: the 200 first, then the NOTIFYs ending the subscriptions.
      reply(200, 'OK');
      notify?.();
      return;
    }
    const type = current ? SAR.RE_REGISTRATION : SAR.REGISTRATION;
    const sa = await this.d.cx.sar({ impi: p.impi, impus: [p.impu], type, userDataAvailable: current?.userData != null });
    if (!sa.ok) {
      this.log.warn({ impi: p.impi, impu: p.impu, why: sa.message }, 'scscf: SAR refused the registration');
      return this.cxRefused(sa.kind, reply);
    }
    const userData = sa.userData ?? current?.userData ?? null;
    const set = implicitSet(userData, p.impu);
    if (set.barred) return reply(403, 'Forbidden', { headers: [['Warning', '399 - "public identity is barred"']] });
    // Kept for the registration's life: strings of its own, not views of the REGISTER (common/strings.ts).
    const reg: StoredRegistration = { aor: current?.aor ?? detached(p.impu), impi: current?.impi ?? detached(p.impi), impus: set.impus.map(detached), userData, bindings: applied.bindings };
    let notify: NotifySubscribers;
    try {
      notify = await this.d.commit(reg, applied.changes);
    } catch (err) {
      this.log.error({ impu: p.impu, err: (err as Error).message }, 'scscf: registration not stored');
      return reply(500, 'Server Internal Error');
    }
    if (current) this.counters.reregistrations++;
    else this.counters.registrations++;
    this.log.info({ impi: p.impi, impu: p.impu, contacts: reg.bindings.length, state: current ? 're-registered' : 'registered' }, 'scscf: registration');
    reply(200, 'OK', { headers: this.okHeaders(reg, reg.bindings, p.path, now) });
    notify();
  }

  /** The 200 OK: Contact (every binding with its expiry), Service-Route, P-Associated-URI, Path. */
  private okHeaders(reg: StoredRegistration | undefined, bindings: StoredRegistration['bindings'], path: string[], now: number): [string, string][] {
    const h: [string, string][] = [];
    for (const c of contactHeaderValues(bindings, now)) h.push(['Contact', c]);
    if (path.length > 0) h.push(['Path', path.join(', ')]);
    if (reg) {
      h.push(['Service-Route', this.d.serviceRoute]);
      h.push(['P-Associated-URI', reg.impus.map((u) => `<${u}>`).join(', ')]);
    }
    return h;
  }

  /** Cancels every reg-await-auth timer and forgets every vector (stop). */
  clear(): void {
    for (const h of this.challenges.values()) h.timer.cancel();
    this.challenges.clear();
    this.vectors.clearAll();
  }
}
