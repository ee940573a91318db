/**
 * `imsec hss subscriber add|list|show|update|delete` and `imsec hss import FILE`: provisioning
 * the HSS store from the command line. JSON on stdout; K, OP and OPc are write-only (never
 * printed, never in an error). The `hss` command itself belongs to the HSS runner, which calls
 * {@link registerHssProvisioning} to add these.
 *
 *   imsec hss subscriber add --impi alice@ims.lab --impu sip:alice@ims.lab --impu tel:+15550100 \
 *        --k 465b5ce8b199b49faa5f0a2ee238a6bc --op cdc202d5123e20f62b6d676ac72cb318 [--store URL]
 *   imsec hss import subscribers.csv --store postgres://hss@db/hss
 */
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { InvalidArgumentError } from '../common/index.js';
import { ConflictError, defaultStoreUrl, NotFoundError, openStore, type HssStore, type ListOptions } from '../store/index.js';
import { changeSubscriber, impusFromLists, provisionSubscriber, subscriberView, type ImpuInput, type SubscriberView, ImportError, importSubscribers } from '../nodes/hss/index.js';
import { subscriberRowsFromFlags } from './subscriber-source.js';
import { intArg, sqnArg } from './args.js';
import { CliFailure } from './errors.js';

export interface HssProvisioningOptions {
  /** The store URL when no --store is given; gets the merged options of the command and its parents. */
  defaultStore?: (opts: Record<string, unknown>) => string;
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WriteStream | NodeJS.WritableStream;
}

interface SubscriberFlags {
  impi?: string;
  impu: string[];
  k?: string;
  op?: string;
  opc?: string;
  amf?: string;
  sqn?: string;
  indBits?: string;
  authScheme: string[];
  barred: string[];
  unbarred: string[];
  pseudonym: string[];
  notPseudonym: string[];
  serviceProfile?: string;
  store?: string;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Field names of provisioning errors → the flag the user typed. */
const FLAG_OF: Record<string, string> = {
  k: '--k', op: '--op', opc: '--opc', amf: '--amf', sqn: '--sqn', indBits: '--ind-bits', impi: '--impi', impu: '--impu', impus: '--impu',
  authSchemes: '--auth-scheme', barred: '--barred', pseudonym: '--pseudonym', serviceProfile: '--service-profile',
};

function asFlags(err: unknown): unknown {
  if (err instanceof InvalidArgumentError && err.argument !== undefined && FLAG_OF[err.argument] !== undefined && err.message.startsWith(`${err.argument} `)) {
    return new InvalidArgumentError(`${FLAG_OF[err.argument]}${err.message.slice(err.argument.length)}`, FLAG_OF[err.argument]);
  }
  if (err instanceof NotFoundError || err instanceof ConflictError) return new CliFailure(err.message);
  if (err instanceof ImportError) return new CliFailure(err.message, 2);
  return err;
}

function keyFlags(c: Command): Command {
  return c
    .option('--k <hex>', 'subscriber key K (16 bytes; write-only)')
    .option('--op <hex>', 'operator variant OP (16 bytes; turned into OPc, never stored)')
    .option('--opc <hex>', 'OPc (16 bytes; write-only)')
    .option('--amf <hex>', 'AMF (2 bytes)')
    .option('--sqn <n>', 'highest SQN the USIM has used (decimal); the next vector is above it')
    .option('--ind-bits <n>', 'IND length in bits (TS 33.102 Annex C)')
    .option('--auth-scheme <scheme>', 'allowed scheme: Digest-AKAv1-MD5 or Digest-AKAv2-MD5 (repeatable)', collect, [])
    .option('--service-profile <file>', 'TS 29.228 User-Data XML file for the subscriber')
    .option('--store <url>', 'store: postgres://…, sqlite:PATH or PATH (default: the embedded store)');
}

function readProfile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new InvalidArgumentError(`cannot read --service-profile ${file}: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, '--service-profile');
  }
}

/** Flags → the provisioning input form (fields not given are left out). */
function inputFromFlags(o: SubscriberFlags, impus: ImpuInput[] | undefined): Record<string, unknown> {
  if (o.op !== undefined && o.opc !== undefined) throw new InvalidArgumentError('give either --op or --opc, not both', '--op');
  const input: Record<string, unknown> = {};
  if (o.impi !== undefined) input.impi = o.impi;
  if (impus !== undefined) input.impus = impus;
  for (const key of ['k', 'op', 'opc', 'amf'] as const) if (o[key] !== undefined) input[key] = o[key];
  if (o.sqn !== undefined) input.sqn = sqnArg(o.sqn);
  if (o.indBits !== undefined) input.indBits = intArg(o.indBits, '--ind-bits', 0, 10);
  if (o.authScheme.length > 0) input.authSchemes = o.authScheme;
  const profile = readProfile(o.serviceProfile);
  if (profile !== undefined) input.serviceProfile = profile;
  return input;
}

export function registerHssProvisioning(hss: Command, opts: HssProvisioningOptions = {}): void {
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const print = (v: unknown): void => {
    stdout.write(JSON.stringify(v, null, 2) + '\n');
  };

  /** Opens the store named by --store (here or on a parent command), runs `fn`, closes it. */
  const withStore = async <T>(cmd: Command, fn: (store: HssStore) => Promise<T>): Promise<T> => {
    const all = cmd.optsWithGlobals<Record<string, unknown>>();
    const url = typeof all.store === 'string' ? all.store : (opts.defaultStore?.(all) ?? defaultStoreUrl());
    let store: HssStore;
    try {
      store = await openStore(url);
    } catch (err) {
      throw asFlags(err);
    }
    try {
      return await fn(store);
    } catch (err) {
      throw asFlags(err);
    } finally {
      await store.close();
    }
  };

  const sub = hss.command('subscriber').description('provision subscribers in the HSS store (K/OP/OPc are write-only)');

  keyFlags(sub.command('add'))
    .description('add a subscriber; prints it as JSON (without keys)')
    .option('--impi <nai>', 'private identity, user@realm')
    .option('--impu <uri>', 'public identity (repeatable; the first is the default public identity)', collect, [])
    .option('--barred <impu>', 'mark one of the IMPUs barred (repeatable)', collect, [])
    .option('--pseudonym <impu>', 'mark one of the IMPUs as a pseudonym (repeatable)', collect, [])
    .action(async (o: SubscriberFlags, cmd: Command) => {
      if (o.impi === undefined) throw new InvalidArgumentError('missing --impi', '--impi');
      if (o.impu.length === 0) throw new InvalidArgumentError('missing --impu', '--impu');
      if (o.k === undefined) throw new InvalidArgumentError('missing --k', '--k');
      if (o.op === undefined && o.opc === undefined) throw new InvalidArgumentError('missing --op or --opc', '--opc');
      let input: Record<string, unknown>;
      try {
        input = inputFromFlags(o, impusFromLists(o.impu, o.barred, o.pseudonym));
      } catch (err) {
        throw asFlags(err);
      }
      print(await withStore(cmd, (store) => provisionSubscriber(store, input)));
    });

  sub
    .command('list')
    .description('list subscribers as a JSON array (without keys)')
    .option('--limit <n>', 'at most n subscribers')
    .option('--after <impi>', 'only IMPIs sorting after this one')
    .option('--store <url>', 'store URL (default: the embedded store)')
    .action(async (o: { limit?: string; after?: string }, cmd: Command) => {
      const limit = o.limit === undefined ? undefined : intArg(o.limit, '--limit', 1, 10_000);
      const views = await withStore(cmd, async (store) => {
        const out: SubscriberView[] = [];
        let after = o.after;
        for (;;) {
          const page: ListOptions = { limit: limit === undefined ? 1000 : limit - out.length, ...(after !== undefined ? { after } : {}) };
          const got = await store.listSubscribers(page);
          out.push(...got.map(subscriberView));
          if (got.length < page.limit! || (limit !== undefined && out.length >= limit)) return out;
          after = got[got.length - 1].impi;
        }
      });
      print(views);
    });

  sub
    .command('show')
    .description('show one subscriber as JSON (without keys)')
    .argument('<impi>', 'private identity')
    .option('--store <url>', 'store URL (default: the embedded store)')
    .action(async (impi: string, _o: unknown, cmd: Command) => {
      print(
        await withStore(cmd, async (store) => {
          const s = await store.getSubscriber(impi);
          if (s === null) throw new NotFoundError('subscriber', impi);
          return subscriberView(s);
        }),
      );
    });

  keyFlags(sub.command('update'))
    .description('change a subscriber; prints it as JSON (without keys)')
    .argument('<impi>', 'private identity')
    .option('--impu <uri>', 'replace the IMPUs (repeatable; the first is the default)', collect, [])
    .option('--barred <impu>', 'bar an IMPU (repeatable)', collect, [])
    .option('--unbarred <impu>', 'lift the barring of an IMPU (repeatable)', collect, [])
    .option('--pseudonym <impu>', 'mark an IMPU as a pseudonym (repeatable)', collect, [])
    .option('--not-pseudonym <impu>', 'unmark a pseudonym IMPU (repeatable)', collect, [])
    .action(async (impi: string, o: SubscriberFlags, cmd: Command) => {
      print(
        await withStore(cmd, async (store) => {
          const cur = await store.getSubscriber(impi);
          if (cur === null) throw new NotFoundError('subscriber', impi);
          let impus: ImpuInput[] | undefined;
          const flagsTouched = o.barred.length + o.unbarred.length + o.pseudonym.length + o.notPseudonym.length > 0;
          if (o.impu.length > 0) {
            impus = impusFromLists(o.impu, o.barred, o.pseudonym);
          } else if (flagsTouched) {
            const names = cur.impus.map((u) => u.impu);
            impusFromLists(names, [...o.barred, ...o.unbarred], [...o.pseudonym, ...o.notPseudonym]);
            impus = cur.impus.map((u) => ({
              impu: u.impu,
              irs: u.irs,
              default: u.isDefault,
              barred: o.barred.includes(u.impu) ? true : o.unbarred.includes(u.impu) ? false : u.barred,
              pseudonym: o.pseudonym.includes(u.impu) ? true : o.notPseudonym.includes(u.impu) ? false : u.pseudonym,
            }));
          }
          const input = inputFromFlags(o, impus);
          if (Object.keys(input).length === 0) throw new InvalidArgumentError('nothing to change: give at least one option', 'update');
          return changeSubscriber(store, impi, input);
        }),
      );
    });

  sub
    .command('delete')
    .description('delete a subscriber with its IMPUs')
    .argument('<impi>', 'private identity')
    .option('--store <url>', 'store URL (default: the embedded store)')
    .action(async (impi: string, _o: unknown, cmd: Command) => {
      await withStore(cmd, async (store) => {
        if (!(await store.deleteSubscriber(impi))) throw new NotFoundError('subscriber', impi);
      });
      print({ deleted: impi });
    });

  hss
    .command('import')
    .description('import subscribers from CSV (header row) or a JSON array, or a generated --range: all rows validated, then inserted in one transaction')
    .argument('[file]', 'CSV or JSON file')
    .option('--format <fmt>', 'csv or json (default: by extension, else by content)')
    .option('--range <prefix:from-to>', 'instead of a file: subscribers <prefix><n>@<domain>, n from..to (the same as imsec load --range)')
    .option('--k <hex>', 'K of every subscriber of --range')
    .option('--op <hex>', 'OP of every subscriber of --range')
    .option('--opc <hex>', 'OPc of every subscriber of --range')
    .option('--domain <domain>', 'home domain of --range', 'ims.lab')
    .option('--store <url>', 'store URL (default: the embedded store)')
    .action(async (file: string | undefined, o: { format?: string; range?: string; k?: string; op?: string; opc?: string; domain: string }, cmd: Command) => {
      if (o.format !== undefined && o.format !== 'csv' && o.format !== 'json') throw new InvalidArgumentError('--format must be csv or json', '--format');
      let rows, format;
      try {
        ({ rows, format } = subscriberRowsFromFlags({ ...o, ...(file !== undefined ? { file } : {}) }));
      } catch (err) {
        throw asFlags(err);
      }
      const bar = new ProgressBar(stderr, 'import');
      const n = await withStore(cmd, async (store) => {
        try {
          return await importSubscribers(store, rows, (done, total) => bar.update(done, total));
        } finally {
          bar.end();
        }
      });
      print({ imported: n, format });
    });
}

/**
 * A one-line progress bar on stderr when it is a terminal (redrawn at most every 100 ms); on a
 * pipe or file, a plain line at most every 2 s. Nothing is written for a run that ends sooner.
 */
export class ProgressBar {
  private last = 0;
  private drawn = false;
  private readonly tty: boolean;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly label: string,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.tty = (out as NodeJS.WriteStream).isTTY === true;
    this.last = this.now();
  }

  update(done: number, total: number): void {
    const t = this.now();
    const final = done === total;
    if (!final && t - this.last < (this.tty ? 100 : 2000)) return;
    if (final && !this.drawn) return;
    this.last = t;
    this.drawn = true;
    const pct = total === 0 ? 100 : Math.floor((done * 100) / total);
    if (this.tty) {
      const width = 30;
      const fill = Math.round((pct * width) / 100);
      this.out.write(`\r${this.label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${pct}% ${done}/${total}`);
    } else {
      this.out.write(`${this.label}: ${done}/${total} (${pct}%)\n`);
    }
  }

  end(): void {
    if (this.tty && this.drawn) this.out.write('\n');
  }
}
