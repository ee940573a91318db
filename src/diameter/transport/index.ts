/** Diameter transports: TCP (node:net) and an in-memory one for tests. */
export * from './types.js';
export * from './tcp.js';
export * from './memory.js';
