/**
 * HTTP Digest for SIP: RFC 2617 / RFC 7616 computation, Digest AKAv1-MD5 (RFC 3310) and
 * AKAv2-MD5 (RFC 4169), and the pure header codecs for WWW-Authenticate, Proxy-Authenticate,
 * Authorization, Proxy-Authorization (RFC 3261 §25.1, TS 24.229 §7.2A) and Authentication-Info.
 * Depends only on src/common.
 */
export { DigestParseError } from './errors.js';
export { type AuthParam, isToken, quoteString, parseAuthParamList } from './auth-params.js';
export {
  DIGEST_ALGORITHMS,
  type DigestAlgorithm,
  isDigestAlgorithm,
  canonicalAlgorithm,
  INTEGRITY_PROTECTED_VALUES,
  type IntegrityProtected,
} from './values.js';
export { type DigestChallenge, parseDigestChallenge, formatDigestChallenge, withoutAkaKeys } from './challenge.js';
export { type DigestCredentials, parseDigestCredentials, formatDigestCredentials } from './credentials.js';
export { type AuthenticationInfo, parseAuthenticationInfo, formatAuthenticationInfo } from './authentication-info.js';
export { type DigestInput, digestHA1, digestHA2, digestResponse, verifyDigestResponse, digestRspauth } from './response.js';
export { type AkaNonce, akaPassword, buildAkaNonce, parseAkaNonce, parseAuts, formatAuts } from './aka.js';
