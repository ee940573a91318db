/**
 * `imsec demo`: the IMS core and two soft UEs in one process, through the whole of TS 33.203
 * access security, with the message ladder and the SA tables printed at each step:
 *
 * 1. alice registers: IMS AKA (TS 33.203 §6.1, RFC 3310), sec-agree (RFC 3329, Annex H), IPsec
 *    SAs (§7) — the first REGISTER in the clear, the second inside ESP (R-SM-6);
 * 2. bob registers the same way;
 * 3. alice sends bob a MESSAGE: protected on both access legs (alice ⇒ P-CSCF, P-CSCF ⇒ bob);
 * 4. alice re-registers: AKA again over the old SAs, new SAs in parallel, change-over (R-RR-1/2);
 * 5. alice de-registers: her SAs go at both ends (R-SA-7);
 * and then bob de-registers and every node is checked to be clean (no SA, no registration).
 *
 * Every line of the ladder comes from the bytes that crossed the sockets ({@link WireTap}). A
 * failed check ends the demo with `ok: false` and the step that failed. By default the UEs run in
 * this process on the userspace ESP datapath: no privileges, no kernel IPsec. With
 * {@link DemoOptions.kernel} (`imsec demo --datapath xfrm`) the P-CSCF uses kernel ESP in
 * transport mode, the UEs live in another network namespace, and the protected legs come from
 * a capture of the link ({@link TransportEspPacket}), opened with the P-CSCF's keys.
 */
import { ImsError, type Logger } from '../../common/index.js';
import { silentLogger } from '../../common/log.js';
import { WireTap, endpointId, type WirePacket } from '../../capture/index.js';
import type { Endpoint } from '../../ip/index.js';
import type { SecurityAssociation } from '../../ipsec/sa/index.js';
import { createUe, parseUeConfig, type Ue } from '../ue/index.js';
import type { CoreConfig } from '../core/index.js';
import { NODE_LABELS, createImsCore, type ImsCore, type ImsCoreAddresses, type ImsCoreDeps, DEMO_SUBSCRIBERS, type CoreSubscriber } from '../core/index.js';
import { demoUeConfig, localDemoUe, type DemoUe } from './demo-ue.js';
import { LadderDecoder, type LadderEntry, type TransportEspPacket } from './ladder.js';
import { formatLadder, formatSaTable, styles } from './print.js';

/** A check of the demo that did not hold. */
export class DemoStepError extends ImsError {
  constructor(
    readonly step: string,
    message: string,
  ) {
    super('DEMO_STEP', message);
  }
}

export interface DemoOptions {
  /** The core (the CLI passes ports 0 and a fresh data directory). */
  config: CoreConfig;
  /** Where the text goes, one line per call. */
  out: (line: string) => void;
  color?: boolean;
  /** The trace (default: a new one). */
  tap?: WireTap;
  logger?: Logger;
  /** Each step must finish within this (default 15 s). */
  stepTimeoutMs?: number;
  /** The two UEs (default: the demo subscribers alice and bob). */
  users?: readonly [CoreSubscriber, CoreSubscriber];
  /** The text alice sends. */
  text?: string;
  /** `imsec demo --web`: more core deps (metrics), the core and each UE once they run, and a wait before everything stops. */
  hooks?: DemoHooks;
  /** Kernel ESP (`imsec demo --datapath xfrm`): the UEs elsewhere and the captured ESP. */
  kernel?: DemoKernel;
}

/**
 * The demo on kernel ESP (TS 33.203 Annex H `mod=trans`): the core config has the xfrm datapath;
 * the UEs are created elsewhere (another network namespace) and the ESP packets on the link come
 * from a capture.
 */
export interface DemoKernel {
  /** One line on where things run (printed under the header). */
  where: string;
  /** Creates the UE of `u` that registers through the P-CSCF at `pcscf` (`host:port`). */
  createUe(u: CoreSubscriber, pcscf: string): Promise<DemoUe>;
  /** Calls `cb` for every ESP packet captured on the link; returns the unsubscribe function. */
  onEsp(cb: (p: TransportEspPacket) => void): () => void;
  /** Resolves once every packet sent so far has come through the capture (it lags the sockets). */
  settle(): Promise<void>;
}

/** See {@link DemoOptions.hooks}. */
export interface DemoHooks {
  coreDeps?: Pick<ImsCoreDeps, 'instrument'>;
  onCore?(core: ImsCore): void | Promise<void>;
  onUe?(name: string, ue: Ue): void;
  beforeStop?(): Promise<void>;
}

/** One step as it ran. */
export interface DemoStep {
  readonly title: string;
  readonly ok: boolean;
  readonly entries: readonly LadderEntry[];
}

export interface DemoResult {
  ok: boolean;
  failure?: { step: string; message: string };
  steps: DemoStep[];
  /** Every SA created on either side (each once), for the key export. */
  sas: SecurityAssociation[];
  /** Every port that carried ESP in UDP (for tshark). */
  espPorts: number[];
  addresses?: ImsCoreAddresses;
  tap: WireTap;
  /** Messages of the ladder, and how many of them travelled in ESP. */
  messages: { total: number; esp: number; undecoded: number };
  durationMs: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no result within ${ms} ms`)), ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}

/** Resolves once no packet has been seen for `quietMs` (at most `maxMs`). */
async function quiet(sources: readonly ((cb: () => void) => () => void)[], quietMs = 80, maxMs = 2000): Promise<void> {
  const start = Date.now();
  let last = Date.now();
  const offs = sources.map((on) =>
    on(() => {
      last = Date.now();
    }),
  );
  try {
    while (Date.now() - last < quietMs && Date.now() - start < maxMs) await new Promise((r) => setTimeout(r, 20));
  } finally {
    for (const off of offs) off();
  }
}

function userName(impi: string): string {
  return impi.split('@')[0];
}

/** Runs the demo (see the module comment). Never throws for a failed check: see `ok`. */
export async function runDemo(opts: DemoOptions): Promise<DemoResult> {
  const started = Date.now();
  const out = opts.out;
  const st = styles(opts.color);
  const tap = opts.tap ?? new WireTap();
  const log = opts.logger ?? silentLogger;
  const stepMs = opts.stepTimeoutMs ?? 15_000;
  const [userA, userB] = opts.users ?? [DEMO_SUBSCRIBERS[0], DEMO_SUBSCRIBERS[1]];
  const nameA = userName(userA.impi);
  const nameB = userName(userB.impi);
  const text = opts.text ?? `Hello ${nameB}, this MESSAGE crossed two IPsec-protected access legs.`;

  // Every SA ever created, by SPI (a receiver's SPIs are unique among its live SAs; the two sides
  // draw from disjoint halves, R-SA-3).
  const sas = new Map<string, SecurityAssociation>();
  const bySpi = new Map<number, SecurityAssociation[]>();
  const noteSa = (sa: SecurityAssociation): void => {
    const key = `${sa.spi}|${endpointId(sa.src)}|${endpointId(sa.dst)}`;
    if (sas.has(key)) return;
    sas.set(key, sa);
    bySpi.set(sa.spi, [...(bySpi.get(sa.spi) ?? []), sa]);
  };
  // A transport-mode packet (port 0) is matched on its address: the ports are inside.
  const sameDst = (sa: SecurityAssociation, to: Endpoint): boolean => (to.port === 0 ? endpointId({ ...sa.dst, port: 0 }) : endpointId(sa.dst)) === endpointId(to);
  const decoder = new LadderDecoder({
    nameOf: (e, proto) => tap.nameOf(e, proto),
    saFor: (spi, to: Endpoint) => [...(bySpi.get(spi) ?? [])].reverse().find((sa) => sameDst(sa, to)),
  });
  const entries: LadderEntry[] = [];
  const offTap = tap.onPacket((p: WirePacket) => entries.push(...decoder.decode(p)));
  const offEsp = opts.kernel?.onEsp((p) => entries.push(...decoder.decodeTransportEsp(p)));
  const activity: ((cb: () => void) => () => void)[] = [(cb) => tap.onPacket(cb), ...(opts.kernel ? [(cb: () => void) => opts.kernel!.onEsp(cb)] : [])];

  const steps: DemoStep[] = [];
  const result: DemoResult = { ok: true, steps, sas: [], espPorts: [], tap, messages: { total: 0, esp: 0, undecoded: 0 }, durationMs: 0 };
  let core: ImsCore | undefined;
  const ues: DemoUe[] = [];

  const check = (step: string, cond: boolean, message: string): void => {
    if (!cond) throw new DemoStepError(step, message);
  };
  const tables = async (ue: DemoUe, name: string): Promise<void> => {
    const { sas: ueSas } = await ue.snapshot();
    out('');
    for (const l of formatSaTable(`SA table of ${name} (UE)`, ueSas, { color: opts.color })) out(l);
    for (const l of formatSaTable('SA table of the P-CSCF', core!.pcscf.sas(), { color: opts.color, impi: true })) out(l);
  };
  // In the order of their time (the capture's packets arrive through a pipe, after the fact).
  const since = (first: number): LadderEntry[] => entries.slice(first).sort((x, y) => x.at - y.at);
  let stepNo = 0;
  const step = async (title: string, explain: string, body: () => Promise<string>, show: { ladder: 'full' | 'count'; tables?: [DemoUe, string] }): Promise<void> => {
    stepNo++;
    const label = `${stepNo}. ${title}`;
    out('');
    out(st.bold(`━━ ${label} ━━`));
    out(st.dim(`   ${explain}`));
    const first = entries.length;
    let summary: string;
    try {
      summary = await withTimeout(body(), stepMs, title);
      await quiet(activity);
      await core?.pcscf.idle();
      await opts.kernel?.settle();
    } catch (e) {
      await quiet(activity, 50, 500);
      await opts.kernel?.settle().catch(() => undefined);
      const mine = since(first);
      if (mine.length > 0) {
        out('');
        for (const l of formatLadder(mine, { color: opts.color })) out(l);
      }
      steps.push({ title, ok: false, entries: mine });
      throw e instanceof DemoStepError ? e : new DemoStepError(label, (e as Error).message);
    }
    const mine = since(first);
    out('');
    if (show.ladder === 'full') for (const l of formatLadder(mine, { color: opts.color })) out(l);
    else out(st.dim(`  (${mine.length} messages, the same exchange as above)`));
    out('');
    out(`  ${st.green('✔')} ${summary}`);
    if (show.tables) await tables(...show.tables);
    steps.push({ title, ok: true, entries: mine });
  };

  try {
    // The core, with every leg observed.
    const c = createImsCore(opts.config, { tap, logger: log, ...opts.hooks?.coreDeps });
    core = c;
    await c.start();
    const a = c.addresses();
    result.addresses = a;
    await opts.hooks?.onCore?.(c);
    c.pcscf.sa.on((e) => {
      if (e.kind !== 'saCreated') return;
      noteSa(e.sa);
      // The UE's end of the SA carries the UE's name (its protected client port changes at each set).
      const [ueEnd, pcscfEnd] = e.sa.direction === 'in' ? [e.sa.src, e.sa.dst] : [e.sa.dst, e.sa.src];
      tap.name(ueEnd, userName(e.sa.impi));
      tap.name(pcscfEnd, NODE_LABELS.pcscf);
    });
    const pcscfAt = `${a.pcscf.sip.address.includes(':') ? `[${a.pcscf.sip.address}]` : a.pcscf.sip.address}:${a.pcscf.sip.port}`;
    const localUe = async (u: CoreSubscriber): Promise<DemoUe> => {
      const name = userName(u.impi);
      const ue = createUe(parseUeConfig(demoUeConfig(u, pcscfAt, a.pcscf.sip.address)), { logger: log.child({ node: name }) });
      await ue.start();
      opts.hooks?.onUe?.(name, ue);
      ue.sa.on((e) => {
        if (e.kind === 'saCreated') noteSa(e.sa);
      });
      return localDemoUe(ue);
    };
    const mkUe = async (u: CoreSubscriber): Promise<DemoUe> => {
      const ue = opts.kernel ? await opts.kernel.createUe(u, pcscfAt) : await localUe(u);
      ues.push(ue);
      const name = userName(u.impi);
      const addr = ue.addresses();
      tap.name(addr.unprotected, name);
      tap.name(addr.protectedServer, name);
      return ue;
    };
    const alice = await mkUe(userA);
    const bob = await mkUe(userB);

    out(st.bold('imsec demo') + ' — IMS access security end to end (3GPP TS 33.203): IMS AKA, sec-agree, IPsec ESP');
    out(st.dim(opts.kernel ? `  ${opts.kernel.where}` : '  every node runs in this process; every line below is decoded from the bytes on the sockets'));
    out('');
    out(`  core   HSS ${a.hss.diameter.address}:${a.hss.diameter.port} (Diameter Cx)   S-CSCF :${a.scscf.sip.port}   I-CSCF :${a.icscf.sip.port}   P-CSCF :${a.pcscf.sip.port}   realm ${a.realm}`);
    out(`  UEs    ${nameA} ${userA.impus[0]} :${alice.addresses().unprotected.port}   ${nameB} ${userB.impus[0]} :${bob.addresses().unprotected.port}   ${opts.kernel ? '(kernel ESP, transport mode)' : '(userspace ESP-in-UDP datapath)'}`);
    out(st.dim('  → in the clear   ⇒ inside ESP (SPI, sequence number)   Cx = Diameter between the CSCFs and the HSS'));

    await step(
      `${nameA} registers`,
      'IMS AKA + sec-agree: the REGISTER goes out in the clear, the 401 brings the challenge and the P-CSCF\'s SPIs/ports, the second REGISTER is protected',
      async () => {
        const reg = await alice.register();
        await c.pcscf.idle();
        const s = await alice.snapshot();
        check(`${nameA} registers`, s.state === 'registered', `${nameA} is ${s.state}, not registered`);
        check(`${nameA} registers`, s.sas.length === 4, `${nameA} holds ${s.sas.length} SAs, not 4`);
        check(`${nameA} registers`, c.pcscf.sas().filter((s) => s.impi === userA.impi).length === 4, `the P-CSCF holds ${c.pcscf.sas().filter((s) => s.impi === userA.impi).length} SAs of ${nameA}, not 4`);
        return `${nameA} registered ${reg.impus.join(', ')} (implicit set) for ${reg.expires} s; SA set ${reg.setId}: ${reg.alg} + ${reg.ealg}, mod=${reg.mod}`;
      },
      { ladder: 'full', tables: [alice, nameA] },
    );

    await step(
      `${nameB} registers`,
      `the same procedure for ${nameB}, so that ${nameA} can reach him`,
      async () => {
        const reg = await bob.register();
        const s = await bob.snapshot();
        check(`${nameB} registers`, s.state === 'registered', `${nameB} is ${s.state}, not registered`);
        return `${nameB} registered ${reg.impus.join(', ')}; SA set ${reg.setId}`;
      },
      { ladder: 'count' },
    );

    await step(
      `${nameA} sends ${nameB} a MESSAGE`,
      `protected on both access legs: ${nameA} ⇒ P-CSCF on ${nameA}'s SAs, P-CSCF ⇒ ${nameB} on ${nameB}'s; in the clear inside the core`,
      async () => {
        const got = bob.nextMessage(5000);
        // Settled either way, so that an early failure below leaves no unhandled rejection.
        got.catch(() => undefined);
        const resp = await alice.sendMessage(userB.impus[0], text);
        check(`${nameA} sends ${nameB} a MESSAGE`, resp.status >= 200 && resp.status < 300, `the MESSAGE was answered ${resp.status} ${resp.reason}`);
        const received = await got;
        check(`${nameA} sends ${nameB} a MESSAGE`, received === text, `${nameB} received ${JSON.stringify(received)}`);
        return `${nameB} received ${JSON.stringify(received)}; ${nameA} got ${resp.status} ${resp.reason}`;
      },
      { ladder: 'full' },
    );

    await step(
      `${nameA} re-registers`,
      'a new AKA run over the existing SAs; new SAs are set up in parallel and take over (SA change-over, R-RR-1/R-RR-2)',
      async () => {
        const before = (await alice.snapshot()).setId;
        const reg = await alice.reRegister();
        check(`${nameA} re-registers`, reg.setId !== before, `the SA set did not change (set ${reg.setId})`);
        return `${nameA} re-registered on SA set ${reg.setId} (was set ${before}); the old set stays until it is no longer needed`;
      },
      { ladder: 'full', tables: [alice, nameA] },
    );

    await step(
      `${nameA} de-registers`,
      'REGISTER with Expires 0 on the current SAs; afterwards no SA of hers is left at either end (R-SA-7)',
      async () => {
        await alice.deregister();
        await c.pcscf.idle();
        await quiet(activity);
        const left = (await alice.snapshot()).sas.length;
        check(`${nameA} de-registers`, left === 0, `${nameA} still holds ${left} SAs`);
        const atPcscf = c.pcscf.sas().filter((s) => s.impi === userA.impi).length;
        check(`${nameA} de-registers`, atPcscf === 0, `the P-CSCF still holds ${atPcscf} SAs of ${nameA}`);
        check(`${nameA} de-registers`, !c.scscf.registrations().some((r) => r.impi === userA.impi), `the S-CSCF still has a registration of ${nameA}`);
        return `${nameA} is de-registered; her SAs are gone at both ends`;
      },
      { ladder: 'full', tables: [alice, nameA] },
    );

    await step(
      `${nameB} de-registers`,
      'the end: every node must be clean',
      async () => {
        await bob.deregister();
        await c.pcscf.idle();
        await quiet(activity);
        check(`${nameB} de-registers`, c.pcscf.sas().length === 0, `the P-CSCF still holds ${c.pcscf.sas().length} SAs`);
        check(`${nameB} de-registers`, c.scscf.registrations().length === 0, `the S-CSCF still has ${c.scscf.registrations().length} registrations`);
        return 'no SA, no registration left on any node';
      },
      { ladder: 'count' },
    );
  } catch (e) {
    result.ok = false;
    const failure = e instanceof DemoStepError ? { step: e.step, message: e.message } : { step: 'start', message: (e as Error).message };
    result.failure = failure;
    out('');
    out(`  ${st.red('✘')} ${st.bold(`step "${failure.step}" failed`)}: ${failure.message}`);
  } finally {
    await opts.hooks?.beforeStop?.().catch((err: Error) => log.warn({ err: err.message }, 'demo: wait before stop failed'));
    for (const ue of ues) await ue.stop().catch((err: Error) => log.warn({ err: err.message }, 'demo: UE stop failed'));
    await core?.stop().catch((err: Error) => log.warn({ err: err.message }, 'demo: core stop failed'));
    offTap();
    offEsp?.();
  }

  result.sas = [...sas.values()];
  const ports = new Set<number>();
  for (const p of tap.packets()) if (p.kind === 'esp') ports.add(p.from.port).add(p.to.port);
  result.espPorts = [...ports].sort((x, y) => x - y);
  result.messages = { total: entries.length, esp: entries.filter((e) => e.esp).length, undecoded: decoder.problems.length };
  result.durationMs = Date.now() - started;
  if (result.ok && decoder.problems.length > 0) {
    result.ok = false;
    const p = decoder.problems[0];
    result.failure = { step: 'ladder', message: `packet ${p.seq} (${p.from} → ${p.to}) could not be decoded: ${p.reason}` };
    out(`  ${st.red('✘')} ${result.failure.message}`);
  }
  if (result.ok) {
    out('');
    out(
      st.bold(`demo passed`) +
        `: ${steps.length} steps, ${result.messages.total} messages (${result.messages.esp} inside ESP, every ICV checked), ${result.sas.length} SAs set up and removed, ${(result.durationMs / 1000).toFixed(1)} s`,
    );
  }
  return result;
}
