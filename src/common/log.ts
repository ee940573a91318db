/**
 * Structured logging (pino). Secrets never reach a log line: every key named like a secret is
 * censored at any depth up to three levels, and code must not format secrets into messages.
 */
import { pino, type Logger as PinoLogger } from 'pino';
import { noopLogger, type Logger } from './logger.js';

export type { Logger } from './logger.js';
export type { PinoLogger };

/** Field names whose values are secret material (TS 33.203: K, OP, OPc, CK, IK and derived keys). */
export const SECRET_KEYS = ['k', 'op', 'opc', 'ck', 'ik', 'key', 'keys', 'ki', 'password', 'xres', 'res', 'kv'];

const redactPaths = SECRET_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]);

export interface LogOptions {
  level?: string;
  /** Destination stream; defaults to stderr so stdout stays free for JSON output. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(name: string, opts: LogOptions = {}): PinoLogger {
  return pino(
    { name, level: opts.level ?? process.env.IMSEC_LOG_LEVEL ?? 'info', redact: { paths: redactPaths, censor: '[secret]' } },
    (opts.destination ?? process.stderr) as pino.DestinationStream,
  );
}

/** A logger that drops everything: {@link noopLogger} (common/logger.ts), which loads no pino. */
export const silentLogger: Logger = noopLogger;
