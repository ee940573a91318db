/**
 * The IMS nodes as library objects (`imsec/nodes`): each is built from its configuration, started,
 * inspected and stopped in code, as the `imsec` commands do (README "The network and its
 * commands"). `startImsCore` assembles HSS, S-CSCF, I-CSCF and P-CSCF in one process.
 */
export { createPcscf, parsePcscfConfig, defaultPcscfConfig, PcscfNode, type PcscfConfig, type PcscfDeps } from './pcscf/index.js';
export { createIcscf, parseIcscfConfig, type Icscf, type IcscfDeps, type IcscfConfig } from './icscf/index.js';
export { createScscf, parseScscfConfig, type Scscf, type ScscfDeps, type ScscfConfig } from './scscf/index.js';
export { HssServer, type HssServerOptions } from './hss/index.js';
export { createUe, parseUeConfig, type Ue, type UeDeps, type UeConfig, type UeConfigInput } from './ue/index.js';
export { startImsCore, parseCoreConfig, type ImsCore, type ImsCoreDeps, type CoreConfig } from './core/index.js';
