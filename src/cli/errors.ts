/**
 * CLI failure handling: one clear line on stderr, a non-zero exit, never a stack trace.
 * Exit 2 for bad usage or arguments, 1 for a failed operation.
 */
import { ImsError, InvalidArgumentError } from '../common/index.js';

/** Thrown by command actions for an operation that failed (exit 1), e.g. a bad MAC-S on resync. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

export function exitCodeFor(err: unknown): number {
  if (err instanceof CliFailure) return err.exitCode;
  if (err instanceof InvalidArgumentError) return 2;
  if (err instanceof ImsError && err.code === 'CONFIG') return 2;
  return 1;
}

export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0];
  return String(err);
}
