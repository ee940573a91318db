/** Diameter dictionaries as typed data: RFC 6733 base, TS 29.229 Cx; typed AVP build/read helpers. */
export * from './spec.js';
export * from './base.js';
export * from './cx.js';
export * from './registry.js';
export * from './result.js';
export * from './reader.js';
