export * from './errors.js';
export * from './bytes.js';
export * from './clock.js';
export * from './rng.js';
export * from './transforms.js';
export * from './strings.js';
export * from './deadlines.js';
export * from './multimap.js';
// The logger interface and the no-op logger are pure; pino, the I/O edge of common, is in
// './log.js' (createLogger), so that whatever imports common loads no logging library.
export { noopLogger, type Logger, type LogFn } from './logger.js';
