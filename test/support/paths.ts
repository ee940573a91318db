/**
 * Locations inside the repository, found from this file whether it runs compiled
 * (dist/test/support) or straight from TypeScript (test/support).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'imsec') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('repository root not found');
    dir = up;
  }
}

export const repoRoot = findRoot();

/** The compiled CLI entry point (npm test builds it before running tests). */
export const cliPath = join(repoRoot, 'dist', 'src', 'cli', 'main.js');

export function vectorPath(...parts: string[]): string {
  return join(repoRoot, 'test', 'vectors', ...parts);
}

export function readVectors<T = unknown>(...parts: string[]): T {
  return JSON.parse(readFileSync(vectorPath(...parts), 'utf8')) as T;
}
