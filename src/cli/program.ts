/**
 * The `imsec` command tree. Each domain adds its commands through a `register*` function
 * (cli/<domain>.ts); this file only assembles them.
 */
import { Command, CommanderError } from 'commander';
import { describeError, exitCodeFor } from './errors.js';

type Registrar = (program: Command) => void;

/**
 * The top-level commands, each loaded on demand: a command's module (and the layers it brings:
 * nodes, stores, capture, web) is imported only when that command runs, so `imsec lab`, `imsec
 * ue` or `imsec pcscf` start without loading the whole tree (it matters inside user-mode Linux,
 * where loading every module took seconds). Help and unknown commands load them all.
 */
const COMMANDS: Record<string, () => Promise<Registrar>> = {
  aka: async () => (await import('./aka.js')).registerAka,
  hss: async () => (await import('./hss.js')).registerHss,
  icscf: async () => (await import('./icscf.js')).registerIcscf,
  scscf: async () => (await import('./scscf.js')).registerScscf,
  pcscf: async () => (await import('./pcscf.js')).registerPcscf,
  ue: async () => (await import('./ue.js')).registerUe,
  core: async () => (await import('./core.js')).registerCore,
  demo: async () => (await import('./demo.js')).registerDemo,
  analyze: async () => (await import('./analyze.js')).registerAnalyze,
  probe: async () => (await import('./probe.js')).registerProbe,
  lab: async () => (await import('./lab.js')).registerLab,
  load: async () => (await import('./load.js')).registerLoad,
  bench: loadBenches,
};

/** `imsec bench`: one entry per domain (cli/bench-<domain>.ts). */
async function loadBenches(): Promise<Registrar> {
  const [{ registerBench }, ...benches] = await Promise.all([
    import('./bench.js'),
    import('./bench-milenage.js').then((m) => m.milenageBench),
    import('./bench-esp.js').then((m) => m.espBench),
    import('./bench-secagree.js').then((m) => m.secagreeBench),
    import('./bench-udp-encap.js').then((m) => m.udpEncapBench),
    import('./bench-diameter.js').then((m) => m.diameterBench),
    import('./bench-sip.js').then((m) => m.sipBench),
    import('./bench-hss.js').then((m) => m.hssBench),
    import('./bench-thig.js').then((m) => m.thigBench),
    import('./bench-register.js').then((m) => m.registrationBench),
    import('./bench-scscf.js').then((m) => m.scscfBench),
    import('./bench-scscf-memory.js').then((m) => m.scscfMemoryBench),
    import('./bench-register-ipsec.js').then((m) => m.registerIpsecBench),
    import('./bench-core-memory.js').then((m) => m.coreMemoryBench),
    import('./bench-core-layout.js').then((m) => m.coreLayoutBench),
    import('./bench-sa-table.js').then((m) => m.saTableBench),
    import('./bench-scale-out.js').then((m) => m.scaleOutBench),
    import('./bench-soak.js').then((m) => m.soakBench),
    import('./bench-analyze.js').then((m) => m.analyzeBench),
  ]);
  return (program) => registerBench(program, benches);
}

/**
 * The command tree for `argv`: only the command `argv` names, or every command when it names
 * none that exists (help, a typo: commander then lists them all).
 */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('imsec')
    .description('IMS access security: IMS AKA, sec-agree, IPsec ESP, CSCFs and HSS (3GPP TS 33.203)')
    .version('0.1.0')
    .showHelpAfterError(false)
    .exitOverride();
  const first = argv[0];
  const names = first !== undefined && Object.hasOwn(COMMANDS, first) ? [first] : Object.keys(COMMANDS);
  for (const register of await Promise.all(names.map((n) => COMMANDS[n]()))) register(program);
  for (const c of allCommands(program)) c.exitOverride();
  return program;
}

function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap(allCommands)];
}

/** Run with argv (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): Promise<number> {
  const program = await buildProgram(argv);
  for (const c of allCommands(program)) {
    c.configureOutput({
      writeOut: (s) => out.stdout.write(s),
      writeErr: (s) => out.stderr.write(s),
      outputError: () => {},
    });
  }
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      out.stderr.write(`imsec: ${err.message.replace(/^error: /, '')}\n`);
      return 2;
    }
    out.stderr.write(`imsec: ${describeError(err)}\n`);
    return exitCodeFor(err);
  }
}
