/**
 * The ISIM's SQN array in a JSON file (the I/O edge of the soft UE): `{ "impi": …, "slots": [...] }`.
 * Written atomically (a temporary file in the same folder, then rename), so a crash never leaves
 * a torn file. Only the SQN array and the IMPI are written: never K, OP or OPc.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ImsError } from '../../common/index.js';
import type { UsimSqnState } from '../../auth/index.js';
import type { SqnStore } from './isim.js';

interface SqnFile {
  impi: string;
  slots: number[];
}

/** A {@link SqnStore} over a JSON file; a missing file means "nothing accepted yet". */
export function fileSqnStore(path: string, impi: string): SqnStore {
  let seq = 0;
  return {
    load(): UsimSqnState | undefined {
      let text: string;
      try {
        text = readFileSync(path, 'utf8');
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw new ImsError('CONFIG', `cannot read SQN file ${path}: ${(e as Error).message}`);
      }
      let v: SqnFile;
      try {
        v = JSON.parse(text) as SqnFile;
      } catch {
        throw new ImsError('CONFIG', `SQN file ${path} is not JSON`);
      }
      if (!Array.isArray(v.slots) || !v.slots.every((s) => Number.isSafeInteger(s) && s >= 0)) throw new ImsError('CONFIG', `SQN file ${path} has no valid "slots" array`);
      if (typeof v.impi === 'string' && v.impi !== impi) throw new ImsError('CONFIG', `SQN file ${path} belongs to ${v.impi}, not ${impi}`);
      return { slots: v.slots };
    },
    save(state: UsimSqnState): void {
      mkdirSync(dirname(path), { recursive: true });
      const tmp = join(dirname(path), `.${process.pid}.${Date.now()}.${seq++}.sqn.tmp`);
      const body: SqnFile = { impi, slots: state.slots };
      writeFileSync(tmp, `${JSON.stringify(body)}\n`, { mode: 0o600 });
      renameSync(tmp, path);
    },
  };
}
