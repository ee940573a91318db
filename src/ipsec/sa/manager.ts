/**
 * The SA table of one node (UE or P-CSCF), TS 33.203 §7.1 and §7.4: SPI and port allocation,
 * the life of each registration's SA set on an injected {@link Clock}, the three-set limit per
 * IMPI, change-over, lookups by SPI and by selector, and events a datapath mirrors. No I/O.
 *
 * Life of a set (TS 33.203 §7.4, seed 001 §7.3.3):
 * 1. `createSet` after the 401 (P-CSCF: when the S-CSCF's 401 brings IK/CK; UE: when it has
 *    checked Security-Server): four SAs, state `temporary`, short await-auth lifetime.
 * 2. `activate` when the protected REGISTER succeeded: state `active`, lifetime = registration
 *    lifetime (R-SA-7). Earlier active sets of the same IMPI and UE address become `old`; the UE
 *    drops their outbound SAs at once (it now sends on the new ones).
 * 3. `noteInbound` on the first packet received on the new set's inbound SAs: the `old` sets
 *    are deleted (R-RR-2). Until then a P-CSCF keeps sending on the old set
 *    ({@link SaManager.preferredSet}).
 * 4. Expiry, `deleteSet` (failed registration, R-SM-4, R-RR-3) or `deleteImpi`
 *    (de-registration) delete the set.
 */
import { type Clock, type Rng, type TimerHandle, InvalidArgumentError } from '../../common/index.js';
import type { IpsecMode } from '../../secagree/index.js';
import { deriveEspKeys, type EncryptionAlg, type IntegrityAlg } from '../esp/index.js';
import { PCSCF_SPI_POLICY, UE_SPI_POLICY, allocatePort, allocateSpi, checkPortRange, type PortRange, type SpiPolicy } from './allocate.js';
import { buildSaSet, ueAddressOf, uePortOf } from './build.js';
import { SaError } from './errors.js';
import type { Endpoint, SaDeleteReason, SaEndpointParams, SaEvent, SaRole, SaSet, SaState, SaTableEntry, SecurityAssociation, Transport } from './types.js';

export interface SaManagerOptions {
  role: SaRole;
  clock: Clock;
  rng: Rng;
  /** Default: MSB 0 at the P-CSCF, MSB 1 at the UE (seed 001 §7.1). */
  spiPolicy?: SpiPolicy;
  /** Range the local protected ports come from. Default 20000..29999 (P-CSCF), 30000..39999 (UE). */
  portRange?: PortRange;
  /**
   * Lifetime of a temporary set and of a reservation (await-auth). Default 64 s, twice SIP
   * Timer F (64·T1): the protected REGISTER must arrive within it.
   */
  temporaryLifetimeMs?: number;
  /** R-SA-6: SA sets per IMPI (= SAs per direction per transport per port pair). Default 3. */
  maxSetsPerImpi?: number;
}

/** Local SPIs and protected ports held for a registration in progress (UE: before its offer). */
export interface LocalReservation {
  readonly spiC: number;
  readonly spiS: number;
  readonly portC: number;
  readonly portS: number;
  /** Give them back (done automatically by createSet and after the await-auth lifetime). */
  release(): void;
}

export interface CreateSetParams {
  impi: string;
  impus: readonly string[];
  ueAddress: string;
  pcscfAddress: string;
  /** The peer's SPIs and protected ports, from its sec-agree header. */
  remote: { spiC: number; spiS: number; portC: number; portS: number };
  /** Ours: a reservation, explicit values, or omitted to allocate now (avoiding the peer's SPIs). */
  local?: LocalReservation | { spiC: number; spiS: number; portC: number; portS: number };
  integrity: IntegrityAlg;
  encryption: EncryptionAlg;
  mode: IpsecMode;
  /** IMS AKA keys (16 bytes each); expanded per TS 33.203 Annex I and not kept. */
  ik: Uint8Array;
  ck: Uint8Array;
}

export type CreateSetRefusal =
  /** R-SA-6: three sets for this IMPI and none may be evicted. */
  | 'sa-limit'
  /** Seed 001 §7.1 rule 3: a UE protected port of this address is bound to another IMPI. */
  | 'selector-in-use'
  /** A local protected port is used by another IMPI's set. */
  | 'port-in-use'
  /** A local SPI is used by a live SA or equals a peer SPI. */
  | 'spi-in-use';

export type CreateSetResult = { ok: true; set: SaSet } | { ok: false; reason: CreateSetRefusal; detail: string };

interface Reservation {
  spiC: number;
  spiS: number;
  portC: number;
  portS: number;
  timer: TimerHandle;
  live: boolean;
}

const STATE_RANK: Record<SaState, number> = { active: 3, old: 2, temporary: 1, deleted: 0 };

export class SaManager {
  readonly role: SaRole;
  readonly maxSetsPerImpi: number;
  readonly temporaryLifetimeMs: number;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly spiPolicy: SpiPolicy;
  private readonly portRange: PortRange;
  private readonly byId = new Map<number, SaSet>();
  private readonly timers = new Map<number, TimerHandle>();
  private readonly inbound = new Map<number, SecurityAssociation>();
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
    this.temporaryLifetimeMs = opts.temporaryLifetimeMs ?? 64_000;
    this.maxSetsPerImpi = opts.maxSetsPerImpi ?? 3;
    if (!(this.temporaryLifetimeMs > 0)) throw new InvalidArgumentError('temporaryLifetimeMs must be > 0', 'temporaryLifetimeMs');
    if (!Number.isInteger(this.maxSetsPerImpi) || this.maxSetsPerImpi < 1) throw new InvalidArgumentError('maxSetsPerImpi must be >= 1', 'maxSetsPerImpi');
  }

  /** Subscribe to SA events (synchronous, in order). Returns an unsubscribe function. */
  on(listener: (e: SaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- allocation ----

  private spiTaken(spi: number, extra: readonly number[] = []): boolean {
    if (extra.includes(spi)) return true;
    for (const s of this.byId.values()) for (const sa of s.sas) if (sa.spi === spi) return true;
    for (const r of this.reservations) if (r.spiC === spi || r.spiS === spi) return true;
    return false;
  }

  private localSide(s: SaSet): SaEndpointParams {
    return this.role === 'pcscf' ? s.pcscf : s.ue;
  }

  private portTaken(port: number, extra: readonly number[] = []): boolean {
    if (extra.includes(port)) return true;
    for (const s of this.byId.values()) {
      const l = this.localSide(s);
      if (l.portC === port || l.portS === port) return true;
    }
    for (const r of this.reservations) if (r.portC === port || r.portS === port) return true;
    return false;
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
    const r: Reservation = { spiC, spiS, portC, portS, live: true, timer: { cancel() {} } };
    this.reservations.add(r);
    const release = (): void => {
      if (!r.live) return;
      r.live = false;
      r.timer.cancel();
      this.reservations.delete(r);
    };
    r.timer = this.clock.setTimeout(this.temporaryLifetimeMs, release);
    return { spiC, spiS, portC, portS, release };
  }

  // ---- set life ----

  /** Create the four SAs of a registration in state `temporary` (R-SA-3, R-SA-6). */
  createSet(p: CreateSetParams): CreateSetResult {
    if (!p.impi) throw new InvalidArgumentError('impi is required', 'impi');
    const refuse = (reason: CreateSetRefusal, detail: string): CreateSetResult => ({ ok: false, reason, detail });
    const remoteSpis = [p.remote.spiC, p.remote.spiS];
    let local: { spiC: number; spiS: number; portC: number; portS: number };
    let reservation: LocalReservation | undefined;
    if (p.local && 'release' in p.local) {
      reservation = p.local;
      local = p.local;
      reservation.release();
    } else if (p.local) {
      local = p.local;
    } else {
      reservation = this.reserveLocal({ avoidSpis: remoteSpis });
      local = reservation;
      reservation.release();
    }
    const ueEnd = this.role === 'pcscf' ? p.remote : local;
    const pcEnd = this.role === 'pcscf' ? local : p.remote;

    // 1. Local SPIs: not used by a live SA, not a peer SPI (reflection, R-SA-3).
    for (const spi of [local.spiC, local.spiS]) {
      if (remoteSpis.includes(spi)) return refuse('spi-in-use', `local SPI 0x${spi.toString(16)} equals a peer SPI`);
      if (this.spiTaken(spi)) return refuse('spi-in-use', `local SPI 0x${spi.toString(16)} is in use`);
    }
    // 2. Selectors: a UE protected port of this address bound to another IMPI (seed 001 §7.1 rule 3).
    for (const s of this.byId.values()) {
      if (s.impi === p.impi) continue;
      if (s.ue.address === p.ueAddress && [s.ue.portC, s.ue.portS].some((x) => x === ueEnd.portC || x === ueEnd.portS)) {
        return refuse('selector-in-use', `UE ${p.ueAddress} protected port already bound to another IMPI`);
      }
      const l = this.localSide(s);
      if ([l.portC, l.portS].some((x) => x === local.portC || x === local.portS)) return refuse('port-in-use', 'local protected port used by another IMPI');
    }
    // 3. R-SA-6: at most maxSetsPerImpi sets; make room by evicting the oldest temporary set,
    //    else the oldest old set; an active set is never evicted (a bogus or failed registration
    //    must not tear down a working one, R-AKA-7).
    const mine = [...this.byId.values()].filter((s) => s.impi === p.impi).sort((a, b) => a.id - b.id);
    if (mine.length >= this.maxSetsPerImpi) {
      const victim = mine.find((s) => s.state === 'temporary') ?? mine.find((s) => s.state === 'old');
      if (!victim) return refuse('sa-limit', `IMPI already has ${mine.length} SA sets, none evictable`);
      this.deleteSet(victim.id, 'evicted');
    }
    // 4. Keys (TS 33.203 Annex I) and the four SAs.
    const keys = deriveEspKeys(p.integrity, p.encryption, p.ik, p.ck);
    const id = this.nextId++;
    const ue: SaEndpointParams = { address: p.ueAddress, ...pick(ueEnd) };
    const pcscf: SaEndpointParams = { address: p.pcscfAddress, ...pick(pcEnd) };
    const sas = buildSaSet({ setId: id, role: this.role, impi: p.impi, impus: [...p.impus], ue, pcscf, integrity: p.integrity, encryption: p.encryption, mode: p.mode, keys, state: 'temporary' });
    const now = this.clock.now();
    const set: SaSet = {
      id,
      role: this.role,
      impi: p.impi,
      impus: [...p.impus],
      ue,
      pcscf,
      integrity: p.integrity,
      encryption: p.encryption,
      mode: p.mode,
      state: 'temporary',
      createdAt: now,
      expiresAt: now + this.temporaryLifetimeMs,
      sas,
    };
    this.byId.set(id, set);
    for (const sa of sas) if (sa.direction === 'in') this.inbound.set(sa.spi, sa);
    this.schedule(set);
    for (const sa of sas) this.emit({ kind: 'saCreated', sa });
    return { ok: true, set };
  }

  /**
   * The protected REGISTER succeeded: the set becomes `active` for `lifetimeMs` (the
   * registration lifetime, R-SA-7). Older active sets of the IMPI at this UE address become
   * `old`; at the UE their outbound SAs are deleted now (R-RR-2).
   */
  activate(setId: number, lifetimeMs: number, impus?: readonly string[]): SaSet {
    const set = this.need(setId);
    if (set.state !== 'temporary') throw new SaError(`set ${setId} is ${set.state}, not temporary`);
    if (impus) set.impus = [...impus];
    set.expiresAt = this.clock.now() + checkLifetime(lifetimeMs);
    set.firstInboundAt = undefined;
    this.setState(set, 'active');
    this.schedule(set);
    for (const other of this.byId.values()) {
      if (other.id === set.id || other.impi !== set.impi || other.ue.address !== set.ue.address || other.state !== 'active') continue;
      this.setState(other, 'old');
      if (this.role === 'ue') for (const sa of other.sas.filter((x) => x.direction === 'out')) this.deleteSa(other, sa, 'replaced');
    }
    return set;
  }

  /** A re-registration without a new set extends an active set's lifetime (R-SA-7). */
  refresh(setId: number, lifetimeMs: number): SaSet {
    const set = this.need(setId);
    if (set.state !== 'active') throw new SaError(`set ${setId} is ${set.state}, not active`);
    set.expiresAt = this.clock.now() + checkLifetime(lifetimeMs);
    this.schedule(set);
    return set;
  }

  /**
   * A packet was accepted on an inbound SA of `setId`. The first one after activation ends the
   * change-over: the IMPI's old sets at this UE address are deleted (R-RR-2).
   */
  noteInbound(setId: number): void {
    const set = this.byId.get(setId);
    if (!set || set.state !== 'active' || set.firstInboundAt !== undefined) return;
    set.firstInboundAt = this.clock.now();
    for (const other of [...this.byId.values()]) {
      if (other.state === 'old' && other.impi === set.impi && other.ue.address === set.ue.address) this.deleteSet(other.id, 'replaced');
    }
  }

  /** Delete a set (failed registration, shutdown, ...). Unknown ids are ignored. */
  deleteSet(setId: number, reason: SaDeleteReason): void {
    const set = this.byId.get(setId);
    if (!set) return;
    this.timers.get(setId)?.cancel();
    this.timers.delete(setId);
    for (const sa of [...set.sas]) this.deleteSa(set, sa, reason);
    this.finish(set);
  }

  /** Registration removed: every set of the IMPI goes (R-SA-7). */
  deleteImpi(impi: string, reason: SaDeleteReason = 'deregistered'): void {
    for (const s of [...this.byId.values()]) if (s.impi === impi) this.deleteSet(s.id, reason);
  }

  /** Delete everything (shutdown) and release reservations. */
  clear(reason: SaDeleteReason = 'removed'): void {
    for (const id of [...this.byId.keys()]) this.deleteSet(id, reason);
    for (const r of [...this.reservations]) {
      r.timer.cancel();
      this.reservations.delete(r);
    }
  }

  // ---- lookups ----

  get(setId: number): SaSet | undefined {
    return this.byId.get(setId);
  }

  /** Live sets, oldest first. */
  sets(filter: { impi?: string; ueAddress?: string } = {}): SaSet[] {
    return [...this.byId.values()].filter((s) => (filter.impi === undefined || s.impi === filter.impi) && (filter.ueAddress === undefined || s.ue.address === filter.ueAddress));
  }

  /** Live SAs of every set. */
  sas(): SecurityAssociation[] {
    return [...this.byId.values()].flatMap((s) => s.sas);
  }

  /** The live inbound SA with this SPI (RFC 4303 §3.4.2). */
  findInbound(spi: number): SecurityAssociation | undefined {
    return this.inbound.get(spi >>> 0);
  }

  /** The live outbound SA for a selector (addresses and ports); the best state, then newest. */
  findOutbound(src: Endpoint, dst: Endpoint): SecurityAssociation | undefined {
    let best: SecurityAssociation | undefined;
    for (const s of this.byId.values()) {
      for (const sa of s.sas) {
        if (sa.direction !== 'out' || sa.src.port !== src.port || sa.dst.port !== dst.port) continue;
        if (sa.src.address !== src.address || sa.dst.address !== dst.address) continue;
        if (!best || STATE_RANK[sa.state] > STATE_RANK[best.state] || (sa.state === best.state && sa.setId > best.setId)) best = sa;
      }
    }
    return best;
  }

  /**
   * The set to send on for ordinary traffic: the newest active one, except that a P-CSCF keeps
   * using the old set until the UE has sent on the new one (R-RR-2). Undefined when no set is
   * active or old.
   */
  preferredSet(impi: string, ueAddress: string): SaSet | undefined {
    const mine = this.sets({ impi, ueAddress });
    const newest = (st: SaState): SaSet | undefined => mine.filter((s) => s.state === st).sort((a, b) => b.id - a.id)[0];
    const active = newest('active');
    const old = newest('old');
    if (this.role === 'pcscf' && old && active && active.firstInboundAt === undefined) return old;
    return active ?? old;
  }

  /** The SA table rows of TS 33.203 §7.1: one per SA and transport (R-SA-4). */
  saTable(): SaTableEntry[] {
    const rows: SaTableEntry[] = [];
    for (const s of this.byId.values()) {
      for (const sa of s.sas) {
        for (const transport of sa.transports) {
          rows.push({ ueAddress: ueAddressOf(sa), uePort: uePortOf(sa), transport, spi: sa.spi, direction: sa.direction, impi: s.impi, impus: s.impus, setId: s.id, state: s.state });
        }
      }
    }
    return rows;
  }

  /** R-SA-4: rows bound to (UE IP, UE protected port, transport). */
  lookupBySelector(sel: { ueAddress: string; uePort: number; transport: Transport }): SaTableEntry[] {
    return this.saTable().filter((r) => r.ueAddress === sel.ueAddress && r.uePort === sel.uePort && r.transport === sel.transport);
  }

  // ---- internals ----

  private need(setId: number): SaSet {
    const s = this.byId.get(setId);
    if (!s) throw new SaError(`no SA set ${setId}`);
    return s;
  }

  private schedule(set: SaSet): void {
    this.timers.get(set.id)?.cancel();
    const ms = Math.max(0, set.expiresAt - this.clock.now());
    this.timers.set(
      set.id,
      this.clock.setTimeout(ms, () => {
        this.timers.delete(set.id);
        this.deleteSet(set.id, 'expired');
      }),
    );
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
    if (sa.direction === 'in' && this.inbound.get(sa.spi) === sa) this.inbound.delete(sa.spi);
    sa.state = 'deleted';
    this.emit({ kind: 'saDeleted', sa, reason });
  }

  private finish(set: SaSet): void {
    this.byId.delete(set.id);
    const from = set.state;
    set.state = 'deleted';
    this.emit({ kind: 'setStateChanged', set, from, to: 'deleted' });
  }

  private emit(e: SaEvent): void {
    let first: unknown;
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        first ??= err;
      }
    }
    if (first !== undefined) throw first;
  }
}

function pick(e: { spiC: number; spiS: number; portC: number; portS: number }): { spiC: number; spiS: number; portC: number; portS: number } {
  return { spiC: e.spiC, spiS: e.spiS, portC: e.portC, portS: e.portS };
}

function checkLifetime(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError(`lifetime must be > 0 ms, got ${ms}`, 'lifetimeMs');
  return ms;
}
