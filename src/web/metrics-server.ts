/**
 * `--metrics host:port` of a node process: `GET /metrics` (Prometheus text format 0.0.4) behind
 * the same Host and token check as every imsec HTTP listener (guard.ts). Prometheus scrapes it
 * with `authorization: { credentials_file: … }` (bearer) unless the node runs with `--no-auth`
 * on loopback.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { METRICS_CONTENT_TYPE, type MetricsHub } from '../metrics/index.js';
import type { HttpAccess } from './http/index.js';
import { installGuard } from './http/index.js';

/** Adds `GET /metrics` to `app`. */
export function addMetricsRoute(app: FastifyInstance, hub: MetricsHub): void {
  app.get('/metrics', async (_req, reply) => {
    void reply.header('Content-Type', METRICS_CONTENT_TYPE);
    return hub.metrics();
  });
}

export interface MetricsListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves the hub's metrics on `host:port` (port 0: the OS chooses). */
export async function startMetricsServer(hub: MetricsHub, listen: { host: string; port: number }, access: HttpAccess): Promise<MetricsListener> {
  const app = Fastify({ logger: false }) as unknown as FastifyInstance;
  installGuard(app, access);
  addMetricsRoute(app, hub);
  await app.listen({ host: listen.host, port: listen.port });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}
