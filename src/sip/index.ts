/**
 * SIP: message model, parser/serializer, stream framer, typed header codecs and the semantic
 * checks a server element makes (RFC 3261; RFC 4475 torture tests). Transport and transaction
 * layers live in ./transport and ./transaction.
 */
export * from './message/index.js';
export * from './parser/index.js';
export * from './headers/index.js';
export * from './reginfo/index.js';
// The pure address helpers of the transport layer (no socket code).
export { canonicalAddress, endpointKey, formatEndpoint, hostForHeader, ipFamily } from './transport/endpoint.js';
