/**
 * [M] `imsec <node> --print-schema` (cli/node-process.ts addPrintSchema): each node command prints
 * the JSON Schema (2020-12) its configuration file is checked with and exits 0 without starting
 * anything; a property with a default is not required in the printed form, and the printed
 * schema holds no key material (the core's demo keys stay out of it).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { runCli } from '../../src/cli/program.js';
import { CoreConfigSchema, DEMO_SUBSCRIBERS } from '../../src/nodes/core/index.js';
import { HssConfigSchema } from '../../src/nodes/hss/index.js';
import { IcscfConfigSchema } from '../../src/nodes/icscf/index.js';
import { PcscfConfigSchema } from '../../src/nodes/pcscf/index.js';
import { ScscfConfigSchema } from '../../src/nodes/scscf/index.js';
import { UeConfigSchema } from '../../src/nodes/ue/index.js';

async function run(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = new PassThrough().on('data', (d) => (stdout += d));
  const err = new PassThrough().on('data', (d) => (stderr += d));
  const code = await runCli(argv, { stdout: out, stderr: err });
  return { code, stdout, stderr };
}

describe('[M] --print-schema', () => {
  const cases: [string[], { properties: Record<string, unknown> }][] = [
    [['hss'], HssConfigSchema],
    [['icscf'], IcscfConfigSchema],
    [['scscf'], ScscfConfigSchema],
    [['pcscf'], PcscfConfigSchema],
    [['core'], CoreConfigSchema],
    [['ue', 'register'], UeConfigSchema],
  ];
  for (const [command, schema] of cases) {
    test(`imsec ${command.join(' ')} --print-schema: the configuration schema on stdout, exit 0`, async () => {
      const r = await run([...command, '--print-schema']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, '');
      const printed = JSON.parse(r.stdout) as { $schema: string; type: string; properties: Record<string, { default?: unknown }>; required?: string[]; additionalProperties: boolean };
      assert.equal(printed.$schema, 'https://json-schema.org/draft/2020-12/schema');
      assert.equal(printed.type, 'object');
      assert.equal(printed.additionalProperties, false);
      assert.deepEqual(Object.keys(printed.properties), Object.keys(schema.properties));
      for (const k of printed.required ?? []) assert.equal(printed.properties[k].default, undefined, `${k} has a default but is printed as required`);
      for (const s of DEMO_SUBSCRIBERS) assert.ok(!r.stdout.includes(s.k) && !r.stdout.includes(s.op!), 'a demo key is in the schema');
    });
  }

  test('the UE schema requires what has no default (identities, K, the P-CSCF)', async () => {
    const printed = JSON.parse((await run(['ue', 'register', '--print-schema'])).stdout) as { required: string[] };
    assert.deepEqual([...printed.required].sort(), ['impi', 'impu', 'k', 'pcscf']);
  });
});
