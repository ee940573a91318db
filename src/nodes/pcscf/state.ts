/**
 * The P-CSCF's tables besides the SA table and their bookkeeping (TS 24.229 §5.2.2, R-FAIL-4):
 * pending registration attempts (by IMPI + source and by their temporary SA set), registered
 * UEs with their lifetimes and reg-event refreshes (two deadline queues, one timer each for all
 * registrations: no timer or closure per UE), the Security-Server sent for each live set, and
 * the failure log. Every way an attempt or a registration ends goes through here, so nothing is left
 * behind: an attempt's temporary set is deleted with it, a registration's sets with it.
 *
 * A registration the network ends (reg-event NOTIFY, TS 24.229 §5.2.5.1) is not cut at once:
 * TS 33.203 §7.4 wants what is in flight towards the UE delivered over its SAs first. It is
 * marked `ending` and goes when (1) no transaction of the UE is in flight ({@link PcscfState.track})
 * and (2) the NOTIFY meant for the UE was answered by it, or a short grace for that NOTIFY to
 * arrive ran out; never later than the registration timer.
 */
import { DeadlineQueue, bucketPut, bucketValues, detached, internedList, keptCopy, type Bucket, type Clock, type Logger } from '../../common/index.js';
import type { SaDeleteReason, SaManager, SaSet } from '../../ipsec/index.js';
import type { PcscfCounters, PcscfFailure, PendingRegistration, PendingView, Registration, RegistrationEnding, RegistrationView } from './tables.js';

const MAX_FAILURES = 200;

/**
 * How long an ended registration waits for the NOTIFY meant for the UE (the S-CSCF sends it
 * with the P-CSCF's, TS 24.229 §5.4.2.1.2) when that NOTIFY has not been answered yet.
 */
export const DEREGISTRATION_GRACE_MS = 2000;

/** What the table needs of the core: a narrow view of ports.ts's CoreContext, which holds this state. */
export interface StateContext {
  readonly o: { readonly clock: Clock; readonly registrationTimerMs: number; readonly sa: SaManager };
  readonly log: Logger;
  readonly counters: PcscfCounters;
}

export class PcscfState {
  readonly pendingByKey = new Map<string, PendingRegistration>();
  readonly pendingBySet = new Map<number, PendingRegistration>();
  readonly regs = new Map<string, Registration>();
  /** Why each set's SAs were deleted (SaManager reports it per SA, before the set goes). */
  readonly deleteReason = new Map<number, SaDeleteReason>();
  private readonly failureLog: PcscfFailure[] = [];
  /** Attempts opened by an unprotected REGISTER: the newest per IMPI, the count per UE address and in all. */
  private readonly unprotectedByImpi = new Map<string, PendingRegistration>();
  private readonly unprotectedByAddress = new Map<string, number>();
  private unprotectedCount = 0;
  /** Attempts by IMPI, registrations by UE address, subscriptions by dialog: O(1) lookups whatever the table size. */
  private readonly pendingByImpi = new Map<string, Bucket<PendingRegistration>>();
  private readonly regsByAddress = new Map<string, Bucket<Registration>>();
  private readonly bySubscription = new Map<string, Registration>();
  /** Transactions of each IMPI's UE in flight through the P-CSCF (either direction). */
  private readonly inflight = new Map<string, number>();
  /** Set once by PcscfCore: the part of its CoreContext (ports.ts) the table works over. */
  c!: StateContext;
  /** Each registration's end (R-SA-7), by IMPI; the detail logged is the registration's `expiryDetail`. */
  private lifetimesQ?: DeadlineQueue<string>;
  /** Each reg-event subscription's next refresh, by IMPI; what a refresh does is {@link onRefreshDue}'s. */
  private refreshesQ?: DeadlineQueue<string>;
  /** Set by the reg-event subscriber: sends the refresh of a registration's subscription. */
  onRefreshDue: (reg: Registration) => void = () => undefined;

  private get lifetimes(): DeadlineQueue<string> {
    return (this.lifetimesQ ??= new DeadlineQueue(this.c.o.clock, (impi) => this.removeRegistration(impi, 'expired', this.regs.get(impi)?.expiryDetail ?? 'registration lifetime over')));
  }

  private get refreshes(): DeadlineQueue<string> {
    return (this.refreshesQ ??= new DeadlineQueue(this.c.o.clock, (impi) => {
      const reg = this.regs.get(impi);
      if (reg) this.onRefreshDue(reg);
    }));
  }

  /** The registration of `reg.impi` ends `ms` from now (R-SA-7; shortened by the network, R-RR-5), `detail` saying why in the log. */
  expireIn(reg: Registration, ms: number, detail: string): void {
    reg.expiresAt = this.c.o.clock.now() + ms;
    reg.expiryDetail = detail;
    this.lifetimes.set(reg.impi, reg.expiresAt);
  }

  /** The registration's reg-event subscription is refreshed `ms` from now (replacing any refresh planned). */
  refreshIn(reg: Registration, ms: number): void {
    this.refreshes.set(reg.impi, this.c.o.clock.now() + ms);
  }

  /** No refresh of the registration's subscription is planned any more. */
  cancelRefresh(impi: string): void {
    this.refreshesQ?.delete(impi);
  }

  /** Creates or updates the registration of an IMPI and (re)starts its lifetime timer (R-SA-7). */
  upsertRegistration(impi: string, v: { impus: string[]; ueAddress: string; contact: string; serviceRoute: string[]; setId: number; lifetimeMs: number }): Registration {
    const now = this.c.o.clock.now();
    let reg = this.regs.get(impi);
    // Kept for the registration's life: strings of their own, not views of the REGISTER
    // (common/strings.ts), and the SA set's own where it keeps the same (one copy for both).
    const set = this.c.o.sa.get(v.setId);
    const impus = v.impus.map((u) => keptCopy(u, set?.impus ?? []));
    if (!reg) {
      impi = keptCopy(impi, set ? [set.impi] : []);
      reg = {
        impi,
        impus,
        ueAddress: keptCopy(v.ueAddress, set ? [set.ue.address] : []),
        contact: detached(v.contact),
        serviceRoute: internedList(v.serviceRoute),
        setId: v.setId,
        registeredAt: now,
        expiresAt: now + v.lifetimeMs,
        // Every property from the start: none is added later (no out-of-object store per UE).
        expiryDetail: undefined,
        subscription: undefined,
        ending: undefined,
        ueNotified: undefined,
      };
      this.regs.set(impi, reg);
      bucketPut(this.regsByAddress, reg.ueAddress, reg, true);
    } else {
      if (reg.ending) this.supersede(reg, v.setId);
      reg.ueNotified = false;
      reg.impus = impus;
      if (reg.ueAddress !== v.ueAddress) {
        bucketPut(this.regsByAddress, reg.ueAddress, reg, false);
        reg.ueAddress = keptCopy(v.ueAddress, set ? [set.ue.address] : []);
        bucketPut(this.regsByAddress, reg.ueAddress, reg, true);
      }
      if (v.contact) reg.contact = detached(v.contact);
      if (v.serviceRoute.length > 0) reg.serviceRoute = internedList(v.serviceRoute);
      reg.setId = v.setId;
    }
    this.expireIn(reg, v.lifetimeMs, 'registration lifetime over');
    return reg;
  }

  /**
   * The network ended the registration (TS 24.229 §5.2.5.1): remove it and its SAs once nothing
   * is in flight towards the UE any more (see the module comment). `graceMs` is how long to wait
   * for the NOTIFY meant for the UE when the UE has not answered one yet (0: do not wait).
   */
  endRegistration(impi: string, reason: SaDeleteReason, detail: string, graceMs: number): void {
    const reg = this.regs.get(impi);
    if (!reg) return this.removeRegistration(impi, reason, detail);
    if (reg.ending) return;
    this.cancelRefresh(impi);
    const setIds = this.c.o.sa.sets({ impi }).filter((s) => s.state === 'active' || s.state === 'old').map((s) => s.id);
    const e: RegistrationEnding = { reason, detail, since: this.c.o.clock.now(), setIds, graceOver: graceMs <= 0 || reg.ueNotified === true };
    reg.ending = e;
    if (!e.graceOver) {
      e.grace = this.c.o.clock.setTimeout(graceMs, () => {
        e.graceOver = true;
        this.settle(impi);
      });
    }
    e.cap = this.c.o.clock.setTimeout(this.c.o.registrationTimerMs, () => {
      if (this.regs.get(impi) === reg && reg.ending === e) this.removeRegistration(impi, reason, `${detail} (in-flight transactions cut short)`);
    });
    this.c.log.info({ impi, reason, detail, inflight: this.inflight.get(impi) ?? 0, waitForNotify: !e.graceOver }, 'pcscf: registration ended by the network, SAs kept for what is in flight');
    this.settle(impi);
  }

  /**
   * Runs one transaction of the UE of `impi` (a REGISTER over its SAs, a request it sent, a
   * request relayed to it) and, once its final response was relayed, lets an ended registration go.
   */
  async track<T>(impi: string, fn: () => Promise<T>): Promise<T> {
    this.inflight.set(impi, (this.inflight.get(impi) ?? 0) + 1);
    try {
      return await fn();
    } finally {
      const n = (this.inflight.get(impi) ?? 1) - 1;
      if (n > 0) this.inflight.set(impi, n);
      else this.inflight.delete(impi);
      this.settle(impi);
    }
  }

  /** The UE answered 2xx to a relayed NOTIFY saying its registration ended (TS 24.229 §5.1.1.7). */
  noteUeNotified(impi: string): void {
    const reg = this.regs.get(impi);
    if (!reg) return;
    reg.ueNotified = true;
    if (reg.ending && !reg.ending.graceOver) {
      reg.ending.graceOver = true;
      reg.ending.grace?.cancel();
    }
  }

  /** Removes an ended registration once its conditions hold. */
  private settle(impi: string): void {
    const e = this.regs.get(impi)?.ending;
    if (!e || !e.graceOver || (this.inflight.get(impi) ?? 0) > 0) return;
    this.removeRegistration(impi, e.reason, e.detail);
  }

  /** A new registration (new SAs from a fresh AKA run) replaces one the network ended: its old sets go now. */
  private supersede(reg: Registration, newSetId: number): void {
    const e = reg.ending!;
    this.cancelEnding(reg);
    this.c.log.info({ impi: reg.impi, old: e.setIds, setId: newSetId }, 'pcscf: an ended registration replaced by a new one');
    for (const id of e.setIds) if (id !== newSetId && this.c.o.sa.get(id)) this.c.o.sa.deleteSet(id, e.reason);
  }

  private cancelEnding(reg: Registration): void {
    reg.ending?.grace?.cancel();
    reg.ending?.cap?.cancel();
    delete reg.ending;
  }

  /** Removes a registration, its subscription and every SA set of the IMPI (R-SA-7, R-FAIL-4). */
  removeRegistration(impi: string, reason: SaDeleteReason, detail: string): void {
    const reg = this.regs.get(impi);
    if (reg) {
      this.lifetimesQ?.delete(impi);
      this.cancelRefresh(impi);
      this.cancelEnding(reg);
      this.regs.delete(impi);
      bucketPut(this.regsByAddress, reg.ueAddress, reg, false);
      if (reg.subscription) this.bySubscription.delete(dialogKey(reg.subscription.callId, reg.subscription.fromTag));
      this.c.log.info({ impi, reason, detail }, 'pcscf: registration removed');
    }
    for (const p of [...bucketValues(this.pendingByImpi, impi)]) this.dropPending(p, reason, detail);
    this.c.o.sa.deleteImpi(impi, reason);
  }

  /** Records an attempt with its safety timer (the `forwarded` state never outlives the registration timer). */
  addPending(p: PendingRegistration): void {
    const before = this.pendingByKey.get(p.key);
    if (before && before !== p) bucketPut(this.pendingByImpi, before.impi, before, false);
    this.pendingByKey.set(p.key, p);
    bucketPut(this.pendingByImpi, p.impi, p, true);
    if (p.overSetId === undefined) {
      this.unprotectedByImpi.set(p.impi, p);
      this.unprotectedByAddress.set(p.ueAddress, (this.unprotectedByAddress.get(p.ueAddress) ?? 0) + 1);
      this.unprotectedCount++;
    }
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
    if (this.pendingByKey.get(p.key) === p) {
      this.pendingByKey.delete(p.key);
      bucketPut(this.pendingByImpi, p.impi, p, false);
      if (p.overSetId === undefined) {
        if (this.unprotectedByImpi.get(p.impi) === p) this.unprotectedByImpi.delete(p.impi);
        const n = (this.unprotectedByAddress.get(p.ueAddress) ?? 1) - 1;
        if (n > 0) this.unprotectedByAddress.set(p.ueAddress, n);
        else this.unprotectedByAddress.delete(p.ueAddress);
        this.unprotectedCount--;
      }
    }
    if (p.setId !== undefined && this.pendingBySet.get(p.setId) === p) this.pendingBySet.delete(p.setId);
  }

  /** Registrations whose UE is at `ueAddress`. */
  registrationsAt(ueAddress: string): readonly Registration[] {
    return bucketValues(this.regsByAddress, ueAddress);
  }

  /** Records the reg-event subscription dialog of a registration (replacing an earlier one). */
  bindSubscription(reg: Registration, sub: { callId: string; fromTag: string }): void {
    if (reg.subscription) this.bySubscription.delete(dialogKey(reg.subscription.callId, reg.subscription.fromTag));
    this.bySubscription.set(dialogKey(sub.callId, sub.fromTag), reg);
  }

  /** The live registration whose reg-event subscription is the dialog (Call-ID, our From tag). */
  subscriptionOf(callId: string, fromTag: string): Registration | undefined {
    const r = this.bySubscription.get(dialogKey(callId, fromTag));
    return r && this.regs.get(r.impi) === r && r.subscription?.callId === callId && r.subscription.fromTag === fromTag ? r : undefined;
  }

  /** The attempt an unprotected REGISTER of this IMPI opened, if one is in progress. */
  unprotectedAttemptOf(impi: string): PendingRegistration | undefined {
    return this.unprotectedByImpi.get(impi);
  }

  /** Attempts opened by unprotected REGISTERs: from one UE address, and in all. */
  unprotectedAttempts(ueAddress: string): { fromAddress: number; total: number } {
    return { fromAddress: this.unprotectedByAddress.get(ueAddress) ?? 0, total: this.unprotectedCount };
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
      ...(r.ending ? { ending: { reason: r.ending.reason, detail: r.ending.detail, ageMs: now - r.ending.since } } : {}),
    }));
  }

  /** Reported failures, newest last. */
  failures(): PcscfFailure[] {
    return this.failureLog.map((f) => ({ ...f }));
  }

  /** Forget everything (shutdown). */
  clear(): void {
    for (const r of this.regs.values()) this.cancelEnding(r);
    this.lifetimesQ?.clear();
    this.refreshesQ?.clear();
    this.inflight.clear();
    for (const p of this.pendingByKey.values()) p.timer?.cancel();
    this.regs.clear();
    this.regsByAddress.clear();
    this.bySubscription.clear();
    this.pendingByKey.clear();
    this.pendingByImpi.clear();
    this.pendingBySet.clear();
  }
}

/** Joined, not templated: a flat key of its own, neither a rope nor a view of the message (common/strings.ts). */
function dialogKey(callId: string, fromTag: string): string {
  return [callId, fromTag].join('\n');
}
