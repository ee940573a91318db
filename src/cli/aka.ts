/**
 * `imsec aka vector|respond|resync`: the AKA arithmetic on the command line, JSON on stdout.
 * Other tools rely on these exact forms (issue [A] §8).
 */
import { Command } from 'commander';
import { toBase64, toHex, concatBytes, InvalidArgumentError, cryptoRng } from '../common/index.js';
import { generateVector, isimAuthenticate, usimStateFromSqnMs, verifyAuts, DEFAULT_SQN_CONFIG, splitSqn, joinSqn, type SqnConfig } from '../auth/index.js';
import { amfArg, hexArg, intArg, milenageFromOptions, sqnArg, type KeyOptions } from './args.js';
import { CliFailure } from './errors.js';

interface VectorOptions extends KeyOptions {
  sqn?: string;
  amf?: string;
  rand?: string;
  count?: string;
  indBits?: string;
}

function sqnConfig(indBits: string | undefined, delta?: string): SqnConfig {
  return {
    ...DEFAULT_SQN_CONFIG,
    ...(indBits === undefined ? {} : { indBits: intArg(indBits, '--ind-bits', 0, 10) }),
    ...(delta === undefined ? {} : { delta: intArg(delta, '--delta', 1, 2 ** 48) }),
  };
}

function keyOptions(c: Command): Command {
  return c.option('--k <hex>', 'subscriber key K (16 bytes)').option('--op <hex>', 'operator variant OP (16 bytes)').option('--opc <hex>', 'OPc (16 bytes)');
}

export function registerAka(program: Command, out: NodeJS.WritableStream = process.stdout): void {
  const aka = program.command('aka').description('IMS AKA arithmetic (TS 33.102, Milenage TS 35.206)');

  keyOptions(aka.command('vector'))
    .description('generate authentication vectors (one JSON object per line)')
    .option('--sqn <n>', 'SQN of the first vector (decimal)')
    .option('--amf <hex>', 'AMF (2 bytes)')
    .option('--rand <hex>', 'RAND (16 bytes; random when omitted)')
    .option('--count <n>', 'number of vectors; each further one has SEQ + 1 and the same IND', '1')
    .option('--ind-bits <n>', 'IND length in bits (TS 33.102 Annex C)')
    .action((o: VectorOptions) => {
      const m = milenageFromOptions(o);
      const sqn0 = sqnArg(o.sqn);
      const amf = amfArg(o.amf);
      const count = intArg(o.count, '--count', 1, 1_000_000);
      if (o.rand !== undefined && count > 1) throw new InvalidArgumentError('--rand fixes the RAND of one vector; it cannot be used with --count above 1', '--rand');
      const rand = o.rand !== undefined ? hexArg(o.rand, 16, '--rand') : undefined;
      const cfg = sqnConfig(o.indBits);
      const { seq, ind } = splitSqn(sqn0, cfg.indBits);
      for (let i = 0; i < count; i++) {
        const sqn = joinSqn(seq + i, ind, cfg.indBits);
        const v = generateVector(m, rand ?? cryptoRng.bytes(16), sqn, amf);
        out.write(
          JSON.stringify({
            rand: toHex(v.rand),
            autn: toHex(v.autn),
            xres: toHex(v.xres),
            ck: toHex(v.ck),
            ik: toHex(v.ik),
            ak: toHex(v.ak),
            mac_a: toHex(v.macA),
            sqn: v.sqn,
            nonce: toBase64(concatBytes(v.rand, v.autn)),
          }) + '\n',
        );
      }
    });

  keyOptions(aka.command('respond'))
    .description('act as the ISIM: check AUTN and answer RES/CK/IK, AUTS or a MAC failure')
    .option('--rand <hex>', 'RAND (16 bytes)')
    .option('--autn <hex>', 'AUTN (16 bytes)')
    .option('--sqn-ms <n>', 'highest SQN the ISIM has accepted (decimal); when omitted SQN freshness is not checked')
    .option('--ind-bits <n>', 'IND length in bits (TS 33.102 Annex C)')
    .option('--delta <n>', 'largest accepted SEQ jump Δ (TS 33.102 C.2.1)')
    .action((o: KeyOptions & { rand?: string; autn?: string; sqnMs?: string; indBits?: string; delta?: string }) => {
      const m = milenageFromOptions(o);
      const rand = hexArg(o.rand, 16, '--rand');
      const autn = hexArg(o.autn, 16, '--autn');
      const cfg = sqnConfig(o.indBits, o.delta);
      const state = o.sqnMs === undefined ? null : usimStateFromSqnMs(sqnArg(o.sqnMs, '--sqn-ms'), cfg);
      const r = isimAuthenticate(m, rand, autn, state, cfg);
      const json =
        r.result === 'ok'
          ? { result: 'ok', res: toHex(r.res), ck: toHex(r.ck), ik: toHex(r.ik) }
          : r.result === 'sync-failure'
            ? { result: 'sync-failure', auts: toHex(r.auts) }
            : { result: 'mac-failure' };
      out.write(JSON.stringify(json) + '\n');
    });

  keyOptions(aka.command('resync'))
    .description('act as the HSS: verify AUTS (MAC-S) and recover SQN_MS')
    .option('--rand <hex>', 'RAND of the challenge (16 bytes)')
    .option('--auts <hex>', 'AUTS (14 bytes)')
    .action((o: KeyOptions & { rand?: string; auts?: string }) => {
      const m = milenageFromOptions(o);
      const r = verifyAuts(m, hexArg(o.rand, 16, '--rand'), hexArg(o.auts, 14, '--auts'));
      if (!r.ok) throw new CliFailure('AUTS rejected: MAC-S does not verify (wrong K/OPc, RAND or AUTS)');
      out.write(JSON.stringify({ sqn_ms: r.sqnMs }) + '\n');
    });
}


