/**
 * Soft UEs (src/nodes/ue, kernel XFRM datapath) driven over JSON lines from a kernel test, so
 * that one Node process inside the UE's namespace serves every scenario (see {@link NsProcess}).
 * The subscribers are `imsec core`'s built-in alice and bob.
 */
import { createInterface } from 'node:readline';
import { silentLogger } from '../../../src/common/log.js';
import type { EncryptionAlg, IntegrityAlg } from '../../../src/ipsec/esp/index.js';
import { wiresharkLinesForSas } from '../../../src/ipsec/sa/index.js';
import { DEMO_SUBSCRIBERS } from '../../../src/nodes/core/subscribers.js';
import { createUe, parseUeConfig, type Ue, type UeRegistration } from '../../../src/nodes/ue/index.js';

export type UeDriverRequest =
  | { op: 'create'; name: string; impi: string; integrity: IntegrityAlg[]; encryption: EncryptionAlg[]; pcscf: string; local: string; localPort?: number }
  /** `keys`: Wireshark esp_sa records of the UE's current SAs (secret: test captures only). */
  | { op: 'register' | 'reRegister' | 'deregister' | 'stop' | 'saTable' | 'state' | 'keys'; name: string }
  | { op: 'message'; name: string; to: string; text: string }
  /** Texts of the MESSAGEs received, waiting (at most 10 s) until there are `atLeast`. */
  | { op: 'messages'; name: string; atLeast: number };

interface Entry {
  ue: Ue;
  inbox: string[];
  arrived?: () => void;
}

const ues = new Map<string, Entry>();

function get(name: string): Entry {
  const e = ues.get(name);
  if (!e) throw new Error(`no UE ${name}`);
  return e;
}

function summary(r: UeRegistration): unknown {
  return { alg: r.alg, ealg: r.ealg, mod: r.mod, ue: r.ue, pcscf: r.pcscf, expires: r.expires };
}

async function waitMessages(e: Entry, atLeast: number): Promise<string[]> {
  const deadline = Date.now() + 10_000;
  while (e.inbox.length < atLeast && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, deadline - Date.now());
      e.arrived = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  return e.inbox.splice(0);
}

async function handle(r: UeDriverRequest): Promise<unknown> {
  switch (r.op) {
    case 'create': {
      const sub = DEMO_SUBSCRIBERS.find((s) => s.impi === r.impi);
      if (!sub) throw new Error(`unknown subscriber ${r.impi}`);
      const ue = createUe(
        parseUeConfig({
          impi: sub.impi,
          impu: sub.impus[0],
          k: sub.k,
          ...(sub.op !== undefined ? { op: sub.op } : { opc: sub.opc }),
          ...(sub.amf !== undefined ? { amf: sub.amf } : {}),
          pcscf: r.pcscf,
          localAddress: r.local,
          ...(r.localPort !== undefined ? { localPort: r.localPort } : {}),
          integrity: r.integrity,
          encryption: r.encryption,
          datapath: 'xfrm',
          expires: 3600,
          reRegister: { auto: false },
          subscribeRegEvent: false,
        }),
        { logger: silentLogger },
      );
      await ue.start();
      const e: Entry = { ue, inbox: [] };
      ue.onMessage((m) => {
        e.inbox.push(m.text);
        e.arrived?.();
      });
      ues.set(r.name, e);
      const a = ue.address();
      return { unprotected: { address: a.sip.address, port: a.sip.port }, protectedServer: a.protectedServer };
    }
    case 'register':
      return summary(await get(r.name).ue.register());
    case 'reRegister':
      return summary(await get(r.name).ue.reRegister());
    case 'deregister':
      await get(r.name).ue.deregister();
      return get(r.name).ue.state().state;
    case 'message':
      return (await get(r.name).ue.sendMessage(r.to, r.text)).status;
    case 'messages':
      return waitMessages(get(r.name), r.atLeast);
    case 'saTable':
      return get(r.name).ue.saTable();
    case 'keys':
      return wiresharkLinesForSas(get(r.name).ue.sa.sas());
    case 'state':
      return get(r.name).ue.state().state;
    case 'stop':
      await get(r.name).ue.stop();
      ues.delete(r.name);
      return undefined;
  }
}

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const req = JSON.parse(line) as UeDriverRequest & { id: number };
  handle(req).then(
    (result) => process.stdout.write(JSON.stringify({ id: req.id, ok: true, result: result ?? null }) + '\n'),
    (e: unknown) => process.stdout.write(JSON.stringify({ id: req.id, ok: false, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e) }) + '\n'),
  );
});
rl.on('close', () => {
  void Promise.all([...ues.values()].map((e) => e.ue.stop().catch(() => undefined))).then(() => process.exit(0));
});
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
