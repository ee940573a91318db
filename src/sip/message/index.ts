/** SIP message model: requests, responses, header fields, limits and errors (RFC 3261 §7). */
export { SipRequest, SipResponse, EMPTY_BODY, isRequest, isResponse, cloneMessage, messagesEqual } from './message.js';
export type { SipMessage, MessageProtection } from './message.js';
export { SipHeaders, COMPACT_FORMS, LIST_HEADERS, headerKey, isListHeader, splitList } from './sip-headers.js';
export type { SipHeaderEntry } from './sip-headers.js';
export { SipParseError, SipLimitError } from './errors.js';
export { DEFAULT_SIP_LIMITS, resolveLimits } from './limits.js';
export type { SipLimits } from './limits.js';
export { createResponse } from './response.js';
export type { CreateResponseOptions } from './response.js';
export { REASON_PHRASES, reasonPhrase } from './reason-phrases.js';
export { badField, checkRequest, parseFailureAnswer, validateCore, validateMessage, CORE_HEADERS, SINGLE_HEADERS, KNOWN_METHODS } from './check.js';
export type { CheckRequestOptions, RequestCheckFailure } from './check.js';
// The wire format, re-exported here for layers that import the model from this folder
// (same bindings as ../parser/index.js).
export { parseMessage, serializeMessage, SipStreamFramer } from '../parser/index.js';
export type { SipFramerOptions } from '../parser/index.js';
