/**
 * One schema source: TypeBox schemas (JSON Schema 2020-12 objects) checked with ajv 8, the
 * validator fastify itself uses. A schema gives the TypeScript type (`StaticDecode`), the
 * defaults (`default`, filled in by ajv) and the JSON Schema a user or an OpenAPI document sees.
 *
 * Errors read as the hand-written checks did: one {@link SchemaIssue} naming the field path
 * (`sip.listen`, `impus[0].impu`) and a message. A schema node may carry `errorMessage`, the text
 * for any failure at or below it that no deeper `errorMessage` covers; `{value}` in it stands for
 * the offending value as JSON (never used where the value could be a secret). In a union
 * (`anyOf`), branches whose type does not match the value are not reported: the failure of the
 * branch that fits is, or the union's own message when none fits.
 *
 * Pure: no I/O. ajv compiles each schema once (cached by identity).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { StaticDecode, TSchema } from 'typebox';
import { DecodeUnsafe, EncodeUnsafe, HasCodec } from 'typebox/value';

/** One failure: where (path segments, array indexes as numbers) and what. */
export interface SchemaIssue {
  path: (string | number)[];
  /** The ajv keyword that failed (`additionalProperties` for an unknown key, `required` for a missing one). */
  keyword: string;
  message: string;
  /** For `additionalProperties`: the keys the object may hold. */
  known?: string[];
  /** The `title` of the failing value's schema, when it has one (a name for it in messages). */
  title?: string;
}

/** The outcome of {@link checkSchema}: the value with defaults filled and codecs decoded, or the first issue. */
export type SchemaResult<T> = { ok: true; value: T } | { ok: false; issue: SchemaIssue };

const ajv = new Ajv({ useDefaults: true, coerceTypes: false, allErrors: false, strict: true, allowUnionTypes: true });
ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
const compiled = new WeakMap<object, { validate: ValidateFunction; codecs: boolean }>();

/** The ajv validator of `schema`, and whether it has codecs to run (most have none: decoding is then a no-op). */
function validatorOf(schema: TSchema): { validate: ValidateFunction; codecs: boolean } {
  let v = compiled.get(schema);
  if (v === undefined) {
    // A default at the root has nothing to fill (ajv refuses it in strict mode): it is the parent's business.
    const { default: _rootDefault, ...rest } = schema as Record<string, unknown>;
    v = { validate: ajv.compile(rest), codecs: HasCodec(schema) };
    compiled.set(schema, v);
  }
  return v;
}

/** `a.b[0].c` from path segments. */
export function formatPath(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

const pointer = (p: string): string[] => (p === '' ? [] : p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')));

/** The instance path as segments, array indexes as numbers. */
function segments(instancePath: string, root: unknown): (string | number)[] {
  const out: (string | number)[] = [];
  let v = root;
  for (const s of pointer(instancePath)) {
    const key = Array.isArray(v) ? Number(s) : s;
    out.push(key);
    v = (v as Record<string | number, unknown> | undefined)?.[key];
  }
  return out;
}

function valueAt(root: unknown, path: readonly (string | number)[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<string | number, unknown> | undefined)?.[k], root);
}

/**
 * The schema nodes from the root along an ajv schemaPath (`#/properties/a/items/pattern`), each
 * with the depth of the value it applies to (`properties/x`, `patternProperties/re` and `items`
 * go one level into the value; `anyOf/i`, `allOf/i` stay on it).
 */
function schemaChain(root: TSchema, schemaPath: string): { node: Record<string, unknown>; depth: number }[] {
  const chain = [{ node: root as Record<string, unknown>, depth: 0 }];
  let node: unknown = root;
  let depth = 0;
  let keyNext = false;
  for (const s of pointer(schemaPath.replace(/^#/, '')).map(decodeURIComponent)) {
    node = (node as Record<string, unknown> | undefined)?.[s];
    if (keyNext || s === 'items' || s === 'additionalProperties') depth++;
    keyNext = !keyNext && (s === 'properties' || s === 'patternProperties');
    if (typeof node === 'object' && node !== null && !Array.isArray(node) && !keyNext) chain.push({ node: node as Record<string, unknown>, depth });
  }
  return chain;
}

const UNION = new Set(['anyOf', 'oneOf']);
const MISMATCH = new Set(['type', 'const']);

/** The error to report: the first that is neither a union's own nor a branch whose type does not fit. */
function pick(errors: readonly ErrorObject[]): ErrorObject {
  const unions = errors.filter((e) => UNION.has(e.keyword));
  const mismatch = (e: ErrorObject): boolean => MISMATCH.has(e.keyword) && unions.some((u) => u.instancePath === e.instancePath && e.schemaPath.startsWith(`${u.schemaPath}/`));
  return errors.find((e) => !UNION.has(e.keyword) && !mismatch(e)) ?? unions[unions.length - 1] ?? errors[0];
}

function fill(message: string, value: unknown): string {
  return message.replace('{value}', () => JSON.stringify(value) ?? String(value));
}

/** The one issue an ajv failure reports (see the module comment). */
export function issueOf(schema: TSchema, errors: readonly ErrorObject[], data: unknown): SchemaIssue {
  const e = pick(errors);
  const path = segments(e.instancePath, data);
  const chain = schemaChain(schema, e.schemaPath);
  const owner = chain[chain.length - 1].node;
  if (e.keyword === 'additionalProperties') {
    const key = String(e.params.additionalProperty);
    const known = Object.keys((owner.properties as Record<string, unknown> | undefined) ?? {});
    const title = typeof owner.title === 'string' ? { title: owner.title } : {};
    return { path: [...path, key], keyword: e.keyword, message: `unknown setting ${JSON.stringify(key)} (known: ${known.join(', ')})`, known, ...title };
  }
  if (e.keyword === 'required') {
    return { path: [...path, String(e.params.missingProperty)], keyword: e.keyword, message: 'is required' };
  }
  // The deepest message written for the value that failed (not for a value around it).
  const withMessage = [...chain].reverse().find((c) => c.depth === path.length && typeof c.node.errorMessage === 'string');
  const message = withMessage !== undefined ? fill(withMessage.node.errorMessage as string, valueAt(data, path)) : (e.message ?? 'is invalid');
  const title = [...chain].reverse().find((c) => c.depth === path.length && typeof c.node.title === 'string')?.node.title as string | undefined;
  return { path, keyword: e.keyword, message, ...(title !== undefined ? { title } : {}) };
}

/**
 * A copy of the plain objects and arrays of `v` (ajv fills defaults in place, and the caller's
 * object must stay as it was); other values are kept, so the schema sees and refuses them.
 */
function copyPlain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(copyPlain);
  if (typeof v === 'object' && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, copyPlain(x)]));
  }
  return v;
}

/**
 * Checks `value` against `schema`: a copy with the defaults filled and codecs decoded, or the first
 * issue. The result type is `NoInfer` here and in every function passing it on: inferring `S` from
 * the type a call's result is assigned to makes TypeScript work out the variance of TypeBox's
 * `StaticType` (1.3 million type instantiations, 5 s of every type check and lint).
 */
export function checkSchema<S extends TSchema>(schema: S, value: unknown): NoInfer<SchemaResult<StaticDecode<S>>> {
  const data = copyPlain(value);
  const { validate, codecs } = validatorOf(schema);
  if (!validate(data)) return { ok: false, issue: issueOf(schema, validate.errors ?? [], data) };
  return { ok: true, value: (codecs ? DecodeUnsafe({}, schema, data) : data) as StaticDecode<S> };
}

/**
 * The document form of a value {@link checkSchema} returned (its codecs run backwards: `{ host,
 * port }` stays an object, keys go back to hex): checking it again gives the same value.
 */
export function encodeSchema(schema: TSchema, value: unknown): unknown {
  return EncodeUnsafe({}, schema, structuredClone(value));
}

/**
 * The schema as a user writes the document: every property that has a `default` is left out of
 * `required` (ajv fills it in). This is what `--print-schema` prints.
 */
export function documentSchema(schema: TSchema): Record<string, unknown> {
  const walk = (n: unknown): unknown => {
    if (Array.isArray(n)) return n.map(walk);
    if (typeof n !== 'object' || n === null) return n;
    const o = Object.fromEntries(Object.entries(n).map(([k, v]) => [k, k === 'default' || k === 'const' || k === 'enum' ? v : walk(v)]));
    if (Array.isArray(o.required) && typeof o.properties === 'object' && o.properties !== null) {
      const props = o.properties as Record<string, { default?: unknown }>;
      const required = (o.required as string[]).filter((k) => props[k]?.default === undefined);
      if (required.length === 0) delete o.required;
      else o.required = required;
    }
    return o;
  };
  return { $schema: 'https://json-schema.org/draft/2020-12/schema', ...(walk(schema) as Record<string, unknown>) };
}
