export * from './common/index.js';
// The logger is not in imsec/common (it would load pino into every codec); the package root has it.
export * from './common/log.js';
