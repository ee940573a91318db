/**
 * Bulk provisioning files for `imsec hss import`: parse and validate EVERY row first, then
 * insert all of them in one transaction, so a bad row is reported with its line number and
 * nothing is half-imported.
 *
 * CSV (RFC 4180: comma-separated, `"` quoting with `""` inside, CRLF or LF, a header row; a
 * UTF-8 BOM is ignored). Columns, in any order, case-insensitive, `_` optional:
 *
 *   impi, impus, k, op | opc, amf, sqn, ind_bits, auth_schemes, barred, pseudonym, service_profile
 *
 * `impus`, `auth_schemes`, `barred` and `pseudonym` hold space-separated lists (URIs never
 * contain spaces; they may contain `;` and `,`). The first IMPU is the default public
 * identity, and all are in implicit set 1. An empty cell means "not given"; blank lines are skipped.
 *
 * JSON: an array of objects in the REST/provisioning form (provisioning.ts), which can also
 * express implicit sets and per-set profiles. The line of an element is the line where it starts.
 *
 * Pure: text in, rows out. Errors are {@link ImportError}s; none quotes a key.
 */
import { ImsError, InvalidArgumentError } from '../../common/index.js';
import { ConflictError, quoteName, type HssStore, type NewSubscriber } from '../../store/index.js';
import { impusFromLists, parseSubscriberInput } from './provisioning.js';

export type ImportFormat = 'csv' | 'json';

/** A bad import file: `line` is 1-based. The message starts with `line N: `. */
export class ImportError extends ImsError {
  constructor(
    readonly line: number,
    readonly detail: string,
  ) {
    super('HSS_IMPORT', `line ${line}: ${detail}`);
  }
}

export interface ImportRow {
  line: number;
  subscriber: NewSubscriber;
}

/** By extension (.csv / .json), else by content (a JSON array starts with `[`). */
export function detectFormat(fileName: string, text: string): ImportFormat {
  if (/\.csv$/i.test(fileName)) return 'csv';
  if (/\.json$/i.test(fileName)) return 'json';
  return text.replace(/^\uFEFF/, '').trimStart().startsWith('[') ? 'json' : 'csv';
}

// --- CSV (RFC 4180 §2) ---------------------------------------------------------------------------

/** Records of a CSV text, each with the line it starts on. Blank lines are skipped. */
export function parseCsv(text: string): { line: number; fields: string[] }[] {
  const out: { line: number; fields: string[] }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let field = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw new ImportError(start, 'unterminated quoted field');
          const c = text[i];
          if (c === '"') {
            if (text[i + 1] === '"') {
              field += '"';
              i += 2;
              continue;
            }
            i++;
            break;
          }
          if (c === '\n') line++;
          field += c;
          i++;
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') throw new ImportError(line, 'text after a closing quote');
      } else {
        const m = /[,\r\n"]/g;
        m.lastIndex = i;
        const hit = m.exec(text);
        const end = hit === null ? text.length : hit.index;
        if (hit !== null && hit[0] === '"') throw new ImportError(line, 'a quote inside an unquoted field');
        field = text.slice(i, end);
        i = end;
      }
      fields.push(field);
      if (text[i] === ',') {
        i++;
        continue;
      }
      break;
    }
    // End of record: CRLF, LF, a lone CR or the end of the text.
    if (text[i] === '\r') i++;
    if (text[i] === '\n') i++;
    line++;
    if (!(fields.length === 1 && fields[0].trim() === '')) out.push({ line: start, fields });
  }
  return out;
}

const COLUMNS = ['impi', 'impus', 'k', 'op', 'opc', 'amf', 'sqn', 'indbits', 'authschemes', 'barred', 'pseudonym', 'serviceprofile'];

function list(cell: string | undefined): string[] {
  return cell === undefined ? [] : cell.split(/\s+/).filter((x) => x !== '');
}

function csvRows(text: string): { line: number; input: unknown }[] {
  const records = parseCsv(text);
  if (records.length === 0) return [];
  const header = records[0];
  const names = header.fields.map((h) => {
    const n = h.trim().toLowerCase().replace(/_/g, '');
    const key = n === 'impu' ? 'impus' : n;
    if (!COLUMNS.includes(key)) {
      throw new ImportError(header.line, `unknown column ${quoteName(h.trim())} (is the header row missing? known: impi, impus, k, op, opc, amf, sqn, ind_bits, auth_schemes, barred, pseudonym, service_profile)`);
    }
    return key;
  });
  const dup = names.find((n, i) => names.indexOf(n) !== i);
  if (dup !== undefined) throw new ImportError(header.line, `column ${dup} appears twice`);
  for (const need of ['impi', 'impus', 'k']) if (!names.includes(need)) throw new ImportError(header.line, `missing column ${need}`);
  return records.slice(1).map((r) => {
    if (r.fields.length !== names.length) throw new ImportError(r.line, `expected ${names.length} fields, got ${r.fields.length}`);
    const cell: Record<string, string | undefined> = {};
    names.forEach((n, i) => {
      const v = r.fields[i].trim();
      cell[n] = v === '' ? undefined : v;
    });
    try {
      const num = (v: string | undefined, field: string): number | undefined => {
        if (v === undefined) return undefined;
        if (!/^\d{1,16}$/.test(v)) throw new InvalidArgumentError(`${field} must be a decimal integer`, field);
        return Number(v);
      };
      return {
        line: r.line,
        input: {
          impi: cell.impi,
          impus: impusFromLists(list(cell.impus), list(cell.barred), list(cell.pseudonym)),
          k: cell.k,
          ...(cell.op !== undefined ? { op: cell.op } : {}),
          ...(cell.opc !== undefined ? { opc: cell.opc } : {}),
          ...(cell.amf !== undefined ? { amf: cell.amf } : {}),
          ...(cell.sqn !== undefined ? { sqn: num(cell.sqn, 'sqn') } : {}),
          ...(cell.indbits !== undefined ? { indBits: num(cell.indbits, 'ind_bits') } : {}),
          ...(cell.authschemes !== undefined ? { authSchemes: list(cell.authschemes) } : {}),
          ...(cell.serviceprofile !== undefined ? { serviceProfile: cell.serviceprofile } : {}),
        },
      };
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new ImportError(r.line, err.message);
      throw err;
    }
  });
}

// --- JSON ---------------------------------------------------------------------------------------

/**
 * The elements of a top-level JSON array, each as its source text with its starting line. Only
 * the array structure is scanned here; each element is then given to JSON.parse, whose message
 * is not repeated (it may quote the text, keys included).
 */
export function splitJsonArray(text: string): { line: number; text: string }[] {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const ws = (): void => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) {
      if (text[i] === '\n') line++;
      i++;
    }
  };
  ws();
  if (text[i] !== '[') throw new ImportError(line, 'a JSON import file must be an array of subscriber objects');
  i++;
  const out: { line: number; text: string }[] = [];
  ws();
  if (text[i] === ']') {
    i++;
    ws();
    if (i < text.length) throw new ImportError(line, 'text after the closing ]');
    return out;
  }
  for (;;) {
    ws();
    const start = i;
    const startLine = line;
    let depth = 0;
    while (i < text.length) {
      const c = text[i];
      if (c === '"') {
        i++;
        while (i < text.length && text[i] !== '"') {
          if (text[i] === '\n') throw new ImportError(line, 'invalid JSON: newline inside a string');
          i += text[i] === '\\' ? 2 : 1;
        }
        if (i >= text.length) break;
        i++;
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        if (depth === 0) break;
        depth--;
      } else if (c === ',' && depth === 0) break;
      else if (c === '\n') line++;
      i++;
    }
    if (i >= text.length) throw new ImportError(startLine, 'invalid JSON: the array is not closed');
    const element = text.slice(start, i).trim();
    if (element === '') throw new ImportError(line, 'invalid JSON: empty array element');
    out.push({ line: startLine, text: element });
    if (text[i] === ']') {
      i++;
      ws();
      if (i < text.length) throw new ImportError(line, 'text after the closing ]');
      return out;
    }
    if (text[i] !== ',') throw new ImportError(line, 'invalid JSON: expected , or ]');
    i++;
  }
}

function jsonRows(text: string): { line: number; input: unknown }[] {
  return splitJsonArray(text).map((e) => {
    try {
      return { line: e.line, input: JSON.parse(e.text) as unknown };
    } catch {
      throw new ImportError(e.line, 'invalid JSON in this array element');
    }
  });
}

// --- both ---------------------------------------------------------------------------------------

/**
 * Every row parsed and validated (fields, keys, IMPUs; no IMPI or IMPU twice in the file), or
 * an ImportError for the first bad one.
 */
export function parseImportFile(text: string, format: ImportFormat): ImportRow[] {
  const raw = format === 'csv' ? csvRows(text) : jsonRows(text);
  const impis = new Map<string, number>();
  const impus = new Map<string, number>();
  return raw.map(({ line, input }) => {
    let subscriber: NewSubscriber;
    try {
      subscriber = parseSubscriberInput(input);
    } catch (err) {
      if (err instanceof InvalidArgumentError) throw new ImportError(line, err.message);
      throw err;
    }
    const seen = impis.get(subscriber.impi);
    if (seen !== undefined) throw new ImportError(line, `IMPI ${subscriber.impi} is already on line ${seen}`);
    impis.set(subscriber.impi, line);
    for (const u of subscriber.impus) {
      const at = impus.get(u.impu);
      if (at !== undefined) throw new ImportError(line, `IMPU ${u.impu} is already on line ${at}`);
      impus.set(u.impu, line);
    }
    return { line, subscriber };
  });
}

/**
 * Insert validated rows in ONE transaction. A clash with the store becomes an ImportError
 * with the line of the row; nothing is written then.
 */
export async function importSubscribers(store: HssStore, rows: readonly ImportRow[], onProgress?: (done: number, total: number) => void): Promise<number> {
  try {
    return await store.createSubscribers(
      rows.map((r) => r.subscriber),
      onProgress,
    );
  } catch (err) {
    if (err instanceof ConflictError && err.index !== undefined && rows[err.index] !== undefined) {
      throw new ImportError(rows[err.index].line, `${err.message} in the store`);
    }
    throw err;
  }
}
