/**
 * The soft UE as an {@link ImsNode} (README "The network and its commands"): built unstarted by
 * {@link createUe}, its sockets opened by `start()` (wire.ts {@link openUe}), closed by `stop()`
 * (every SA deleted). The procedures (register, re-register, MESSAGE, …) are those of the open UE
 * and need a started node.
 *
 * ```ts
 * const ue = createUe(parseUeConfig({ impi, impu, k, op, pcscf: '127.0.0.1:5060' }));
 * await ue.start();
 * await ue.register();   // IMS AKA, sec-agree, SAs (R-SM-1..6)
 * ue.address();          // { sip: { address, port, protocols }, protectedServer: { address, port } }
 * await ue.stop();
 * ```
 */
import { systemClock } from '../../common/index.js';
import { NodeLifecycle, type ImsNode, type NodeEndpoint, type NodeStatus, type SipAddress } from '../common/index.js';
import type { UeConfig } from './config.js';
import { UeError } from './errors.js';
import { openUe, type OpenUe, type UeDeps } from './wire.js';

/** The UE's counters: drops by the port rule (R-SA-5) and by hooks, datapath counters when userspace. */
export type UeCounters = ReturnType<OpenUe['counters']>;

/** The soft UE node (TS 24.229 §5.1 for one IMPI/IMPU over IMS AKA + IPsec). */
export interface Ue extends ImsNode<UeCounters>, Omit<OpenUe, 'stop' | 'counters' | 'addresses'> {
  readonly kind: 'ue';
  /** The unprotected SIP endpoint and the protected server endpoint (port_us), as bound. */
  address(): { sip: SipAddress; protectedServer: NodeEndpoint };
  status(): NodeStatus;
}

/** Builds a UE from its configuration; nothing is bound until `start()`. */
export function createUe(config: UeConfig, deps: UeDeps = {}): Ue {
  const life = new NodeLifecycle('ue', deps.clock ?? systemClock);
  let ue: OpenUe | undefined;
  const open = (): OpenUe => {
    if (!ue) throw new UeError('stopped', `the UE is ${life.state === 'created' ? 'not started' : life.state}`);
    return ue;
  };
  return {
    kind: 'ue',
    async start() {
      life.begin();
      ue = await openUe(config, deps);
      life.running();
    },
    stop: () => life.stop(async () => ue?.stop()),
    status: () => life.status(),
    address() {
      const a = open().addresses();
      return { sip: { ...a.unprotected, protocols: ['udp'] }, protectedServer: a.protectedServer };
    },
    counters: () => open().counters(),
    register: () => open().register(),
    reRegister: () => open().reRegister(),
    deregister: () => open().deregister(),
    subscribeRegEvent: () => open().subscribeRegEvent(),
    sendMessage: (to, text, contentType) => open().sendMessage(to, text, contentType),
    onMessage: (cb) => open().onMessage(cb),
    onIncomingRequest: (cb) => open().onIncomingRequest(cb),
    onStateChange: (cb) => open().onStateChange(cb),
    saTable: () => open().saTable(),
    state: () => open().state(),
    get sa() {
      return open().sa;
    },
    get datapath() {
      return open().datapath;
    },
  };
}
