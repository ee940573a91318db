/**
 * `imsec hss` as a process: provisioned with `imsec hss subscriber add`, serving MAR over TCP,
 * stopping on SIGTERM with DPR, never logging keys; and killed with SIGKILL in the middle of a
 * MAR burst, then restarted on the same SQLite file, without ever issuing an SQN twice (R-AKA-3:
 * every committed SQN allocation survives the crash).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toHex } from '../../../src/common/index.js';
import type { DiameterNode } from '../../../src/diameter/io.js';
import { SqliteStore } from '../../../src/store/sqlite/index.js';
import { alice, mar, testSet1 } from './support.js';
import { clientNode, imsecCommand, sqnsOf, startHssProcess } from './process.js';

const IMPI = 'alice@ims.lab';
const IMPU = 'sip:alice@ims.lab';

describe('imsec hss: the process', () => {
  test('[R-CX-1] provisioned by `imsec hss subscriber add`, it answers MAR, stops on SIGTERM with DPR (exit 0) and logs no key', { timeout: 60_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-hss-cli-'));
    const { k, op, opc } = testSet1();
    try {
      const [cmd, ...pre] = imsecCommand();
      const add = spawnSync(cmd, [...pre, 'hss', '--data-dir', dir, 'subscriber', 'add', '--impi', IMPI, '--impu', IMPU, '--k', toHex(k), '--op', toHex(op)], { encoding: 'utf8' });
      assert.equal(add.status, 0, add.stderr);
      const config = join(dir, 'hss.json');
      writeFileSync(config, JSON.stringify({ dataDir: dir, diameter: { listen: '127.0.0.1:0', originHost: 'hss.ims.lab', peers: ['scscf.ims.lab'] }, rest: null, logLevel: 'debug' }));
      const hss = await startHssProcess(['--config', config]);
      let node: DiameterNode | undefined;
      try {
        node = await clientNode('scscf.ims.lab', [{ host: 'hss.ims.lab', port: hss.diameterPort }]);
        const status: string[] = [];
        node.onPeerStatus((_h, s) => status.push(s));
        const sqns = sqnsOf(await node.request(mar({ impi: IMPI, impu: IMPU, n: 3 })), k, opc);
        assert.equal(sqns.length, 3);
        hss.proc.kill('SIGTERM');
        assert.equal(await hss.exited, 0, 'clean exit on SIGTERM');
        assert.ok(status.includes('down'), 'the S-CSCF saw the HSS leave (DPR)');
        const log = hss.log();
        assert.match(log, /"hss: stopping"/);
        for (const secret of [k, op, opc]) assert.ok(!log.toLowerCase().includes(toHex(secret)), 'no key material in the log');
      } finally {
        await node?.stop();
        hss.proc.kill('SIGKILL');
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('[R-CX-1] a bad configuration file is refused with exit 2 and one line naming the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-hss-cfg-'));
    try {
      const config = join(dir, 'hss.json');
      writeFileSync(config, JSON.stringify({ diameter: { listen: '127.0.0.1:99999' } }));
      const [cmd, ...pre] = imsecCommand();
      const r = spawnSync(cmd, [...pre, 'hss', '--config', config], { encoding: 'utf8' });
      assert.equal(r.status, 2);
      assert.match(r.stderr, /^imsec: diameter\.listen: must be an integer in 0\.\.65535\n$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('R-AKA-3 across a crash', () => {
  test('[R-AKA-3] SIGKILL during a MAR burst, restart on the same SQLite file: no SQN is ever issued twice and later SQNs are above all earlier ones', { timeout: 90_000 }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'imsec-hss-crash-'));
    const { k, opc } = testSet1();
    const storeUrl = `sqlite:${join(dir, 'hss.sqlite')}`;
    try {
      const seed = new SqliteStore(join(dir, 'hss.sqlite'));
      await seed.createSubscriber(alice());
      await seed.close();
      const args = ['--store', storeUrl, '--listen', '127.0.0.1:0', '--rest', 'off', '--peer', 'scscf.ims.lab', '--log-level', 'warn'];

      /** Keeps `inFlight` MARs going until `stop()` says so; collects every SQN answered. */
      const burst = (node: DiameterNode, inFlight: number, stop: (answered: number) => boolean) => {
        const sqns: number[] = [];
        let answered = 0;
        let failed = 0;
        const worker = async (): Promise<void> => {
          while (!stop(answered)) {
            try {
              const got = sqnsOf(await node.request(mar({ impi: IMPI, impu: IMPU, n: 2 }), { timeoutMs: 3000 }), k, opc);
              sqns.push(...got);
              answered++;
            } catch {
              failed++;
              return;
            }
          }
        };
        return Promise.all(Array.from({ length: inFlight }, worker)).then(() => ({ sqns, answered, failed }));
      };

      const first = await startHssProcess(args);
      const node1 = await clientNode('scscf.ims.lab', [{ host: 'hss.ims.lab', port: first.diameterPort }]);
      let killed = false;
      const before = await burst(node1, 16, (answered) => {
        if (answered >= 150 && !killed) {
          killed = true;
          first.proc.kill('SIGKILL');
        }
        return false;
      });
      assert.equal(await first.exited, 'SIGKILL');
      await node1.stop();
      assert.ok(before.answered >= 150, `answers before the crash: ${before.answered}`);
      assert.ok(before.failed > 0, 'requests were in flight when the HSS died');

      const second = await startHssProcess(args);
      try {
        const node2 = await clientNode('scscf.ims.lab', [{ host: 'hss.ims.lab', port: second.diameterPort }]);
        const after = await burst(node2, 8, (answered) => answered >= 60);
        await node2.stop();
        assert.equal(after.failed, 0);
        const all = [...before.sqns, ...after.sqns];
        assert.equal(new Set(all).size, all.length, 'every SQN seen in any MAA is distinct');
        const inds = new Set(all.map((s) => s % 32));
        assert.equal(inds.size, 1, 'one S-CSCF, one IND, before and after the restart (IND assignment is persisted)');
        assert.ok(Math.min(...after.sqns) > Math.max(...before.sqns), 'post-restart SQNs are above every pre-crash SQN');
      } finally {
        second.proc.kill('SIGKILL');
        await second.exited;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
