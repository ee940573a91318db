export * from './errors.js';
export * from './bytes.js';
export * from './clock.js';
export * from './rng.js';
export * from './transforms.js';
// The logger (pino) is the I/O edge of common: import it from './log.js'. Only its type is here,
// so that whatever imports common loads no logging library.
export type { Logger } from './log.js';
