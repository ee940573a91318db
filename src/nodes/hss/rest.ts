/**
 * The HSS provisioning REST API (fastify). Listening is the caller's business:
 *
 *   const app = createHssRestApi(store);  await app.listen({ host: '127.0.0.1', port: 8080 });
 *
 *   POST   /subscribers                     create (body: provisioning.ts input form)  201 | 400 | 409
 *   GET    /subscribers?limit=&after=       list, keyset paging by IMPI                 200 | 400
 *   GET    /subscribers/:impi               one subscriber                              200 | 404
 *   PATCH  /subscribers/:impi               change                                      200 | 400 | 404 | 409
 *   DELETE /subscribers/:impi               delete                                      204 | 404
 *   GET    /subscribers/:impi/registration  registration state per IMPU (TS 29.228 §6.1) 200 | 404
 *   POST   /subscribers/import              a CSV or JSON file as `imsec hss import` takes 200 | 400 | 409
 *                                            (body { format, text }; every row checked, all or none)
 *   GET    /openapi.json                    OpenAPI 3.1, built from the same route schemas
 *
 * Bodies are validated by JSON schema (additionalProperties false, hex patterns, no type
 * coercion); every error is `{ error, message }` with 400 (validation), 404 (unknown), 409
 * (duplicate IMPI/IMPU), 415 (not JSON). K, OP and OPc are write-only: response schemas have no
 * field for them (fastify's serializer drops anything not in the schema), and no message
 * quotes them.
 *
 * With `access` (web/access.ts), every request is checked first (web/guard.ts): the Host header
 * must name this listener (else 421) and a bearer token is required (else 401) unless the
 * listener is on loopback and started with `--no-auth`. {@link fastifyRest} always passes one.
 * {@link setupHssRest} puts the same API into another server under a prefix (the console).
 */
import Fastify, { type FastifyError, type FastifyInstance, type FastifySchema } from 'fastify';
import type { Logger } from '../../common/log.js';
import type { HttpAccess } from '../../web/access.js';
import { installGuard } from '../../web/guard.js';
import { ImsError, InvalidArgumentError } from '../../common/errors.js';
import { AUTH_SCHEMES, ConflictError, quoteName, IMPI_PATTERN, IMPU_PATTERN, MAX_IMPUS, MAX_PROFILE_CHARS, NotFoundError, REGISTRATION_STATES, type HssStore } from '../../store/index.js';
import { changeSubscriber, provisionSubscriber, registrationView, subscriberView } from './provisioning.js';
import { ImportError, importSubscribers, parseImportFile, type ImportFormat } from './provisioning-import.js';

export interface HssRestOptions {
  /** A pino logger for request logs (default: none). */
  logger?: Logger;
  /** Largest accepted body in bytes (default 4 MiB: a service profile may be up to 1 Mi characters). */
  bodyLimit?: number;
  /** `info.version` of the OpenAPI document. */
  version?: string;
  /** Host check and token (see the module comment); absent: no check (a library caller's own server). */
  access?: HttpAccess;
}

// --- schemas (also the OpenAPI components) ---------------------------------------------------------

const hex16 = { type: 'string', pattern: '^[0-9a-fA-F]{32}$', description: '16 bytes as 32 hex digits (write-only)' };
const impi = { type: 'string', pattern: IMPI_PATTERN, maxLength: 255, description: 'IMPI, an NAI (TS 23.003 §13.3)' };
const impuUri = { type: 'string', pattern: IMPU_PATTERN, maxLength: 255, description: 'IMPU, a SIP or tel URI (TS 23.003 §13.4)' };
const irs = { type: 'integer', minimum: 1, maximum: 1000, description: 'implicit registration set number' };
const profile = { type: ['string', 'null'], maxLength: MAX_PROFILE_CHARS, description: 'TS 29.228 User-Data XML' };
const state = { type: 'string', enum: [...REGISTRATION_STATES] };

const impuInput = {
  oneOf: [
    impuUri,
    {
      type: 'object',
      additionalProperties: false,
      required: ['impu'],
      properties: { impu: impuUri, irs, barred: { type: 'boolean' }, pseudonym: { type: 'boolean' }, default: { type: 'boolean' } },
    },
  ],
};

const writable = {
  impus: { type: 'array', minItems: 1, maxItems: MAX_IMPUS, items: impuInput, description: 'the first is the default public identity unless one says "default": true' },
  k: hex16,
  op: { ...hex16, description: 'OP, 16 bytes as 32 hex digits; turned into OPc and never stored' },
  opc: hex16,
  amf: { type: 'string', pattern: '^[0-9a-fA-F]{4}$', description: 'AMF, 2 bytes as 4 hex digits (default 8000)' },
  sqn: { type: 'integer', minimum: 0, maximum: 2 ** 48 - 1, description: 'highest SQN the USIM has used; the next vector is above it' },
  indBits: { type: 'integer', minimum: 0, maximum: 10, description: 'IND length in bits (TS 33.102 Annex C; default 5)' },
  authSchemes: { type: 'array', minItems: 1, items: { type: 'string', enum: [...AUTH_SCHEMES] } },
  serviceProfile: profile,
  implicitSets: {
    type: 'array',
    items: { type: 'object', additionalProperties: false, required: ['irs', 'serviceProfile'], properties: { irs, serviceProfile: profile } },
  },
};

const NewSubscriber = { type: 'object', additionalProperties: false, required: ['impi', 'impus', 'k'], properties: { impi, ...writable } };
const SubscriberPatch = { type: 'object', additionalProperties: false, minProperties: 1, properties: writable };

const Subscriber = {
  type: 'object',
  additionalProperties: false,
  required: ['impi', 'impus', 'amf', 'seqHe', 'indBits', 'authSchemes', 'serviceProfile', 'implicitSets'],
  properties: {
    impi,
    impus: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['impu', 'irs', 'default', 'barred', 'pseudonym', 'state', 'scscfName'],
        properties: { impu: impuUri, irs, default: { type: 'boolean' }, barred: { type: 'boolean' }, pseudonym: { type: 'boolean' }, state, scscfName: { type: ['string', 'null'] } },
      },
    },
    amf: { type: 'string' },
    seqHe: { type: 'integer', description: 'SEQ_HE: highest SEQ issued (TS 33.102 C.1.1)' },
    indBits: { type: 'integer' },
    authSchemes: { type: 'array', items: { type: 'string' } },
    serviceProfile: profile,
    implicitSets: writable.implicitSets,
  },
};

const Registration = {
  type: 'object',
  additionalProperties: false,
  required: ['impi', 'impus'],
  properties: {
    impi,
    impus: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['impu', 'irs', 'state', 'scscfName'],
        properties: { impu: impuUri, irs, state, scscfName: { type: ['string', 'null'] } },
      },
    },
  },
};

const ErrorBody = {
  type: 'object',
  required: ['error', 'message'],
  properties: { error: { type: 'string', description: 'BAD_REQUEST, NOT_FOUND, CONFLICT, UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE or INTERNAL' }, message: { type: 'string' } },
};

const SubscriberList = {
  type: 'object',
  required: ['subscribers', 'next'],
  properties: { subscribers: { type: 'array', items: Subscriber }, next: { type: ['string', 'null'], description: 'pass as `after` for the next page' } },
};

const ImportBody = {
  type: 'object',
  additionalProperties: false,
  required: ['format', 'text'],
  properties: { format: { type: 'string', enum: ['csv', 'json'] }, text: { type: 'string', maxLength: 4 * 1024 * 1024 - 1024, description: 'the file, as `imsec hss import` reads it (provisioning-import.ts)' } },
};
const ImportResult = { type: 'object', required: ['imported'], properties: { imported: { type: 'integer' } } };

const impiParams = { type: 'object', required: ['impi'], properties: { impi } };
const listQuery = {
  type: 'object',
  additionalProperties: false,
  properties: { limit: { type: 'string', pattern: '^[0-9]{1,4}$', description: 'page size 1..1000 (default 100)' }, after: { type: 'string', maxLength: 255 } },
};

// --- routes ------------------------------------------------------------------------------------------

interface RouteDoc {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  summary: string;
  schema: FastifySchema & { response: Record<number, unknown> };
}

const err = ErrorBody;
const ROUTES: RouteDoc[] = [
  { method: 'POST', url: '/subscribers', summary: 'Create a subscriber', schema: { body: NewSubscriber, response: { 201: Subscriber, 400: err, 409: err, 415: err } } },
  { method: 'POST', url: '/subscribers/import', summary: 'Import subscribers from a CSV or JSON file (all or none)', schema: { body: ImportBody, response: { 200: ImportResult, 400: err, 409: err, 415: err } } },
  { method: 'GET', url: '/subscribers', summary: 'List subscribers by IMPI', schema: { querystring: listQuery, response: { 200: SubscriberList, 400: err } } },
  { method: 'GET', url: '/subscribers/:impi', summary: 'Show a subscriber', schema: { params: impiParams, response: { 200: Subscriber, 400: err, 404: err } } },
  { method: 'PATCH', url: '/subscribers/:impi', summary: 'Change a subscriber', schema: { params: impiParams, body: SubscriberPatch, response: { 200: Subscriber, 400: err, 404: err, 409: err, 415: err } } },
  { method: 'DELETE', url: '/subscribers/:impi', summary: 'Delete a subscriber', schema: { params: impiParams, response: { 204: { type: 'null' }, 400: err, 404: err } } },
  { method: 'GET', url: '/subscribers/:impi/registration', summary: 'Registration state per IMPU', schema: { params: impiParams, response: { 200: Registration, 400: err, 404: err } } },
];

function errorName(status: number): string {
  return ({ 400: 'BAD_REQUEST', 404: 'NOT_FOUND', 409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' } as Record<number, string>)[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
}

interface AjvError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

/** Which schema failure to report when several branches failed: the most specific. */
const KEYWORD_RANK = ['additionalProperties', 'required', 'pattern', 'enum', 'maxLength', 'minItems', 'maxItems', 'minimum', 'maximum', 'minProperties', 'type', 'oneOf'];

/** Plain words for the patterns a user meets. */
function patternWords(path: string): string | undefined {
  if (/\/(k|op|opc)$/.test(path)) return 'must be 16 bytes (32 hex digits)';
  if (/\/amf$/.test(path)) return 'must be 2 bytes (4 hex digits), e.g. 8000';
  if (/\/impi$/.test(path)) return 'must be an NAI of the form user@realm (TS 23.003 §13.3)';
  if (/\/limit$/.test(path)) return 'must be a decimal integer';
  if (/\/impus\/\d+(\/impu)?$/.test(path)) return 'must be a sip:, sips: or tel: URI without spaces (TS 23.003 §13.4)';
  return undefined;
}

/** One readable line from a schema failure, naming the field, never its value. */
function validationMessage(e: FastifyError): string {
  const all = (e.validation as AjvError[] | undefined) ?? [];
  if (all.length === 0) return e.message;
  const rank = (x: AjvError): number => {
    const i = KEYWORD_RANK.indexOf(x.keyword);
    return i < 0 ? KEYWORD_RANK.length : i;
  };
  const first = [...all].sort((a, b) => rank(a) - rank(b))[0];
  const where = `${e.validationContext ?? 'body'}${first.instancePath}`;
  if (first.keyword === 'additionalProperties') return `${where}: unknown field ${quoteName(String(first.params.additionalProperty))}`;
  if (first.keyword === 'required') return `${where}: missing field ${JSON.stringify(first.params.missingProperty)}`;
  if (first.keyword === 'pattern') return `${where} ${patternWords(first.instancePath) ?? 'has the wrong format'}`;
  return `${where} ${first.message ?? 'is invalid'}`;
}

/** Fastify server options of the API (strict JSON schema validation: no coercion, no defaults). */
export function hssRestServerOptions(opts: Pick<HssRestOptions, 'logger' | 'bodyLimit'> = {}) {
  return {
    ...(opts.logger !== undefined ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false } },
  };
}

/** Builds the API on a store. The caller listens (or uses `inject` in tests) and closes. */
export function createHssRestApi(store: HssStore, opts: HssRestOptions = {}): FastifyInstance {
  const app = Fastify(hssRestServerOptions(opts)) as unknown as FastifyInstance;
  if (opts.access) installGuard(app, opts.access);
  setupHssRest(app, store, opts.version);
  return app;
}

/**
 * Adds the API's error handling and routes to `app` — a server of its own, or an encapsulated
 * plugin scope of another server (`app.register((scope) => setupHssRest(scope, store), { prefix })`).
 */
export function setupHssRest(app: FastifyInstance, store: HssStore, version?: string): void {
  app.setErrorHandler((e: FastifyError, _req, reply) => {
    let status = 500;
    let message = 'internal error';
    if (e.validation !== undefined) {
      status = 400;
      message = validationMessage(e);
    } else if (e instanceof NotFoundError) {
      status = 404;
      message = e.message;
    } else if (e instanceof ConflictError) {
      status = 409;
      message = e.message;
    } else if (e instanceof InvalidArgumentError) {
      status = 400;
      message = e.message;
    } else if (e instanceof ImportError) {
      status = 400;
      message = e.message;
    } else if (e instanceof ImsError && e.code === 'AKA_INVALID') {
      status = 400;
      message = e.message;
    } else if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      status = e.statusCode;
      // Fastify's own client errors (FST_ERR_CTP_*: bad JSON, wrong content type, body too large)
      // have fixed texts; anything else might quote the body, so it gets a generic line.
      message = typeof e.code === 'string' && e.code.startsWith('FST_') ? e.message : 'the request could not be read';
    } else {
      app.log.error({ err: { code: (e as { code?: string }).code, name: e.name } }, 'HSS REST request failed');
    }
    void reply.status(status).send({ error: errorName(status), message });
  });

  // JSON only: a text/plain body is refused with 415 instead of reaching the schema as a string.
  app.removeContentTypeParser('text/plain');

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send({ error: 'NOT_FOUND', message: `no route ${req.method} ${req.url.split('?')[0]}` });
  });

  const handlers: Record<string, (req: { params: unknown; query: unknown; body: unknown }, reply: { status(n: number): unknown }) => Promise<unknown>> = {
    'POST /subscribers': async (req, reply) => {
      const view = await provisionSubscriber(store, req.body);
      reply.status(201);
      return view;
    },
    'POST /subscribers/import': async (req) => {
      const b = req.body as { format: ImportFormat; text: string };
      return { imported: await importSubscribers(store, parseImportFile(b.text, b.format)) };
    },
    'GET /subscribers': async (req) => {
      const q = req.query as { limit?: string; after?: string };
      const limit = q.limit === undefined ? 100 : Number(q.limit);
      if (limit < 1 || limit > 1000) throw new InvalidArgumentError('querystring/limit must be 1..1000', 'limit');
      const page = await store.listSubscribers({ limit, ...(q.after !== undefined ? { after: q.after } : {}) });
      return { subscribers: page.map(subscriberView), next: page.length === limit ? page[page.length - 1].impi : null };
    },
    'GET /subscribers/:impi': async (req) => {
      const { impi } = req.params as { impi: string };
      const s = await store.getSubscriber(impi);
      if (s === null) throw new NotFoundError('subscriber', impi);
      return subscriberView(s);
    },
    'PATCH /subscribers/:impi': async (req) => changeSubscriber(store, (req.params as { impi: string }).impi, req.body),
    'DELETE /subscribers/:impi': async (req, reply) => {
      const { impi } = req.params as { impi: string };
      if (!(await store.deleteSubscriber(impi))) throw new NotFoundError('subscriber', impi);
      reply.status(204);
      return null;
    },
    'GET /subscribers/:impi/registration': async (req) => {
      const { impi } = req.params as { impi: string };
      const s = await store.getSubscriber(impi);
      if (s === null) throw new NotFoundError('subscriber', impi);
      return registrationView(s);
    },
  };

  for (const r of ROUTES) {
    const handler = handlers[`${r.method} ${r.url}`];
    app.route({ method: r.method, url: r.url, schema: r.schema, handler: (req, reply) => handler(req, reply) });
  }
  const doc = buildOpenApi(version ?? '0.1.0');
  app.get('/openapi.json', async () => doc);
}

/**
 * OpenAPI 3.1 (whose Schema Object is JSON Schema 2020-12, so the route schemas go in as they
 * are) from the same route table the server uses.
 */
export function buildOpenApi(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    const params = r.schema.params as { properties?: Record<string, unknown> } | undefined;
    for (const [name, schema] of Object.entries(params?.properties ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    const query = r.schema.querystring as { properties?: Record<string, unknown> } | undefined;
    for (const [name, schema] of Object.entries(query?.properties ?? {})) parameters.push({ name, in: 'query', required: false, schema });
    const responses: Record<string, unknown> = {};
    for (const [code, schema] of Object.entries(r.schema.response)) {
      const n = Number(code);
      const description = n === 204 ? 'No Content' : n < 300 ? 'OK' : errorName(n);
      responses[code] = n === 204 ? { description } : { description, content: { 'application/json': { schema: schema === ErrorBody ? { $ref: '#/components/schemas/Error' } : schema } } };
    }
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(r.schema.body !== undefined ? { requestBody: { required: true, content: { 'application/json': { schema: r.schema.body } } } } : {}),
      responses,
    };
  }
  paths['/openapi.json'] = { get: { summary: 'This document', responses: { 200: { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } } } } };
  return {
    openapi: '3.1.0',
    info: { title: 'imsec HSS provisioning API', version, description: 'Subscribers (IMPI, IMPUs, keys, SQN, profiles) and their registration state. K, OP and OPc are write-only.' },
    paths,
    components: { schemas: { Error: ErrorBody, Subscriber, NewSubscriber, SubscriberPatch, Registration } },
  };
}
