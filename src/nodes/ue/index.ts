/**
 * The soft UE (TS 24.229 §5.1, TS 33.203 §6–§7): ISIM, IMS AKA registration with sec-agree and
 * IPsec SAs, re-registration and SA change-over, reg-event (subscription refreshed, new
 * registration after "deactivated"), protected MESSAGE.
 */
export { openUe, type OpenUe, type UeDeps } from './wire.js';
export { createUe, type Ue, type UeCounters } from './node.js';
export { parseUeConfig, parseHostPort, UE_DEFAULTS, UeConfigSchema, type UeConfig, type UeConfigInput, type UeDatapathKind, type UeTransportKind, type ReRegisterPolicy } from './config.js';
export { UeCore, type UeCoreConfig, type UeCorePorts, type UeRegState, type UeRegistration, type UeSnapshot, type UeIncomingMessage, type UeIncomingRequest } from './core.js';
export { UeError, type UeFailureReason } from './errors.js';
export { SoftIsim, memorySqnStore, type SqnStore } from './isim.js';
export { fileSqnStore } from './sqn-file.js';
export { decideIncoming, type IncomingDecision, type IncomingEffect } from './incoming.js';
export { RegEventSubscription, type RegSubscriptionHost, type RegSubscriptionState, type SubscribeParts } from './reg-subscription.js';
export { FilteredTransport, type UeHooks, type HookInfo } from './filtered-transport.js';
export {
  analyzeChallenge,
  decideGranted,
  decideOnNotify,
  reRegisterDelayMs,
  acceptOnUnprotectedPort,
  uriNamesEndpoint,
  type ChallengeOutcome,
  type ChallengeIsim,
  type Granted,
  type NotifyOutcome,
} from './decide.js';
export {
  buildRegister,
  buildSubscribe,
  buildMessage,
  routeSet,
  endpointUri,
  initialCredentials,
  challengeResponse,
  syncFailureCredentials,
  macFailureCredentials,
  type UeIdentity,
  type RequestIds,
  type RegisterSpec,
  type RoutedSpec,
} from './requests.js';
