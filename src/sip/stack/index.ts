/** The SIP stack the IMS nodes build on: transports + transactions + ids (RFC 3261 §8, §16.6, §17, §18). */
export { SipStack, withoutTopVia } from './sip-stack.js';
export type { SipStackOptions, RequestContext, RequestHandler, SendRequestOptions, StackCounters } from './sip-stack.js';
export { SipTimeoutError } from './errors.js';
export { newBranch, newTag, newCallId } from './ids.js';
