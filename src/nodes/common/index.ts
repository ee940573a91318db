/**
 * Helpers shared by the IMS nodes: the one node shape ({@link ImsNode}, node.ts), static host
 * resolution of SIP URIs, the trust domain and the field checks of the node configurations. The
 * XML bodies they exchange are codecs of their protocols: sip/reginfo/ and diameter/cx/ (on xml/).
 */
export * from './config-fields.js';
export { impuKey, sameImpu } from './identity.js';
export { NodeLifecycle, type ImsNode, type NodeAddress, type NodeEndpoint, type NodeKind, type NodeState, type NodeStatus, type SipAddress } from './node.js';
export { resolveSipUri, resolveHost, SipResolveError, type HostTable } from './resolve.js';
export { TRUST_DOMAIN_HEADERS, TrustDomain, checkTrustDomain, stripUntrusted, challengeWithoutKeys, stripAkaKeys } from './trust-domain.js';
