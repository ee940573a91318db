/**
 * One `/metrics` for a core whose nodes are processes of their own (`imsec core --processes`):
 * each process's Prometheus text exposition (format 0.0.4) is read, every sample gets a
 * `process="<name>"` label, and the families with the same name are joined, with their HELP and
 * TYPE once: the text format allows a family's lines in one block only, and every process has
 * `process_cpu_seconds_total`, the `nodejs_*` families and those of the SIP stack. A process that
 * did not answer is left out, and `imsec_process_up` says which ones answered, as Prometheus's own
 * `up` does for a target.
 */
import { ImsError } from '../common/index.js';

/** A process's exposition text that does not parse (the scrape of that process is left out). */
export class MetricsTextError extends ImsError {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super('METRICS_TEXT', `${message} (line ${line})`);
  }
}

/** What one process answered; `text` undefined when it did not. */
export interface ProcessScrape {
  readonly process: string;
  readonly text: string | undefined;
}

interface Family {
  readonly name: string;
  help: string | undefined;
  type: string | undefined;
  /** Each sample as `name`, its label block's inside (without braces, '' when none) and the rest of the line. */
  readonly samples: Sample[];
}

interface Sample {
  readonly name: string;
  readonly labels: string;
  readonly rest: string;
  /** It has a label named {@link PROCESS_LABEL} already. */
  readonly hasProcess: boolean;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** The series of a histogram or a summary besides its quantiles (`name` itself). */
const SERIES = new Set(['_bucket', '_sum', '_count', '_created']);
const TIMESTAMP = /^-?\d+$/;
/** The label added to every sample. */
const PROCESS_LABEL = 'process';

/** Parses one exposition into its families, in order (throws {@link MetricsTextError}). */
export function parseExposition(text: string): Family[] {
  const families = new Map<string, Family>();
  let current: Family | undefined;
  const family = (name: string): Family => {
    let f = families.get(name);
    if (f === undefined) {
      f = { name, help: undefined, type: undefined, samples: [] };
      families.set(name, f);
    }
    return f;
  };
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const at = i + 1;
    if (line.trim() === '') continue;
    if (line.startsWith('#')) {
      const m = /^#\s+(HELP|TYPE)\s+(\S+)(?:\s(.*))?$/.exec(line);
      if (m === null) continue; // any other comment
      const [, kind, name, arg = ''] = m;
      if (!NAME.test(name)) throw new MetricsTextError(`bad metric name in ${kind}`, at);
      current = family(name);
      if (kind === 'HELP') current.help ??= arg;
      else {
        const type = arg.trim();
        if (!TYPES.has(type)) throw new MetricsTextError(`unknown metric type ${JSON.stringify(type.slice(0, 20))}`, at);
        if (current.type !== undefined && current.type !== type) throw new MetricsTextError(`second TYPE for ${name}`, at);
        current.type = type;
      }
      continue;
    }
    const s = parseSample(line, at);
    const owner = current !== undefined && ofFamily(s.name, current.name) ? current : family(s.name);
    owner.samples.push(s);
  }
  return [...families.values()];
}

/** Whether sample `name` belongs to family `family`: itself, or a histogram's or summary's series. */
function ofFamily(name: string, family: string): boolean {
  return name === family || (name.startsWith(family) && SERIES.has(name.slice(family.length)));
}

/** A value as Go's ParseFloat reads it (Prometheus's parser): decimal, Inf, Infinity, NaN. */
function isValue(v: string): boolean {
  return /^[+-]?(?:inf|infinity|nan)$/i.test(v) || (/^[+-]?[0-9.]/.test(v) && Number.isFinite(Number(v)));
}

/** `name{labels} value [timestamp]`: the label block is checked, quotes and escapes included. */
function parseSample(line: string, at: number): Sample {
  const brace = line.indexOf('{');
  const space = line.search(/[ \t]/);
  const nameEnd = brace >= 0 && (space < 0 || brace < space) ? brace : space;
  if (nameEnd <= 0) throw new MetricsTextError('a sample needs a name and a value', at);
  const name = line.slice(0, nameEnd);
  if (!NAME.test(name)) throw new MetricsTextError('bad metric name', at);
  let labels = '';
  let hasProcess = false;
  let i = nameEnd;
  if (line[i] === '{') {
    const block = labelBlock(line, i + 1, at);
    labels = line.slice(i + 1, block.end);
    hasProcess = block.names.includes(PROCESS_LABEL);
    i = block.end + 1;
  }
  const rest = line.slice(i);
  const parts = rest.trim().split(/[ \t]+/);
  if (!/^[ \t]/.test(rest) || parts.length > 2 || !isValue(parts[0]) || (parts.length === 2 && !TIMESTAMP.test(parts[1]))) {
    throw new MetricsTextError('bad sample value', at);
  }
  return { name, labels, rest, hasProcess };
}

/** The label names of a label block that starts at `from`, and the index of the `}` closing it. */
function labelBlock(line: string, from: number, at: number): { names: string[]; end: number } {
  const names: string[] = [];
  let i = from;
  for (;;) {
    while (line[i] === ' ') i++;
    if (line[i] === '}') return { names, end: i };
    const eq = line.indexOf('=', i);
    const label = eq < 0 ? '' : line.slice(i, eq).trim();
    if (!LABEL_NAME.test(label)) throw new MetricsTextError('bad label name', at);
    names.push(label);
    i = eq + 1;
    while (line[i] === ' ') i++;
    if (line[i] !== '"') throw new MetricsTextError('a label value must be quoted', at);
    i++;
    while (i < line.length && line[i] !== '"') i += line[i] === '\\' ? 2 : 1;
    if (i >= line.length) throw new MetricsTextError('unterminated label value', at);
    i++;
    while (line[i] === ' ') i++;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new MetricsTextError('a label block must end with }', at);
  }
}

/** A label value as the text format writes it. */
function quoted(v: string): string {
  return `"${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

/**
 * One exposition of every process's families, each sample labelled with its process, and
 * `imsec_process_up` (1 for a process whose text parsed, 0 for one that did not answer, whose
 * text did not parse or has a `process` label of its own). A family that a later process types
 * differently keeps the first type, and that process's samples of it are left out.
 */
export function mergeExpositions(scrapes: readonly ProcessScrape[]): string {
  const merged = new Map<string, Family>();
  const up: [string, number][] = [];
  for (const s of scrapes) {
    let families: Family[] | undefined;
    try {
      families = s.text === undefined ? undefined : parseExposition(s.text);
    } catch (err) {
      if (!(err instanceof MetricsTextError)) throw err;
    }
    // A sample that names a process already would be ambiguous once labelled: the text is refused.
    if (families?.some((f) => f.samples.some((x) => x.hasProcess))) families = undefined;
    up.push([s.process, families === undefined ? 0 : 1]);
    const label = `${PROCESS_LABEL}=${quoted(s.process)}`;
    for (const f of families ?? []) {
      let m = merged.get(f.name);
      if (m === undefined) {
        m = { name: f.name, help: f.help, type: f.type, samples: [] };
        merged.set(f.name, m);
      } else if (f.type !== undefined && m.type !== undefined && f.type !== m.type) {
        continue;
      }
      m.help ??= f.help;
      m.type ??= f.type;
      for (const x of f.samples) m.samples.push({ name: x.name, labels: x.labels.trim() === '' ? label : `${label},${x.labels}`, rest: x.rest, hasProcess: true });
    }
  }
  const out: string[] = [
    '# HELP imsec_process_up Whether the process answered this scrape with metrics that parse (1) or not (0)',
    '# TYPE imsec_process_up gauge',
    ...up.map(([p, v]) => `imsec_process_up{${PROCESS_LABEL}=${quoted(p)}} ${v}`),
  ];
  for (const f of merged.values()) {
    if (f.name === 'imsec_process_up') continue;
    if (f.help !== undefined) out.push(`# HELP ${f.name} ${f.help}`);
    if (f.type !== undefined) out.push(`# TYPE ${f.name} ${f.type}`);
    for (const x of f.samples) out.push(`${x.name}{${x.labels}}${x.rest}`);
  }
  return out.join('\n') + '\n';
}
