/**
 * The S-CSCF (TS 24.229 §5.4): registrar with IMS AKA (TS 33.203 §6.1), reg-event notifier
 * (RFC 3680), routing between users, persistence through the registrar store, and the process
 * wiring (`imsec scscf`).
 */
export { createScscf, type Scscf, type ScscfDeps } from './wire.js';
export { ScscfCore, type ScscfCoreDeps, type ScscfCounters, type RequestOutcome } from './core.js';
export {
  parseScscfConfig,
  defaultScscfConfig,
  describeScscfConfig,
  parseHostPort,
  ScscfConfigError,
  type ScscfConfig,
  type RegistrarPolicy,
  type RegEventPolicy,
  type ScscfAuthScheme,
  ScscfConfigSchema,
} from './config.js';
export { DiameterCxClient, answerCxRequest, type CxPort, type MarRequest, type MarResult, type SarRequest, type SarResult, type CxServerHandlers, type CxFailureKind } from './cx-client.js';
export { Registrar, type RegistrarCounters, type RegisterSource, type NotifySubscribers } from './registrar.js';
export { implicitSet } from './implicit-set.js';
export { RegEventNotifier, reginfoOf, type RegSubscription } from './reg-event.js';
export { routeRequest, servedUser, type RouteDecision, type RoutingContext } from './routing.js';
export { VectorQueue, type HeldVector } from './vectors.js';
export { challengeFor, verifyChallengeResponse, integrityOf, credentialsOf, derivePrivateIdentity, akaAlgorithm, versionOfScheme, type PendingChallenge, type Integrity } from './auth.js';
export { applyContacts, checkMinExpires, expireBindings, shortenBindings, contactHeaderValues, preferredBinding, type BindingChange, type ContactRequest } from './bindings.js';
export { RegistrationTable, KeyedLock } from './table.js';
export { branchTagOf, ownerOf, workerOfAor, workerOfBranch, workerOfKey } from './affinity.js';
export { WorkerRelay } from './relay.js';
