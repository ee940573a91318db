/**
 * Where the swarm's ESP runs (R-LAB-4): one datapath for every emulated UE, mirrored from the
 * swarm's one SA table (TS 33.203 §7.1).
 *
 * - `userspace`: RFC 3948 UDP-encapsulated tunnel mode (`mod=UDP-enc-tun`) in this process; the
 *   protected ports are bound once per port number on the wildcard address and shared by every
 *   UE address, packets told apart by SPI (RFC 4303 §3.4.2).
 * - `xfrm`: Linux kernel IPsec in transport mode (`mod=trans`, TS 33.203 Annex H): each SA an
 *   `ip xfrm` state and policies in the namespace the swarm runs in, and the protected ports plain
 *   UDP sockets on each UE's own address, bound while an SA uses them (the kernel applies and
 *   checks ESP underneath). That is what lets the swarm load a P-CSCF that only speaks kernel ESP,
 *   such as Kamailio's ims_ipsec_pcscf.
 */
import type { Logger, Rng } from '../common/index.js';
import { KernelSocketCarrier, SaManager, UdpEncapDatapath, XfrmDatapath, inboundSaLookup, ipRunner, mirrorSaTable, type IpsecDatapath, type Mirror, type SecurityAssociation, type XfrmRunner } from '../ipsec/index.js';
import type { IpsecMode } from '../secagree/index.js';
import type { CarrierMessageInfo, ProtectedCarrier } from '../sip/transport/protected/index.js';

/** The swarm's datapath kinds (`imsec load --datapath`). */
export type SwarmDatapathKind = 'userspace' | 'xfrm';
/** Every {@link SwarmDatapathKind}, for argument checks. */
export const SWARM_DATAPATHS: readonly SwarmDatapathKind[] = ['userspace', 'xfrm'];

/** What the swarm needs of its datapath. */
export interface SwarmDatapath {
  /** The `mod` the UEs offer (RFC 3329 Security-Client, TS 33.203 Annex H). */
  readonly mode: IpsecMode;
  /** The carrier of protected SIP for the UEs of one address. */
  carrier(address: string): ProtectedCarrier;
  /** Resolves when the SAs of these sets are in the datapath (and their ports bound). */
  settled(setIds: Iterable<number>): Promise<void>;
  /** Deletes what it installed and closes its sockets (call after the SA table is cleared). */
  close(): Promise<void>;
}

export interface SwarmDatapathOptions {
  kind: SwarmDatapathKind;
  sa: SaManager;
  rng: Rng;
  log: Logger;
  /** Every protected datagram received, for the swarm to hand to the UE it is for. */
  deliver: (sip: Uint8Array, info: CarrierMessageInfo) => void;
  /** xfrm: the `ip` runner (default: `ip` in this process's namespace, one `ip -batch`). */
  xfrmRunner?: XfrmRunner;
}

function mirrorOf(o: SwarmDatapathOptions, dp: IpsecDatapath): Mirror {
  return mirrorSaTable(o.sa, dp, { onError: (err, sa, op) => o.log.warn({ sa: sa.id, op, err: (err as Error).message }, 'swarm: datapath operation failed') });
}

/** The swarm's datapath of the given kind. */
export function swarmDatapath(o: SwarmDatapathOptions): SwarmDatapath {
  return o.kind === 'xfrm' ? kernelDatapath(o) : userspaceDatapath(o);
}

function userspaceDatapath(o: SwarmDatapathOptions): SwarmDatapath {
  const dp = new UdpEncapDatapath({ rng: o.rng, anyAddress: true });
  dp.onMessage(o.deliver);
  const mirror = mirrorOf(o, dp);
  // Sends go to the shared datapath; deliveries are dispatched by the swarm, not per transport.
  const carrier: ProtectedCarrier = { send: (sip, opts) => dp.send(sip, opts), onMessage: () => undefined };
  return {
    mode: 'UDP-enc-tun',
    carrier: () => carrier,
    settled: async (ids) => {
      for (const id of ids) await mirror.settled(id);
    },
    close: async () => {
      await mirror.idle();
      mirror.stop();
      await dp.close();
    },
  };
}

function kernelDatapath(o: SwarmDatapathOptions): SwarmDatapath {
  const dp = new XfrmDatapath({ runner: o.xfrmRunner ?? ipRunner() });
  const mirror = mirrorOf(o, dp);
  const lookup = inboundSaLookup(o.sa);
  const carriers = new Map<string, KernelSocketCarrier>();
  const carrierOf = (address: string): KernelSocketCarrier => {
    let c = carriers.get(address);
    if (!c) {
      carriers.set(address, (c = new KernelSocketCarrier(address, lookup)));
      c.onMessage(o.deliver);
    }
    return c;
  };
  // Port binds in flight per set: a registration waits for its own set's, nothing else's.
  const portOps = new Map<number, Set<Promise<void>>>();
  const track = (sa: SecurityAssociation, created: boolean): void => {
    const local = sa.direction === 'in' ? sa.dst : sa.src;
    const c = carrierOf(local.address);
    const p = (created ? c.bind(local.port) : c.unbind(local.port)).catch((err: unknown) => o.log.warn({ err: (err as Error).message, port: local.port }, 'swarm: protected port bind failed'));
    let mine = portOps.get(sa.setId);
    if (!mine) portOps.set(sa.setId, (mine = new Set()));
    const set = mine;
    set.add(p);
    void p.then(() => {
      set.delete(p);
      if (set.size === 0 && portOps.get(sa.setId) === set) portOps.delete(sa.setId);
    });
  };
  const off = o.sa.on((e) => {
    if (e.kind === 'saCreated' || e.kind === 'saDeleted') track(e.sa, e.kind === 'saCreated');
  });
  return {
    mode: 'trans',
    carrier: carrierOf,
    settled: async (ids) => {
      for (const id of ids) {
        await mirror.settled(id);
        await Promise.all([...(portOps.get(id) ?? [])]);
      }
    },
    close: async () => {
      await mirror.idle();
      mirror.stop();
      off();
      for (const ops of [...portOps.values()]) await Promise.all([...ops]);
      // The sockets close whatever the kernel says; its error, if any, is the caller's.
      const removed = dp.close();
      await removed.catch(() => undefined);
      for (const c of carriers.values()) await c.close();
      await removed;
    },
  };
}
