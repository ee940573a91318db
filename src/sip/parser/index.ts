/** SIP wire format: datagram parser, serializer and stream framer (RFC 3261 §7, §18.3, §25). */
export { parseMessage, isSipVersion } from './parse-message.js';
export { serializeMessage, serializedLength } from './serialize.js';
export { SipStreamFramer } from './framer.js';
export type { SipFramerOptions } from './framer.js';
