/**
 * Helpers shared by the IMS nodes: the one node shape ({@link ImsNode}, node.ts), static host resolution of SIP URIs, a bounded XML reader,
 * the RFC 3680 reginfo codec, the TS 29.228 Annex E User-Data reader and the field checks of the
 * node configurations.
 */
export * from './config-fields.js';
export { impuKey, sameImpu } from './identity.js';
export { NodeLifecycle, type ImsNode, type NodeAddress, type NodeEndpoint, type NodeKind, type NodeState, type NodeStatus, type SipAddress } from './node.js';
export { resolveSipUri, resolveHost, SipResolveError, type HostTable } from './resolve.js';
export { parseXml, XmlParseError, localName, attr, childElement, childElements, textOf, escapeXml, DEFAULT_XML_LIMITS, type XmlElement, type XmlLimits } from './xml.js';
export {
  decodeReginfo,
  encodeReginfo,
  formatReginfo,
  REGINFO_NAMESPACE,
  REGINFO_CONTENT_TYPE,
  REGISTRATION_STATES,
  CONTACT_STATES,
  CONTACT_EVENTS,
  type Reginfo,
  type ReginfoRegistration,
  type ReginfoContact,
  type ReginfoContactEvent,
  type ReginfoContactState,
  type ReginfoRegistrationState,
  type ReginfoUnknownParam,
} from './reginfo.js';
export {
  decodeImsSubscription,
  formatImsSubscription,
  publicIdentitiesOf,
  type ImsSubscription,
  type UserDataServiceProfile,
  type UserDataPublicIdentity,
} from './user-data.js';
export { TRUST_DOMAIN_HEADERS, TrustDomain, checkTrustDomain, stripUntrusted, challengeWithoutKeys, stripAkaKeys } from './trust-domain.js';
