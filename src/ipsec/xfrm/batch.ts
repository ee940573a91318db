/**
 * One long-lived `ip -force -batch -` per network namespace for the commands that change the
 * kernel's tables (`ip xfrm state|policy add|delete`). Starting `ip` costs far more than the
 * netlink request it makes (about 0.2–0.35 s per process inside user-mode Linux, where the kernel
 * tests run, against a few ms for the request), and a registration installs and later removes
 * four states and eight policies per side.
 *
 * Completion without parsing stdout: after each command line we send a marker line that always
 * fails (an unknown object). In batch mode iproute2 reports every failed line on stderr as
 * `Command failed -:N` (N the line number) and prints nothing for a successful add or delete, so
 * when the marker's report arrives the command before it is done, and it failed exactly when its
 * own report came first; the stderr lines in between are its error text. Arguments travel as
 * double-quoted words (iproute2's batch tokenizer); an argument that cannot be quoted that way is
 * refused. If `ip` exits (some parse errors call exit()), the pending command fails with what it
 * printed and the next command starts a new process. The process is unreferenced while idle, so
 * it never keeps Node alive; its stdin closes with Node, and then it exits.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { InvalidArgumentError } from '../../common/index.js';

/** The line iproute2 always rejects: `Object "imsec-sync" is unknown, try "ip help".` */
const MARKER = 'imsec-sync';

interface Pending {
  commandLine: number;
  markerLine: number;
  failed: boolean;
  stderr: string[];
  resolve: (stderr: string) => void;
  reject: (r: { stderr: string; exitCode?: number }) => void;
}

/** The batch-tokenizer form of one argv: every word in double quotes. */
export function batchLine(args: readonly string[]): string {
  return args
    .map((a) => {
      if (/["'\\\n\r#]/.test(a)) throw new InvalidArgumentError(`argument cannot go through ip -batch: ${JSON.stringify(a.slice(0, 20))}`, 'args');
      return `"${a}"`;
    })
    .join(' ');
}

export class IpBatch {
  private child: ChildProcessByStdio<Writable, null, Readable> | undefined;
  private line = 0;
  private partial = '';
  private readonly queue: Pending[] = [];

  constructor(
    private readonly ipPath: string,
    private readonly netns: string | undefined,
  ) {}

  /** Runs one `ip` command (argv after `ip`); resolves with its stderr, rejects with it. */
  run(args: readonly string[]): Promise<string> {
    const text = batchLine(args);
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      const commandLine = ++this.line;
      const markerLine = ++this.line;
      this.queue.push({ commandLine, markerLine, failed: false, stderr: [], resolve, reject });
      this.ref(true);
      child.stdin.write(`${text}\n${MARKER}\n`);
    });
  }

  /** Ends the process (pending commands fail). */
  close(): void {
    this.child?.stdin.end();
    this.child = undefined;
  }

  private start(): ChildProcessByStdio<Writable, null, Readable> {
    const argv = [...(this.netns ? ['-n', this.netns] : []), '-force', '-batch', '-'];
    const child = spawn(this.ipPath, argv, { stdio: ['pipe', 'ignore', 'pipe'] });
    this.child = child;
    this.line = 0;
    this.partial = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => this.onStderr(chunk));
    child.stdin.on('error', () => undefined);
    const fail = (exitCode?: number) => {
      if (this.child === child) this.child = undefined;
      for (const p of this.queue.splice(0)) p.reject({ stderr: p.stderr.join('\n'), ...(exitCode !== undefined ? { exitCode } : {}) });
    };
    child.on('error', () => fail());
    child.on('exit', (code) => fail(code ?? undefined));
    return child;
  }

  private onStderr(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const l of lines) {
      const head = this.queue[0];
      if (!head) continue;
      const m = /^Command failed -:(\d+)$/.exec(l);
      const n = m ? Number(m[1]) : undefined;
      if (n === head.commandLine) head.failed = true;
      else if (n === head.markerLine) {
        this.queue.shift();
        const stderr = head.stderr.join('\n');
        if (head.failed) head.reject({ stderr });
        else head.resolve(stderr);
        if (this.queue.length === 0) this.ref(false);
      } else if (!l.startsWith(`Object "${MARKER}"`)) head.stderr.push(l);
    }
  }

  private ref(on: boolean): void {
    const c = this.child;
    if (!c) return;
    // Pipes to a child are net.Sockets: unreferenced, they do not keep the event loop alive.
    const streams = [c.stdin, c.stderr] as unknown as Socket[];
    if (on) c.ref();
    else c.unref();
    for (const s of streams) if (on) s.ref();
    else s.unref();
  }
}
