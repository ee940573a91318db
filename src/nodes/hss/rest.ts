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
 * Bodies are validated by the TypeBox schemas of subscriber-schema.ts, the ones the CLI and the
 * import check with (ajv through common/schema.ts: additionalProperties false, hex patterns, no
 * type coercion), and typed by fastify's TypeBox type provider; every error is `{ error, message }`
 * with 400 (validation), 404 (unknown), 409
 * (duplicate IMPI/IMPU), 415 (not JSON). K, OP and OPc are write-only: response schemas have no
 * field for them (fastify's serializer drops anything not in the schema), and no message
 * quotes them.
 *
 * With `access` (web/access.ts), every request is checked first (web/guard.ts): the Host header
 * must name this listener (else 421) and a bearer token is required (else 401) unless the
 * listener is on loopback and started with `--no-auth`. {@link fastifyRest} always passes one.
 * {@link setupHssRest} puts the same API into another server under a prefix (the console).
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import type { Logger } from '../../common/log.js';
import type { HttpAccess } from '../../web/http/index.js';
import { installGuard } from '../../web/http/index.js';
import { ImsError, InvalidArgumentError } from '../../common/index.js';
import { checkSchema, type SchemaIssue } from '../../common/schema.js';
import { ConflictError, quoteName, NotFoundError, type HssStore } from '../../store/index.js';
import { changeSubscriber, provisionSubscriber, registrationView, subscriberView } from './provisioning.js';
import { ImportError, importSubscribers, parseImportFile } from './provisioning-import.js';
import { ImpiField, NewSubscriberSchema, RegistrationViewSchema, SubscriberPatchSchema, SubscriberViewSchema } from './subscriber-schema.js';

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

// --- schemas of the routes (also the OpenAPI components) ---------------------------------------------

const ErrorBody = Type.Object(
  { error: Type.String({ description: 'BAD_REQUEST, NOT_FOUND, CONFLICT, UNSUPPORTED_MEDIA_TYPE, PAYLOAD_TOO_LARGE or INTERNAL' }), message: Type.String() },
  { title: 'Error' },
);
const SubscriberList = Type.Object({
  subscribers: Type.Array(SubscriberViewSchema),
  next: Type.Union([Type.String(), Type.Null()], { description: 'pass as `after` for the next page' }),
});
const ImportBody = Type.Object(
  {
    format: Type.Enum(['csv', 'json'], { errorMessage: 'must be csv or json' }),
    text: Type.String({ maxLength: 4 * 1024 * 1024 - 1024, description: 'the file, as `imsec hss import` reads it (provisioning-import.ts)' }),
  },
  { additionalProperties: false },
);
const ImportResult = Type.Object({ imported: Type.Integer() });
/** `:impi` of the routes that name a subscriber. */
export const ImpiParams = Type.Object({ impi: ImpiField });
const ListQuery = Type.Object(
  {
    limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$', errorMessage: 'must be a decimal integer', description: 'page size 1..1000 (default 100)' })),
    after: Type.Optional(Type.String({ maxLength: 255 })),
  },
  { additionalProperties: false },
);

const err = ErrorBody;
/** The routes: method, URL and schemas, used by the server and by {@link buildOpenApi}. */
const ROUTES = {
  create: { method: 'POST', url: '/subscribers', schema: { summary: 'Create a subscriber', body: NewSubscriberSchema, response: { 201: SubscriberViewSchema, 400: err, 409: err, 415: err } } },
  import: { method: 'POST', url: '/subscribers/import', schema: { summary: 'Import subscribers from a CSV or JSON file (all or none)', body: ImportBody, response: { 200: ImportResult, 400: err, 409: err, 415: err } } },
  list: { method: 'GET', url: '/subscribers', schema: { summary: 'List subscribers by IMPI', querystring: ListQuery, response: { 200: SubscriberList, 400: err } } },
  show: { method: 'GET', url: '/subscribers/:impi', schema: { summary: 'Show a subscriber', params: ImpiParams, response: { 200: SubscriberViewSchema, 400: err, 404: err } } },
  change: { method: 'PATCH', url: '/subscribers/:impi', schema: { summary: 'Change a subscriber', params: ImpiParams, body: SubscriberPatchSchema, response: { 200: SubscriberViewSchema, 400: err, 404: err, 409: err, 415: err } } },
  remove: { method: 'DELETE', url: '/subscribers/:impi', schema: { summary: 'Delete a subscriber', params: ImpiParams, response: { 204: Type.Null(), 400: err, 404: err } } },
  registration: { method: 'GET', url: '/subscribers/:impi/registration', schema: { summary: 'Registration state per IMPU', params: ImpiParams, response: { 200: RegistrationViewSchema, 400: err, 404: err } } },
} as const;

function errorName(status: number): string {
  return ({ 400: 'BAD_REQUEST', 404: 'NOT_FOUND', 409: 'CONFLICT', 413: 'PAYLOAD_TOO_LARGE', 415: 'UNSUPPORTED_MEDIA_TYPE' } as Record<number, string>)[status] ?? (status >= 500 ? 'INTERNAL' : 'BAD_REQUEST');
}

/** A request part the route's schema refuses; `validationContext` (body, params, querystring) is set by fastify. */
class RequestSchemaError extends Error {
  validationContext?: string;
  constructor(readonly issue: SchemaIssue) {
    super(issue.message);
  }

  /** One readable line naming the field, never its value: `body/k must be 16 bytes (32 hex digits)`. */
  line(): string {
    const { path, keyword, message } = this.issue;
    const at = (p: readonly (string | number)[]): string => `${this.validationContext ?? 'body'}${p.map((x) => `/${x}`).join('')}`;
    const key = String(path[path.length - 1]);
    if (keyword === 'additionalProperties') return `${at(path.slice(0, -1))}: unknown field ${quoteName(key)}`;
    if (keyword === 'required') return `${at(path.slice(0, -1))}: missing field ${JSON.stringify(key)}`;
    return `${at(path)} ${message}`;
  }
}

/**
 * Validates every request part with the one schema helper (common/schema.ts: ajv, the schemas'
 * own messages), so the REST API says what the CLI and the import say.
 */
function schemaValidator({ schema }: { schema: unknown }): (data: unknown) => { value: unknown } | { error: Error } {
  return (data) => {
    const r = checkSchema(schema as TSchema, data);
    return r.ok ? { value: r.value } : { error: new RequestSchemaError(r.issue) };
  };
}

/** Fastify server options of the API. */
export function hssRestServerOptions(opts: Pick<HssRestOptions, 'logger' | 'bodyLimit'> = {}) {
  return {
    ...(opts.logger !== undefined ? { loggerInstance: opts.logger } : { logger: false }),
    bodyLimit: opts.bodyLimit ?? 4 * 1024 * 1024,
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
  app.setValidatorCompiler(schemaValidator);
  app.setErrorHandler((e: FastifyError, _req, reply) => {
    let status = 500;
    let message = 'internal error';
    if (e instanceof RequestSchemaError) {
      status = 400;
      message = e.line();
    } else if (e instanceof NotFoundError) {
      status = 404;
      message = e.message;
    } else if (e instanceof ConflictError) {
      status = 409;
      message = e.message;
    } else if (e instanceof InvalidArgumentError || e instanceof ImportError || (e instanceof ImsError && e.code === 'AKA_INVALID')) {
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

  const api = app.withTypeProvider<TypeBoxTypeProvider>();
  const subscriber = async (impi: string) => {
    const s = await store.getSubscriber(impi);
    if (s === null) throw new NotFoundError('subscriber', impi);
    return s;
  };
  api.route({
    ...ROUTES.create,
    handler: async (req, reply) => reply.status(201).send(await provisionSubscriber(store, req.body)),
  });
  api.route({ ...ROUTES.import, handler: async (req) => ({ imported: await importSubscribers(store, parseImportFile(req.body.text, req.body.format)) }) });
  api.route({
    ...ROUTES.list,
    handler: async (req) => {
      const limit = req.query.limit === undefined ? 100 : Number(req.query.limit);
      if (limit < 1 || limit > 1000) throw new InvalidArgumentError('querystring/limit must be 1..1000', 'limit');
      const page = await store.listSubscribers({ limit, ...(req.query.after !== undefined ? { after: req.query.after } : {}) });
      return { subscribers: page.map(subscriberView), next: page.length === limit ? page[page.length - 1].impi : null };
    },
  });
  api.route({ ...ROUTES.show, handler: async (req) => subscriberView(await subscriber(req.params.impi)) });
  api.route({ ...ROUTES.change, handler: async (req) => changeSubscriber(store, req.params.impi, req.body) });
  api.route({
    ...ROUTES.remove,
    handler: async (req, reply) => {
      if (!(await store.deleteSubscriber(req.params.impi))) throw new NotFoundError('subscriber', req.params.impi);
      return reply.status(204).send(null);
    },
  });
  api.route({ ...ROUTES.registration, handler: async (req) => registrationView(await subscriber(req.params.impi)) });
  const doc = buildOpenApi(version ?? '0.1.0');
  app.get('/openapi.json', async () => doc);
}

/**
 * OpenAPI 3.1 (whose Schema Object is JSON Schema 2020-12, so the route schemas go in as they
 * are) from the same route table the server uses.
 */
export function buildOpenApi(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of Object.values(ROUTES)) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    const params = ('params' in r.schema ? r.schema.params : undefined) as { properties?: Record<string, unknown> } | undefined;
    for (const [name, schema] of Object.entries(params?.properties ?? {})) parameters.push({ name, in: 'path', required: true, schema });
    const query = ('querystring' in r.schema ? r.schema.querystring : undefined) as { properties?: Record<string, unknown> } | undefined;
    for (const [name, schema] of Object.entries(query?.properties ?? {})) parameters.push({ name, in: 'query', required: false, schema });
    const responses: Record<string, unknown> = {};
    for (const [code, schema] of Object.entries(r.schema.response as Record<string, TSchema>)) {
      const n = Number(code);
      const description = n === 204 ? 'No Content' : n < 300 ? 'OK' : errorName(n);
      responses[code] = n === 204 ? { description } : { description, content: { 'application/json': { schema: schema === ErrorBody ? { $ref: '#/components/schemas/Error' } : schema } } };
    }
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.schema.summary,
      ...(parameters.length > 0 ? { parameters } : {}),
      ...('body' in r.schema ? { requestBody: { required: true, content: { 'application/json': { schema: r.schema.body } } } } : {}),
      responses,
    };
  }
  paths['/openapi.json'] = { get: { summary: 'This document', responses: { 200: { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } } } } };
  return {
    openapi: '3.1.0',
    info: { title: 'imsec HSS provisioning API', version, description: 'Subscribers (IMPI, IMPUs, keys, SQN, profiles) and their registration state. K, OP and OPc are write-only.' },
    paths,
    components: { schemas: { Error: ErrorBody, Subscriber: SubscriberViewSchema, NewSubscriber: NewSubscriberSchema, SubscriberPatch: SubscriberPatchSchema, Registration: RegistrationViewSchema } },
  };
}
