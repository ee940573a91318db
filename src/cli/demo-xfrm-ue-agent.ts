/**
 * The UE half of `imsec demo --datapath xfrm`: the demo's soft UEs (src/nodes/ue, kernel XFRM,
 * transport mode) in the UEs' network namespace, driven over JSON lines on stdin/stdout by the
 * core half (demo-xfrm-core.ts): `{ id, op, … }` in, `{ id, ok, result | error }` out, one
 * `{ ready: true }` first. The UE's SAs must live in a kernel of their own: both ends' SAs in one
 * namespace would collide (the same selectors, in and out). Nothing secret crosses the pipe: SA
 * rows carry no keys, and the subscribers are looked up here by IMPI. When stdin closes, every
 * UE stops (its SAs and policies go) and the process exits.
 */
import { createInterface } from 'node:readline';
import { silentLogger } from '../common/log.js';
import { DEMO_SUBSCRIBERS } from '../nodes/core/index.js';
import { demoRegistration, demoUeConfig, localDemoUe, nextMessageOf, snapshotOf } from '../nodes/demo/index.js';
import { createUe, parseUeConfig, type Ue } from '../nodes/ue/index.js';

/** A request of the core half. */
export type UeAgentRequest =
  | { op: 'create'; name: string; impi: string; pcscf: string; local: string }
  | { op: 'register' | 'reRegister' | 'deregister' | 'snapshot' | 'stop'; name: string }
  | { op: 'message'; name: string; to: string; text: string }
  | { op: 'nextMessage'; name: string; timeoutMs: number };

const ues = new Map<string, Ue>();

function get(name: string): Ue {
  const ue = ues.get(name);
  if (!ue) throw new Error(`no UE ${name}`);
  return ue;
}

async function handle(r: UeAgentRequest): Promise<unknown> {
  switch (r.op) {
    case 'create': {
      const sub = DEMO_SUBSCRIBERS.find((s) => s.impi === r.impi);
      if (!sub) throw new Error(`unknown subscriber ${r.impi}`);
      const ue = createUe(parseUeConfig(demoUeConfig(sub, r.pcscf, r.local, { datapath: 'xfrm' })), { logger: silentLogger });
      await ue.start();
      ues.set(r.name, ue);
      return localDemoUe(ue).addresses();
    }
    case 'register':
      return demoRegistration(await get(r.name).register());
    case 'reRegister':
      return demoRegistration(await get(r.name).reRegister());
    case 'deregister':
      return get(r.name).deregister();
    case 'message': {
      const resp = await get(r.name).sendMessage(r.to, r.text);
      return { status: resp.status, reason: resp.reason };
    }
    case 'nextMessage':
      return nextMessageOf(get(r.name), r.timeoutMs);
    case 'snapshot':
      return snapshotOf(get(r.name));
    case 'stop':
      await get(r.name).stop();
      ues.delete(r.name);
      return undefined;
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  let req: UeAgentRequest & { id: number };
  try {
    req = JSON.parse(line) as UeAgentRequest & { id: number };
  } catch {
    return;
  }
  handle(req).then(
    (result) => process.stdout.write(JSON.stringify({ id: req.id, ok: true, result: result ?? null }) + '\n'),
    (e: unknown) => process.stdout.write(JSON.stringify({ id: req.id, ok: false, error: e instanceof Error ? e.message : String(e) }) + '\n'),
  );
});
rl.on('close', () => {
  void Promise.all([...ues.values()].map((ue) => ue.stop().catch(() => undefined))).then(() => process.exit(0));
});
// The core half ends this process with SIGTERM on Ctrl-C: stop the UEs as when stdin closes.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => rl.close());
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
