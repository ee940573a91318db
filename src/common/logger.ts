/**
 * The logger every module takes by injection: the few methods the code calls, so that a pino
 * logger (common/log.ts, the I/O edge) fits, and so does {@link noopLogger}, the library default,
 * which loads no logging library. Pure: importing this loads nothing.
 */

/** One level's method: a merging object and a message, or a message alone (pino's call shapes). */
export interface LogFn {
  (obj: object, msg?: string): void;
  (msg: string): void;
}

/** A structured logger (the subset of pino's that imsec uses). */
export interface Logger {
  /** The lowest level written ('silent': none). */
  level: string;
  silent: LogFn;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger whose lines carry `bindings` as well. */
  child(bindings: Record<string, unknown>): Logger;
  isLevelEnabled(level: string): boolean;
}

const drop: LogFn = () => undefined;

/** A logger that drops everything (the library default when none is injected). */
export const noopLogger: Logger = {
  level: 'silent',
  silent: drop,
  trace: drop,
  debug: drop,
  info: drop,
  warn: drop,
  error: drop,
  fatal: drop,
  child: () => noopLogger,
  isLevelEnabled: () => false,
};
