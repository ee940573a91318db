/**
 * Shared data: the published vectors and real captures in ../shared/vectors, relative to the
 * repository root (not copied into the repository). A missing file fails the test under CI
 * (CI=true) and skips it loudly elsewhere, as {@link needPeer} does for programs.
 *
 * At module level, {@link sharedFile} (or {@link sharedJson}) gives the file and a `skip` option
 * for `describe`/`test`; inside a running test, {@link needShared} works like `needPeer`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { repoRoot } from './paths.js';

/** ../shared/vectors, relative to the repository root. */
export const sharedVectorsRoot = join(repoRoot, '..', 'shared', 'vectors');

/** The path of a shared vector file (`sharedVectorPath('rfc4475', 'mpart01.dat')`). */
export function sharedVectorPath(...parts: string[]): string {
  return join(sharedVectorsRoot, ...parts);
}

function missing(parts: string[]): string | undefined {
  if (existsSync(sharedVectorPath(...parts))) return undefined;
  const why = `../shared/vectors/${parts.join('/')} is missing (the tests read shared data at ../shared beside the repository)`;
  if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
  process.stderr.write(`\n!!! SKIPPED: ${why}\n`);
  return why;
}

/** A shared file seen from module level; `value` may only be read when `skip` is false. */
export interface SharedFile<T> {
  /** The file's path. */
  readonly path: string;
  /** Whether the file exists (when false, the tests using it are skipped). */
  readonly present: boolean;
  /** `describe`/`test` options: `{ skip: reason }` when the file is missing, else `{}`. */
  readonly options: { skip?: string };
  /** The file's content (read on first use); throws when the file is missing. */
  readonly value: T;
}

/**
 * A shared vector file at module level. When it is missing, this throws under CI=true (the test
 * file fails); elsewhere it writes a loud line to stderr and registers one skipped test naming
 * the file, and callers put `options` on the `describe` blocks that use it.
 */
export function sharedFile<T>(parse: (bytes: Buffer) => T, ...parts: string[]): SharedFile<T> {
  const path = sharedVectorPath(...parts);
  const skip = missing(parts);
  if (skip !== undefined) test(`shared data: ../shared/vectors/${parts.join('/')}`, { skip }, () => {});
  let cache: { v: T } | undefined;
  return {
    path,
    present: skip === undefined,
    options: skip === undefined ? {} : { skip },
    get value(): T {
      cache ??= { v: parse(readFileSync(path)) };
      return cache.v;
    },
  };
}

/** {@link sharedFile} for a JSON file. */
export function sharedJson<T>(...parts: string[]): SharedFile<T> {
  return sharedFile((b) => JSON.parse(b.toString('utf8')) as T, ...parts);
}

/** Inside a running test: the path when the shared file exists, else the test fails (CI) or is skipped loudly. */
export function needShared(t: TestContext, ...parts: string[]): string | undefined {
  const skip = missing(parts);
  if (skip === undefined) return sharedVectorPath(...parts);
  t.skip(skip);
  return undefined;
}
