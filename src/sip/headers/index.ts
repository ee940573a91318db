/**
 * Typed header codecs: each `parseX(value)` reads a raw header value (tolerant of any LWS and
 * case the grammar allows) and `formatX(v)` writes the canonical form; parse → format → parse
 * is stable and canonical text round-trips exactly. Accessors read typed values from a message.
 */
export { SipParams, quote, unquote } from './params.js';
export { Scanner, parseList, parseOne } from './scanner.js';
export { parseUri, formatUri, unescapeUri, escapeUser, escapeParam, uriEquals, formatHostPort, sipUri } from './uri.js';
export type { Uri, SipUri, TelUri, AbsoluteUri } from './uri.js';
export { parseNameAddr, parseNameAddrList, formatNameAddr, formatNameAddrList, scanNameAddr } from './name-addr.js';
export type { NameAddr } from './name-addr.js';
export { parseVia, parseViaList, formatVia, formatViaList, viaBranch, viaRport, viaReceived, BRANCH_MAGIC } from './via.js';
export type { Via } from './via.js';
export { parseContact, formatContact, contactExpires, contactQ, contactInstance, contactRegId } from './contact.js';
export type { Contact, ContactList } from './contact.js';
export {
  parseCSeq, formatCSeq, parseCallId, formatCallId, parseMaxForwards, formatMaxForwards, parseExpires, formatExpires,
  parseOptionTags, formatOptionTags, parseAllow, formatAllow, parseSipDate, formatSipDate, parsePrivacy, formatPrivacy,
} from './simple.js';
export type { CSeq } from './simple.js';
export {
  parseRoute, formatRoute, parseRecordRoute, formatRecordRoute, parsePath, formatPath, parseServiceRoute, formatServiceRoute,
  parsePAssociatedUri, formatPAssociatedUri, parsePAssertedIdentity, formatPAssertedIdentity, parsePPreferredIdentity, formatPPreferredIdentity,
} from './routing.js';
export {
  parsePVisitedNetworkId, formatPVisitedNetworkId, parsePAccessNetworkInfo, formatPAccessNetworkInfo, parsePChargingVector, formatPChargingVector,
} from './ims.js';
export type { VisitedNetworkId, AccessNetworkInfo } from './ims.js';
export {
  parseEvent, formatEvent, parseSubscriptionState, formatSubscriptionState, parseContentType, formatContentType, mediaType, parseWarning, formatWarning,
  parseRetryAfter, formatRetryAfter,
} from './misc.js';
export type { EventHeader, SubscriptionState, ContentType, Warning, RetryAfter } from './misc.js';
export {
  topVia, viasOf, branchOf, cseqOf, callIdOf, fromOf, toOf, fromTag, toTag, maxForwardsOf, expiresOf, contactsOf, contentTypeOf, routesOf,
} from './accessors.js';
export {
  wwwAuthenticateOf, proxyAuthenticateOf, authorizationOf, proxyAuthorizationOf, authenticationInfoOf,
  securityClientOf, securityServerOf, securityVerifyOf,
} from './security.js';
// The codecs themselves, owned by their protocols, re-exported for SIP users.
export {
  parseDigestChallenge, formatDigestChallenge, parseDigestCredentials, formatDigestCredentials,
  parseAuthenticationInfo, formatAuthenticationInfo, DigestParseError,
} from '../../auth/index.js';
export type { DigestChallenge, DigestCredentials, AuthenticationInfo } from '../../auth/index.js';
export { parseSecurityMechanisms, formatSecurityMechanisms, formatSecMechanism, SecAgreeParseError } from '../../secagree/index.js';
export type { SecMechanism } from '../../secagree/index.js';
