/**
 * One /metrics for the processes of `imsec core --processes` (src/metrics/merge.ts): families
 * joined by name with their HELP and TYPE once (the text format 0.0.4 keeps a family's lines in
 * one block), each sample labelled with its process, and `imsec_process_up` for each process.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { ImsError } from '../../src/common/index.js';
import { mergeExpositions, MetricsTextError } from '../../src/metrics/index.js';
import { parseExposition } from '../../src/metrics/merge.js';
import { fcParams } from '../support/fuzz.js';
import { parseExposition as readSamples } from './exposition.js';

const HSS = [
  '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
  '# TYPE process_cpu_seconds_total counter',
  'process_cpu_seconds_total 1.5',
  '# HELP imsec_cx_requests_total Cx requests answered',
  '# TYPE imsec_cx_requests_total counter',
  'imsec_cx_requests_total{command="MAR"} 7',
  '',
].join('\n');
const PCSCF = [
  '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
  '# TYPE process_cpu_seconds_total counter',
  'process_cpu_seconds_total 2.25 1700000000000',
  '# HELP imsec_sip_latency_seconds Latency',
  '# TYPE imsec_sip_latency_seconds histogram',
  'imsec_sip_latency_seconds_bucket{le="0.1",node="pcscf"} 3',
  'imsec_sip_latency_seconds_bucket{le="+Inf",node="pcscf"} 4',
  'imsec_sip_latency_seconds_sum{node="pcscf"} 0.5',
  'imsec_sip_latency_seconds_count{node="pcscf"} 4',
  '# HELP imsec_odd A label value with a brace, a quote and a comma',
  '# TYPE imsec_odd gauge',
  'imsec_odd{v="a}b\\"c,d"} NaN',
  '',
].join('\n');

/** The lines of the family `name`, from its HELP to the next family's. */
function block(text: string, name: string): string[] {
  const lines = text.split('\n').filter((l) => l !== '');
  const start = lines.findIndex((l) => l.startsWith(`# HELP ${name} `));
  const end = lines.findIndex((l, i) => i > start && l.startsWith('# HELP '));
  return lines.slice(start, end < 0 ? undefined : end);
}

describe('one /metrics for a core of processes (Prometheus text format 0.0.4)', () => {
  test('[R-LAB-5] a family every process has is one block, HELP and TYPE once, each sample labelled with its process', () => {
    const text = mergeExpositions([
      { process: 'hss', text: HSS },
      { process: 'pcscf', text: PCSCF },
    ]);
    assert.deepEqual(block(text, 'process_cpu_seconds_total'), [
      '# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds.',
      '# TYPE process_cpu_seconds_total counter',
      'process_cpu_seconds_total{process="hss"} 1.5',
      'process_cpu_seconds_total{process="pcscf"} 2.25 1700000000000',
    ]);
    const s = readSamples(text);
    assert.equal(s.get('imsec_cx_requests_total', { process: 'hss', command: 'MAR' }), 7);
    assert.equal(s.get('imsec_sip_latency_seconds_bucket', { process: 'pcscf', le: '+Inf', node: 'pcscf' }), 4);
    assert.equal(s.get('imsec_sip_latency_seconds_count', { process: 'pcscf', node: 'pcscf' }), 4);
    assert.ok(text.includes('imsec_odd{process="pcscf",v="a}b\\"c,d"} NaN'), 'the label block is kept whole');
    assert.equal(text.split('\n').filter((l) => l.startsWith('# TYPE ')).length, new Set(text.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2])).size, 'one TYPE per family');
  });

  test('[R-LAB-5] imsec_process_up: 1 for a process that answered, 0 for one that did not, whose text does not parse or names a process itself; the others are still served', () => {
    const text = mergeExpositions([
      { process: 'hss', text: HSS },
      { process: 'scscf', text: undefined },
      { process: 'pcscf', text: 'garbage{ 1\n' },
      { process: 'icscf', text: 'x{process="other"} 1\n' },
    ]);
    const s = readSamples(text);
    assert.deepEqual(
      s.all('imsec_process_up').map((x) => [x.labels.process, x.value]),
      [['hss', 1], ['scscf', 0], ['pcscf', 0], ['icscf', 0]],
    );
    assert.equal(s.get('process_cpu_seconds_total', { process: 'hss' }), 1.5);
    assert.equal(s.all('process_cpu_seconds_total').length, 1);
  });

  test('[R-LAB-5] a family typed differently by a later process keeps the first type, without that process\'s samples', () => {
    const other = '# TYPE process_cpu_seconds_total gauge\nprocess_cpu_seconds_total 9\n';
    const s = readSamples(mergeExpositions([{ process: 'hss', text: HSS }, { process: 'icscf', text: other }]));
    assert.deepEqual(s.all('process_cpu_seconds_total').map((x) => x.labels.process), ['hss']);
    assert.equal(s.get('imsec_process_up', { process: 'icscf' }), 1);
  });

  test('what does not parse is a MetricsTextError naming the line', () => {
    for (const [text, line] of [
      ['ok 1\nbad name 1\n', 2],
      ['x{a="1" 2\n', 1],
      ['x{a=1} 2\n', 1],
      ['x{a="1"} two\n', 1],
      ['x 1 2 3\n', 1],
      ['# TYPE x weird\n', 1],
      ['# TYPE x counter\n# TYPE x gauge\n', 2],
    ] as const) {
      assert.throws(() => parseExposition(text), (e: unknown) => e instanceof MetricsTextError && e.code === 'METRICS_TEXT' && e.line === line, JSON.stringify(text));
    }
  });

  test('fuzz: any text gives families or a MetricsTextError; generated expositions merge into one that reads back sample for sample', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), (t) => {
        try {
          parseExposition(t);
        } catch (e) {
          assert.ok(e instanceof ImsError && e.code === 'METRICS_TEXT', String(e));
        }
        mergeExpositions([{ process: 'x', text: t }]);
      }),
      fcParams(import.meta.url, 2000),
    );
    const name = fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/);
    const value = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }).map(String), fc.constantFrom('NaN', '+Inf', '-Inf', '0'));
    const labelValue = fc.string({ maxLength: 8 }).map((v) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n'));
    const sample = fc.record({ labels: fc.dictionary(fc.stringMatching(/^[a-oq-z][a-z0-9_]{0,5}$/), labelValue, { maxKeys: 3 }), value });
    const family = fc.record({ name, type: fc.constantFrom('counter', 'gauge', 'untyped'), samples: fc.array(sample, { maxLength: 4 }) });
    const exposition = fc.uniqueArray(family, { selector: (f) => f.name, maxLength: 5 }).map((fs) =>
      fs
        .map((f) => [`# HELP ${f.name} h`, `# TYPE ${f.name} ${f.type}`, ...f.samples.map((x) => `${f.name}{${Object.entries(x.labels).map(([k, v]) => `${k}="${v}"`).join(',')}} ${x.value}`)].join('\n'))
        .join('\n'),
    );
    fc.assert(
      fc.property(exposition, exposition, (a, b) => {
        const merged = mergeExpositions([{ process: 'a', text: a }, { process: 'b', text: b }]);
        const count = (t: string): number => t.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
        const typed = (t: string): Map<string, string> => new Map(t.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => [l.split(' ')[2], l.split(' ')[3]]));
        // Samples of a family the two type differently are left out for b.
        const [ta, tb] = [typed(a), typed(b)];
        const dropped = parseExposition(b).filter((f) => ta.has(f.name) && ta.get(f.name) !== tb.get(f.name)).reduce((n, f) => n + f.samples.length, 0);
        assert.equal(count(merged), 2 + count(a) + count(b) - dropped);
        const families = parseExposition(merged);
        assert.equal(new Set(families.map((f) => f.name)).size, families.length, 'each family once');
        assert.ok(families.every((f) => f.samples.every((x) => x.labels.startsWith('process="a"') || x.labels.startsWith('process="b"'))));
      }),
      fcParams(import.meta.url, 300),
    );
  });
});
