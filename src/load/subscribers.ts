/**
 * The subscribers of a load run (R-LAB-4), shared by `imsec load` and `imsec hss import`: a
 * provisioning file (the CSV/JSON of nodes/hss/provisioning-import.ts) or a generated range
 * `PREFIX:FROM-TO` with one K and OP for all: IMPI `<PREFIX><n>@<domain>`, IMPU
 * `sip:<PREFIX><n>@<domain>` (TS 23.003 §13.3, §13.4). Pure: text or arguments in, rows out.
 */
import { InvalidArgumentError } from '../common/index.js';
import { parseImportFile, parseSubscriberInput, type ImportFormat, type ImportRow } from '../nodes/hss/index.js';
import type { NewSubscriber } from '../store/index.js';

/** What an emulated UE needs of its subscription: identities and the ISIM keys. */
export interface LoadSubscriber {
  impi: string;
  impu: string;
  k: Uint8Array;
  opc: Uint8Array;
}

/** A parsed `--range PREFIX:FROM-TO`. */
export interface SubscriberRange {
  prefix: string;
  from: number;
  to: number;
}

/** The most subscribers one range may name (a guard against a typo generating billions). */
export const MAX_RANGE = 10_000_000;

/** Parses `PREFIX:FROM-TO` (e.g. `ue:1-1000`); PREFIX is the user part before the number. */
export function parseRange(spec: string): SubscriberRange {
  const m = /^([A-Za-z0-9._~+-]*):(\d{1,9})-(\d{1,9})$/.exec(spec);
  if (!m) throw new InvalidArgumentError(`--range must be PREFIX:FROM-TO (e.g. ue:1-1000), got ${JSON.stringify(spec)}`, '--range');
  const from = Number(m[2]);
  const to = Number(m[3]);
  if (to < from) throw new InvalidArgumentError(`--range: ${to} is below ${from}`, '--range');
  if (to - from + 1 > MAX_RANGE) throw new InvalidArgumentError(`--range names more than ${MAX_RANGE} subscribers`, '--range');
  return { prefix: m[1], from, to };
}

/**
 * The provisioning rows of a range, in the form `imsec hss import` inserts (keys checked and OPc
 * derived once by the provisioning parser, then shared by every row).
 */
export function rangeRows(range: SubscriberRange, keys: { k: string; op?: string; opc?: string }, domain: string): ImportRow[] {
  const user = (n: number): string => `${range.prefix}${n}`;
  const first = parseSubscriberInput({ impi: `${user(range.from)}@${domain}`, impus: [`sip:${user(range.from)}@${domain}`], ...keysInput(keys) });
  const rows: ImportRow[] = [];
  for (let n = range.from, line = 1; n <= range.to; n++, line++) {
    const impi = `${user(n)}@${domain}`;
    const subscriber: NewSubscriber = { ...first, impi, impus: [{ ...first.impus[0], impu: `sip:${impi}` }], implicitSets: [] };
    rows.push({ line, subscriber });
  }
  return rows;
}

function keysInput(keys: { k: string; op?: string; opc?: string }): Record<string, string> {
  if ((keys.op === undefined) === (keys.opc === undefined)) throw new InvalidArgumentError('a range needs --k and exactly one of --op / --opc', '--op');
  return { k: keys.k, ...(keys.op !== undefined ? { op: keys.op } : { opc: keys.opc! }) };
}

/** The rows of a provisioning file (every row validated; ImportError with the line otherwise). */
export function fileRows(text: string, format: ImportFormat): ImportRow[] {
  return parseImportFile(text, format);
}

/** What the swarm keeps of each row: the IMPI, the default IMPU, K and OPc. */
export function toLoadSubscribers(rows: readonly ImportRow[]): LoadSubscriber[] {
  return rows.map(({ subscriber: s }) => ({ impi: s.impi, impu: (s.impus.find((i) => i.isDefault) ?? s.impus[0]).impu, k: s.k, opc: s.opc }));
}
