/**
 * `--metrics host:port` of a node process: `GET /metrics` (Prometheus text format 0.0.4) behind
 * the same Host and token check as every imsec HTTP listener (guard.ts). Prometheus scrapes it
 * with `authorization: { credentials_file: … }` (bearer) unless the node runs with `--no-auth`
 * on loopback.
 */
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { METRICS_CONTENT_TYPE } from '../metrics/index.js';
import type { HttpAccess } from './http/index.js';
import { installGuard } from './http/index.js';

/** What `/metrics` serves: a process's hub, or the merged text of a core's processes. */
export interface MetricsSource {
  metrics(): Promise<string>;
}

/** Adds `GET /metrics` to `app`. */
export function addMetricsRoute(app: FastifyInstance, source: MetricsSource): void {
  app.get('/metrics', async (_req, reply) => {
    void reply.header('Content-Type', METRICS_CONTENT_TYPE);
    return source.metrics();
  });
}

export interface MetricsListener {
  readonly port: number;
  close(): Promise<void>;
}

/** Serves the source's metrics on `host:port` (port 0: the OS chooses). */
export async function startMetricsServer(source: MetricsSource, listen: { host: string; port: number }, access: HttpAccess): Promise<MetricsListener> {
  const app = Fastify({ logger: false }) as unknown as FastifyInstance;
  installGuard(app, access);
  addMetricsRoute(app, source);
  await app.listen({ host: listen.host, port: listen.port });
  return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
}
