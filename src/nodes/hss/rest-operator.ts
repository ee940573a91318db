/**
 * The running HSS's own REST routes, added to the provisioning API (rest.ts) when the HSS
 * serves it:
 *
 *   POST /subscribers/:impi/deregister   operator de-registration: RTR to the serving S-CSCF(s)
 *                                         (TS 29.228 §6.1.3); body { reason?, info?, impus? }
 *                                         200 { ok, results } | 400 | 404
 *   GET  /hss/status                      counters and peer states                 200
 *
 * Provisioning changes made through the API reach the S-CSCF on their own: the API gets the
 * store from {@link HssServer.provisioningStore}, which pushes PPR after a profile change and
 * RTR before deleting a registered subscriber.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { InvalidArgumentError } from '../../common/index.js';
import { Type } from 'typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { REASON_CODES } from './initiated.js';
import { resolveHttpAccess, type HttpAccessOptions } from '../../web/http/index.js';
import { createHssRestApi, ImpiParams } from './rest.js';
import { ImpuField } from './subscriber-schema.js';
import type { HssServer, RestFactory } from './wire.js';

const deregisterSchema = {
  params: ImpiParams,
  body: Type.Union([
    Type.Null(),
    Type.Object(
      {
        reason: Type.Optional(Type.Enum(Object.keys(REASON_CODES), { description: 'Deregistration-Reason Reason-Code (TS 29.229 §6.3.17); default PERMANENT_TERMINATION' })),
        info: Type.Optional(Type.String({ maxLength: 1024, description: 'Reason-Info, shown to the user by some S-CSCFs' })),
        impus: Type.Optional(Type.Array(ImpuField, { minItems: 1, maxItems: 100, description: 'only these IMPUs (with their implicit sets); default every registered IMPU of the IMPI' })),
      },
      { additionalProperties: false },
    ),
  ]),
};

/** Adds the operator routes to a provisioning API instance (before it listens). */
export function registerOperatorRoutes(app: FastifyInstance, hss: HssServer): void {
  app.withTypeProvider<TypeBoxTypeProvider>().post('/subscribers/:impi/deregister', { schema: deregisterSchema }, async (req) => {
    const { impi } = req.params;
    const body = req.body ?? {};
    const code = REASON_CODES[body.reason ?? 'PERMANENT_TERMINATION'];
    const reason = { code, ...(body.info !== undefined ? { info: body.info } : {}) };
    if (body.impus !== undefined) {
      for (const u of body.impus) {
        const p = await hss.provisioningStore.getPublicIdentity(u);
        if (p !== null && p.impi !== impi) throw new InvalidArgumentError(`${u} does not belong to ${impi}`, 'impus');
      }
    }
    const results = await hss.deregister(body.impus !== undefined ? { impus: body.impus } : { impi }, reason);
    return { ok: results.every((r) => r.ok), results };
  });
  app.get('/hss/status', async () => hss.status());
}

/** Token and Host settings of the REST listener (web/access.ts); the bind address comes from the HSS configuration. */
export type RestAccessSettings = Omit<HttpAccessOptions, 'listenHost'>;

/**
 * The REST factory the `imsec hss` command uses: provisioning API + operator routes on fastify,
 * behind the Host and token check. Without a token or `noAuth`, a token is generated
 * ({@link HssServer.restAccess} has it, the CLI prints it once).
 */
export function fastifyRestWith(settings: RestAccessSettings = {}): RestFactory {
  return async ({ store, hss, listen, logger }) => {
    const access = resolveHttpAccess({ ...settings, listenHost: listen.host });
    const app = createHssRestApi(store, { logger: logger.child({ component: 'rest' }), access });
    registerOperatorRoutes(app, hss);
    await app.listen({ host: listen.host, port: listen.port });
    return {
      port: (app.server.address() as AddressInfo).port,
      access,
      close: () => app.close(),
    };
  };
}

/** {@link fastifyRestWith} with a generated token. */
export const fastifyRest: RestFactory = fastifyRestWith();
