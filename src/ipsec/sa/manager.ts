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
   * Lifetime of a temporary set and of a reservation: reg-await-auth, TS 24.229 §5.1.1.5.1 and
   * §5.2.2.1 with Table 7.8.1 (4 minutes; configurable).
   */
  temporaryLifetimeMs?: number;
  /**
   * How long an `old` set lives on once the new set has carried its first inbound message
   * (R-RR-2): 64·T1 (RFC 3261 §17.1.2.2 Timer F), 32 s with T1 = 500 ms.
   */
  changeOverMs?: number;
  /**
   * The local protected ports are shared by every SA set (a P-CSCF with one port_ps for all UEs
   * and a small pool of port_pc, SAs told apart by SPI, seed 001 §7.1). Default: true for the
   * P-CSCF, false for the UE.
   */
  sharedLocalPorts?: boolean;
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

/** TS 24.229 Table 7.8.1: reg-await-auth, 4 minutes. */
export const REG_AWAIT_AUTH_MS = 240_000;
/** R-SA-7: an active set outlives its registration's expiry by 30 s (TS 24.229 §5.1.1.5.1). */
export const SA_LIFETIME_MARGIN_MS = 30_000;
/** 64·T1 with T1 = 500 ms (RFC 3261 §17.1.2.2). */
export const DEFAULT_CHANGE_OVER_MS = 32_000;

/** A multiset of numbers (SPIs, ports) in use: O(1) add, remove and lookup. */
class Counted {
  private readonly m = new Map<number, number>();
  add(v: number): void {
    this.m.set(v, (this.m.get(v) ?? 0) + 1);
  }
  remove(v: number): void {
    const n = this.m.get(v);
    if (n === undefined) return;
    if (n <= 1) this.m.delete(v);
    else this.m.set(v, n - 1);
  }
  has(v: number): boolean {
    return this.m.has(v);
  }
  /** Add (`on`) or remove one occurrence. */
  count(v: number, on: boolean): void {
    if (on) this.add(v);
    else this.remove(v);
  }
}

function ueKey(address: string, port: number): string {
  return `${address}|${port}`;
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
  private readonly timers = new Map<number, TimerHandle>();
  private readonly inbound = new Map<number, SecurityAssociation>();
  /** Every SPI of a live SA (both directions) or of a reservation (R-SA-3 uniqueness). */
  private readonly spisInUse = new Counted();
  /** Local protected ports of live sets and reservations (not kept when ports are shared). */
  private readonly portsInUse = new Counted();
  /** Live sets by IMPI, and by UE address + protected port (selectors, R-SA-4). */
  private readonly byImpi = new Map<string, Set<SaSet>>();
  private readonly byUePort = new Map<string, Set<SaSet>>();
  /** Outbound SAs by selector `src|srcPort|dst|dstPort`. */
  private readonly outboundBySelector = new Map<string, Set<SecurityAssociation>>();
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
  }

  /** Subscribe to SA events (synchronous, in order). Returns an unsubscribe function. */
  on(listener: (e: SaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // ---- allocation ----

  private spiTaken(spi: number, extra: readonly number[] = []): boolean {
    return extra.includes(spi) || this.spisInUse.has(spi);
  }

  private localSide(s: SaSet): SaEndpointParams {
    return this.role === 'pcscf' ? s.pcscf : s.ue;
  }

  private portTaken(port: number, extra: readonly number[] = []): boolean {
    return extra.includes(port) || this.portsInUse.has(port);
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
    this.hold(r, true);
    const release = (): void => {
      if (!r.live) return;
      r.live = false;
      r.timer.cancel();
      this.reservations.delete(r);
      this.hold(r, false);
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
    if (this.boundToOther(p.ueAddress, [ueEnd.portC, ueEnd.portS], p.impi)) {
      return refuse('selector-in-use', `UE ${p.ueAddress} protected port already bound to another IMPI`);
    }
    if (!this.sharedLocalPorts) {
      for (const port of [local.portC, local.portS]) {
        if (this.portsInUse.has(port) && !this.mineUsesLocalPort(p.impi, port)) return refuse('port-in-use', 'local protected port used by another IMPI');
      }
    }
    // 3. R-SA-6: at most maxSetsPerImpi sets; make room by evicting the oldest temporary set,
    //    else the oldest old set; an active set is never evicted (a bogus or failed registration
    //    must not tear down a working one, R-AKA-7).
    const mine = [...(this.byImpi.get(p.impi) ?? [])].sort((a, b) => a.id - b.id);
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
    this.index(set, true);
    for (const sa of sas) this.indexSa(sa, true);
    this.schedule(set);
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
    if (impus) set.impus = [...impus];
    const now = this.clock.now();
    let expiresAt = now + checkLifetime(registrationMs) + SA_LIFETIME_MARGIN_MS;
    const previous = [...(this.byImpi.get(set.impi) ?? [])].filter((o) => o.id !== set.id && o.ue.address === set.ue.address && o.state === 'active');
    for (const o of previous) expiresAt = Math.max(expiresAt, o.expiresAt);
    set.expiresAt = expiresAt;
    set.firstInboundAt = undefined;
    this.setState(set, 'active');
    this.schedule(set);
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
    this.schedule(set);
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
      this.schedule(set);
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
    for (const other of [...(this.byImpi.get(set.impi) ?? [])]) {
      if (other.state === 'old' && other.ue.address === set.ue.address) this.shorten(other.id, this.changeOverMs);
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
    for (const s of [...(this.byImpi.get(impi) ?? [])]) this.deleteSet(s.id, reason);
  }

  /** Delete everything (shutdown) and release reservations. */
  clear(reason: SaDeleteReason = 'removed'): void {
    for (const id of [...this.byId.keys()]) this.deleteSet(id, reason);
    for (const r of [...this.reservations]) {
      r.timer.cancel();
      r.live = false;
      this.reservations.delete(r);
      this.hold(r, false);
    }
  }

  // ---- lookups ----

  get(setId: number): SaSet | undefined {
    return this.byId.get(setId);
  }

  /** Live sets, oldest first. */
  sets(filter: { impi?: string; ueAddress?: string } = {}): SaSet[] {
    const from = filter.impi === undefined ? this.byId.values() : [...(this.byImpi.get(filter.impi) ?? [])].sort((a, b) => a.id - b.id);
    return [...from].filter((s) => filter.ueAddress === undefined || s.ue.address === filter.ueAddress);
  }

  /** Live sets whose UE protected port (port_uc or port_us) at `ueAddress` is `port` (R-SA-4). */
  setsAtUePort(ueAddress: string, port: number): SaSet[] {
    return [...(this.byUePort.get(ueKey(ueAddress, port)) ?? [])];
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
    for (const sa of this.outboundBySelector.get(selectorKey(src, dst)) ?? []) {
      if (!best || STATE_RANK[sa.state] > STATE_RANK[best.state] || (sa.state === best.state && sa.setId > best.setId)) best = sa;
    }
    return best;
  }

  /**
   * The set to send on for ordinary traffic: the newest active one, except that a P-CSCF keeps
   * using the old set until the UE has sent on the new one (R-RR-2). Undefined when no set is
   * active or old.
   */
  preferredSet(impi: string, ueAddress: string): SaSet | undefined {
    return this.preferredOf(this.sets({ impi, ueAddress }));
  }

  /** {@link preferredSet} among the sets bound to one UE protected server port (port_us). */
  preferredSetAtUe(ueAddress: string, uePortS: number): SaSet | undefined {
    return this.preferredOf(this.setsAtUePort(ueAddress, uePortS).filter((s) => s.ue.portS === uePortS));
  }

  private preferredOf(mine: SaSet[]): SaSet | undefined {
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
    const rows: SaTableEntry[] = [];
    for (const s of this.setsAtUePort(sel.ueAddress, sel.uePort)) {
      for (const sa of s.sas) {
        if (uePortOf(sa) !== sel.uePort || !sa.transports.includes(sel.transport)) continue;
        rows.push({ ueAddress: ueAddressOf(sa), uePort: sel.uePort, transport: sel.transport, spi: sa.spi, direction: sa.direction, impi: s.impi, impus: s.impus, setId: s.id, state: s.state });
      }
    }
    return rows;
  }

  // ---- internals ----

  /** Whether a UE protected port of `address` is bound to an IMPI other than `impi`. */
  private boundToOther(address: string, ports: readonly number[], impi: string): boolean {
    for (const port of ports) for (const s of this.byUePort.get(ueKey(address, port)) ?? []) if (s.impi !== impi) return true;
    return false;
  }

  private mineUsesLocalPort(impi: string, port: number): boolean {
    for (const s of this.byImpi.get(impi) ?? []) {
      const l = this.localSide(s);
      if (l.portC === port || l.portS === port) return true;
    }
    return false;
  }

  private hold(r: { spiC: number; spiS: number; portC: number; portS: number }, on: boolean): void {
    for (const spi of [r.spiC, r.spiS]) this.spisInUse.count(spi, on);
    if (this.sharedLocalPorts) return;
    for (const port of [r.portC, r.portS]) this.portsInUse.count(port, on);
  }

  private index(set: SaSet, on: boolean): void {
    const add = <K>(m: Map<K, Set<SaSet>>, k: K): void => {
      if (on) {
        let bucket = m.get(k);
        if (!bucket) m.set(k, (bucket = new Set()));
        bucket.add(set);
      } else {
        const bucket = m.get(k);
        bucket?.delete(set);
        if (bucket?.size === 0) m.delete(k);
      }
    };
    add(this.byImpi, set.impi);
    add(this.byUePort, ueKey(set.ue.address, set.ue.portC));
    if (set.ue.portS !== set.ue.portC) add(this.byUePort, ueKey(set.ue.address, set.ue.portS));
    const l = this.localSide(set);
    if (!this.sharedLocalPorts) for (const port of [l.portC, l.portS]) this.portsInUse.count(port, on);
  }

  private indexSa(sa: SecurityAssociation, on: boolean): void {
    this.spisInUse.count(sa.spi, on);
    if (sa.direction === 'in') {
      if (on) this.inbound.set(sa.spi, sa);
      else if (this.inbound.get(sa.spi) === sa) this.inbound.delete(sa.spi);
      return;
    }
    const k = selectorKey(sa.src, sa.dst);
    let bucket = this.outboundBySelector.get(k);
    if (on) {
      if (!bucket) this.outboundBySelector.set(k, (bucket = new Set()));
      bucket.add(sa);
    } else if (bucket) {
      bucket.delete(sa);
      if (bucket.size === 0) this.outboundBySelector.delete(k);
    }
  }

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
        // An old set's end is the end of a change-over (R-RR-2); any other set ran out (R-SA-7).
        this.deleteSet(set.id, set.state === 'old' ? 'replaced' : 'expired');
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
    this.indexSa(sa, false);
    sa.state = 'deleted';
    this.emit({ kind: 'saDeleted', sa, reason });
  }

  private finish(set: SaSet): void {
    this.byId.delete(set.id);
    this.index(set, false);
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

function selectorKey(src: Endpoint, dst: Endpoint): string {
  return `${src.address}|${src.port}|${dst.address}|${dst.port}`;
}

function pick(e: { spiC: number; spiS: number; portC: number; portS: number }): { spiC: number; spiS: number; portC: number; portS: number } {
  return { spiC: e.spiC, spiS: e.spiS, portC: e.portC, portS: e.portS };
}

function checkLifetime(ms: number): number {
  if (!Number.isFinite(ms) || ms <= 0) throw new InvalidArgumentError(`lifetime must be > 0 ms, got ${ms}`, 'lifetimeMs');
  return ms;
}
