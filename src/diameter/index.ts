/**
 * imsec/diameter: the Diameter base protocol (RFC 6733, RFC 3539 watchdog) and the Cx/Dx
 * application (3GPP TS 29.228/29.229).
 *
 * - codec: message/AVP encode and decode, data formats, TCP framer (pure)
 * - dictionary: base and Cx AVPs as typed data; `avp(name, value)`, `getValue(avps, name)`
 * - cx: typed builders/parsers for UAR/UAA, SAR/SAA, LIR/LIA, MAR/MAA, RTR/RTA, PPR/PPA
 * - peer: peer state machine, watchdog, CER/CEA, DWR/DWA, DPR/DPA, ids, routing, DiameterNode
 * - transport: TCP and in-memory transports
 */
export * from './errors.js';
export * from './codec/index.js';
export * from './dictionary/index.js';
export * from './cx/index.js';
export * from './peer/index.js';
export * from './transport/index.js';
