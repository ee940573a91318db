/**
 * Soft UEs (src/nodes/ue, kernel XFRM datapath) driven over JSON lines from a kernel test, so
 * that one Node process inside the UE's namespace serves every scenario (see {@link NsProcess}).
 * The subscribers are `imsec core`'s built-in alice and bob.
 */
import { createSocket } from 'node:dgram';
import { createInterface } from 'node:readline';
import { silentLogger } from '../../../src/common/log.js';
import type { EncryptionAlg, IntegrityAlg } from '../../../src/ipsec/esp/index.js';
import { wiresharkLinesForSas } from '../../../src/ipsec/sa/index.js';
import { DEMO_SUBSCRIBERS } from '../../../src/nodes/core/subscribers.js';
import { demoUeConfig } from '../../../src/nodes/demo/demo-ue.js';
import { createUe, parseUeConfig, type Ue, type UeIncomingRequest, type UeRegistration } from '../../../src/nodes/ue/index.js';

export type UeDriverRequest =
  | { op: 'create'; name: string; impi: string; integrity: IntegrityAlg[]; encryption: EncryptionAlg[]; pcscf: string; local: string; localPort?: number; transport?: 'udp' | 'tcp'; subscribeRegEvent?: boolean }
  /** Waits (at most `timeoutMs`) until the UE is registered on a set other than `notSetId`. */
  | { op: 'waitNewSet'; name: string; notSetId: number; timeoutMs: number }
  /**
   * `keys`: Wireshark esp_sa records of the UE's current SAs (secret: test captures only);
   * `keysSeen`: of every SA it has had, those already deleted too (a challenged
   * de-registration's temporary set lives only for its exchange).
   */
  /** `lastFailure`: why the last procedure failed (null: it did not; a de-REGISTER unanswered fails). */
  | { op: 'register' | 'reRegister' | 'deregister' | 'stop' | 'saTable' | 'state' | 'keys' | 'keysSeen' | 'lastFailure'; name: string }
  | { op: 'message'; name: string; to: string; text: string }
  /** Texts of the MESSAGEs received, waiting (at most 10 s) until there are `atLeast`. */
  | { op: 'messages'; name: string; atLeast: number }
  /** The reg-event SUBSCRIBE (TS 24.229 §5.1.1.3): the final status; `subscription`: its state. */
  | { op: 'subscribe' | 'subscription'; name: string }
  /** Requests from the network of `method` and the UE's answers, waiting (at most 10 s) until there are `atLeast`. */
  | { op: 'requests'; name: string; method: string; atLeast: number }
  | { op: 'mark'; address: string; port: number; text: string };

interface Entry {
  ue: Ue;
  /** Wireshark esp_sa records of every SA created, in order. */
  seen: string[];
  inbox: string[];
  requests: UeIncomingRequest[];
  arrived?: () => void;
}

const ues = new Map<string, Entry>();

function get(name: string): Entry {
  const e = ues.get(name);
  if (!e) throw new Error(`no UE ${name}`);
  return e;
}

function summary(r: UeRegistration): unknown {
  return { alg: r.alg, ealg: r.ealg, mod: r.mod, ue: r.ue, pcscf: r.pcscf, expires: r.expires, setId: r.setId };
}

async function waitFor(e: Entry, enough: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!enough() && Date.now() < deadline) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, deadline - Date.now());
      e.arrived = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}

/** The registration once it is on a set other than `notSetId` (a re-registration done). */
async function waitNewSet(ue: Ue, notSetId: number, timeoutMs: number): Promise<UeRegistration> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = ue.state();
    if (s.state === 'registered' && s.registration && s.registration.setId !== notSetId) return s.registration;
    if (Date.now() > deadline) throw new Error(`still on set ${notSetId} (${s.state}, subscription ${s.subscription}, last failure ${JSON.stringify(s.lastFailure ?? null)}) after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function handle(r: UeDriverRequest): Promise<unknown> {
  switch (r.op) {
    case 'create': {
      const sub = DEMO_SUBSCRIBERS.find((s) => s.impi === r.impi);
      if (!sub) throw new Error(`unknown subscriber ${r.impi}`);
      const more = {
        integrity: r.integrity,
        encryption: r.encryption,
        datapath: 'xfrm',
        ...(r.localPort !== undefined ? { localPort: r.localPort } : {}),
        ...(r.transport !== undefined ? { transport: r.transport } : {}),
        ...(r.subscribeRegEvent !== undefined ? { subscribeRegEvent: r.subscribeRegEvent } : {}),
      };
      const ue = createUe(parseUeConfig(demoUeConfig(sub, r.pcscf, r.local, more)), { logger: silentLogger });
      await ue.start();
      const e: Entry = { ue, seen: [], inbox: [], requests: [] };
      ue.sa.on((ev) => {
        if (ev.kind === 'saCreated') e.seen.push(...wiresharkLinesForSas([ev.sa]));
      });
      ue.onMessage((m) => {
        e.inbox.push(m.text);
        e.arrived?.();
      });
      ue.onIncomingRequest((req) => {
        e.requests.push(req);
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
    case 'messages': {
      const e = get(r.name);
      await waitFor(e, () => e.inbox.length >= r.atLeast);
      return e.inbox.splice(0);
    }
    case 'subscribe':
      return get(r.name).ue.subscribeRegEvent();
    case 'requests': {
      const e = get(r.name);
      const of = (): UeIncomingRequest[] => e.requests.filter((q) => q.method === r.method);
      await waitFor(e, () => of().length >= r.atLeast);
      return of();
    }
    case 'waitNewSet':
      return summary(await waitNewSet(get(r.name).ue, r.notSetId, r.timeoutMs));
    case 'saTable':
      return get(r.name).ue.saTable();
    case 'keys':
      return wiresharkLinesForSas(get(r.name).ue.sa.sas());
    case 'keysSeen':
      return get(r.name).seen;
    case 'state':
      return get(r.name).ue.state().state;
    case 'subscription':
      return get(r.name).ue.state().subscription;
    case 'lastFailure':
      return get(r.name).ue.state().lastFailure ?? null;
    case 'stop':
      await get(r.name).ue.stop();
      ues.delete(r.name);
      return undefined;
    case 'mark':
      return mark(r.address, r.port, r.text);
  }
}

/** One UDP datagram carrying `text` over the link (a capture marker: nobody answers it). */
async function mark(address: string, port: number, text: string): Promise<undefined> {
  const socket = createSocket(address.includes(':') ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => socket.send(text, port, address, (err) => (err ? reject(err) : resolve())));
  } finally {
    socket.close();
  }
  return undefined;
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
