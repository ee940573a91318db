/**
 * The P-CSCF's tables besides the SA table and their bookkeeping (TS 24.229 §5.2.2, R-FAIL-4):
 * pending registration attempts (by IMPI + source and by their temporary SA set), registered
 * UEs with their lifetime timer, the Security-Server sent for each live set, and the failure
 * log. Every way an attempt or a registration ends goes through here, so nothing is left
 * behind: an attempt's temporary set is deleted with it, a registration's sets with it.
 */
import type { SaDeleteReason, SaSet } from '../../ipsec/index.js';
import type { SecMechanism } from '../../secagree/index.js';
import type { CoreContext } from './ports.js';
import type { PcscfFailure, PendingRegistration, PendingView, Registration, RegistrationView } from './tables.js';

const MAX_FAILURES = 200;

export class PcscfState {
  readonly pendingByKey = new Map<string, PendingRegistration>();
  readonly pendingBySet = new Map<number, PendingRegistration>();
  readonly regs = new Map<string, Registration>();
  /** Security-Server sent for each live set (R-SM-4 on re-registrations over it). */
  readonly serverBySet = new Map<number, SecMechanism[]>();
  /** Why each set's SAs were deleted (SaManager reports it per SA, before the set goes). */
  readonly deleteReason = new Map<number, SaDeleteReason>();
  private readonly failureLog: PcscfFailure[] = [];
  /** Set once by PcscfCore (the context holds this state too). */
  c!: CoreContext;

  /** Creates or updates the registration of an IMPI and (re)starts its lifetime timer (R-SA-7). */
  upsertRegistration(impi: string, v: { impus: string[]; ueAddress: string; contact: string; serviceRoute: string[]; setId: number; lifetimeMs: number }): Registration {
    const now = this.c.o.clock.now();
    let reg = this.regs.get(impi);
    if (!reg) {
      reg = { impi, impus: v.impus, ueAddress: v.ueAddress, contact: v.contact, serviceRoute: v.serviceRoute, setId: v.setId, registeredAt: now, expiresAt: now + v.lifetimeMs };
      this.regs.set(impi, reg);
    } else {
      reg.impus = v.impus;
      reg.ueAddress = v.ueAddress;
      if (v.contact) reg.contact = v.contact;
      if (v.serviceRoute.length > 0) reg.serviceRoute = v.serviceRoute;
      reg.setId = v.setId;
      reg.expiresAt = now + v.lifetimeMs;
    }
    reg.timer?.cancel();
    reg.timer = this.c.o.clock.setTimeout(v.lifetimeMs, () => this.removeRegistration(impi, 'expired', 'registration lifetime over'));
    return reg;
  }

  /** Removes a registration, its subscription and every SA set of the IMPI (R-SA-7, R-FAIL-4). */
  removeRegistration(impi: string, reason: SaDeleteReason, detail: string): void {
    const reg = this.regs.get(impi);
    if (reg) {
      reg.timer?.cancel();
      reg.subscription?.refresh?.cancel();
      this.regs.delete(impi);
      this.c.log.info({ impi, reason, detail }, 'pcscf: registration removed');
    }
    for (const p of [...this.pendingByKey.values()]) if (p.impi === impi) this.dropPending(p, reason, detail);
    this.c.o.sa.deleteImpi(impi, reason);
  }

  /** Records an attempt with its safety timer (the `forwarded` state never outlives the registration timer). */
  addPending(p: PendingRegistration): void {
    this.pendingByKey.set(p.key, p);
    p.timer = this.c.o.clock.setTimeout(this.c.o.registrationTimerMs, () => {
      if (this.pendingByKey.get(p.key) === p && p.state === 'forwarded') {
        this.c.counters.registrationTimerExpired++;
        this.fail(p, 'registration-timer', 'no answer from upstream within the registration timer');
      }
    });
  }

  /** Forgets an attempt (its set, if any, is left to the caller). */
  removePending(p: PendingRegistration): void {
    p.timer?.cancel();
    if (this.pendingByKey.get(p.key) === p) this.pendingByKey.delete(p.key);
    if (p.setId !== undefined && this.pendingBySet.get(p.setId) === p) this.pendingBySet.delete(p.setId);
  }

  /** Ends an attempt: forget it and delete its temporary set (never an active one). */
  dropPending(p: PendingRegistration | undefined, reason: string, detail: string): void {
    if (!p) return;
    this.removePending(p);
    this.c.log.info({ impi: p.impi, reason, detail }, 'pcscf: registration attempt dropped');
    this.deleteAttemptSet(p);
  }

  /** Forgets an attempt and deletes its temporary set. */
  deleteAttemptSet(p: PendingRegistration): void {
    this.removePending(p);
    if (p.setId === undefined) return;
    const s = this.c.o.sa.get(p.setId);
    if (s && s.state === 'temporary') this.c.o.sa.deleteSet(s.id, 'failed');
  }

  /** The attempt of a temporary set failed: report it and delete the set. */
  failSetAttempt(setId: number, reason: string, detail: string): void {
    const p = this.pendingBySet.get(setId);
    if (p) this.fail(p, reason, detail);
    const s = this.c.o.sa.get(setId);
    if (s && s.state === 'temporary') this.c.o.sa.deleteSet(setId, 'failed');
  }

  /** Records a failure of an attempt and forgets the attempt (its set is the caller's business). */
  fail(p: PendingRegistration, reason: string, detail: string): void {
    this.removePending(p);
    this.report(p.impi, reason, detail);
  }

  /** Logs a failure (R-FAIL-1) and keeps it for {@link PcscfState.failures}. */
  report(impi: string, reason: string, detail: string): void {
    this.failureLog.push({ at: this.c.o.clock.now(), impi, reason, detail });
    if (this.failureLog.length > MAX_FAILURES) this.failureLog.shift();
    this.c.log.info({ impi, reason, detail }, 'pcscf: registration failure');
  }

  /** SaManager event: a set left the table (expiry, failure, change-over, de-registration). */
  onSetDeleted(set: SaSet, from: string): void {
    const reason = this.deleteReason.get(set.id);
    this.deleteReason.delete(set.id);
    this.serverBySet.delete(set.id);
    const p = this.pendingBySet.get(set.id);
    if (p) {
      this.removePending(p);
      if (from === 'temporary' && reason === 'expired') {
        // R-FAIL-1: the registration timer ran out without a valid protected REGISTER.
        this.c.counters.registrationTimerExpired++;
        this.report(p.impi, 'registration-timer', `temporary SA set ${set.id} expired without a valid protected REGISTER`);
      }
    }
    this.c.log.info({ setId: set.id, impi: set.impi, from, reason }, 'pcscf: SA set deleted');
    const reg = this.regs.get(set.impi);
    if (reg && !this.c.o.sa.sets({ impi: set.impi }).some((s) => s.state === 'active' || s.state === 'old')) {
      this.removeRegistration(set.impi, reason ?? 'removed', `last SA set ${set.id} gone`);
    } else if (reg && reg.setId === set.id) {
      const newest = this.c.o.sa.preferredSet(set.impi, reg.ueAddress);
      if (newest) reg.setId = newest.id;
    }
  }

  /** Registrations in progress (R-FAIL-4: empty once every attempt has ended). */
  pending(): PendingView[] {
    const now = this.c.o.clock.now();
    return [...this.pendingByKey.values()].map((p) => ({
      impi: p.impi,
      ...(p.impu !== undefined ? { impu: p.impu } : {}),
      ueAddress: p.ueAddress,
      transport: p.transport,
      source: { ...p.source },
      state: p.state,
      ...(p.setId !== undefined ? { setId: p.setId } : {}),
      ...(p.overSetId !== undefined ? { overSetId: p.overSetId } : {}),
      ageMs: now - p.createdAt,
    }));
  }

  /** Registered UEs. */
  registrations(): RegistrationView[] {
    const now = this.c.o.clock.now();
    return [...this.regs.values()].map((r) => ({
      impi: r.impi,
      impus: [...r.impus],
      ueAddress: r.ueAddress,
      contact: r.contact,
      serviceRoute: [...r.serviceRoute],
      setId: r.setId,
      expiresInMs: Math.max(0, r.expiresAt - now),
      ...(r.subscription ? { subscription: r.subscription.state } : {}),
    }));
  }

  /** Reported failures, newest last. */
  failures(): PcscfFailure[] {
    return this.failureLog.map((f) => ({ ...f }));
  }

  /** Forget everything (shutdown). */
  clear(): void {
    for (const r of this.regs.values()) {
      r.timer?.cancel();
      r.subscription?.refresh?.cancel();
    }
    for (const p of this.pendingByKey.values()) p.timer?.cancel();
    this.regs.clear();
    this.pendingByKey.clear();
    this.pendingBySet.clear();
  }
}
