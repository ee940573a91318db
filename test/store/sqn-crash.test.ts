import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { openStore } from '../../src/store/index.js';
import { subscriber } from './backends.js';
import { startWorker } from './worker-process.js';
import { waitFor } from '../support/wait.js';

const IMPI = 'user1@ims.example.net';
const dir = mkdtempSync(join(tmpdir(), 'imsec-crash-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('SQN durability across kill -9 (SQLite, WAL)', () => {
  for (const mode of ['', '?synchronous=full']) {
    test(`[R-AKA-3] a process killed at random moments never loses a committed SQN nor issues one twice${mode === '' ? '' : ' (synchronous=FULL)'}`, async () => {
      const url = `sqlite:${join(dir, `hss${mode === '' ? '' : '-full'}.sqlite`)}${mode}`;
      const setup = await openStore(url);
      await setup.createSubscriber(subscriber(1));
      await setup.close();
      const reported: number[] = [];
      const delays: number[] = [];
      for (let round = 0; round < 5; round++) {
        const w = startWorker(url, IMPI, 'scscf-a.ims.example.net', 'forever', 4, round + 1);
        await Promise.race([w.ready, w.done]);
        w.go();
        await waitFor(() => w.sqns.length > 0 || w.child.exitCode !== null, 'the first allocation', 10_000);
        const delay = Math.floor(Math.random() * 40);
        delays.push(delay);
        await sleep(delay);
        w.child.kill('SIGKILL');
        const end = await w.done;
        assert.equal(end.signal, 'SIGKILL', end.stderr);
        assert.ok(w.sqns.length > 0);
        reported.push(...w.sqns);
      }
      const why = `kill delays ${delays.join(',')} ms`;
      assert.equal(new Set(reported).size, reported.length, `a SQN was reported twice (${why})`);
      for (let i = 1; i < reported.length; i++) assert.ok(reported[i] > reported[i - 1], `SQN went back at ${i} (${why})`);
      const after = await openStore(url);
      const next = (await after.allocateSqns(IMPI, 'scscf-a.ims.example.net', 1)).sqns[0];
      await after.close();
      assert.ok(next > reported[reported.length - 1], `next SQN ${next} is not above every reported one (${why})`);
    });
  }
});
