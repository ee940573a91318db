/** The SIP stack the IMS nodes build on: transports + transactions + ids + the proxy core (RFC 3261 §8, §16, §17, §18). */
export { SipStack, withoutTopVia } from './sip-stack.js';
export type { SipStackOptions, RequestContext, RequestHandler, SendRequestOptions, StackCounters } from './sip-stack.js';
export { SipTimeoutError } from './errors.js';
export { newBranch, newTag, newCallId } from './ids.js';
export { ProxyCore, ProxyContext } from './proxy-core.js';
export type { ForwardHooks, ProxyCoreOptions, ProxyPorts, Upstream } from './proxy-core.js';
export { bestResponse, cancelFor, proxyCopy, responseRank } from './proxy-branches.js';
export type { BranchCancel, BranchState, ProxyBranch } from './proxy-branches.js';
