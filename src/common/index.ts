export * from './errors.js';
export * from './bytes.js';
export * from './clock.js';
export * from './rng.js';
export * from './log.js';
