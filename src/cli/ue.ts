/**
 * `imsec ue register`: the soft UE on the command line (TS 24.229 §5.1.1 with IMS AKA and
 * sec-agree, TS 33.203). Registers, optionally sends one MESSAGE and/or de-registers, prints one
 * JSON summary on stdout and exits.
 *
 *   imsec ue register --impi alice@ims.lab --impu sip:alice@ims.lab --k HEX --opc HEX --pcscf 127.0.0.1:5060
 *   imsec ue register --config ue.json --sqn-file alice.sqn.json --message sip:bob@ims.lab "hello" --deregister
 *   imsec ue register --config ue.json --stay        (stays registered; JSON lines; cli/ue-stay.ts)
 *
 * Flags override the file (nodes/ue/config.ts). Bad input: one line on stderr, exit 2; a
 * registration that fails: one line, exit 1. K/OP/OPc never appear in any output.
 */
import { Command } from 'commander';
import { InvalidArgumentError } from '../common/index.js';
import { createLogger } from '../common/log.js';
import { createUe, parseUeConfig, UeConfigSchema, UeError, type UeConfigInput } from '../nodes/ue/index.js';
import { CliFailure } from './errors.js';
import { addPrintSchema, readJsonConfigFile } from './node-process.js';
import { runUeStay } from './ue-stay.js';

export interface UeRegisterFlags {
  config?: string;
  impi?: string;
  impu?: string;
  homeDomain?: string;
  k?: string;
  op?: string;
  opc?: string;
  amf?: string;
  pcscf?: string;
  host?: string[];
  local?: string;
  sqnFile?: string;
  expires?: string;
  integrity?: string;
  encryption?: string;
  datapath?: string;
  transport?: string;
  message?: string[];
  deregister?: boolean;
  subscribe?: boolean;
  stay?: boolean;
  logLevel?: string;
}

/** The configuration file (if any) with the flags on top. */
export function ueConfigFrom(o: UeRegisterFlags): UeConfigInput {
  let raw: Record<string, unknown> = {};
  if (o.config !== undefined) {
    // The file may hold keys: its content is never echoed.
    raw = readJsonConfigFile(o.config, (message) => new InvalidArgumentError(message, '--config'));
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgumentError(`${o.config} must hold a JSON object`, '--config');
  }
  const set = (k: keyof UeConfigInput, v: unknown): void => {
    if (v !== undefined) raw[k] = v;
  };
  set('impi', o.impi);
  set('impu', o.impu);
  set('homeDomain', o.homeDomain);
  set('k', o.k);
  if (o.op !== undefined && o.opc !== undefined) throw new InvalidArgumentError('give --op or --opc, not both', '--op');
  if (o.op !== undefined) {
    delete raw.opc;
    set('op', o.op);
  }
  if (o.opc !== undefined) {
    delete raw.op;
    set('opc', o.opc);
  }
  set('amf', o.amf);
  set('pcscf', o.pcscf);
  set('localAddress', o.local);
  set('sqnFile', o.sqnFile);
  set('expires', o.expires);
  set('integrity', o.integrity);
  set('encryption', o.encryption);
  set('datapath', o.datapath);
  set('transport', o.transport);
  // The CLI subscribes itself (and waits for the answer) only when asked to.
  raw.subscribeRegEvent = false;
  if (o.host && o.host.length > 0) {
    const hosts: Record<string, unknown> = { ...((raw.hosts as Record<string, unknown> | undefined) ?? {}) };
    for (const h of o.host) {
      const m = /^([^=]+)=(.+)$/.exec(h);
      if (!m) throw new InvalidArgumentError(`--host expects NAME=IP, got ${JSON.stringify(h)}`, '--host');
      hosts[m[1]] = m[2];
    }
    raw.hosts = hosts;
  }
  return raw;
}

/** Register, optionally MESSAGE and de-register; write the JSON summary. */
export async function runUeRegister(o: UeRegisterFlags, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  const input = ueConfigFrom(o);
  if (o.message !== undefined && o.message.length !== 2) throw new InvalidArgumentError('--message takes two values: TO TEXT', '--message');
  const log = createLogger('ue', { level: o.logLevel ?? process.env.IMSEC_LOG_LEVEL ?? 'warn' });
  if (o.stay) {
    if (o.deregister) throw new InvalidArgumentError('--stay de-registers at SIGINT/SIGTERM; --deregister does not go with it', '--deregister');
    return runUeStay(input, o, log, out);
  }
  if (input.reRegister === undefined) input.reRegister = { auto: false };
  const config = parseUeConfig(input);
  const ue = createUe(config, { logger: log });
  await ue.start();
  const summary: Record<string, unknown> = { impi: config.impi };
  try {
    let reg;
    try {
      reg = await ue.register();
    } catch (err) {
      if (err instanceof UeError) throw new CliFailure(`registration failed: ${err.reason}${err.status ? ` (${err.status})` : ''}: ${err.message}`);
      throw err;
    }
    Object.assign(summary, {
      registered: true,
      impus: reg.impus,
      serviceRoute: reg.serviceRoute,
      expires: reg.expires,
      expiresAt: new Date(reg.expiresAt).toISOString(),
      mechanism: { alg: reg.alg, ealg: reg.ealg, mod: reg.mod },
      ue: { address: config.localAddress, spiC: reg.ue.spiC, spiS: reg.ue.spiS, portC: reg.ue.portC, portS: reg.ue.portS },
      pcscf: { address: reg.pcscf.address, spiC: reg.pcscf.spiC, spiS: reg.pcscf.spiS, portC: reg.pcscf.portC, portS: reg.pcscf.portS },
      sas: ue.saTable().filter((r) => r.transport === 'udp').map((r) => ({ direction: r.direction, spi: r.spi, uePort: r.uePort, state: r.state })),
    });
    if (o.subscribe) {
      try {
        summary.subscription = { status: await ue.subscribeRegEvent() };
      } catch (err) {
        summary.subscription = { error: (err as Error).message };
      }
    }
    if (o.message) {
      const [to, text] = o.message;
      try {
        const resp = await ue.sendMessage(to, text);
        summary.message = { to, status: resp.status };
      } catch (err) {
        summary.message = { to, error: (err as Error).message };
      }
    }
    if (o.deregister) {
      await ue.deregister();
      const st = ue.state();
      summary.deregistered = st.state === 'deregistered';
      // The SAs are gone either way; say when the network did not confirm (no answer, or an error).
      if (st.lastFailure) summary.deregistration = { unconfirmed: st.lastFailure.reason, ...(st.lastFailure.status ? { status: st.lastFailure.status } : {}) };
    }
  } finally {
    await ue.stop();
  }
  out.write(`${JSON.stringify(summary)}\n`);
  if (summary.message && (summary.message as { status?: number }).status === undefined) throw new CliFailure('registered, but the MESSAGE failed');
}

export function registerUe(program: Command, out: NodeJS.WritableStream = process.stdout): void {
  const ue = program.command('ue').description('the soft UE (TS 24.229 §5.1: IMS AKA, sec-agree, IPsec)');
  addPrintSchema(ue.command('register'), UeConfigSchema)
    .description('register (unprotected REGISTER, AKA challenge, SAs, protected REGISTER) and print a JSON summary')
    .option('--config <file>', 'JSON configuration (nodes/ue/config.ts); flags override it')
    .option('--impi <impi>', 'private user identity')
    .option('--impu <uri>', 'public user identity (sip: URI; its host is the home domain)')
    .option('--home-domain <domain>', 'home network domain (default: the IMPU host)')
    .option('--k <hex>', 'subscriber key K (16 bytes)')
    .option('--op <hex>', 'operator variant OP (16 bytes)')
    .option('--opc <hex>', 'OPc (16 bytes)')
    .option('--amf <hex>', 'AMF the ISIM is provisioned with (2 bytes)')
    .option('--pcscf <host:port>', 'the P-CSCF unprotected SIP address')
    .option('--host <name=ip...>', 'static host table entries')
    .option('--local <ip>', 'local IP address (default 127.0.0.1)')
    .option('--sqn-file <file>', 'keep the ISIM SQN array in this JSON file')
    .option('--expires <seconds>', 'registration lifetime to ask for')
    .option('--integrity <list>', 'integrity algorithms offered, most preferred first (comma-separated)')
    .option('--encryption <list>', 'encryption algorithms offered, most preferred first')
    .option('--datapath <kind>', 'userspace (ESP-in-UDP, default) or xfrm (kernel)')
    .option('--transport <proto>', 'SIP over udp (default) or tcp (TS 33.203 §7.1; needs --datapath xfrm)')
    .option('--message <to_text...>', 'after registering, send a MESSAGE: TO TEXT')
    .option('--deregister', 'de-register before exiting')
    .option('--subscribe', 'SUBSCRIBE to the reg event of the IMPU and wait for the answer')
    .option('--stay', 'stay registered until SIGINT/SIGTERM: re-register before expiry, follow reg events, print one JSON line per event, de-register at the end')
    .option('--log-level <level>', 'pino level for stderr logs (default warn)')
    .action((o: UeRegisterFlags) => runUeRegister(o, out));
}
