/** A reader of the Prometheus text exposition format 0.0.4 (samples only), for assertions. */

export interface Samples {
  /** The value of one series; `labels` must match exactly (order free). Undefined when absent. */
  get(name: string, labels?: Record<string, string>): number | undefined;
  /** Every series of a metric. */
  all(name: string): { labels: Record<string, string>; value: number }[];
  names(): Set<string>;
}

export function parseExposition(text: string): Samples {
  const rows: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    rows.push({ name: m[1], labels, value: Number(m[3]) });
  }
  const same = (a: Record<string, string>, b: Record<string, string>) => Object.keys(a).length === Object.keys(b).length && Object.entries(b).every(([k, v]) => a[k] === v);
  return {
    get: (name, labels = {}) => rows.find((r) => r.name === name && same(r.labels, labels))?.value,
    all: (name) => rows.filter((r) => r.name === name).map(({ labels, value }) => ({ labels, value })),
    names: () => new Set(rows.map((r) => r.name)),
  };
}
