/**
 * Reproducible property tests and the fuzz corpus.
 *
 * Under `npm test` every fast-check property runs with a seed fixed per test file (derived from
 * the file's path), so a run never fails by chance; a failure prints the file, the seed and how to
 * replay it. `npm run fuzz` (scripts/run-fuzz.mjs, IMSEC_FUZZ=1, never under CI) runs the same
 * properties with random seeds and more runs. Either way, when a property of a fuzz target fails
 * outside CI, the input its contract failed on is written to test/fuzz/corpus/<target>/, which
 * the target's corpus test replays from then on.
 *
 * Environment: IMSEC_FUZZ_SEED forces the seed, IMSEC_FUZZ_RUNS the number of runs,
 * IMSEC_FUZZ_FACTOR multiplies the runs in fuzz mode (default 20).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { repoRoot } from './paths.js';

/** True in `npm run fuzz`: random seeds and more runs. */
export const fuzzMode = process.env.IMSEC_FUZZ === '1' && process.env.CI !== 'true';

/** `nodes/ue/properties` for test/nodes/ue/properties.test.ts or its compiled dist/test copy. */
export function testFileName(fileUrl: string): string {
  const rel = relative(repoRoot, fileURLToPath(fileUrl)).split('\\').join('/');
  return rel.replace(/^(dist\/)?test\//, '').replace(/\.test\.(ts|js)$/, '');
}

/** FNV-1a 32-bit of the name, as a signed 32-bit fast-check seed. */
function fixedSeed(name: string): number {
  let h = 0x811c9dc5;
  for (const c of Buffer.from(name, 'utf8')) h = Math.imul(h ^ c, 0x01000193);
  return h | 0;
}

function runsFor(numRuns: number): number {
  if (process.env.IMSEC_FUZZ_RUNS !== undefined) return Number(process.env.IMSEC_FUZZ_RUNS);
  return fuzzMode ? numRuns * Number(process.env.IMSEC_FUZZ_FACTOR ?? 20) : numRuns;
}

function seedOrigin(): string {
  if (process.env.IMSEC_FUZZ_SEED !== undefined) return 'IMSEC_FUZZ_SEED';
  return fuzzMode ? 'fuzz mode, random' : "the file's fixed seed";
}

function seedFor(name: string): number {
  if (process.env.IMSEC_FUZZ_SEED !== undefined) return Number(process.env.IMSEC_FUZZ_SEED);
  return fuzzMode ? (Math.random() * 2 ** 32) | 0 : fixedSeed(name);
}

/**
 * fast-check parameters for a property test in `fileUrl` (pass `import.meta.url`): the file's
 * fixed seed (random in fuzz mode) and `numRuns`; on failure the seed and the replay command are
 * printed, and `onFailure` runs (the corpus saving of {@link fuzzTarget}).
 */
export function fcParams<T>(fileUrl: string, numRuns: number, onFailure?: () => void): fc.Parameters<T> {
  const name = testFileName(fileUrl);
  const seed = seedFor(name);
  const plugin: fc.Plugin<T> = () => ({
    onAllRunsComplete: (details) => {
      if (!details.failed) return;
      process.stderr.write(
        `\n!!! property failed in ${name} with seed ${details.seed} (${seedOrigin()}); ` +
          `replay: IMSEC_FUZZ_SEED=${details.seed} node scripts/run-tests.mjs ${name}\n`,
      );
      onFailure?.();
    },
  });
  return { seed, numRuns: runsFor(numRuns), plugins: [plugin] };
}

/** One saved input of a fuzz corpus. */
export interface CorpusEntry {
  name: string;
  bytes: Buffer;
}

/**
 * A fuzz target: test/fuzz/<name>.test.ts with its corpus test/fuzz/corpus/<name>/. `encode`
 * turns an input of the target's contract into a corpus file (extension and content).
 */
export interface FuzzTarget<I> {
  readonly name: string;
  readonly corpusDir: string;
  /** The contract, wrapped so that the input it fails on is remembered for saving. */
  guard(contract: (input: I) => void): (input: I) => void;
  /** {@link guard} for an asynchronous contract. */
  guardAsync(contract: (input: I) => Promise<void>): (input: I) => Promise<void>;
  /** fast-check parameters ({@link fcParams}); a failing guarded input is saved to the corpus (outside CI). */
  params<T>(numRuns: number): fc.Parameters<T>;
  /** The saved inputs (files ending in `ext`), sorted; a missing or empty corpus folder throws. */
  corpus(ext: string): CorpusEntry[];
}

export function fuzzTarget<I>(fileUrl: string, encode: (input: I) => { ext: string; data: string | Uint8Array }): FuzzTarget<I> {
  const name = testFileName(fileUrl).replace(/^fuzz\//, '');
  const corpusDir = join(repoRoot, 'test', 'fuzz', 'corpus', name);
  let failed: { input: I } | undefined;
  const save = (): void => {
    if (failed === undefined || process.env.CI === 'true') return;
    const { ext, data } = encode(failed.input);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    const file = join(corpusDir, `found-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}${ext}`);
    mkdirSync(corpusDir, { recursive: true });
    writeFileSync(file, bytes);
    process.stderr.write(`!!! failing input saved to ${relative(repoRoot, file)} (commit it with the fix: the corpus test replays it)\n`);
  };
  return {
    name,
    corpusDir,
    guard: (contract) => (input) => {
      try {
        contract(input);
      } catch (e) {
        failed = { input };
        throw e;
      }
    },
    guardAsync: (contract) => async (input) => {
      try {
        await contract(input);
      } catch (e) {
        failed = { input };
        throw e;
      }
    },
    params: <T>(numRuns: number) => {
      failed = undefined;
      return fcParams<T>(fileUrl, numRuns, save);
    },
    corpus: (ext) => {
      if (!existsSync(corpusDir)) throw new Error(`fuzz corpus folder test/fuzz/corpus/${name} is missing`);
      const files = readdirSync(corpusDir).filter((f) => f.endsWith(ext)).sort();
      if (files.length === 0) throw new Error(`fuzz corpus test/fuzz/corpus/${name} holds no *${ext} file`);
      return files.map((f) => ({ name: f, bytes: readFileSync(join(corpusDir, f)) }));
    },
  };
}

/**
 * A few characters of a seed text inserted (kind 0), deleted (1) or replaced (2), at positions
 * taken modulo the current length: the text mutator of the fuzz targets.
 */
export function mutatedText(seed: fc.Arbitrary<string>, alphabet: string, maxEdits: number): fc.Arbitrary<string> {
  return fc
    .tuple(seed, fc.array(fc.tuple(fc.nat(), fc.nat({ max: 2 }), fc.constantFrom(...alphabet.split(''))), { minLength: 1, maxLength: maxEdits }))
    .map(([s, edits]) => {
      let out = s;
      for (const [at, kind, ch] of edits) {
        const i = at % (out.length + 1);
        if (kind === 0) out = out.slice(0, i) + ch + out.slice(i);
        else if (kind === 1) out = out.slice(0, i) + out.slice(i + 1);
        else out = out.slice(0, i) + ch + out.slice(i + 1);
      }
      return out;
    });
}

const TAG = '$fuzz';

/**
 * JSON for fuzz inputs built from `fc.anything()`-like values: `undefined`, NaN, ±Infinity, -0
 * and bigints are written as `{"$fuzz": "…"}` so that a saved input replays exactly.
 */
export function encodeFuzzValue(v: unknown): string {
  return JSON.stringify(
    v,
    function (this: Record<string, unknown>, key: string, x: unknown) {
      const raw = this[key];
      if (raw === undefined) return { [TAG]: 'undefined' };
      if (typeof raw === 'number' && (!Number.isFinite(raw) || Object.is(raw, -0))) return { [TAG]: Object.is(raw, -0) ? '-0' : String(raw) };
      if (typeof raw === 'bigint') return { [TAG]: `${raw}n` };
      return x;
    },
    1,
  );
}

/** The inverse of {@link encodeFuzzValue}. */
export function decodeFuzzValue(text: string): unknown {
  const revive = (x: unknown): unknown => {
    if (Array.isArray(x)) return x.map(revive);
    if (typeof x !== 'object' || x === null) return x;
    const o = x as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === TAG && typeof o[TAG] === 'string') {
      const t = o[TAG];
      if (t === 'undefined') return undefined;
      if (t.endsWith('n')) return BigInt(t.slice(0, -1));
      return t === '-0' ? -0 : Number(t);
    }
    return Object.fromEntries(keys.map((k) => [k, revive(o[k])]));
  };
  return revive(JSON.parse(text));
}
