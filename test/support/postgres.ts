/**
 * A throwaway PostgreSQL server for tests, treated like a third-party peer: started per test
 * file from Debian's binaries (/usr/lib/postgresql/<v>/bin), listening on 127.0.0.1 at a free
 * port with a socket directory inside its own temp dir, stopped and removed at the end. As root
 * it runs as the `postgres` user (runuser). When the binaries are missing, {@link needPostgres}
 * fails the test under CI=true and skips it loudly otherwise.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import pg from 'pg';

/** Directory with initdb, pg_ctl and postgres (newest installed version), or undefined. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  for (const v of versions) {
    const bin = join(root, v, 'bin');
    if (['initdb', 'pg_ctl', 'postgres'].every((p) => existsSync(join(bin, p)))) return bin;
  }
  return undefined;
}

/** True when the test may go on; otherwise it has been skipped (or has failed under CI). */
export function needPostgres(t: TestContext): boolean {
  if (postgresBinDir() !== undefined) return true;
  const why = 'PostgreSQL server binaries are not installed (run scripts/setup-peers.sh)';
  if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
  process.stderr.write(`\n!!! SKIPPED: ${why}\n`);
  t.skip(why);
  return false;
}

export interface PgServer {
  readonly port: number;
  /** URL of a database on this server (default: the `postgres` maintenance database). */
  url(db?: string): string;
  /** Creates a fresh empty database and returns its URL (about 200 ms). */
  createDatabase(): Promise<string>;
  /**
   * Creates a fresh empty schema in the `postgres` database and returns a URL whose sessions
   * use it as search_path (instant; what most tests want).
   */
  createSchema(): Promise<string>;
  stop(): void;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

const asRoot = process.getuid?.() === 0;

function run(bin: string, args: string[]): void {
  const cmd = asRoot ? ['runuser', '-u', 'postgres', '--', bin, ...args] : [bin, ...args];
  execFileSync(cmd[0], cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } });
}

let dbCounter = 0;

/** Starts a server (initdb + pg_ctl start, about a second). Call {@link needPostgres} first. */
export async function startPostgres(): Promise<PgServer> {
  const bin = postgresBinDir();
  if (bin === undefined) throw new Error('PostgreSQL binaries not found');
  const dir = mkdtempSync(join(tmpdir(), 'imsec-pg-'));
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    const cmd = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, 'pg_ctl')] : [join(bin, 'pg_ctl')];
    spawnSync(cmd[0], [...cmd.slice(1), '-D', data, '-m', 'immediate', '-w', 'stop'], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', stop);
  try {
    run(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '--no-locale', '-E', 'UTF8']);
    let port = 0;
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      try {
        run(join(bin, 'pg_ctl'), [
          '-D', data, '-w', '-t', '30', '-l', join(dir, 'server.log'), '-o',
          `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=100`,
          'start',
        ]);
        break;
      } catch (err) {
        if (attempt >= 2) throw err;
      }
    }
    const url = (db = 'postgres'): string => `postgres://postgres@127.0.0.1:${port}/${db}`;
    return {
      port,
      url,
      async createDatabase() {
        const name = `imsec_${process.pid}_${++dbCounter}`;
        const c = new pg.Client({ connectionString: url() });
        await c.connect();
        try {
          await c.query(`CREATE DATABASE ${name}`);
        } finally {
          await c.end();
        }
        return url(name);
      },
      async createSchema() {
        const name = `imsec_${process.pid}_${++dbCounter}`;
        const c = new pg.Client({ connectionString: url() });
        await c.connect();
        try {
          await c.query(`CREATE SCHEMA ${name}`);
        } finally {
          await c.end();
        }
        return `${url()}?options=${encodeURIComponent(`-c search_path=${name}`)}`;
      },
      stop,
    };
  } catch (err) {
    stop();
    throw err;
  }
}
