/**
 * imsec/diameter: the Diameter base protocol (RFC 6733, RFC 3539 watchdog) and the Cx/Dx
 * application (3GPP TS 29.228/29.229).
 *
 * - codec: message/AVP encode and decode, data formats, TCP framer (pure)
 * - dictionary: base and Cx AVPs as typed data; `avp(name, value)`, `getValue(avps, name)`
 * - cx: typed builders/parsers for UAR/UAA, SAR/SAA, LIR/LIA, MAR/MAA, RTR/RTA, PPR/PPA
 * - peer: peer state machine, watchdog, CER/CEA, DWR/DWA, DPR/DPA, ids, routing (pure)
 * - transport: the transport interface and an in-memory transport
 *
 * All of it is pure; the DiameterNode driver and the TCP transport (node:net) are the layer's
 * I/O entry, diameter/io.ts.
 */
export * from './errors.js';
export * from './codec/index.js';
export * from './dictionary/index.js';
export * from './cx/index.js';
export * from './peer/ids.js';
export * from './peer/base-messages.js';
export * from './peer/psm.js';
export * from './peer/watchdog.js';
export * from './peer/router.js';
export * from './peer/error-answer.js';
export * from './peer/node-options.js';
export * from './peer/serve.js';
export * from './transport/types.js';
export * from './transport/memory.js';
