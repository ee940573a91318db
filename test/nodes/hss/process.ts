/**
 * Runs `imsec hss` as a child process for the process-level tests: the compiled CLI when the
 * tests run compiled (npm test), the TypeScript entry through tsx when they run from source.
 * Waits for the ready line it prints on stdout and reads the bound ports from it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { cliPath, repoRoot } from '../../support/paths.js';
import { type DiameterMessage, cxCapabilities } from '../../../src/diameter/index.js';
import { DiameterNode } from '../../../src/diameter/io.js';
import { Milenage } from '../../../src/auth/milenage/index.js';
import { akaVectorOf, parseMaa } from '../../../src/diameter/index.js';
import { bytesToUint } from '../../../src/common/index.js';

const fromSource = import.meta.url.endsWith('.ts');

/** argv prefix that runs the imsec CLI. */
export function imsecCommand(): string[] {
  return fromSource ? [process.execPath, '--import', 'tsx', join(repoRoot, 'src', 'cli', 'main.ts')] : [process.execPath, cliPath];
}

export interface HssProcess {
  proc: ChildProcess;
  diameterPort: number;
  restPort: number | undefined;
  /** The REST token the process generated and printed in its ready line (undefined with --no-auth or --token-file). */
  restToken: string | undefined;
  /** The whole ready line. */
  ready: Record<string, unknown>;
  /** Everything written on stderr so far. */
  log(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Starts `imsec hss ARGS` and resolves once it logged "hss: ready" (rejects if it exits first). */
export function startHssProcess(args: string[], timeoutMs = 20_000): Promise<HssProcess> {
  const [cmd, ...pre] = imsecCommand();
  const proc = spawn(cmd, [...pre, 'hss', ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: repoRoot });
  let err = '';
  let out = '';
  const exited = new Promise<number | string>((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  proc.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`imsec hss not ready after ${timeoutMs} ms:\n${err}`));
    }, timeoutMs);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{"ready":true'));
      if (line !== undefined && !done) {
        done = true;
        clearTimeout(timer);
        const ready = JSON.parse(line) as { diameterPort: number; restPort: number | null; token?: string };
        resolve({ proc, diameterPort: ready.diameterPort, restPort: ready.restPort ?? undefined, restToken: ready.token, ready, log: () => err, exited });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      if (!done) reject(new Error(`imsec hss exited (${code}) before it was ready:\n${err}`));
    });
  });
}

/** A client Diameter node (an S-CSCF) connected to one or more HSS processes. */
export async function clientNode(originHost: string, hss: { host: string; port: number }[]): Promise<DiameterNode> {
  const node = new DiameterNode({
    ...cxCapabilities(),
    originHost,
    originRealm: 'ims.lab',
    hostIpAddresses: ['127.0.0.1'],
    peers: hss.map((h) => ({ host: h.host, realm: 'ims.lab', connect: { host: '127.0.0.1', port: h.port } })),
    timers: { reconnectMinMs: 60_000, requestTimeoutMs: 10_000 },
  });
  await node.start();
  for (const h of hss) await node.waitForPeer(h.host, 10_000);
  return node;
}

/** The SQNs of an MAA's vectors, recovered as AUTN ⊕ AK with the subscriber's K and OPc. */
export function sqnsOf(maa: DiameterMessage, k: Uint8Array, opc: Uint8Array): number[] {
  const m = new Milenage(k, opc);
  return parseMaa(maa).sipAuthDataItems.map((item) => {
    const v = akaVectorOf(item);
    const ak = m.f2345(v.rand).ak;
    const b = new Uint8Array(6);
    for (let i = 0; i < 6; i++) b[i] = v.autn[i] ^ ak[i];
    return bytesToUint(b);
  });
}
