/**
 * The scale-out network of issue [K] item 5, as separate processes on this host: N S-CSCF/HSS
 * pairs (N = 1 or 2), every HSS on ONE PostgreSQL store, behind one I-CSCF and one P-CSCF:
 *
 * ```
 * swarm ── P-CSCF ── I-CSCF ──┬── S-CSCF 1 ── HSS 1 ──┐
 *                     │ UAR/LIR└── S-CSCF 2 ── HSS 2 ──┴── PostgreSQL (subscribers, SQN, registrations)
 *                     └──────────── HSS 1
 * ```
 *
 * - The HSSs share every piece of state through the store: SQN allocation is one atomic
 *   `UPDATE … seq_he = seq_he + n` per batch (src/store/postgres), so no SQN is issued twice
 *   across processes (R-AKA-3); the registration state and S-CSCF name written at SAR by one HSS
 *   are what the other answers UAR and LIR with (R-REG-1).
 * - Their Server-Capabilities name no S-CSCF, so the I-CSCF chooses among its configured list;
 *   equal S-CSCFs take turns (src/nodes/icscf/select.ts step 5), and a registered user stays on
 *   the S-CSCF the HSS names (TS 29.228 §6.1.1.1).
 * - Each S-CSCF keeps its bindings in an SQLite file of its own (a registrar store per S-CSCF).
 *
 * Each node is `imsec <node> --config FILE` (its `{"ready":true,…}` line read before the next
 * starts), optionally under `node --cpu-prof`. Everything listens on 127.0.0.1.
 */
import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { ipFamily } from '../sip/index.js';
import type { Endpoint } from '../sip/transport/index.js';
import { CliFailure } from './errors.js';
import { cpuMsOf } from './proc-stats.js';

/** What {@link startScaleOut} starts. */
export interface ScaleOutOptions {
  /** The store every HSS shares: `postgres://…`; `sqlite:PATH` only with one pair (`bench core-memory`). */
  storeUrl: string;
  /** S-CSCF/HSS pairs: 1 or 2. */
  pairs: number;
  /** Configuration files and the S-CSCFs' registrar stores go here. */
  dir: string;
  /** Run every node under `node --cpu-prof`, profiles into this directory. */
  cpuProfDir?: string;
}

/** One running node process. */
export interface NodeProcess {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly ready: Record<string, unknown>;
  /** The last lines it wrote to stderr (its warnings and errors). */
  stderr(): string;
  stop(): Promise<void>;
}

/** The running network of {@link startScaleOut}. */
export interface ScaleOutTopology {
  /** The P-CSCF's unprotected SIP endpoint. */
  readonly pcscf: Endpoint;
  /** The S-CSCFs' Server-Names, in the I-CSCF's order. */
  readonly scscfNames: readonly string[];
  readonly nodes: readonly NodeProcess[];
  /** CPU time (user + system) each node has used so far, ms, by node name. */
  cpuMs(): Record<string, number>;
  /** Stops every node (SIGTERM, SIGKILL after 15 s), the P-CSCF first. */
  stop(): Promise<void>;
}

const HOST = '127.0.0.1';
const REALM = 'ims.lab';

/** A TCP port the kernel gives on `host`, released again. */
function freeTcpPort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Whether UDP `port` on `host` can be bound right now (bound and released again). */
export function udpPortFree(host: string, port: number): Promise<boolean> {
  const s = createSocket(ipFamily(host) === 6 ? 'udp6' : 'udp4');
  return new Promise((resolve) => {
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind({ port, address: host, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** Ports tried by {@link freePort} before it gives up. */
const FREE_PORT_TRIES = 32;

/**
 * A port that was free a moment ago on `host` for both TCP and UDP: a SIP node binds both on it,
 * and the S-CSCF's Server-Name must name it before it starts. Bound and released: the nodes are
 * child processes, which cannot be handed a socket. Each protocol has its own ports, so a TCP port
 * the kernel gives may be a UDP port in use (a UDP socket another process bound on port 0): such
 * a port is passed over, not handed to a node that would then fail to bind it.
 */
export async function freePort(host = HOST): Promise<number> {
  for (let i = 0; i < FREE_PORT_TRIES; i++) {
    const port = await freeTcpPort(host);
    if (await udpPortFree(host, port)) return port;
  }
  throw new CliFailure(`no port of ${host} is free for both TCP and UDP (${FREE_PORT_TRIES} tried)`);
}

/** How {@link startNode} runs a node. */
export interface StartNodeOptions {
  /** Node's own flags, before the script (e.g. `--cpu-prof …` to profile it). */
  nodeArgs?: readonly string[];
  /** Each chunk the node writes to stderr (its log lines) is also written here. */
  forwardStderr?: NodeJS.WritableStream;
  /** Told of the process as soon as it is spawned (to stop it before it is ready). */
  onSpawn?: (proc: ChildProcess) => void;
  /** More arguments after `--config FILE` (e.g. the HTTP access flags of an HSS serving REST). */
  args?: readonly string[];
  /**
   * What the node writes to stdout after its ready line (the S-CSCF's operator answers) is
   * written here; with it, the node's stdin is a pipe ({@link NodeProcess.proc}`.stdin`).
   */
  forwardStdout?: NodeJS.WritableStream;
  /**
   * Each message the node sends over an IPC channel (`--console-feed`): with it, the node is
   * started with one (V8 serialization, so that bytes stay bytes).
   */
  onMessage?: (m: unknown) => void;
}

const READY = '{"ready":true';

/** Where the whole ready line of `out` starts and ends (at its newline), once it is there. */
function readyLine(out: string): { at: number; end: number } | undefined {
  const at = out.startsWith(READY) ? 0 : out.indexOf(`\n${READY}`) + 1;
  if (at === 0 && !out.startsWith(READY)) return undefined;
  const end = out.indexOf('\n', at);
  return end < 0 ? undefined : { at, end };
}

/**
 * Starts `imsec <kind> --config FILE` and waits for its ready line. The file (mode 0600: a store
 * URL may carry a password) is written into `dir`.
 */
export async function startNode(name: string, kind: string, config: Record<string, unknown>, dir: string, o: StartNodeOptions = {}): Promise<NodeProcess> {
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ logLevel: 'warn', ...config }), { mode: 0o600 });
  const cli = join(new URL('.', import.meta.url).pathname, 'main.js');
  const forward = o.forwardStdout;
  const ipc = o.onMessage !== undefined;
  const proc = spawn(process.execPath, [...(o.nodeArgs ?? []), cli, kind, '--config', file, ...(o.args ?? [])], {
    stdio: [forward ? 'pipe' : 'ignore', 'pipe', 'pipe', ...(ipc ? (['ipc'] as const) : [])],
    ...(ipc ? { serialization: 'advanced' as const } : {}),
  }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
  if (o.onMessage) proc.on('message', o.onMessage);
  o.onSpawn?.(proc);
  // A node that has exited closes its stdin: a write then fails, and the exit says why.
  proc.stdin?.on('error', () => undefined);
  let out = '';
  let forwarding = false;
  let err = '';
  proc.stdout.setEncoding('utf8').on('data', (d: string) => {
    if (forwarding) forward!.write(d);
    else out += d;
  });
  proc.stderr.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-8000);
    o.forwardStderr?.write(d);
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const poll = setInterval(() => {
      const line = readyLine(out);
      if (line === undefined) return;
      clearInterval(poll);
      if (forward) {
        forwarding = true;
        if (line.end + 1 < out.length) forward.write(out.slice(line.end + 1));
      }
      resolve(JSON.parse(out.slice(line.at, line.end)) as Record<string, unknown>);
    }, 20);
    void exited.then(() => {
      clearInterval(poll);
      reject(new CliFailure(`imsec ${kind} (${name}) exited before it was ready: ${err.trim().split('\n').slice(-3).join(' | ')}`));
    });
  });
  return {
    name,
    proc,
    ready,
    stderr: () => err,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(t);
    },
  };
}

/** Starts the network; on a failure every node started so far is stopped again. */
export async function startScaleOut(o: ScaleOutOptions): Promise<ScaleOutTopology> {
  if (!Number.isInteger(o.pairs) || o.pairs < 1 || o.pairs > 2) throw new CliFailure('pairs must be 1 or 2', 2);
  if (o.pairs > 1 && o.storeUrl.startsWith('sqlite:')) throw new CliFailure('two HSS processes share a PostgreSQL store, not an SQLite file', 2);
  const ids = Array.from({ length: o.pairs }, (_, i) => i + 1);
  const hosts: Record<string, string> = { [`icscf.${REALM}`]: HOST, [`pcscf.${REALM}`]: HOST };
  for (const i of ids) Object.assign(hosts, { [`scscf${i}.${REALM}`]: HOST, [`hss${i}.${REALM}`]: HOST });
  const started: NodeProcess[] = [];
  const start = async (name: string, kind: string, config: Record<string, unknown>): Promise<NodeProcess> => {
    const n = await startNode(name, kind, config, o.dir, o.cpuProfDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${o.cpuProfDir}`, `--cpu-prof-name=${name}.cpuprofile`] } : {});
    started.push(n);
    return n;
  };
  try {
    const icscfPort = await freePort();
    const scscfPorts = await Promise.all(ids.map(() => freePort()));
    const names = ids.map((i) => `sip:scscf${i}.${REALM}:${scscfPorts[i - 1]}`);
    // 1. The HSSs, one store; the S-CSCFs and the I-CSCF are their Diameter peers.
    const peers = [...ids.map((i) => ({ host: `scscf${i}.${REALM}` })), { host: `icscf.${REALM}` }];
    const hss = await Promise.all(
      ids.map((i) =>
        start(`hss${i}`, 'hss', {
          dataDir: join(o.dir, `hss${i}`),
          store: o.storeUrl,
          diameter: { listen: `${HOST}:0`, originHost: `hss${i}.${REALM}`, originRealm: REALM, peers },
          rest: null,
          serverCapabilities: { mandatory: [], optional: [], serverNames: [] },
          scscfHosts: Object.fromEntries(ids.map((j) => [names[j - 1], `scscf${j}.${REALM}`])),
        }),
      ),
    );
    // 2. S-CSCF i talks Cx to HSS i and keeps its bindings in its own SQLite file.
    await Promise.all(
      ids.map((i) =>
        start(`scscf${i}`, 'scscf', {
          realm: REALM,
          serverName: names[i - 1],
          sip: { listen: `${HOST}:${scscfPorts[i - 1]}`, protocols: ['udp'] },
          hosts,
          diameter: { originHost: `scscf${i}.${REALM}`, originRealm: REALM, hss: { host: `hss${i}.${REALM}`, port: hss[i - 1].ready.diameterPort, address: HOST } },
          icscf: `sip:icscf.${REALM}:${icscfPort}`,
          store: `sqlite:${join(o.dir, `scscf${i}.sqlite`)}`,
        }),
      ),
    );
    // 3. The I-CSCF (UAR/LIR to HSS 1) and the P-CSCF.
    await start('icscf', 'icscf', {
      sip: { listen: `${HOST}:${icscfPort}`, protocols: ['udp'] },
      diameter: { originHost: `icscf.${REALM}`, originRealm: REALM, hss: { host: `hss1.${REALM}`, connect: `${HOST}:${String(hss[0].ready.diameterPort)}` } },
      homeDomains: [REALM],
      scscfs: names.map((uri) => ({ uri })),
      hosts,
    });
    const pcscf = await start('pcscf', 'pcscf', {
      sip: { listen: `${HOST}:0`, protocols: ['udp'] },
      protected: { address: HOST, ports: 'auto' },
      icscf: `sip:icscf.${REALM}:${icscfPort}`,
      hosts,
    });
    return {
      pcscf: { address: HOST, port: Number(pcscf.ready.sip) },
      scscfNames: names,
      nodes: started,
      cpuMs: () => Object.fromEntries(started.map((n) => [n.name, n.proc.exitCode === null ? cpuMsOf({ pid: n.proc.pid! }) : 0])),
      stop: () => stopAll(started),
    };
  } catch (e) {
    await stopAll(started);
    throw e;
  }
}

async function stopAll(nodes: readonly NodeProcess[]): Promise<void> {
  for (const n of [...nodes].reverse()) await n.stop();
}
