/** Diameter codec (RFC 6733 §3–4): message header, AVP framing, data formats, stream framer. Pure. */
export * from './avp.js';
export * from './message.js';
export * from './types.js';
export * from './framer.js';
export * from './peek.js';
