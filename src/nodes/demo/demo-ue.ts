/**
 * A soft UE as the demo drives it (TS 24.229 §5.1 through src/nodes/ue): in the demo's own
 * process (`imsec demo`, userspace ESP-in-UDP), or in another network namespace behind a pipe
 * (`imsec demo --datapath xfrm`: the UE's kernel SAs must not share a kernel with the
 * P-CSCF's). Every call is asynchronous so that both look the same to the scenario. What
 * crosses the pipe is {@link DemoSaRow}: an SA without its keys.
 */
import type { Endpoint } from '../../ip/index.js';
import type { SecurityAssociation } from '../../ipsec/sa/index.js';
import type { CoreSubscriber } from '../core/index.js';
import type { Ue, UeConfigInput, UeRegState } from '../ue/index.js';

/** One row of an SA table (TS 33.203 §7.1), keys left out. */
export type DemoSaRow = Pick<SecurityAssociation, 'setId' | 'flow' | 'direction' | 'spi' | 'src' | 'dst' | 'integrity' | 'encryption' | 'mode' | 'impi' | 'state'>;

/** What a registration (initial or re-registration) gave the UE. */
export interface DemoRegistration {
  impus: string[];
  expires: number;
  setId: number;
  alg: string;
  ealg: string;
  mod: string;
}

/** The UE's state and SA table at one moment. */
export interface DemoUeSnapshot {
  state: UeRegState;
  setId?: number;
  sas: DemoSaRow[];
}

/** See the module comment. */
export interface DemoUe {
  addresses(): { unprotected: Endpoint; protectedServer: Endpoint };
  register(): Promise<DemoRegistration>;
  reRegister(): Promise<DemoRegistration>;
  deregister(): Promise<void>;
  sendMessage(to: string, text: string): Promise<{ status: number; reason: string }>;
  /** The text of the next MESSAGE that arrives from now on (rejects after `timeoutMs`). */
  nextMessage(timeoutMs: number): Promise<string>;
  snapshot(): Promise<DemoUeSnapshot>;
  stop(): Promise<void>;
}

/**
 * The configuration of a demo UE for subscriber `u`: its first IMPU, registered for an hour,
 * re-registering and subscribing only when the demo says so. `more` adds to it (datapath, offer).
 */
export function demoUeConfig(u: CoreSubscriber, pcscf: string, localAddress: string, more: Partial<UeConfigInput> = {}): UeConfigInput {
  return {
    impi: u.impi,
    impu: u.impus[0],
    k: u.k,
    ...(u.op !== undefined ? { op: u.op } : { opc: u.opc }),
    ...(u.amf !== undefined ? { amf: u.amf } : {}),
    pcscf,
    localAddress,
    expires: 3600,
    reRegister: { auto: false },
    subscribeRegEvent: false,
    ...more,
  };
}

/** The keyless row of an SA. */
export function saRow(sa: DemoSaRow): DemoSaRow {
  const { setId, flow, direction, spi, src, dst, integrity, encryption, mode, impi, state } = sa;
  return { setId, flow, direction, spi, src, dst, integrity, encryption, mode, impi, state };
}

/** The fields of a registration the demo shows. */
export function demoRegistration(r: DemoRegistration): DemoRegistration {
  return { impus: r.impus, expires: r.expires, setId: r.setId, alg: r.alg, ealg: r.ealg, mod: r.mod };
}

/** Resolves with the text of the next MESSAGE `ue` receives; rejects after `timeoutMs`. */
export function nextMessageOf(ue: Ue, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no MESSAGE within ${timeoutMs} ms`));
    }, timeoutMs);
    const off = ue.onMessage((m) => {
      clearTimeout(timer);
      off();
      resolve(m.text);
    });
  });
}

/** The snapshot of a UE of this process. */
export function snapshotOf(ue: Ue): DemoUeSnapshot {
  const s = ue.state();
  return { state: s.state, ...(s.registration ? { setId: s.registration.setId } : {}), sas: ue.sa.sas().map(saRow) };
}

/** A UE of this process as a {@link DemoUe}. */
export function localDemoUe(ue: Ue): DemoUe {
  return {
    addresses: () => {
      const a = ue.address();
      return { unprotected: { address: a.sip.address, port: a.sip.port }, protectedServer: a.protectedServer };
    },
    register: async () => demoRegistration(await ue.register()),
    reRegister: async () => demoRegistration(await ue.reRegister()),
    deregister: () => ue.deregister(),
    sendMessage: async (to, text) => {
      const r = await ue.sendMessage(to, text);
      return { status: r.status, reason: r.reason };
    },
    nextMessage: (ms) => nextMessageOf(ue, ms),
    snapshot: () => Promise.resolve(snapshotOf(ue)),
    stop: () => ue.stop(),
  };
}
