/**
 * Kamailio 5.6 as a P-CSCF (test/kernel/kamailio-pcscf/kamailio.cfg) inside a network namespace
 * of its own: ims_ipsec_pcscf flushes every XFRM entry of its namespace at start.
 */
import { spawn, spawnSync, type ChildProcessByStdio } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { repoRoot } from '../../support/paths.js';

export interface KamailioPcscfOptions {
  ns: string;
  /** The P-CSCF's address (SIP on 5060, IPsec client 5100 / server 6100). */
  address: string;
  /** Where REGISTERs go: the I-CSCF, `sip:HOST:PORT`. */
  icscfUri: string;
  /** A directory for the configuration, run files and the log. */
  dir: string;
  /** Names Kamailio must resolve (the core's node names in Service-Route and Path). */
  hosts: Record<string, string>;
  /** `ipsec_max_connections` (port pairs; each 401 takes one), default the script's 16. */
  maxConnections?: number;
}

/** Debian's module directory (kamailio -v does not say it). */
const MPATH = ['/usr/lib/x86_64-linux-gnu/kamailio/modules/', '/usr/lib/kamailio/modules/'].find((d) => spawnSync('test', ['-f', join(d, 'tm.so')]).status === 0) ?? '/usr/lib/x86_64-linux-gnu/kamailio/modules/';

export class KamailioPcscf {
  private constructor(
    private readonly child: ChildProcessByStdio<null, null, Readable>,
    private readonly log: () => string,
  ) {}

  static async start(o: KamailioPcscfOptions): Promise<KamailioPcscf> {
    const template = readFileSync(join(repoRoot, 'test', 'kernel', 'kamailio-pcscf', 'kamailio.cfg'), 'utf8');
    const cfg = join(o.dir, 'kamailio.cfg');
    let config = template.replaceAll('@PCSCF_IP@', o.address).replaceAll('@ICSCF_URI@', o.icscfUri).replaceAll('@MPATH@', MPATH);
    if (o.maxConnections !== undefined) config = config.replace(/("ipsec_max_connections", )\d+/, `$1${o.maxConnections}`);
    writeFileSync(cfg, config);
    const run = join(o.dir, 'run');
    mkdirSync(run, { recursive: true });
    const hostsFile = join(o.dir, 'hosts');
    writeFileSync(hostsFile, Object.entries(o.hosts).map(([name, ip]) => `${ip} ${name}\n`).join(''));
    // A private /etc/hosts (INTEROP.md "Kamailio S-CSCF"): a mount namespace of its own.
    const kamailio = ['kamailio', '-DD', '-E', '-f', cfg, '-m', '64', '-M', '16', '-Y', run, '-P', join(run, 'kamailio.pid')];
    const child = spawn('ip', ['netns', 'exec', o.ns, 'unshare', '-m', 'sh', '-c', 'mount --bind "$0" /etc/hosts && exec "$@"', hostsFile, ...kamailio], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let text = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => (text = (text + d).slice(-200_000)));
    const k = new KamailioPcscf(child, () => text);
    // Ready when its IPsec server port is bound.
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`kamailio exited (${child.exitCode}):\n${text.slice(-4000)}`);
      const ss = spawnSync('ip', ['netns', 'exec', o.ns, 'ss', '-lun'], { encoding: 'utf8' });
      if (ss.stdout.includes(`${o.address}:6100`) && ss.stdout.includes(`${o.address}:5060`)) break;
      if (Date.now() > deadline) {
        await k.stop();
        throw new Error(`kamailio did not bind 5060/6100 within 30 s:\n${text.slice(-4000)}`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    return k;
  }

  /** Everything Kamailio logged (stderr). */
  logText(): string {
    return this.log();
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await exited;
  }
}
