/**
 * What the node runners share (cli/node-process.ts): reading `--config FILE` without ever echoing
 * its content, and serving until SIGTERM/SIGINT with one clean stop. Signals are delivered with
 * `process.emit`, which runs the listeners without signalling the test process.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '../../src/common/log.js';
import { InvalidArgumentError } from '../../src/common/errors.js';
import { readJsonConfigFile, serveUntilSignal } from '../../src/cli/node-process.js';
import { hssConfigFrom } from '../../src/cli/hss.js';
import { icscfConfigFrom } from '../../src/cli/icscf.js';
import { scscfConfigFrom } from '../../src/cli/scscf.js';
import { pcscfConfigFrom } from '../../src/cli/pcscf.js';
import { HssConfigError } from '../../src/nodes/hss/config.js';
import { IcscfConfigError } from '../../src/nodes/icscf/index.js';
import { ScscfConfigError } from '../../src/nodes/scscf/config.js';
import { PcscfConfigError } from '../../src/nodes/pcscf/index.js';

const dir = mkdtempSync(join(tmpdir(), 'imsec-node-process-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SECRET = 'c0ffee00c0ffee00';
/** Not JSON, and V8's own JSON.parse message quotes its start (checked below). */
const leakyText = `{"kv": ${SECRET}}`;
/** What V8 quotes of the key: its first characters. */
const LEAK = SECRET.slice(0, 8);
const badJson = join(dir, 'bad.json');
writeFileSync(badJson, leakyText);
const missing = join(dir, 'missing.json');

const asArgError = (m: string): Error => new InvalidArgumentError(m, '--config');

/** A logger that records what it is given. */
function recordingLogger(): { log: Logger; lines: [string, unknown, string][] } {
  const lines: [string, unknown, string][] = [];
  const log = {
    info: (o: unknown, msg: string) => lines.push(['info', o, msg]),
    error: (o: unknown, msg: string) => lines.push(['error', o, msg]),
  } as unknown as Logger;
  return { log, lines };
}

describe('readJsonConfigFile', () => {
  test('parses a JSON file', () => {
    const p = join(dir, 'ok.json');
    writeFileSync(p, '{"sip": {"listen": "127.0.0.1:0"}}');
    assert.deepEqual(readJsonConfigFile(p, asArgError), { sip: { listen: '127.0.0.1:0' } });
  });

  test('a missing file: "cannot read FILE: ENOENT" through the caller\'s error', () => {
    assert.throws(() => readJsonConfigFile(missing, asArgError), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError);
      assert.equal(e.message, `cannot read ${missing}: ENOENT`);
      return true;
    });
  });

  test('invalid JSON: "FILE is not valid JSON", none of the content (it may hold keys)', () => {
    // Without the rule, the message would leak: V8 quotes the text it cannot parse.
    assert.throws(() => JSON.parse(leakyText), (e: unknown) => (e as Error).message.includes(LEAK));
    assert.throws(() => readJsonConfigFile(badJson, asArgError), (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentError);
      assert.equal(e.message, `${badJson} is not valid JSON`);
      assert.equal(e.cause, undefined);
      return true;
    });
  });

  test('each node runner reports its own ConfigError on --config, exactly worded, never echoing the file', () => {
    const runners: [string, (o: { config: string }) => unknown, new (...a: never[]) => Error][] = [
      ['hss', (o) => hssConfigFrom(o), HssConfigError],
      ['icscf', (o) => icscfConfigFrom(o), IcscfConfigError],
      ['scscf', (o) => scscfConfigFrom(o), ScscfConfigError],
      ['pcscf', (o) => pcscfConfigFrom(o), PcscfConfigError],
    ];
    for (const [name, configFrom, cls] of runners) {
      for (const [file, message] of [
        [missing, `--config: cannot read ${missing}: ENOENT`],
        [badJson, `--config: ${badJson} is not valid JSON`],
      ]) {
        assert.throws(() => configFrom({ config: file }), (e: unknown) => {
          assert.ok(e instanceof cls, `${name}: ${String(e)} is not a ${cls.name}`);
          assert.equal((e as Error & { code: string }).code, 'CONFIG');
          assert.equal(e.message, message, name);
          assert.ok(!e.message.includes(LEAK), name);
          return true;
        });
      }
    }
  });
});

describe('serveUntilSignal', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    test(`${signal}: logs, stops once, resolves, and leaves no signal listener behind`, async () => {
      const before = [process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')];
      const { log, lines } = recordingLogger();
      let stops = 0;
      const served = serveUntilSignal('pcscf', async () => void stops++, log);
      assert.deepEqual([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')], [before[0] + 1, before[1] + 1]);
      assert.equal(stops, 0);
      process.emit(signal);
      process.emit(signal === 'SIGTERM' ? 'SIGINT' : 'SIGTERM');
      await served;
      assert.equal(stops, 1);
      assert.deepEqual(lines, [['info', { signal }, 'pcscf: stopping']]);
      assert.deepEqual([process.listenerCount('SIGTERM'), process.listenerCount('SIGINT')], before);
    });
  }

  test('a failing stop is logged as "NAME: stop failed" and still resolves', async () => {
    const { log, lines } = recordingLogger();
    const served = serveUntilSignal('hss', () => Promise.reject(new Error('DPR timed out')), log);
    process.emit('SIGTERM');
    await served;
    assert.deepEqual(lines, [
      ['info', { signal: 'SIGTERM' }, 'hss: stopping'],
      ['error', { err: 'DPR timed out' }, 'hss: stop failed'],
    ]);
  });

  test('`until` settling stops the node like a signal', async () => {
    const before = process.listenerCount('SIGTERM');
    const { log, lines } = recordingLogger();
    let stops = 0;
    await serveUntilSignal('core', async () => void stops++, log, Promise.reject(new Error('test over')));
    assert.equal(stops, 1);
    assert.deepEqual(lines, [['info', { signal: 'done' }, 'core: stopping']]);
    assert.equal(process.listenerCount('SIGTERM'), before);
  });
});
