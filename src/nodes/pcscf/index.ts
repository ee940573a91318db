/**
 * The P-CSCF (TS 33.203 §7, TS 24.229 §5.2): sec-agree and IPsec SA life at registration, the
 * SA-table checks on protected traffic, re-registration change-over, reg-event de-registration,
 * terminating privacy. core.ts decides over injected ports; wire.ts runs it on B2's SipStack,
 * C2's SA manager and datapaths and G1's protected transport; config.ts maps the JSON config.
 */
export { PcscfCore, type PcscfCoreOptions, type PcscfSip, type ProtectedPorts } from './core.js';
export { DEREGISTRATION_GRACE_MS } from './state.js';
export { PcscfNode, createPcscf, type PcscfDeps, type PcscfDatapathCounters } from './wire.js';
export {
  DEFAULT_PCSCF_SIP_PORT,
  DEFAULT_PROTECTED_PORTS,
  defaultPcscfConfig,
  describePcscfConfig,
  parseHostPort,
  parsePcscfConfig,
  parsePortRange,
  type HostPort,
  type PcscfConfig,
  type PcscfDatapathKind,
  PcscfConfigSchema,
} from './config.js';
export { PcscfConfigError } from './errors.js';
export {
  SEC_AGREE,
  addRegisterHeaders,
  addSecurityServer,
  akaKeysOf,
  associatedUris,
  classifyUnprotectedRegister,
  contactUriOf,
  credentialsOf,
  grantedExpires,
  optionTagsOf,
  removeAkaKeys,
  requestedExpires,
  secAgreeGate,
  serviceRouteOf,
  setIntegrityProtected,
  stripSecAgree,
  type AkaKeys,
  type RegisterAdditions,
  type SecAgreeGate,
  type UnprotectedRegisterKind,
} from './register-rules.js';
export { applyTerminatingPrivacy, assertIdentity, checkIdentity, claimedIdentities, privacyOf, type IdentityCheck, type PrivacyOutcome } from './identity.js';
export { DIALOG_CREATING, enforceServiceRoute, faceUri, isOwnUri, nextHop, popOwnRoutes, recordRouteTwice, routeList, type SelfId } from './routing.js';
export { buildRegSubscribe, notifyEndsRegistration, regEventOutcome, selfUri, type RegEventOutcome, type RegSubscribeSpec } from './reg-event.js';
export {
  newPcscfCounters,
  pendingKey,
  type PcscfCounters,
  type PcscfFailure,
  type PendingRegistration,
  type PendingState,
  type PendingView,
  type Registration,
  type RegistrationView,
  type RegSubscription,
  type RegistrationEnding,
} from './tables.js';
