/**
 * The `imsec` command tree. Each domain adds its commands through a `register*` function
 * (cli/<domain>.ts); this file only assembles them.
 */
import { Command, CommanderError } from 'commander';
import { registerAka } from './aka.js';
import { registerHss } from './hss.js';
import { registerIcscf } from './icscf.js';
import { thigBench } from './bench-thig.js';
import { registerScscf } from './scscf.js';
import { registerPcscf } from './pcscf.js';
import { registerUe } from './ue.js';
import { registerCore } from './core.js';
import { registerDemo } from './demo.js';
import { registerAnalyze } from './analyze.js';
import { registerProbe } from './probe.js';
import { registerLab } from './lab.js';
import { registerLoad } from './load.js';
import { registerBench, type BenchRegistrar } from './bench.js';
import { milenageBench } from './bench-milenage.js';
import { espBench } from './bench-esp.js';
import { secagreeBench } from './bench-secagree.js';
import { udpEncapBench } from './bench-udp-encap.js';
import { diameterBench } from './bench-diameter.js';
import { sipBench } from './bench-sip.js';
import { hssBench } from './bench-hss.js';
import { registrationBench } from './bench-register.js';
import { analyzeBench } from './bench-analyze.js';
import { soakBench } from './bench-soak.js';
import { registerIpsecBench } from './bench-register-ipsec.js';
import { saTableBench } from './bench-sa-table.js';
import { scaleOutBench } from './bench-scale-out.js';
import { describeError, exitCodeFor } from './errors.js';

export function buildProgram(): Command {
  const program = new Command('imsec')
    .description('IMS access security: IMS AKA, sec-agree, IPsec ESP, CSCFs and HSS (3GPP TS 33.203)')
    .version('0.1.0')
    .showHelpAfterError(false)
    .exitOverride();
  registerAka(program);
  registerHss(program);
  registerIcscf(program);
  registerScscf(program);
  registerPcscf(program);
  registerUe(program);
  registerCore(program);
  registerDemo(program);
  registerAnalyze(program);
  registerProbe(program);
  registerLab(program);
  registerLoad(program);
  // One entry per domain (cli/bench-<domain>.ts).
  const benches: BenchRegistrar[] = [milenageBench, espBench, secagreeBench, udpEncapBench, diameterBench, sipBench, hssBench, thigBench, registrationBench, registerIpsecBench, saTableBench, scaleOutBench, soakBench, analyzeBench];
  registerBench(program, benches);
  for (const c of allCommands(program)) c.exitOverride();
  return program;
}

function allCommands(c: Command): Command[] {
  return [c, ...c.commands.flatMap(allCommands)];
}

/** Run with argv (without node and script); resolves to the exit code. */
export async function runCli(argv: string[], out: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream } = process): Promise<number> {
  const program = buildProgram();
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
