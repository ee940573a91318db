/**
 * The HTTP edge shared by every web listener (the HSS REST API, the console, /metrics): who may
 * connect (loopback or a token, allowed Host names) and the guard that enforces it on a fastify
 * app. Kept apart from the console so that the HSS can guard its REST API without loading the
 * console, which is built on the nodes.
 */
export { resolveHttpAccess, generateToken, hostNamesFor, hostOfHeader, hostAllowed, tokenMatches, HttpAccessError, MIN_TOKEN_LENGTH, type HttpAccess, type HttpAccessOptions } from './access.js';
export { installGuard, installSecurityHeaders, checkRequest, cookieValue, authOf, Sessions, CONTENT_SECURITY_POLICY, SESSION_COOKIE, type GuardOptions, type Authenticated } from './guard.js';
export { isLoopback } from './loopback.js';
