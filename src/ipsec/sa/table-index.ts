/**
 * The lookup structures of the SA table (TS 33.203 §7.1), every one a hash map so that each
 * per-packet and per-registration lookup is O(1) whatever the number of sets: inbound SAs by SPI
 * (RFC 4303 §3.4.2), outbound SAs by selector, sets by IMPI and by UE address + protected port
 * (R-SA-4), and the SPIs and local ports in use (R-SA-3). Pure bookkeeping: no clock, no events.
 */
import { bucketPut, bucketValues, joinedKey, type Bucket } from '../../common/index.js';
import { ueAddressOf, uePortOf } from './build.js';
import type { Endpoint, SaEndpointParams, SaRole, SaSet, SaState, SaTableEntry, SecurityAssociation, Transport } from './types.js';

/** A multiset (SPIs, ports, addresses) in use: O(1) add, remove and lookup. */
export class Counted<K = number> {
  private readonly m = new Map<K, number>();
  has(v: K): boolean {
    return this.m.has(v);
  }
  /** Add (`on`) or remove one occurrence. */
  count(v: K, on: boolean): void {
    const n = this.m.get(v);
    if (on) this.m.set(v, (n ?? 0) + 1);
    else if (n === undefined) return;
    else if (n <= 1) this.m.delete(v);
    else this.m.set(v, n - 1);
  }
  /** The distinct members. */
  keys(): IterableIterator<K> {
    return this.m.keys();
  }
  clear(): void {
    this.m.clear();
  }
}

/** The ranking of states when several SAs match (active first, then old, then temporary). */
export const STATE_RANK: Record<SaState, number> = { active: 3, old: 2, temporary: 1, deleted: 0 };

/** Selector key `src|srcPort|dst|dstPort`. */
export function selectorKey(src: Endpoint, dst: Endpoint): string {
  return joinedKey(src.address, src.port, dst.address, dst.port);
}

function ueKey(address: string, port: number): string {
  return joinedKey(address, port);
}

/** The SA table's indexes (TS 33.203 §7.1, R-SA-3, R-SA-4), kept in step by the SaManager (manager.ts). */
export class SaTableIndex {
  /** Every SPI of a live SA (both directions) or of a reservation (R-SA-3 uniqueness). */
  readonly spisInUse = new Counted();
  /** Local protected ports of live sets and reservations (not kept when ports are shared). */
  readonly portsInUse = new Counted();
  private readonly inbound = new Map<number, SecurityAssociation>();
  private readonly byImpi = new Map<string, Bucket<SaSet>>();
  private readonly byUePort = new Map<string, Bucket<SaSet>>();
  private readonly outboundBySelector = new Map<string, Bucket<SecurityAssociation>>();

  constructor(
    /** The local side of a set (P-CSCF: its pcscf end; UE: its ue end). */
    private readonly localSide: (s: SaSet) => SaEndpointParams,
    private readonly sharedLocalPorts: boolean,
  ) {}

  /** Adds (`on`) or removes a set's own keys: IMPI, UE selectors, local ports. */
  set(set: SaSet, on: boolean): void {
    bucketPut(this.byImpi, set.impi, set, on);
    bucketPut(this.byUePort, ueKey(set.ue.address, set.ue.portC), set, on);
    if (set.ue.portS !== set.ue.portC) bucketPut(this.byUePort, ueKey(set.ue.address, set.ue.portS), set, on);
    if (this.sharedLocalPorts) return;
    const l = this.localSide(set);
    this.portsInUse.count(l.portC, on);
    this.portsInUse.count(l.portS, on);
  }

  /** Adds (`on`) or removes one SA: its SPI, and the SPI or selector it is found by. */
  sa(sa: SecurityAssociation, on: boolean): void {
    this.spisInUse.count(sa.spi, on);
    if (sa.direction === 'out') return bucketPut(this.outboundBySelector, selectorKey(sa.src, sa.dst), sa, on);
    if (on) this.inbound.set(sa.spi, sa);
    else if (this.inbound.get(sa.spi) === sa) this.inbound.delete(sa.spi);
  }

  /** SPIs and (when not shared) ports held by a reservation. */
  hold(r: { spiC: number; spiS: number; portC: number; portS: number }, on: boolean): void {
    this.spisInUse.count(r.spiC, on);
    this.spisInUse.count(r.spiS, on);
    if (this.sharedLocalPorts) return;
    this.portsInUse.count(r.portC, on);
    this.portsInUse.count(r.portS, on);
  }

  /** The live sets of an IMPI (unordered; at most three, R-SA-6). */
  ofImpi(impi: string): readonly SaSet[] {
    return bucketValues(this.byImpi, impi);
  }

  /** The live sets bound to a UE protected port of an address (R-SA-4). */
  atUePort(address: string, port: number): readonly SaSet[] {
    return bucketValues(this.byUePort, ueKey(address, port));
  }

  findInbound(spi: number): SecurityAssociation | undefined {
    return this.inbound.get(spi >>> 0);
  }

  /** The live outbound SA for a selector: the best state, then the newest set. */
  findOutbound(src: Endpoint, dst: Endpoint): SecurityAssociation | undefined {
    let best: SecurityAssociation | undefined;
    for (const sa of bucketValues(this.outboundBySelector, selectorKey(src, dst))) {
      if (!best || STATE_RANK[sa.state] > STATE_RANK[best.state] || (sa.state === best.state && sa.setId > best.setId)) best = sa;
    }
    return best;
  }

  /** Whether a UE protected port of `address` is bound to an IMPI other than `impi` (seed 001 §7.1 rule 3). */
  boundToOther(address: string, ports: readonly number[], impi: string): boolean {
    for (const port of ports) for (const s of this.atUePort(address, port)) if (s.impi !== impi) return true;
    return false;
  }

  /** Whether one of the IMPI's own sets uses this local port. */
  mineUsesLocalPort(impi: string, port: number): boolean {
    for (const s of this.ofImpi(impi)) {
      const l = this.localSide(s);
      if (l.portC === port || l.portS === port) return true;
    }
    return false;
  }
}

/**
 * Appends a set's rows of the TS 33.203 §7.1 table to `rows`: one per SA and transport, or only
 * those bound to one UE protected port and transport (R-SA-4).
 */
export function tableRows(s: SaSet, rows: SaTableEntry[], sel?: { uePort: number; transport: Transport }): void {
  for (const sa of s.sas) {
    const uePort = uePortOf(sa);
    if (sel && uePort !== sel.uePort) continue;
    for (const transport of sa.transports) {
      if (sel && transport !== sel.transport) continue;
      rows.push({ ueAddress: ueAddressOf(sa), uePort, transport, spi: sa.spi, direction: sa.direction, impi: s.impi, impus: s.impus, setId: s.id, state: s.state });
    }
  }
}

/**
 * The set to send on among `mine` (R-RR-2): the newest active one, except that a P-CSCF keeps
 * using the newest old set until the UE has sent on the active one.
 */
export function preferredOf(role: SaRole, mine: readonly SaSet[]): SaSet | undefined {
  const newest = (st: SaState): SaSet | undefined => {
    let best: SaSet | undefined;
    for (const s of mine) if (s.state === st && (!best || s.id > best.id)) best = s;
    return best;
  };
  const active = newest('active');
  const old = newest('old');
  if (role === 'pcscf' && old && active && active.firstInboundAt === undefined) return old;
  return active ?? old;
}
