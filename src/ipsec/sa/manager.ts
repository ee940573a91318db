/**
 * The SA table of one node (UE or P-CSCF), TS 33.203 §7.1 and §7.4: SPI and port allocation,
 * the life of each registration's SA set on an injected {@link Clock}, the three-set limit per
 * IMPI, change-over, lookups by SPI and by selector, and events a datapath mirrors. No I/O.
 *
 * Life of a set (TS 33.203 §7.4, seed 001 §7.3.3):
 * 1. `createSet` after the 401 (P-CSCF: when the S-CSCF's 401 brings IK/CK; UE: when it has
 *    checked Security-Server): four SAs, state `temporary`, short await-auth lifetime.
 * 2. `activate` when the protected REGISTER succeeded: state `active`; it lives for the longer
 *    of the previous set's remaining lifetime and the registration's expiry + 30 s (R-SA-7,
 *    TS 24.229 §5.1.1.5.1, §5.2.2.3). Earlier active sets of the same IMPI and UE address become
 *    `old` and keep both directions (R-RR-2: the final standard, not seed 001's "outbound at
 *    once").
 * 3. `noteInbound` on the first packet received on the new set's inbound SAs after activation
 *    (P-CSCF: the UE's first message on the new set; UE: the P-CSCF's): the `old` sets' lifetime
 *    is cut to 64·T1 (`changeOverMs`), time for every transaction still on them to end
 *    (RFC 3261 §17: Timers F, H and J are at most 64·T1), then they go (R-RR-2). Until then a
 *    P-CSCF keeps sending on the old set ({@link SaManager.preferredSet}).
 * 4. Expiry, `deleteSet` (failed registration, R-SM-4, R-RR-3) or `deleteImpi`
 *    (de-registration) delete the set.
 *
 * Scale (TS 33.203 §7.1 at 100,000 registrations): every lookup goes through hash indexes
 * (./table-index.ts), and every lifetime (sets and reservations) is one entry of a min-heap with
 * one armed clock timer (./deadlines.ts), so no timer, closure or promise exists per set.
 */
import { asError, DeadlineQueue, detached, type Clock, type Rng, InvalidArgumentError } from '../../common/index.js';
import { deriveEspKeys } from '../esp/index.js';
import { PCSCF_SPI_POLICY, UE_SPI_POLICY, allocatePort, allocateSpi, checkPortRange, type PortRange, type SpiPolicy } from './allocate.js';
import { buildSaSet } from './build.js';
import { SaError } from './errors.js';
import { DEFAULT_CHANGE_OVER_MS, REG_AWAIT_AUTH_MS, SA_LIFETIME_MARGIN_MS, type CreateSetParams, type CreateSetRefusal, type CreateSetResult, type LocalReservation, type SaManagerOptions } from './manager-options.js';
import { SaTableIndex, preferredOf, tableRows } from './table-index.js';
import type { Endpoint, SaDeleteReason, SaEndpointParams, SaEvent, SaRole, SaSet, SaState, SaTableEntry, SecurityAssociation, Transport } from './types.js';

export { DEFAULT_CHANGE_OVER_MS, REG_AWAIT_AUTH_MS, SA_LIFETIME_MARGIN_MS, type CreateSetParams, type CreateSetRefusal, type CreateSetResult, type LocalReservation, type SaManagerOptions } from './manager-options.js';

/** Local SPIs and ports held until a set uses them or the await-auth lifetime ends. */
interface Reservation {
  spiC: number;
  spiS: number;
  portC: number;
  portS: number;
  live: boolean;
}

export class SaManager {
  readonly role: SaRole;
  readonly maxSetsPerImpi: number;
  readonly temporaryLifetimeMs: number;
  readonly changeOverMs: number;
  readonly sharedLocalPorts: boolean;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly spiPolicy: SpiPolicy;
  private readonly portRange: PortRange;
  private readonly byId = new Map<number, SaSet>();
  private readonly ix: SaTableIndex;
  /** The end of every live set and reservation: one heap, one armed timer. */
  private readonly deadlines: DeadlineQueue<SaSet | Reservation>;
  private readonly reservations = new Set<Reservation>();
  private readonly listeners = new Set<(e: SaEvent) => void>();
  private nextId = 1;

  constructor(opts: SaManagerOptions) {
    this.role = opts.role;
    this.clock = opts.clock;
    this.rng = opts.rng;
    this.spiPolicy = opts.spiPolicy ?? (opts.role === 'pcscf' ? PCSCF_SPI_POLICY : UE_SPI_POLICY);
    this.portRange = opts.portRange ?? (opts.role === 'pcscf' ? { min: 20000, max: 29999 } : { min: 30000, max: 39999 });
    checkPortRange(this.portRange);
    this.temporaryLifetimeMs = opts.temporaryLifetimeMs ?? REG_AWAIT_AUTH_MS;
    this.changeOverMs = opts.changeOverMs ?? DEFAULT_CHANGE_OVER_MS;
    this.sharedLocalPorts = opts.sharedLocalPorts ?? opts.role === 'pcscf';
    if (!(this.changeOverMs > 0)) throw new InvalidArgumentError('changeOverMs must be > 0', 'changeOverMs');
    this.maxSetsPerImpi = opts.maxSetsPerImpi ?? 3;
    if (!(this.temporaryLifetimeMs > 0)) throw new InvalidArgumentError('temporaryLifetimeMs must be > 0', 'temporaryLifetimeMs');
    if (!Number.isInteger(this.maxSetsPerImpi) || this.maxSetsPerImpi < 1) throw new InvalidArgumentError('maxSetsPerImpi must be >= 1', 'maxSetsPerImpi');
    this.ix = new SaTableIndex((s) => this.localSide(s), this.sharedLocalPorts);
    this.deadlines = new DeadlineQueue(this.clock, (due) => this.onDue(due));
  }

  /** Subscribe to SA events (synchronous, in order). Returns an unsubscribe function. */
  on(listener: (e: SaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- allocation ----

  private spiTaken(spi: number, extra: readonly number[] = []): boolean {
    return extra.includes(spi) || this.ix.spisInUse.has(spi);
  }

  private localSide(s: SaSet): SaEndpointParams {
    return this.role === 'pcscf' ? s.pcscf : s.ue;
  }

  private portTaken(port: number, extra: readonly number[] = []): boolean {
    return extra.includes(port) || this.ix.portsInUse.has(port);
  }

  /**
   * Reserve local inbound SPIs (R-SA-3: unique among live SAs, never 0..255, MSB by policy,
   * never one of `avoidSpis`: the peer's SPIs) and two protected ports from the range.
   */
  reserveLocal(opts: { avoidSpis?: readonly number[] } = {}): LocalReservation {
    const avoid = opts.avoidSpis ?? [];
    const spiC = allocateSpi(this.rng, (v) => this.spiTaken(v, avoid), this.spiPolicy);
    const spiS = allocateSpi(this.rng, (v) => this.spiTaken(v, [...avoid, spiC]), this.spiPolicy);
    const portC = allocatePort(this.rng, this.portRange, (p) => this.portTaken(p));
    const portS = allocatePort(this.rng, this.portRange, (p) => this.portTaken(p, [portC]));
    const r: Reservation = { spiC, spiS, portC, portS, live: true };
    this.reservations.add(r);
    this.ix.hold(r, true);
    this.deadlines.set(r, this.clock.now() + this.temporaryLifetimeMs);
    return { spiC, spiS, portC, portS, release: () => this.release(r) };
  }

  // ---- set life ----

  /** Create the four SAs of a registration in state `temporary` (R-SA-3, R-SA-6). */
  createSet(p: CreateSetParams): CreateSetResult {
    if (!p.impi) throw new InvalidArgumentError('impi is required', 'impi');
    const refuse = (reason: CreateSetRefusal, detail: string): CreateSetResult => ({ ok: false, reason, detail });
    const remoteSpis = [p.remote.spiC, p.remote.spiS];
    // Ours: given, reserved before, or drawn now; a reservation is used up by this set either way.
    const local = p.local ?? this.reserveLocal({ avoidSpis: remoteSpis });
    if ('release' in local) local.release();
    const ueEnd = this.role === 'pcscf' ? p.remote : local;
    const pcEnd = this.role === 'pcscf' ? local : p.remote;

    // 1. Local SPIs: not used by a live SA, not a peer SPI (reflection, R-SA-3).
    for (const spi of [local.spiC, local.spiS]) {
      if (remoteSpis.includes(spi)) return refuse('spi-in-use', `local SPI 0x${spi.toString(16)} equals a peer SPI`);
      if (this.spiTaken(spi)) return refuse('spi-in-use', `local SPI 0x${spi.toString(16)} is in use`);
    }
    // 2. Selectors: a UE protected port of this address bound to another IMPI (seed 001 §7.1 rule 3).
    if (this.ix.boundToOther(p.ueAddress, [ueEnd.portC, ueEnd.portS], p.impi)) {
      return refuse('selector-in-use', `UE ${p.ueAddress} protected port already bound to another IMPI`);
    }
    if (!this.sharedLocalPorts) {
      for (const port of [local.portC, local.portS]) {
        if (this.ix.portsInUse.has(port) && !this.ix.mineUsesLocalPort(p.impi, port)) return refuse('port-in-use', 'local protected port used by another IMPI');
      }
    }
    // 3. R-SA-6: at most maxSetsPerImpi sets; make room by evicting the oldest temporary set,
    //    else the oldest old set; an active set is never evicted (a bogus or failed registration
    //    must not tear down a working one, R-AKA-7).
    const mine = [...this.ix.ofImpi(p.impi)].sort((a, b) => a.id - b.id);
    if (mine.length >= this.maxSetsPerImpi) {
      const victim = mine.find((s) => s.state === 'temporary') ?? mine.find((s) => s.state === 'old');
      if (!victim) return refuse('sa-limit', `IMPI already has ${mine.length} SA sets, none evictable`);
      this.deleteSet(victim.id, 'evicted');
    }
    // 4. Keys (TS 33.203 Annex I) and the four SAs.
    //    A set lives for the registration: its strings are its own, not views of the REGISTER
    //    they were read from (common/strings.ts), and its four SAs share them.
    const keys = deriveEspKeys(p.integrity, p.encryption, p.ik, p.ck);
    const id = this.nextId++;
    const impi = detached(p.impi);
    const impus = p.impus.map(detached);
    const ue = endpointParams(detached(p.ueAddress), ueEnd);
    const pcscf = endpointParams(p.pcscfAddress, pcEnd);
    const sas = buildSaSet({ setId: id, role: this.role, impi, impus, ue, pcscf, integrity: p.integrity, encryption: p.encryption, mode: p.mode, keys, state: 'temporary' });
    const now = this.clock.now();
    const set: SaSet = {
      id,
      role: this.role,
      impi,
      impus,
      ue,
      pcscf,
      integrity: p.integrity,
      encryption: p.encryption,
      mode: p.mode,
      state: 'temporary',
      createdAt: now,
      expiresAt: now + this.temporaryLifetimeMs,
      // Present from the start (set at the first inbound packet): no property is added later.
      firstInboundAt: undefined,
      sas,
    };
    this.byId.set(id, set);
    this.ix.set(set, true);
    for (const sa of sas) this.ix.sa(sa, true);
    this.deadlines.set(set, set.expiresAt);
    for (const sa of sas) this.emit({ kind: 'saCreated', sa });
    return { ok: true, set };
  }

  /**
   * The protected REGISTER succeeded for a registration of `registrationMs`: the set becomes
   * `active` and lives for the longer of the previous set's remaining lifetime and the
   * registration's expiry + 30 s (R-SA-7, TS 24.229 §5.1.1.5.1). Older active sets of the IMPI
   * at this UE address become `old`, both directions kept (R-RR-2).
   */
  activate(setId: number, registrationMs: number, impus?: readonly string[]): SaSet {
    const set = this.need(setId);
    if (set.state !== 'temporary') throw new SaError(`set ${setId} is ${set.state}, not temporary`);
    if (impus) set.impus = impus.map(detached);
    const now = this.clock.now();
    let expiresAt = now + checkLifetime(registrationMs) + SA_LIFETIME_MARGIN_MS;
    const previous = [...this.ix.ofImpi(set.impi)].filter((o) => o.id !== set.id && o.ue.address === set.ue.address && o.state === 'active');
    for (const o of previous) expiresAt = Math.max(expiresAt, o.expiresAt);
    set.expiresAt = expiresAt;
    set.firstInboundAt = undefined;
    this.setState(set, 'active');
    this.deadlines.set(set, set.expiresAt);
    for (const o of previous) this.setState(o, 'old');
    return set;
  }

  /**
   * A re-registration without a new set (R-REG-4): the active set lives for the longer of its
   * remaining lifetime and the new expiry + 30 s (R-SA-7).
   */
  refresh(setId: number, registrationMs: number): SaSet {
    const set = this.need(setId);
    if (set.state !== 'active') throw new SaError(`set ${setId} is ${set.state}, not active`);
    set.expiresAt = Math.max(set.expiresAt, this.clock.now() + checkLifetime(registrationMs) + SA_LIFETIME_MARGIN_MS);
    this.deadlines.set(set, set.expiresAt);
    return set;
  }

  /**
   * Shorten a set to at most `lifetimeMs` from now (network-initiated re-authentication, R-RR-5;
   * change-over, R-RR-2). A longer value leaves the set as it is.
   */
  shorten(setId: number, lifetimeMs: number): SaSet {
    const set = this.need(setId);
    const at = this.clock.now() + Math.max(0, lifetimeMs);
    if (at < set.expiresAt) {
      set.expiresAt = at;
      this.deadlines.set(set, set.expiresAt);
    }
    return set;
  }

  /**
   * A packet was accepted on an inbound SA of `setId`. The first one after activation ends the
   * change-over: the IMPI's old sets at this UE address live on for 64·T1 at most, for the
   * transactions still on them, then go (R-RR-2).
   */
  noteInbound(setId: number): void {
    const set = this.byId.get(setId);
    if (!set || set.state !== 'active' || set.firstInboundAt !== undefined) return;
    set.firstInboundAt = this.clock.now();
    for (const other of [...this.ix.ofImpi(set.impi)]) {
      if (other.state === 'old' && other.ue.address === set.ue.address) this.shorten(other.id, this.changeOverMs);
    }
  }

  /** Delete a set (failed registration, shutdown, ...). Unknown ids are ignored. */
  deleteSet(setId: number, reason: SaDeleteReason): void {
    const set = this.byId.get(setId);
    if (!set) return;
    this.deadlines.delete(set);
    for (const sa of [...set.sas]) this.deleteSa(set, sa, reason);
    this.finish(set);
  }

  /** Registration removed: every set of the IMPI goes (R-SA-7). */
  deleteImpi(impi: string, reason: SaDeleteReason = 'deregistered'): void {
    for (const s of [...this.ix.ofImpi(impi)]) this.deleteSet(s.id, reason);
  }

  /** Delete everything (shutdown) and release reservations. */
  clear(reason: SaDeleteReason = 'removed'): void {
    for (const id of [...this.byId.keys()]) this.deleteSet(id, reason);
    for (const r of [...this.reservations]) this.release(r);
  }

  // ---- lookups ----

  get(setId: number): SaSet | undefined {
    return this.byId.get(setId);
  }

  /** Live sets, oldest first. */
  sets(filter: { impi?: string; ueAddress?: string } = {}): SaSet[] {
    const from = filter.impi === undefined ? this.byId.values() : [...this.ix.ofImpi(filter.impi)].sort((a, b) => a.id - b.id);
    return [...from].filter((s) => filter.ueAddress === undefined || s.ue.address === filter.ueAddress);
  }

  /** Live sets whose UE protected port (port_uc or port_us) at `ueAddress` is `port` (R-SA-4). */
  setsAtUePort(ueAddress: string, port: number): SaSet[] {
    return [...this.ix.atUePort(ueAddress, port)];
  }

  /** Live SAs of every set. */
  sas(): SecurityAssociation[] {
    return [...this.byId.values()].flatMap((s) => s.sas);
  }

  /** The live inbound SA with this SPI (RFC 4303 §3.4.2). */
  findInbound(spi: number): SecurityAssociation | undefined {
    return this.ix.findInbound(spi);
  }

  /** The live outbound SA for a selector (addresses and ports); the best state, then newest. */
  findOutbound(src: Endpoint, dst: Endpoint): SecurityAssociation | undefined {
    return this.ix.findOutbound(src, dst);
  }

  /**
   * The set to send on for ordinary traffic: the newest active one, except that a P-CSCF keeps
   * using the old set until the UE has sent on the new one (R-RR-2). Undefined when no set is
   * active or old.
   */
  preferredSet(impi: string, ueAddress: string): SaSet | undefined {
    return preferredOf(this.role, this.sets({ impi, ueAddress }));
  }

  /** {@link preferredSet} among the sets bound to one UE protected server port (port_us). */
  preferredSetAtUe(ueAddress: string, uePortS: number): SaSet | undefined {
    return preferredOf(this.role, this.setsAtUePort(ueAddress, uePortS).filter((s) => s.ue.portS === uePortS));
  }

  /** The SA table rows of TS 33.203 §7.1: one per SA and transport (R-SA-4). */
  saTable(): SaTableEntry[] {
    const rows: SaTableEntry[] = [];
    for (const s of this.byId.values()) tableRows(s, rows);
    return rows;
  }

  /** R-SA-4: rows bound to (UE IP, UE protected port, transport). */
  lookupBySelector(sel: { ueAddress: string; uePort: number; transport: Transport }): SaTableEntry[] {
    const rows: SaTableEntry[] = [];
    for (const s of this.ix.atUePort(sel.ueAddress, sel.uePort)) tableRows(s, rows, sel);
    return rows;
  }

  // ---- internals ----

  private need(setId: number): SaSet {
    const s = this.byId.get(setId);
    if (!s) throw new SaError(`no SA set ${setId}`);
    return s;
  }

  /** A deadline came: a set ends (R-SA-7, R-RR-2) or a reservation lapses. */
  private onDue(due: SaSet | Reservation): void {
    if (!('sas' in due)) return this.release(due);
    // An old set's end is the end of a change-over (R-RR-2); any other set ran out (R-SA-7).
    this.deleteSet(due.id, due.state === 'old' ? 'replaced' : 'expired');
  }

  private release(r: Reservation): void {
    if (!r.live) return;
    r.live = false;
    this.deadlines.delete(r);
    this.reservations.delete(r);
    this.ix.hold(r, false);
  }

  private setState(set: SaSet, to: SaState): void {
    const from = set.state;
    if (from === to) return;
    set.state = to;
    for (const sa of set.sas) sa.state = to;
    this.emit({ kind: 'setStateChanged', set, from, to });
  }

  private deleteSa(set: SaSet, sa: SecurityAssociation, reason: SaDeleteReason): void {
    const i = set.sas.indexOf(sa);
    if (i < 0) return;
    set.sas.splice(i, 1);
    this.ix.sa(sa, false);
    sa.state = 'deleted';
    this.emit({ kind: 'saDeleted', sa, reason });
  }

  private finish(set: SaSet): void {
    this.byId.delete(set.id);
    this.ix.set(set, false);
    const from = set.state;
    set.state = 'deleted';
    this.emit({ kind: 'setStateChanged', set, from, to: 'deleted' });
  }

  private emit(e: SaEvent): void {
    let first: Error | undefined;
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        first ??= asError(err);
      }
    }
    if (first) throw first;
  }
}

/** One side's address, SPIs and ports in one literal (a spread would put them out of the object). */
function endpointParams(address: string, e: { spiC: number; spiS: number; portC: number; portS: number }): SaEndpointParams {
  return { address, spiC: e.spiC, spiS: e.spiS, portC: e.portC, portS: e.portS };
}

function checkLifetime(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError(`lifetime must be > 0 ms, got ${ms}`, 'lifetimeMs');
  return ms;
}
