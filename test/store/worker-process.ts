/** Starting sqn-worker in a child process, compiled (dist/test) or straight from TypeScript (tsx). */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const fromTs = import.meta.url.endsWith('.ts');
const workerPath = fileURLToPath(new URL(`./sqn-worker${fromTs ? '.ts' : '.js'}`, import.meta.url));

export interface Worker {
  child: ChildProcess;
  /** Complete lines printed so far, as numbers. */
  sqns: number[];
  /** Resolves when the worker has opened the store and waits for {@link Worker.go}. */
  ready: Promise<void>;
  /** Lets the worker start allocating. */
  go(): void;
  /** Resolves with the exit code (or null) and signal when the process ends. */
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export function startWorker(url: string, impi: string, peer: string, allocations: number | 'forever', maxCount: number, seed: number, paceMs = 0): Worker {
  const args = [...(fromTs ? ['--import', 'tsx'] : []), workerPath, url, impi, peer, String(allocations), String(maxCount), String(seed), String(paceMs)];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  const sqns: number[] = [];
  let partial = '';
  let stderr = '';
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      if (l === 'ready') onReady();
      else if (l !== '') sqns.push(Number(l));
    }
  });
  child.stderr.setEncoding('utf8').on('data', (c: string) => {
    stderr += c;
  });
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
  child.stdin.on('error', () => {});
  return { child, sqns, ready, go: () => child.stdin.write('go\n'), done };
}
