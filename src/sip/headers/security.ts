/**
 * Typed accessors for the authentication and sec-agree header fields, whose codecs live with
 * their protocols: Digest (RFC 3261 §22, §25.1; RFC 3310; TS 24.229 §7.2A.1) in
 * src/auth/digest and Security-Client / -Server / -Verify (RFC 3329 §2.2, TS 33.203 Annex H)
 * in src/secagree. Those codecs throw their own typed errors (`DIGEST_PARSE`,
 * `SECAGREE_PARSE`), which these accessors let through.
 */
import type { SipMessage } from '../message/message.js';
import {
  parseAuthenticationInfo, parseDigestChallenge, parseDigestCredentials,
  type AuthenticationInfo, type DigestChallenge, type DigestCredentials,
} from '../../auth/index.js';
import { parseSecurityMechanisms, type SecMechanism } from '../../secagree/index.js';

/** Each WWW-Authenticate field is one challenge (the field is not a comma list). */
export function wwwAuthenticateOf(msg: SipMessage): DigestChallenge[] {
  return msg.headers.getLines('WWW-Authenticate').map(parseDigestChallenge);
}

export function proxyAuthenticateOf(msg: SipMessage): DigestChallenge[] {
  return msg.headers.getLines('Proxy-Authenticate').map(parseDigestChallenge);
}

/** Each Authorization field is one set of credentials (one per realm). */
export function authorizationOf(msg: SipMessage): DigestCredentials[] {
  return msg.headers.getLines('Authorization').map(parseDigestCredentials);
}

export function proxyAuthorizationOf(msg: SipMessage): DigestCredentials[] {
  return msg.headers.getLines('Proxy-Authorization').map(parseDigestCredentials);
}

export function authenticationInfoOf(msg: SipMessage): AuthenticationInfo | undefined {
  const v = msg.headers.get('Authentication-Info');
  return v === undefined ? undefined : parseAuthenticationInfo(v);
}

/** Security-Client mechanisms across all its fields, in order (RFC 3329 §2.2). */
export function securityClientOf(msg: SipMessage): SecMechanism[] {
  return msg.headers.getLines('Security-Client').flatMap(parseSecurityMechanisms);
}

export function securityServerOf(msg: SipMessage): SecMechanism[] {
  return msg.headers.getLines('Security-Server').flatMap(parseSecurityMechanisms);
}

export function securityVerifyOf(msg: SipMessage): SecMechanism[] {
  return msg.headers.getLines('Security-Verify').flatMap(parseSecurityMechanisms);
}
