/**
 * The IMS core in one process (`imsec core`): the configuration of the whole deployment, the
 * subscribers it provisions, and the assembly of the HSS, S-CSCF, I-CSCF and P-CSCF.
 */
export {
  CoreConfigError,
  SECRET_MARK,
  DEFAULT_CORE_DATA_DIR,
  defaultCoreConfig,
  parseCoreConfig,
  parseCoreHostPort,
  coreConfigJson,
  CoreConfigSchema,
  nodeNames,
  hostTable,
  deepMerge,
  nodeConfigInput,
  type CoreConfig,
  type CoreDatapath,
  type CoreHostPort,
  type CoreWiring,
} from './config.js';
export { DEMO_SUBSCRIBERS, demoSubscriber, provisionCoreSubscribers, type CoreSubscriber } from './subscribers.js';
export { createImsCore, tapSipTransports, NODE_LABELS, type ImsCore, type ImsCoreCounters, type ImsCoreDeps, type ImsCoreAddresses } from './assemble.js';
