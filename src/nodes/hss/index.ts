/**
 * The HSS (TS 29.228 §6, TS 29.229): Cx procedure handlers over the HSS store (core.ts; MAR in
 * mar.ts, SAR in sar.ts, what they share in cx-context.ts), the
 * IMS subscription User-Data (user-data.ts), HSS-initiated RTR/PPR (initiated.ts), the running
 * node with its Diameter and REST listeners (wire.ts, rest-operator.ts), its configuration
 * (config.ts), group commit of SQN allocations and registration state (group-commit.ts), and subscriber provisioning (provisioning.ts, provisioning-import.ts, rest.ts).
 */
export { HssCore, chooseScheme, type HssCoreOptions, type HssCounters } from './core.js';
export { buildUserData, hasUnregisteredServices, profileBody, xmlEscape, type ProfileSet } from './user-data.js';
export { HssInitiated, REASON_CODES, type CxSender, type DeregisterTarget, type HssInitiatedOptions, type InitiatedResult } from './initiated.js';
export { GroupCommit, RegistrationBatcher, SqnBatcher, type GroupCommitOptions, type GroupCommitStats } from './group-commit.js';
export { HssServer, createHss, type HssDeps, type HssStatus, type RestFactory, type RestListener } from './wire.js';
export { fastifyRest, fastifyRestWith, registerOperatorRoutes, type RestAccessSettings } from './rest-operator.js';
export {
  DEFAULT_DATA_DIR, DEFAULT_DIAMETER_PORT, DEFAULT_MAX_AUTH_ITEMS, DEFAULT_REST_PORT, HssConfigError,
  defaultHostIps, defaultHssConfig, describeConfig, parseHostPort, parseHssConfig, type HostPort, type HssConfig, type HssPeer,
  HssConfigSchema,
} from './config.js';
export * from './provisioning.js';
export { ImportError, detectFormat, importSubscribers, parseImportFile, type ImportFormat, type ImportRow } from './provisioning-import.js';
export { createHssRestApi, setupHssRest, hssRestServerOptions, buildOpenApi, type HssRestOptions } from './rest.js';
