/**
 * The I-CSCF (TS 24.229 §5.3): registration routing by UAR (R-REG-1), requests to a user by LIR,
 * S-CSCF selection by capabilities (TS 29.228 §6.7), and topology hiding with the network key Kv
 * (R-HIDE-1; TS 24.229 Rel-5/6 §5.3.3 I-CSCF(THIG)).
 */
export { IcscfConfigError, ThigError, type ThigFailure } from './errors.js';
export { NetworkMatcher, canonicalHost, isIpLiteral, type NetworkSpec } from './network.js';
export { ThigKey, sealThigToken, openThigToken, tokenKind, THIG_TOKEN_VERSION, DEFAULT_MAX_TOKEN_CHARS, type ThigPayload, type HiddenHeader } from './thig-token.js';
export { hideTopology, revealTopology, hasOurTokens, DEFAULT_HIDDEN_HEADERS, type ThigPolicy, type HideOptions, type ThigResult } from './thig.js';
export { rankScscfs, sameServer, type ScscfEntry } from './select.js';
export { registrationDecision, locationDecision, type CxOutcome, type RoutingDecision } from './cx-decisions.js';
export { registerQuery, targetIdentity, publicIdentityOf, derivedImpi, RequestInfoError, type RegisterQuery } from './request-info.js';
export { IcscfCore, type ForwardHooks, type IcscfPorts, type IcscfCoreOptions, type IcscfCounters, type Source } from './core.js';
export { defaultIcscfConfig, parseIcscfConfig, describeIcscfConfig, parseHostPort, DEFAULT_ICSCF_SIP_PORT, type IcscfConfig, type IcscfThigConfig, type HostPort, IcscfConfigSchema } from './config.js';
export { createIcscf, type Icscf, type IcscfDeps, type IcscfStatus } from './wire.js';
