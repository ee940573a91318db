/**
 * The IMS nodes as library objects (`imsec/nodes`), all of one shape ({@link ImsNode},
 * common/node.ts): `create…(config, deps)` builds a node unstarted, `start()` binds it,
 * `status()`, `address()` and `counters()` inspect it, `stop()` (idempotent) closes it — as the
 * `imsec` commands do (README "The network and its commands"). `createImsCore` assembles HSS,
 * S-CSCF, I-CSCF and P-CSCF in one process, in the same shape.
 */
export { NodeLifecycle, type ImsNode, type NodeAddress, type NodeEndpoint, type NodeKind, type NodeState, type NodeStatus, type SipAddress } from './common/index.js';
export { createPcscf, parsePcscfConfig, defaultPcscfConfig, type PcscfNode, type PcscfConfig, type PcscfCounters, type PcscfDeps } from './pcscf/index.js';
export { createIcscf, parseIcscfConfig, type Icscf, type IcscfCounters, type IcscfDeps, type IcscfConfig } from './icscf/index.js';
export { createScscf, parseScscfConfig, type Scscf, type ScscfCounters, type ScscfDeps, type ScscfConfig } from './scscf/index.js';
export { createHss, parseHssConfig, type HssServer, type HssCounters, type HssDeps, type HssConfig } from './hss/index.js';
export { createUe, parseUeConfig, type Ue, type UeCounters, type UeDeps, type UeConfig, type UeConfigInput } from './ue/index.js';
export { createImsCore, parseCoreConfig, type ImsCore, type ImsCoreCounters, type ImsCoreDeps, type CoreConfig } from './core/index.js';
