/**
 * The core half of `imsec demo --datapath xfrm`, run by demo-xfrm.ts inside the core's network
 * namespace: the IMS core in this process (its P-CSCF on kernel ESP, transport mode, TS 33.203
 * Annex H `mod=trans`), the UEs in the UEs' namespace (demo-xfrm-ue-agent.ts under
 * `ip netns exec`), and tcpdump on the veth link. The kernel seals and opens ESP, so the sockets
 * see only the SIP inside: the ladder's protected lines come from the captured ESP, opened with
 * the P-CSCF's keys (every ICV checked), the rest from the core's sockets — one ladder, in the
 * order of time. Prints the demo and exits 0 when every check held, 1 otherwise, 130 on a signal.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { CaptureReader, IpReassembler, WireTap, linkPayload } from '../capture/index.js';
import { createLogger, silentLogger } from '../common/log.js';
import { decodeIpv4, decodeIpv6, decodeUdp, formatIp, IPPROTO_ESP, IPPROTO_UDP } from '../ip/index.js';
import { parseCoreConfig, type CoreSubscriber } from '../nodes/core/index.js';
import { runDemo, type DemoRegistration, type DemoUe, type DemoUeSnapshot, type TransportEspPacket } from '../nodes/demo/index.js';
import type { Endpoint } from '../ip/index.js';
import type { UeAgentRequest } from './demo-xfrm-ue-agent.js';

/** What the outer process (demo-xfrm.ts) passes to the core half. */
export interface DemoXfrmPlan {
  /** The UEs' network namespace. */
  ueNs: string;
  /** This namespace's end of the veth link and its address (the core's host). */
  dev: string;
  coreAddress: string;
  ueAddress: string;
  color: boolean;
  logLevel: string;
  /** One line on where things run. */
  where: string;
}

const here = dirname(fileURLToPath(import.meta.url));

/** demo-xfrm-ue-agent.js in the UEs' namespace, spoken to over JSON lines. */
class UeAgent {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = JSON.parse(line) as { id: number; ok: boolean; result?: unknown; error?: string };
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (m.ok) w?.resolve(m.result);
      else w?.reject(new Error(m.error));
    });
    child.once('exit', (code) => {
      for (const w of this.waiting.values()) w.reject(new Error(`the UE agent exited (${code})`));
      this.waiting.clear();
    });
  }

  static start(ns: string): Promise<UeAgent> {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, join(here, 'demo-xfrm-ue-agent.js')], { stdio: ['pipe', 'pipe', 'inherit'] });
    return new Promise((resolve, reject) => {
      const rl = createInterface({ input: child.stdout });
      rl.once('line', () => {
        rl.close();
        resolve(new UeAgent(child));
      });
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the UE agent exited (${code}) before it was ready`)));
    });
  }

  request<T>(r: UeAgentRequest): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.child.stdin.write(JSON.stringify({ id, ...r }) + '\n');
    });
  }

  /** Ends the agent: its UEs stop and remove their SAs; resolves when it has gone. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin.end();
    await exited;
  }

  /** A UE of the agent as the demo drives it. */
  async ue(name: string, u: CoreSubscriber, pcscf: string, local: string): Promise<DemoUe> {
    const addresses = await this.request<{ unprotected: Endpoint; protectedServer: Endpoint }>({ op: 'create', name, impi: u.impi, pcscf, local });
    return {
      addresses: () => addresses,
      register: () => this.request<DemoRegistration>({ op: 'register', name }),
      reRegister: () => this.request<DemoRegistration>({ op: 'reRegister', name }),
      deregister: () => this.request<void>({ op: 'deregister', name }),
      sendMessage: (to, text) => this.request<{ status: number; reason: string }>({ op: 'message', name, to, text }),
      nextMessage: (timeoutMs) => this.request<string>({ op: 'nextMessage', name, timeoutMs }),
      snapshot: () => this.request<DemoUeSnapshot>({ op: 'snapshot', name }),
      stop: () => this.request<void>({ op: 'stop', name }),
    };
  }
}

/** The discard port (RFC 863) on the UEs' side: the capture's markers go there, nobody answers. */
const MARKER_PORT = 9;

/**
 * tcpdump on the link, ESP only, its pcap stream read frame by frame. It lags the sockets, so
 * {@link settle} sends a marker datagram over the link and waits to see it in the capture:
 * every packet sent before it has been read by then (one link, one capture, in order).
 */
class EspCapture {
  private readonly listeners = new Set<(p: TransportEspPacket) => void>();
  private readonly markerSocket: Socket;
  private markersSent = 0;
  private markersSeen = 0;
  private readonly markerWaiters = new Map<number, (failure?: Error) => void>();
  private failure: Error | undefined;
  private markerClosed = false;

  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    private readonly peer: string,
  ) {
    this.markerSocket = createSocket('udp4');
    // ICMP port unreachable from the UEs' side would surface as an error on this socket.
    this.markerSocket.on('error', () => undefined);
    const reader = new CaptureReader();
    // A protected REGISTER with Security-Client and Security-Verify exceeds the link's MTU once sealed.
    const fragments = new IpReassembler();
    child.stdout.on('data', (chunk: Buffer) => {
      if (this.failure) return;
      try {
        this.read(reader, fragments, chunk);
      } catch (e) {
        // The ladder then lacks the protected legs: every waiting settle() fails with this.
        this.failure = e as Error;
        for (const [n, fail] of this.markerWaiters) {
          this.markerWaiters.delete(n);
          fail(this.failure);
        }
      }
    });
  }

  private read(reader: CaptureReader, fragments: IpReassembler, chunk: Buffer): void {
    // A copy: the reader keeps the bytes of an unfinished record until the next chunk.
    reader.push(new Uint8Array(chunk), (f) => {
      const framed = linkPayload(f.linktype, f.data);
      if (!framed) return;
      const whole = fragments.push(framed.slice(), f.timestampMs, f.number);
      if (whole.kind !== 'whole' && whole.kind !== 'complete') return;
      // A reassembled IPv4 header keeps the first fragment's checksum: not checked (as imsec analyze does).
      const ip = whole.packet[0] >>> 4 === 4 ? decodeIpv4(whole.packet, { verifyChecksum: false }) : decodeIpv6(whole.packet);
      if (ip.protocol === IPPROTO_UDP) return this.marker(decodeUdp(ip.payload).payload);
      if (ip.protocol !== IPPROTO_ESP) return;
      const p: TransportEspPacket = { seq: f.number, at: f.timestampMs, src: formatIp(ip.src), dst: formatIp(ip.dst), esp: ip.payload.slice() };
      for (const cb of this.listeners) cb(p);
    });
  }

  private marker(payload: Uint8Array): void {
    if (payload.length !== 4) return;
    this.markersSeen = Math.max(this.markersSeen, new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0));
    for (const [n, resolve] of this.markerWaiters) {
      if (n > this.markersSeen) continue;
      this.markerWaiters.delete(n);
      resolve();
    }
  }

  static start(dev: string, peer: string): Promise<EspCapture> {
    const filter = `esp or (udp and dst host ${peer} and dst port ${MARKER_PORT})`;
    const child = spawn('tcpdump', ['-i', dev, '-n', '-U', '-s', '0', '-w', '-', filter], { stdio: ['ignore', 'pipe', 'pipe'] });
    // Reading from the first byte on: the pcap header comes before "listening on".
    const capture = new EspCapture(child, peer);
    return new Promise((resolve, reject) => {
      let text = '';
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        text += d;
        if (text.includes('listening on')) resolve(capture);
      });
      child.once('error', (e) => reject(new Error(`tcpdump: ${e.message} (demo --datapath xfrm shows the ESP on the link with tcpdump)`)));
      child.once('exit', (code) => {
        capture.closeMarker();
        reject(new Error(`tcpdump exited (${code}): ${text.trim()}`));
      });
    });
  }

  onEsp(cb: (p: TransportEspPacket) => void): () => void {
    this.listeners.add(cb);
    return () => void this.listeners.delete(cb);
  }

  /** Resolves when a marker sent now has come through the capture (rejects after 5 s). */
  settle(): Promise<void> {
    const n = ++this.markersSent;
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, n);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.markerWaiters.delete(n);
        reject(new Error('the capture of the link fell behind by more than 5 s'));
      }, 5000);
      if (this.failure) return reject(new Error(`the capture of the link failed: ${this.failure.message}`));
      this.markerWaiters.set(n, (failure) => {
        clearTimeout(timer);
        if (failure) reject(new Error(`the capture of the link failed: ${failure.message}`));
        else resolve();
      });
      this.markerSocket.send(bytes, MARKER_PORT, this.peer);
    });
  }

  private closeMarker(): void {
    if (this.markerClosed) return;
    this.markerClosed = true;
    this.markerSocket.close();
  }

  async stop(): Promise<void> {
    this.closeMarker();
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGINT');
    await exited;
  }
}

/** Runs the core half (see the module comment); resolves to the exit status. */
export async function runDemoXfrmCore(plan: DemoXfrmPlan): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'imsec-demo-xfrm-'));
  let agent: UeAgent | undefined;
  let capture: EspCapture | undefined;
  const stopAll = async (): Promise<void> => {
    await agent?.stop();
    await capture?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  // Ctrl-C reaches every process of the group: stop the UEs (their SAs go) and leave; the outer
  // process removes both namespaces, and with them whatever the core had in its kernel.
  const onSignal = (): void => void stopAll().finally(() => process.exit(130));
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  try {
    [agent, capture] = await Promise.all([UeAgent.start(plan.ueNs), EspCapture.start(plan.dev, plan.ueAddress)]);
    const a = agent;
    const c = capture;
    const config = parseCoreConfig({
      host: plan.coreAddress,
      dataDir,
      hss: { diameterPort: 0 },
      scscf: { sipPort: 0 },
      icscf: { sipPort: 0 },
      pcscf: { sipPort: 5060, protectedPorts: '5100-5108', datapath: 'xfrm' },
      logLevel: plan.logLevel,
    });
    const logger = config.logLevel === 'silent' ? silentLogger : createLogger('demo', { level: config.logLevel });
    const r = await runDemo({
      config,
      out: (l) => process.stdout.write(l + '\n'),
      color: plan.color,
      logger,
      // Sub-millisecond times: the capture's packets are merged with the sockets' by time.
      tap: new WireTap({ now: () => performance.timeOrigin + performance.now() }),
      kernel: {
        where: plan.where,
        createUe: (u, pcscf) => a.ue(u.impi.split('@')[0], u, pcscf, plan.ueAddress),
        onEsp: (cb) => c.onEsp(cb),
        settle: () => c.settle(),
      },
    });
    return r.ok ? 0 : 1;
  } catch (e) {
    process.stderr.write(`imsec: demo --datapath xfrm: ${(e as Error).message.split('\n')[0]}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
    await stopAll();
  }
}

// Run by demo-xfrm.ts as `node demo-xfrm-core.js PLAN-JSON` inside the core's namespace.
if (process.argv[1] !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  void runDemoXfrmCore(JSON.parse(process.argv[2] ?? '{}') as DemoXfrmPlan).then((code) => process.exit(code));
}
