/**
 * `imsec scscf --workers N`: the S-CSCF as N processes on one SIP port and one registrar store,
 * the way Kamailio's S-CSCF uses several cores (its SIP workers read one socket and share its
 * registrations in shared memory).
 *
 * How they share the port: node:cluster binds the UDP socket once, in the primary, and gives it
 * to every worker (Node 20's dgram has no SO_REUSEPORT); the kernel hands each datagram to
 * whichever worker reads first. A worker that reads a message another owns passes it on over the
 * workers' relay (nodes/scscf/affinity.ts says who owns what, relay.ts how it moves); the owner
 * answers from the same shared socket, so peers see one S-CSCF at one address and port.
 *
 * How they share the store: each worker writes the registrations it owns to the one store
 * (SQLite in WAL mode, or PostgreSQL), arms their expiry, and tells the others, which keep a
 * replica for routing. Each worker has its own Diameter connection to the HSS, as Origin-Host
 * `<first label>-w<i>.<rest>` (scscf.ims.lab → scscf-w0.ims.lab, …): the HSS must allow them.
 *
 * Not with workers: SIP over TCP (a connection cannot be shared by owner), `--admin-stdin`,
 * `--metrics` and `--console-feed`; each is refused with one line before anything starts.
 *
 * The primary starts the workers' S-CSCFs one after another (each once the one before serves),
 * prints the ready line once every worker serves, and stops them all on SIGTERM or SIGINT, or
 * when one exits.
 */
import cluster, { type Worker } from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { createLogger } from '../common/log.js';
import { createScscf, WorkerRelay, type ScscfConfig } from '../nodes/scscf/index.js';
import { CliFailure } from './errors.js';
import { readySip, serveUntilSignal } from './node-process.js';

/** Messages between the primary and a worker (node:cluster's IPC channel). */
type ToWorker = { kind: 'init'; index: number; count: number; key: string } | { kind: 'peers'; ports: number[] } | { kind: 'stop' };
type FromWorker = { kind: 'hello' } | { kind: 'relay'; port: number } | { kind: 'ready'; ready: Record<string, unknown> } | { kind: 'failed'; error: string };

/** Sends to a worker still connected (one that has gone is reported by its exit). */
function tell(w: Worker, m: ToWorker): void {
  if (w.isConnected()) w.send(m);
}

/** The worker's Diameter Origin-Host: `<first label>-w<i>.<rest>`. */
export function workerOriginHost(originHost: string, index: number): string {
  const dot = originHost.indexOf('.');
  return dot < 0 ? `${originHost}-w${index}` : `${originHost.slice(0, dot)}-w${index}${originHost.slice(dot)}`;
}

/** Why a configuration cannot run as workers, or undefined. */
export function workersRefusal(config: ScscfConfig, o: { adminStdin?: boolean; metrics?: string; consoleFeed?: boolean }): string | undefined {
  if (config.sip.protocols.includes('tcp')) return '--workers serves SIP over UDP only: set sip.protocols to ["udp"] (a TCP connection cannot be passed to the worker that owns each message)';
  if (o.adminStdin) return '--workers cannot be used with --admin-stdin';
  if (o.metrics !== undefined) return '--workers cannot be used with --metrics';
  if (o.consoleFeed) return '--workers cannot be used with --console-feed';
  return undefined;
}

/** The primary: forks the workers, prints the ready line, serves until a signal or a worker's exit. */
export async function runScscfPrimary(config: ScscfConfig, count: number, out: NodeJS.WritableStream): Promise<void> {
  const log = createLogger('scscf', { level: config.logLevel });
  const key = randomBytes(32).toString('hex');
  const workers: Worker[] = [];
  const ports: number[] = [];
  const readies: Record<string, unknown>[] = [];
  let stopping = false;
  let failure: string | undefined;
  let resolveEnded!: () => void;
  const ended = new Promise<void>((r) => (resolveEnded = r));
  let exited = 0;

  const started = new Promise<void>((resolve, reject) => {
    for (let i = 0; i < count; i++) {
      const w = cluster.fork();
      workers.push(w);
      w.on('message', (m: FromWorker) => {
        if (m.kind === 'hello') tell(w, { kind: 'init', index: i, count, key });
        else if (m.kind === 'relay') {
          ports[i] = m.port;
          // The workers start their S-CSCFs one after another: two opening a new SQLite store at
          // once can find it locked while the other creates its schema and turns on WAL.
          if (ports.filter((p) => p !== undefined).length === count) tell(workers[0], { kind: 'peers', ports });
        } else if (m.kind === 'ready') {
          readies[i] = m.ready;
          if (i + 1 < count) tell(workers[i + 1], { kind: 'peers', ports });
          else resolve();
        } else reject(new CliFailure(`cannot start the S-CSCF: worker ${i}: ${m.error}`));
      });
      w.on('exit', (code, signal) => {
        exited++;
        if (!stopping) {
          failure ??= `S-CSCF worker ${i} exited (${signal ?? `code ${code}`})`;
          reject(new CliFailure(failure));
          stopAll();
        }
        if (exited === count) resolveEnded();
      });
    }
  });
  function stopAll(): void {
    stopping = true;
    for (const w of workers) tell(w, { kind: 'stop' });
  }
  try {
    await started;
  } catch (err) {
    stopAll();
    await ended;
    throw err;
  }
  out.write(JSON.stringify({ ...readies[0], workers: workers.map((w) => w.process.pid), originHosts: workers.map((_, i) => workerOriginHost(config.diameter.originHost, i)) }) + '\n');
  await serveUntilSignal(
    'scscf',
    async () => {
      stopAll();
      await ended;
    },
    log,
    ended,
  );
  if (failure) throw new CliFailure(failure);
}

/** A worker: waits for its place from the primary, then runs its S-CSCF until told to stop. */
export async function runScscfWorker(config: ScscfConfig): Promise<void> {
  const log = createLogger('scscf', { level: config.logLevel });
  const send = (m: FromWorker): void => void (process.connected && process.send?.(m));
  // The primary speaks once this process listens (it says hello); each kind comes once.
  const inbox = new Map<ToWorker['kind'], (m: ToWorker) => void>();
  const got = new Map<ToWorker['kind'], ToWorker>();
  process.on('message', (m: ToWorker) => {
    const waiting = inbox.get(m.kind);
    if (waiting) waiting(m);
    else got.set(m.kind, m);
  });
  const next = <K extends ToWorker['kind']>(kind: K): Promise<Extract<ToWorker, { kind: K }>> =>
    new Promise((resolve) => {
      const m = got.get(kind);
      if (m) resolve(m as Extract<ToWorker, { kind: K }>);
      else inbox.set(kind, (x) => resolve(x as Extract<ToWorker, { kind: K }>));
    });
  send({ kind: 'hello' });
  // The primary stops workers by message; a signal to the process group is its business.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => undefined);
  const init = await next('init');
  const stop = next('stop');
  const relay = new WorkerRelay(init.index, Buffer.from(init.key, 'hex'));
  send({ kind: 'relay', port: await relay.bind() });
  relay.setPeers((await next('peers')).ports);
  const wlog = log.child({ worker: init.index });
  const scscf = createScscf({ ...config, diameter: { ...config.diameter, originHost: workerOriginHost(config.diameter.originHost, init.index) } }, { logger: wlog, workers: { index: init.index, count: init.count, relay } });
  try {
    await scscf.start();
  } catch (err) {
    send({ kind: 'failed', error: (err as Error).message });
    await scscf.stop().catch(() => {});
    await relay.close();
    process.disconnect?.();
    return;
  }
  send({ kind: 'ready', ready: { ready: true, ...readySip(scscf.address().sip), serverName: scscf.serverName() } });
  await stop;
  wlog.info('scscf: stopping');
  await scscf.stop().catch((err: Error) => wlog.warn({ err: err.message }, 'scscf: stop failed'));
  await relay.close();
  process.disconnect?.();
}
