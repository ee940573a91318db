/**
 * What the kernel says about its SAs: `ip -s xfrm state list nokeys` (iproute2 6.x), reduced
 * to the fields the kernel tests compare (never keys: always `nokeys`).
 *
 * ```
 * src 10.77.0.2 dst 10.77.0.1
 * 	proto esp spi 0x00001002(4098) reqid 1229783040(0x494d0000) mode transport
 * 	replay-window 0 seq 0x00000000 flag  (0x00000000)
 * 	anti-replay esn context:
 * 	 seq-hi 0x0, seq 0x2, oseq-hi 0x0, oseq 0x0
 * 	 replay_window 64, bitmap-length 2
 * 	lifetime current:
 * 	  180(bytes), 2(packets)
 * 	stats:
 * 	  replay-window 0 replay 0 failed 0
 * ```
 * A window above 32 makes iproute2 use the ESN replay state (XFRMA_REPLAY_ESN_VAL): the legacy
 * `replay-window` field then reads 0 and the window is in the esn context.
 */
import { spawnSync } from 'node:child_process';
import assert from 'node:assert/strict';
import { ip } from './netns.js';

export interface KernelSa {
  src: string;
  dst: string;
  spi: number;
  reqid: number;
  mode: string;
  replayWindow: number;
  /** Anti-replay state: highest sequence number received / last sent (RFC 4303 §3.3.3, §3.4.3). */
  seq: number;
  oseq: number;
  packets: number;
  bytes: number;
  /** stats: packets dropped as replays / failed integrity. */
  replayDrops: number;
  failed: number;
}

export function parseStateStats(text: string): KernelSa[] {
  const out: KernelSa[] = [];
  for (const block of text.split(/\n(?=src )/)) {
    const head = /^src (\S+) dst (\S+)/.exec(block);
    if (!head) continue;
    const num = (re: RegExp): number => {
      const m = re.exec(block);
      return m ? Number(m[1]) : NaN;
    };
    const current = /lifetime current:\s*\n\s*(\d+)\(bytes\), (\d+)\(packets\)/.exec(block);
    const stats = /stats:\s*\n\s*replay-window (\d+) replay (\d+) failed (\d+)/.exec(block);
    out.push({
      src: head[1],
      dst: head[2],
      spi: parseInt(/spi 0x([0-9a-f]+)/.exec(block)?.[1] ?? 'x', 16),
      reqid: num(/reqid (\d+)/),
      mode: /mode (\S+)/.exec(block)?.[1] ?? '',
      replayWindow: Math.max(num(/\n\s*replay-window (\d+)/), num(/replay_window (\d+)/) || 0),
      seq: parseInt(/[\s,]seq (0x[0-9a-f]+)/.exec(block.replace(/\n\s*replay-window.*/, ''))?.[1] ?? 'x', 16),
      oseq: parseInt(/oseq (0x[0-9a-f]+)/.exec(block)?.[1] ?? 'x', 16),
      bytes: current ? Number(current[1]) : NaN,
      packets: current ? Number(current[2]) : NaN,
      replayDrops: stats ? Number(stats[2]) : NaN,
      failed: stats ? Number(stats[3]) : NaN,
    });
  }
  return out;
}

/** The SAs of a namespace's kernel, with counters. */
export function kernelStates(ns: string): KernelSa[] {
  const r = spawnSync('ip', ['-n', ns, '-s', 'xfrm', 'state', 'list', 'nokeys'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return parseStateStats(r.stdout);
}

/** reqids of a namespace's policies (`ip xfrm policy list`), socket policies excluded. */
export function kernelPolicyReqids(ns: string): number[] {
  const r = spawnSync('ip', ['-n', ns, 'xfrm', 'policy', 'list'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return [...r.stdout.matchAll(/reqid (\d+)/g)].map((m) => Number(m[1]));
}

/** reqid of the entries the tests add as "not ours": XfrmDatapath must never touch them. */
export const FOREIGN_REQID = 7;

/** Adds a state (SPI 0x7007) and a policy with {@link FOREIGN_REQID} to a namespace. */
export function addForeignEntries(ns: string): void {
  ip('-n', ns, 'xfrm', 'state', 'add', 'src', '192.0.2.7', 'dst', '192.0.2.8', 'proto', 'esp', 'spi', '0x7007', 'reqid', String(FOREIGN_REQID), 'mode', 'transport', 'auth-trunc', 'hmac(sha1)', '0x' + '77'.repeat(20), '96', 'enc', 'ecb(cipher_null)', '');
  ip('-n', ns, 'xfrm', 'policy', 'add', 'src', '192.0.2.7/32', 'dst', '192.0.2.8/32', 'dir', 'out', 'tmpl', 'src', '192.0.2.7', 'dst', '192.0.2.8', 'proto', 'esp', 'reqid', String(FOREIGN_REQID), 'mode', 'transport');
}
