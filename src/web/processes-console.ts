/**
 * What the console shows of a core whose nodes are processes of their own (`imsec core
 * --processes --web`): each node process reports over its IPC channel (cli/console-feed.ts), and
 * this turns the reports into the {@link LiveSources} of the live model, as a core in one
 * process gives them directly:
 * - the wire of every node, joined into one trace (capture/wire-feed.ts);
 * - the P-CSCF's SAs as they are created (keys included: the ladder decodes ESP with them, and
 *   the esp_sa download gives them to an authenticated user, as in one process), and its SA sets
 *   and registrations as last reported;
 * - the S-CSCF's registrations as last reported.
 * Node processes report their tables at most a few times a second and only the first
 * {@link FEED_MAX_ROWS} rows of each: the console is for watching a lab, not 100,000 UEs.
 */
import { WireMerge, type WireFeedMessage, type WireTap } from '../capture/index.js';
import type { SaEvent, SaSet, SecurityAssociation } from '../ipsec/index.js';
import type { HttpAccess } from './http/index.js';
import type { ConsoleServer, HssRestUpstream } from './console-server.js';
import { consoleTap, serveModel } from './core-console.js';
import { ConsoleModel, type LiveSources } from './live.js';
import type { MetricsSource } from './metrics-server.js';

/** The most rows of a table a node process reports. */
export const FEED_MAX_ROWS = 5000;

type ScscfRow = ReturnType<LiveSources['registrations']>[number];
type PcscfRow = ReturnType<LiveSources['pcscfRegistrations']>[number];

/** What a node process sends its parent (structured-clone data). */
export type ConsoleFeedMessage =
  | WireFeedMessage
  /** The P-CSCF created an SA (a plain copy, its keys included). */
  | { readonly t: 'sa'; readonly sa: SecurityAssociation }
  /** The S-CSCF's registrations now. */
  | { readonly t: 'scscf'; readonly registrations: readonly ScscfRow[] }
  /** The P-CSCF's registrations and SA sets now (plain copies). */
  | { readonly t: 'pcscf'; readonly registrations: readonly PcscfRow[]; readonly sets: readonly SaSet[] };

/** The live sources fed by the node processes (see the module comment). */
export class FeedSources implements LiveSources {
  readonly tap: WireTap = consoleTap();
  private readonly merge = new WireMerge(this.tap);
  private scscfRows: readonly ScscfRow[] = [];
  /** The P-CSCF's rows with their end as a clock time (reported as time left). */
  private pcscfRows: readonly (PcscfRow & { expiresAt: number })[] = [];
  private sets: readonly SaSet[] = [];
  private readonly saListeners = new Set<(e: SaEvent) => void>();
  private readonly changeListeners = new Set<() => void>();

  constructor(readonly now: () => number = Date.now) {}

  /** One report of a node process, or a batch of them (an array); a message of any other shape is ignored. */
  receive(m: unknown): void {
    if (Array.isArray(m)) {
      for (const x of m) this.receive(x);
      return;
    }
    if (typeof m !== 'object' || m === null) return;
    const msg = m as ConsoleFeedMessage;
    switch (msg.t) {
      case 'own':
      case 'wire':
        this.merge.receive(msg);
        return;
      case 'sa':
        for (const l of this.saListeners) l({ kind: 'saCreated', sa: msg.sa });
        return;
      case 'scscf':
        this.scscfRows = msg.registrations;
        break;
      case 'pcscf': {
        const now = this.now();
        this.pcscfRows = msg.registrations.map((r) => ({ ...r, expiresAt: now + r.expiresInMs }));
        this.sets = msg.sets;
        break;
      }
      default:
        return;
    }
    for (const l of this.changeListeners) l();
  }

  registrations(): ScscfRow[] {
    return [...this.scscfRows];
  }

  pcscfRegistrations(): PcscfRow[] {
    const now = this.now();
    return this.pcscfRows.map(({ expiresAt, ...r }) => ({ ...r, expiresInMs: expiresAt - now }));
  }

  saOwners(): { owner: string; sets(): SaSet[]; on(l: (e: SaEvent) => void): () => void }[] {
    return [
      {
        owner: 'P-CSCF',
        sets: () => [...this.sets],
        on: (l) => {
          this.saListeners.add(l);
          return () => void this.saListeners.delete(l);
        },
      },
    ];
  }

  onChange(l: () => void): () => void {
    this.changeListeners.add(l);
    return () => void this.changeListeners.delete(l);
  }
}

/** The console of a core run as processes: its model over `feed`, its server (the core's HSS process behind /api/hss). */
export async function startProcessesConsole(o: { feed: FeedSources; hss: HssRestUpstream; metrics?: MetricsSource; listen: { host: string; port: number }; access: HttpAccess }): Promise<{ server: ConsoleServer; model: ConsoleModel; close(): Promise<void> }> {
  const model = new ConsoleModel(o.feed);
  const server = await serveModel({ listen: o.listen, access: o.access, model, tap: o.feed.tap, hss: o.hss, ...(o.metrics ? { metrics: o.metrics } : {}) });
  return {
    server,
    model,
    async close() {
      await server.close();
      model.close();
    },
  };
}
