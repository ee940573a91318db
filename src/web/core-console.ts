/**
 * The console and metrics of a running core (`imsec core --web`, `imsec demo --web`): the metrics
 * hub's hooks for {@link createImsCore}, then, once the core runs, the live model over its wire
 * tap and the console server. UEs of the same process (the demo's) can be added to the SA tables
 * and the metrics.
 */
import { WireTap } from '../capture/index.js';
import { MetricsHub } from '../metrics/index.js';
import type { ImsCore, ImsCoreDeps } from '../nodes/core/index.js';
import type { Ue } from '../nodes/ue/index.js';
import type { HttpAccess } from './http/index.js';
import { startConsoleServer, type ConsoleServer, type ConsoleServerOptions } from './console-server.js';
import { ConsoleModel } from './live.js';

/**
 * Packets kept for the pcap download: the first 50 000 (about 50 MB at most; later packets
 * still reach the ladder, which keeps its own newest 5000 messages).
 */
export const CONSOLE_MAX_PACKETS = 50_000;

/** The core's deps that feed the metrics hub. */
export function coreInstrumentation(hub: MetricsHub): Pick<ImsCoreDeps, 'instrument'> {
  return { instrument: { hssStore: (s) => hub.wrapStore(s), diameterSink: (node) => hub.diameterSink(node) } };
}

/** Adds every node of a running core to the hub. */
export function addCoreToHub(hub: MetricsHub, core: ImsCore): void {
  hub.addHss(core.hss);
  hub.addScscf(core.scscf);
  hub.addIcscf(core.icscf);
  hub.addPcscf(core.pcscf);
}

export interface CoreConsole {
  readonly server: ConsoleServer;
  readonly model: ConsoleModel;
  /** Shows a UE of this process (its SA table, its metrics under side="ue"). */
  addUe(name: string, ue: Ue): void;
  close(): Promise<void>;
}

/** Starts the console of a running core whose traffic goes to `tap`. */
export async function startCoreConsole(core: ImsCore, o: { tap: WireTap; hub: MetricsHub; listen: { host: string; port: number }; access: HttpAccess }): Promise<CoreConsole> {
  const ues: { owner: string; ue: Ue }[] = [];
  const model = new ConsoleModel({
    tap: o.tap,
    registrations: () => core.scscf.registrations(),
    pcscfRegistrations: () => core.pcscf.registrations(),
    saOwners: () => [{ owner: 'P-CSCF', sets: () => core.pcscf.sets(), on: (l) => core.pcscf.sa.on(l) }, ...ues.map(({ owner, ue }) => ({ owner, sets: () => ue.sa.sets(), on: (l: Parameters<Ue['sa']['on']>[0]) => ue.sa.on(l) }))],
    now: Date.now,
  });
  const server = await serveModel({ listen: o.listen, access: o.access, model, tap: o.tap, hss: core.hss, metrics: o.hub });
  return {
    server,
    model,
    addUe(name, ue) {
      const owner = `UE ${name}`;
      ues.push({ owner, ue });
      model.watch({ sets: () => ue.sa.sets(), on: (l) => ue.sa.on(l) });
      o.hub.addUe(ue);
    },
    async close() {
      await server.close();
      model.close();
    },
  };
}

/** Serves `o.model` (closing it when the server cannot start). */
export async function serveModel(o: ConsoleServerOptions): Promise<ConsoleServer> {
  try {
    return await startConsoleServer(o);
  } catch (err) {
    o.model.close();
    throw err;
  }
}

/** A wire tap sized for the console. */
export function consoleTap(): WireTap {
  return new WireTap({ maxPackets: CONSOLE_MAX_PACKETS });
}
