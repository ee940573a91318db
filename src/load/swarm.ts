/**
 * A swarm of emulated UEs in one process (R-LAB-4): each UE is the UE library's pure
 * {@link UeCore} with its own ISIM and SQN array, its own SA sets (TS 33.203 §7.1) and its own
 * protected ports, while everything that costs a file descriptor or a table is shared:
 *
 * - ONE SA table (role UE, SPIs unique across the swarm, so one datapath can tell every inbound
 *   SA apart by SPI, RFC 4303 §3.4.2), mirrored into ONE userspace ESP-in-UDP datapath
 *   (RFC 3948, `mod=UDP-enc-tun`), whose sockets are the UEs' protected ports;
 * - ONE SIP stack (transactions matched by branch, RFC 3261 §17.1.3), with one unprotected UDP
 *   socket per UE address, shared by the UEs on it, and one socket-less protected transport per
 *   UE, found for each delivered datagram by its local endpoint in a map (O(1));
 * - UEs spread over many source addresses of 127.0.0.0/8, `uesPerAddress` on each, dealt out in
 *   turn ({@link swarmPlace}), with protected ports from a per-address plan, so no two UEs ever
 *   share a selector (R-SA-4).
 *
 * The protected ports are bound once per port NUMBER on the wildcard address (the datapath's
 * `anyAddress`): UEs on different addresses share those sockets, inbound packets are told apart
 * by SPI and checked against their SA's inner addresses. So the swarm's descriptors are one per
 * address (unprotected) plus `uesPerAddress × 9` protected ports, whatever the number of UEs:
 * 100,000 UEs at 64 per address take about 2,200 ({@link fdsNeeded}).
 */
import { cryptoRng, systemClock, type Clock, type Logger, type Rng } from '../common/index.js';
import { silentLogger } from '../common/log.js';
import { SaManager, type XfrmRunner } from '../ipsec/index.js';
import type { SipRequest } from '../sip/index.js';
import { SipStack } from '../sip/stack/index.js';
import { UdpTransport } from '../sip/transport/index.js';
import type { Endpoint, SipTransport } from '../sip/transport/index.js';
import { ProtectedTransport, type CarrierMessageInfo } from '../sip/transport/protected/index.js';
import { SoftIsim, UeCore, memorySqnStore, type UeCoreConfig } from '../nodes/ue/index.js';
import type { LoadSubscriber } from './subscribers.js';
import { swarmDatapath, type SwarmDatapath, type SwarmDatapathKind } from './swarm-datapath.js';

export interface SwarmOptions {
  /** The P-CSCF's unprotected SIP endpoint (an IP literal). */
  pcscf: Endpoint;
  /** Domain of the Request-URI and realm (default: the IMPI's). */
  homeDomain?: string;
  /** First UE address (default 127.1.0.1); the next addresses follow it. */
  firstAddress?: string;
  /**
   * Where ESP runs (default `userspace`). `xfrm`: kernel transport mode in this process's network
   * namespace; every UE address must be assigned there (e.g. `ip -batch` of `addr add`).
   */
  datapath?: SwarmDatapathKind;
  /** xfrm: the `ip` runner (tests inject one). */
  xfrmRunner?: XfrmRunner;
  /**
   * The unprotected SIP port of every UE address (default 0: the OS chooses). Kamailio 5.6's
   * P-CSCF treats a REGISTER as initial only when its Via port is 5060 (docs/kamailio-pcscf.md).
   */
  unprotectedPort?: number;
  /** UEs per source address (default 16). */
  uesPerAddress?: number;
  /** First protected port (default 12000: below the ephemeral range, where the OS puts other sockets). */
  portBase?: number;
  /** Registration expiry asked for, seconds (default 600 000, as the UE library). */
  expires?: number;
  /** Re-register before expiry (R-REG-3), by the UE library's own timer. Default true. */
  autoReRegister?: boolean;
  /** SIP T1 in ms (default 500). */
  t1Ms?: number;
  /**
   * Told every AKA outcome of every UE's ISIM (TS 33.102 §6.3.3): the SQN it accepted, or
   * `sync-failure` (an SQN out of range: one reused or too old) or `mac-failure`. What proves
   * that no SQN is issued twice (R-AKA-3) from the UEs' side.
   */
  onAka?: (impi: string, outcome: number | 'sync-failure' | 'mac-failure') => void;
  clock?: Clock;
  rng?: Rng;
  logger?: Logger;
}

/** One emulated UE: the core and its ports. */
export interface SwarmUe {
  readonly index: number;
  readonly sub: LoadSubscriber;
  readonly address: string;
  readonly core: UeCore;
  readonly transport: ProtectedTransport;
}

/** Protected client ports cycled through on each address, per UE on it. */
const CLIENT_PORTS_PER_UE = 8;

/**
 * Where UE `i` of a swarm of `ues` sits: on address slot `i mod A` (A = ⌈ues / perAddress⌉
 * addresses), port index ⌊i / A⌋ there. UEs that start one after another thus come from different
 * addresses, as independent phones do. Filling one address after another sent the swarm's whole
 * rate from one or two addresses at a time, over a P-CSCF's cap on half-open registrations per
 * source address (imsec's `overload.attemptsPerAddress`, 32): `bench register-ipsec`'s fill,
 * 64 UEs per address at 200/s, lost 242 of 5,000 registrations to 503 (2026-12-06; 185 in a run before).
 */
export function swarmPlace(i: number, ues: number, perAddress: number): { slot: number; portIndex: number } {
  const addresses = Math.max(1, Math.ceil(ues / perAddress));
  return { slot: i % addresses, portIndex: Math.floor(i / addresses) };
}

/** The swarm's first protected port when none is given (load/port-plan.ts searches from here). */
export const DEFAULT_PORT_BASE = 12000;

/**
 * How many protected ports the swarm's plan spans from its port base: a server port per UE slot of
 * an address, then each slot's ring of client ports (bound on the wildcard address, so shared by
 * every UE address).
 */
export function swarmPortSpan(uesPerAddress: number): number {
  return uesPerAddress * (1 + CLIENT_PORTS_PER_UE);
}

/** File descriptors a swarm of `ues` needs: one socket per address, the shared protected ports, some slack. */
export function fdsNeeded(ues: number, uesPerAddress: number): number {
  return Math.ceil(ues / uesPerAddress) + swarmPortSpan(Math.min(ues, uesPerAddress)) + 64;
}

function ipv4ToInt(a: string): number {
  const p = a.split('.').map(Number);
  if (p.length !== 4 || p.some((x) => !Number.isInteger(x) || x < 0 || x > 255)) throw new RangeError(`not an IPv4 address: ${a}`);
  return ((p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3]) >>> 0;
}

function intToIpv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** The UEs of one source address: their shared unprotected socket and the client-port ring. */
interface AddressSlot {
  readonly address: string;
  readonly udp: UdpTransport;
  nextClient: number;
}

export class Swarm {
  readonly sa: SaManager;
  readonly datapath: SwarmDatapath;
  private stack: SipStack | undefined;
  private readonly ues: (SwarmUe | undefined)[];
  private readonly byLocal = new Map<string, SwarmUe>();
  private readonly byTransport = new Map<SipTransport, SwarmUe>();
  private readonly slots = new Map<number, AddressSlot>();
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly log: Logger;
  private readonly perAddress: number;
  private readonly portBase: number;
  private readonly firstAddress: number;

  constructor(
    readonly subscribers: readonly LoadSubscriber[],
    private readonly o: SwarmOptions,
  ) {
    this.clock = o.clock ?? systemClock;
    this.rng = o.rng ?? cryptoRng;
    this.log = o.logger ?? silentLogger;
    this.perAddress = o.uesPerAddress ?? 16;
    this.portBase = o.portBase ?? DEFAULT_PORT_BASE;
    this.firstAddress = ipv4ToInt(o.firstAddress ?? '127.1.0.1');
    if (this.portBase + swarmPortSpan(this.perAddress) > 65535) throw new RangeError('uesPerAddress too large for the port plan');
    const t1 = o.t1Ms ?? 500;
    this.sa = new SaManager({ role: 'ue', clock: this.clock, rng: this.rng, sharedLocalPorts: true, changeOverMs: 64 * t1 });
    // Deliveries are dispatched here by local endpoint, not through the transports' own sharing.
    this.datapath = swarmDatapath({ kind: o.datapath ?? 'userspace', sa: this.sa, rng: this.rng, log: this.log, deliver: (sip, info) => this.deliver(sip, info), ...(o.xfrmRunner ? { xfrmRunner: o.xfrmRunner } : {}) });
    this.ues = new Array<SwarmUe | undefined>(subscribers.length);
  }

  /** Number of UEs the swarm can emulate (one per subscriber). */
  get size(): number {
    return this.subscribers.length;
  }

  /** The emulated UE `i` (built on first use: its ISIM, core and transport). */
  async ue(i: number): Promise<SwarmUe> {
    const have = this.ues[i];
    if (have) return have;
    const place = swarmPlace(i, this.subscribers.length, this.perAddress);
    const slot = await this.slot(place.slot);
    return (this.ues[i] ??= this.build(i, slot, place.portIndex));
  }

  /** UEs built so far. */
  built(): SwarmUe[] {
    return this.ues.filter((u): u is SwarmUe => u !== undefined);
  }

  private async slot(n: number): Promise<AddressSlot> {
    let s = this.slots.get(n);
    if (s) return s;
    const address = intToIpv4(this.firstAddress + n);
    const udp = await UdpTransport.bind({ address, port: this.o.unprotectedPort ?? 0, logger: this.log });
    s = this.slots.get(n);
    if (s) {
      await udp.close();
      return s;
    }
    s = { address, udp, nextClient: 0 };
    this.slots.set(n, s);
    if (!this.stack) {
      this.stack = new SipStack({ transports: [udp], clock: this.clock, rng: this.rng, logger: this.log, timers: { t1: this.o.t1Ms ?? 500 }, transport: { checkSentBy: false } });
      this.stack.onRequest((req, ctx) => this.onRequest(req, ctx.receivedOn, (status, reason, headers) => void ctx.reply(status, reason, headers ? { headers } : {})));
    } else {
      this.stack.transportLayer.add(udp);
    }
    return s;
  }

  private build(i: number, slot: AddressSlot, j: number): SwarmUe {
    const sub = this.subscribers[i];
    const stack = this.stack!;
    const serverPort = this.portBase + j;
    const transport = new ProtectedTransport({ carrier: this.datapath.carrier(slot.address), address: slot.address, serverPort, clientPort: serverPort, saManager: this.sa, responseFlow: 'client-to-server', logger: this.log });
    stack.transportLayer.add(transport);
    const pcscf = this.o.pcscf;
    let isim: SoftIsim | undefined;
    const cfg: UeCoreConfig = {
      id: { impi: sub.impi, impu: sub.impu, homeDomain: this.o.homeDomain ?? sub.impi.slice(sub.impi.indexOf('@') + 1) },
      localAddress: slot.address,
      pcscfAddress: pcscf.address,
      serverPort,
      unprotectedPort: slot.udp.local.port,
      instanceId: `urn:uuid:00000000-0000-4000-8000-${(i + 1).toString(16).padStart(12, '0')}`,
      clientPort: 0,
      expires: this.o.expires ?? 600_000,
      integrity: ['hmac-sha-1-96'],
      encryption: ['null'],
      mode: this.datapath.mode,
      reRegister: { fraction: 0.5, marginSeconds: 600, auto: this.o.autoReRegister ?? true },
      subscribeRegEvent: false,
    };
    // eslint-disable-next-line prefer-const -- assigned once below, after the closures that use it
    let ue: SwarmUe;
    const core = new UeCore(cfg, {
      sendUnprotected: (req) => stack.sendRequest(req, { ...pcscf, through: slot.udp }),
      sendProtected: (req, to, clientPort) => {
        transport.setClientPort(clientPort);
        return stack.sendRequest(req, { address: to.address, port: to.port, through: transport });
      },
      newCallId: () => stack.newCallId(slot.address),
      newTag: () => stack.newTag(),
      newBranch: () => stack.newBranch(),
      sa: this.sa,
      saSettled: () => this.datapath.settled(this.sa.sets({ impi: sub.impi }).map((s) => s.id)),
      freePort: async (avoid) => {
        const port = this.clientPort(slot, j, avoid);
        this.byLocal.set(`${slot.address}|${port}`, ue);
        return port;
      },
      isim: {
        authenticate: (rand, autn) => {
          const r = (isim ??= new SoftIsim(sub.k, sub.opc, memorySqnStore())).authenticate(rand, autn);
          this.o.onAka?.(sub.impi, r.result === 'ok' ? r.sqn : r.result);
          return r;
        },
      },
      clock: this.clock,
      rng: this.rng,
      log: this.log,
    });
    ue = { index: i, sub, address: slot.address, core, transport };
    this.byLocal.set(`${slot.address}|${serverPort}`, ue);
    this.byTransport.set(transport, ue);
    return ue;
  }

  /**
   * A protected client port for UE slot `j` on its address: the UE's own ring of ports after the
   * server ports, skipping any a live set of this address still binds (R-RR-1: a new port_uc).
   */
  private clientPort(slot: AddressSlot, j: number, avoid: readonly number[]): number {
    const first = this.portBase + this.perAddress + j * CLIENT_PORTS_PER_UE;
    for (let k = 0; k < CLIENT_PORTS_PER_UE; k++) {
      const port = first + ((slot.nextClient + k) % CLIENT_PORTS_PER_UE);
      if (avoid.includes(port) || this.sa.setsAtUePort(slot.address, port).length > 0) continue;
      slot.nextClient = (slot.nextClient + k + 1) % CLIENT_PORTS_PER_UE;
      return port;
    }
    throw new RangeError(`no free protected client port for UE ${j} on ${slot.address}`);
  }

  private deliver(sip: Uint8Array, info: CarrierMessageInfo): void {
    this.byLocal.get(`${info.local.address}|${info.local.port}`)?.transport.receive(sip, info);
  }

  private onRequest(req: SipRequest, on: SipTransport, reply: (status: number, reason?: string, headers?: [string, string][]) => void): void {
    const ue = this.byTransport.get(on);
    // R-SA-5: a request on an unprotected port is not for any UE.
    if (!ue) return void reply(403, 'Forbidden');
    const after = ue.core.onRequest(req, reply);
    if (after) setImmediate(after);
  }

  /** Stops every UE's timers, closes the stack and the datapath (no de-registration: the caller's). */
  async close(): Promise<void> {
    for (const u of this.built()) u.core.stop();
    await this.stack?.close();
    this.sa.clear('removed');
    await this.datapath.close();
  }
}
