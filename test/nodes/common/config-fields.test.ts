/**
 * The schema fragments shared by the node configurations (nodes/common/config-fields.ts), checked
 * with ajv (common/schema.ts): each failure throws the node's own error class (code CONFIG, field
 * named first), so `instanceof HssConfigError` and the CLI's exit 2 keep holding whichever node
 * parses, with the messages the hand-written checks had.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Type, type TSchema } from 'typebox';
import { Bool, HostPortField, Int, Ints, isObj, LOG_LEVELS, LogLevel, NodeConfigError, parseField, Section, Str, StringMap, Strs } from '../../../src/nodes/common/config-fields.js';
import { HssConfigError, parseHssConfig } from '../../../src/nodes/hss/config.js';
import { IcscfConfigError, parseIcscfConfig } from '../../../src/nodes/icscf/index.js';
import { parseScscfConfig, ScscfConfigError } from '../../../src/nodes/scscf/config.js';
import { parsePcscfConfig, PcscfConfigError } from '../../../src/nodes/pcscf/index.js';

class TestConfigError extends NodeConfigError {}
const check = (schema: TSchema) => (v: unknown, field: string): unknown => parseField(schema, v, field, TestConfigError);
const f = {
  str: check(Str()),
  int: (v: unknown, field: string, min: number, max: number) => check(Int(min, max))(v, field),
  bool: check(Bool()),
  strs: check(Strs()),
  ints: check(Ints()),
  known: (o: unknown, keys: readonly string[], field: string) => check(Type.Object(Object.fromEntries(keys.map((k) => [k, Type.Optional(Type.Unknown())])), { additionalProperties: false }))(o, field),
  section: (raw: Record<string, unknown>, key: string, keys: readonly string[]) =>
    (check(Type.Object({ [key]: Section(Object.fromEntries(keys.map((k) => [k, Type.Optional(Type.Unknown())]))) }, { additionalProperties: true }))(raw, '') as Record<string, unknown>)[key],
  stringMap: (v: unknown, field: string, message: string) => check(StringMap(message))(v, field),
  hostPort: check(HostPortField()),
  logLevel: check(LogLevel),
};

/** Asserts `fn` throws a TestConfigError on `field` with exactly `message` after the field. */
function refuses(fn: () => unknown, field: string, message: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TestConfigError, `not a TestConfigError: ${String(e)}`);
    assert.equal(e.code, 'CONFIG');
    assert.equal(e.field, field);
    assert.equal(e.message, `${field}: ${message}`);
    assert.equal(e.name, 'TestConfigError');
    return true;
  });
}

describe('node configuration field checks', () => {
  test('[M] str: a non-blank string of at most 1024 characters', () => {
    assert.equal(f.str('x', 'a'), 'x');
    assert.equal((f.str('y'.repeat(1024), 'a') as string).length, 1024);
    for (const bad of [undefined, null, 5, '', '   ', 'y'.repeat(1025), ['x']]) refuses(() => f.str(bad, 'a.b'), 'a.b', 'must be a non-empty string');
  });

  test('int: a safe integer within the bounds', () => {
    assert.equal(f.int(0, 'n', 0, 10), 0);
    assert.equal(f.int(10, 'n', 0, 10), 10);
    for (const bad of [-1, 11, 1.5, '5', Number.NaN, 2 ** 53]) refuses(() => f.int(bad, 'n', 0, 10), 'n', 'must be an integer in 0..10');
  });

  test('bool, strs and ints name the element that fails', () => {
    assert.equal(f.bool(false, 'b'), false);
    refuses(() => f.bool('true', 'b'), 'b', 'must be true or false');
    assert.deepEqual(f.strs(['a', 'b'], 's'), ['a', 'b']);
    refuses(() => f.strs('a', 's'), 's', 'must be an array of strings');
    refuses(() => f.strs(['a', ''], 's'), 's[1]', 'must be a non-empty string');
    assert.deepEqual(f.ints([0, 0xffffffff], 'i'), [0, 0xffffffff]);
    refuses(() => f.ints({}, 'i'), 'i', 'must be an array of integers');
    refuses(() => f.ints([1, 2 ** 32], 'i'), 'i[1]', 'must be an integer in 0..4294967295');
  });

  test('known and section refuse a misspelt key, naming its path', () => {
    f.known({ a: 1, b: 2 }, ['a', 'b'], '');
    refuses(() => f.known({ a: 1, lisen: 2 }, ['a', 'listen'], ''), 'lisen', 'unknown setting "lisen" (known: a, listen)');
    refuses(() => f.known({ x: 1 }, ['a'], 'sip'), 'sip.x', 'unknown setting "x" (known: a)');
    assert.deepEqual(f.section({}, 'sip', ['listen']), {}, 'an absent section is its default, {}');
    assert.deepEqual(f.section({ sip: { listen: 'h:1' } }, 'sip', ['listen']), { listen: 'h:1' });
    refuses(() => f.section({ sip: [] }, 'sip', ['listen']), 'sip', 'must be an object');
    refuses(() => f.section({ sip: { port: 1 } }, 'sip', ['listen']), 'sip.port', 'unknown setting "port" (known: listen)');
  });

  test('stringMap: an object of strings, with the caller\'s message when it is not an object', () => {
    assert.deepEqual(f.stringMap({ 'a.lab': '127.0.0.1' }, 'hosts', 'must map host names to addresses'), { 'a.lab': '127.0.0.1' });
    refuses(() => f.stringMap(['x'], 'hosts', 'must map host names to addresses'), 'hosts', 'must map host names to addresses');
    refuses(() => f.stringMap({ 'a.lab': 1 }, 'hosts', 'unused'), 'hosts.a.lab', 'must be a non-empty string');
  });

  test('hostPort: HOST:PORT, [v6]:PORT or { host, port }; port 0 allowed', () => {
    assert.deepEqual(f.hostPort('127.0.0.1:0', 'l'), { host: '127.0.0.1', port: 0 });
    assert.deepEqual(f.hostPort('[::1]:5060', 'l'), { host: '::1', port: 5060 });
    assert.deepEqual(f.hostPort({ host: 'hss.ims.lab', port: 3868 }, 'l'), { host: 'hss.ims.lab', port: 3868 });
    refuses(() => f.hostPort('::1:5060', 'l'), 'l', 'expected HOST:PORT, got "::1:5060"');
    refuses(() => f.hostPort('h:65536', 'l'), 'l', 'must be an integer in 0..65535');
    refuses(() => f.hostPort({ host: 'h', port: -1 }, 'l'), 'l.port', 'must be an integer in 0..65535');
  });

  test('logLevel: one of the pino levels', () => {
    for (const level of LOG_LEVELS) assert.equal(f.logLevel(level, 'logLevel'), level);
    refuses(() => f.logLevel('verbose', 'logLevel'), 'logLevel', 'must be fatal, error, warn, info, debug, trace or silent');
  });

  test('isObj: objects only, not null or arrays', () => {
    assert.deepEqual([{}, null, [], 'x', 1].map(isObj), [true, false, false, false, false]);
  });

  test('each node\'s parser throws its own class, a NodeConfigError with code CONFIG', () => {
    const cases: [() => unknown, new (...a: never[]) => Error][] = [
      [() => parseHssConfig({ logLevel: 'loud' }), HssConfigError],
      [() => parseIcscfConfig({ logLevel: 'loud' }), IcscfConfigError],
      [() => parseScscfConfig({ logLevel: 'loud' }), ScscfConfigError],
      [() => parsePcscfConfig({ logLevel: 'loud' }), PcscfConfigError],
    ];
    for (const [parse, cls] of cases) {
      assert.throws(parse, (e: unknown) => {
        assert.ok(e instanceof cls, `${String(e)} is not a ${cls.name}`);
        assert.ok(e instanceof NodeConfigError);
        assert.equal(e.code, 'CONFIG');
        assert.equal(e.field, 'logLevel');
        assert.equal(e.name, cls.name);
        assert.equal(e.message, 'logLevel: must be fatal, error, warn, info, debug, trace or silent');
        return true;
      });
    }
  });
});
