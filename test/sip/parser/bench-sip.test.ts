import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { SIP_BENCH_CORPUS, loadSipBaseline, runSipBench } from '../../../src/cli/bench-sip.js';
import { CliFailure } from '../../../src/cli/errors.js';
import { checkRequest, parseMessage, validateMessage } from '../../../src/sip/index.js';

describe('imsec bench sip', () => {
  test('the corpus is four well-formed IMS registration messages', () => {
    assert.equal(SIP_BENCH_CORPUS.length, 4);
    for (const c of SIP_BENCH_CORPUS) {
      const m = parseMessage(Buffer.from(c.text));
      validateMessage(m);
      if (m.kind === 'request') assert.equal(checkRequest(m, { supported: ['sec-agree'] }), null);
    }
  });
  test('a very short run reports every figure of the JSON contract (shape only, no timing)', () => {
    const r = runSipBench({ ms: 5, rounds: 1 });
    for (const k of ['parse_per_s', 'baseline_parse_per_s', 'ratio', 'serialize_per_s', 'baseline_serialize_per_s', 'register_parse_per_s'] as const) {
      assert.ok(Number.isFinite(r[k]) && r[k] > 0, k);
    }
    assert.equal(r.corpus_messages, 4);
  });
  test('without its dev-only baseline (npm sip) the benchmark fails with one clear line', () => {
    const missing = (id: string): never => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
    };
    assert.throws(() => loadSipBaseline(missing), (e) => e instanceof CliFailure && e.exitCode === 1 && /sip@0\.0\.6 .*not installed/.test(e.message) && !e.message.includes('\n'));
    assert.equal(typeof loadSipBaseline().parse, 'function');
  });
});
