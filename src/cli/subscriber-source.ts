/**
 * Where the subscribers of `imsec load` and `imsec hss import` come from: a provisioning file
 * (CSV or JSON, nodes/hss/provisioning-import.ts) or a generated range (load/subscribers.ts).
 */
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from '../common/index.js';
import { detectFormat, type ImportFormat, type ImportRow } from '../nodes/hss/index.js';
import { fileRows, parseRange, rangeRows } from '../load/index.js';

/**
 * The subscriber rows of `--subscribers FILE` or `--range PREFIX:FROM-TO --k --op|--opc
 * [--domain]`: the same choice `imsec hss import` offers. A bad file row throws its ImportError
 * (`line N: …`).
 */
export function subscriberRowsFromFlags(o: { subscribers?: string; file?: string; range?: string; k?: string; op?: string; opc?: string; domain: string; format?: string }): { rows: ImportRow[]; format: ImportFormat | 'range' } {
  const file = o.subscribers ?? o.file;
  if ((file === undefined) === (o.range === undefined)) throw new InvalidArgumentError('give either a subscriber file or --range PREFIX:FROM-TO', '--range');
  if (o.range !== undefined) {
    if (o.k === undefined) throw new InvalidArgumentError('--range needs --k and --op or --opc', '--k');
    return { rows: rangeRows(parseRange(o.range), { k: o.k, ...(o.op !== undefined ? { op: o.op } : {}), ...(o.opc !== undefined ? { opc: o.opc } : {}) }, o.domain), format: 'range' };
  }
  let text: string;
  try {
    text = readFileSync(file!, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, 'file');
  }
  const format = (o.format as ImportFormat | undefined) ?? detectFormat(file!, text);
  return { rows: fileRows(text, format), format };
}

