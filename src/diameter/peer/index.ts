/** Diameter peers (RFC 6733 §5, RFC 3539): state machine, watchdog, CER/DWR/DPR, ids, routing, and the DiameterNode driver. */
export * from './ids.js';
export * from './base-messages.js';
export * from './psm.js';
export * from './watchdog.js';
export * from './router.js';
export * from './error-answer.js';
export * from './node-options.js';
export * from './serve.js';
export * from './node.js';
