/**
 * What the console shows, kept in the core process: the message ladder decoded from the wire
 * (capture/tap-wire.ts → nodes/demo/ladder.ts, the same decoding as `imsec demo`), the
 * registrations of the S-CSCF with their implicit sets and the P-CSCF's view of them, and the SA
 * tables of the P-CSCF (and of the demo's UEs) with lifetimes and change-over state. Listeners get
 * every new ladder entry and a note when the state changed; the HTTP layer (console-server.ts)
 * turns those into server-sent events.
 *
 * No secret is ever put in the model: message texts come through the redacting renderer
 * (message-text.ts), SA rows carry SPIs, selectors and algorithms, never keys.
 */
import { endpointId, type WirePacket, type WireTap } from '../capture/index.js';
import type { Endpoint } from '../ip/index.js';
import type { SaEvent, SaSet, SecurityAssociation } from '../ipsec/index.js';
import { LadderDecoder, type LadderEntry } from '../nodes/demo/index.js';
import { redactingRender } from './message-text.js';

/** One ladder message of the console (the text is fetched on demand). */
export interface ConsoleEntry extends Omit<LadderEntry, 'text'> {
  readonly id: number;
  /** User parts of the identities in the message (From/To, User-Name, Public-Identity). */
  readonly users: string[];
  /** `UE–P-CSCF`, `P-CSCF–I-CSCF`, `I-CSCF–S-CSCF`, `S-CSCF–HSS`… */
  readonly leg: string;
}

/** One SA row of a table (no key material). */
export interface SaRow {
  spi: number;
  direction: string;
  flow: string;
  src: string;
  dst: string;
  alg: string;
}

/** One SA set (four SAs) with its lifetime. */
export interface SaSetView {
  owner: string;
  setId: number;
  impi: string;
  impus: string[];
  state: string;
  createdAt: number;
  expiresAt: number;
  sas: SaRow[];
}

export interface RegistrationView {
  impi: string;
  aor: string;
  /** The implicit registration set, default identity first (TS 23.228 §4.3.3.3). */
  impus: string[];
  contacts: { uri: string; expiresAt: number }[];
  /** The P-CSCF's record: its SA set and when it ends. */
  pcscf?: { setId: number; expiresAt: number; ending?: string };
}

export interface ConsoleState {
  now: number;
  registrations: RegistrationView[];
  saSets: SaSetView[];
  messages: number;
}

/** What the model reads (a running core, the demo's UEs). */
export interface LiveSources {
  tap: WireTap;
  /** The S-CSCF's registrations. */
  registrations(): { aor: string; impi: string; impus: string[]; bindings: { uri: string; expiresAt: number }[] }[];
  /** The P-CSCF's registrations. */
  pcscfRegistrations(): { impi: string; setId: number; expiresInMs: number; ending?: { reason: string } }[];
  /** SA managers to show, by owner (`P-CSCF`, `UE alice`…). */
  saOwners(): { owner: string; sets(): SaSet[]; on(l: (e: SaEvent) => void): () => void }[];
  /** Wall-clock now (ms); SA and binding times are on the same clock. */
  now(): number;
  /** Calls `l` when the registrations changed without a packet (a node process's report); returns the unsubscribe function. */
  onChange?(l: () => void): () => void;
}

export type LiveEvent = { type: 'message'; entry: ConsoleEntry } | { type: 'state' };

const CORE_ORDER = ['P-CSCF', 'I-CSCF', 'S-CSCF', 'HSS'];

function hostPort(e: Endpoint): string {
  return `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`;
}
const KEEP_SAS = 4096;

/** The leg of a message: the two ends in network order, a UE for anything outside the core. */
export function legOf(from: string, to: string): string {
  const side = (n: string): string => (CORE_ORDER.includes(n) ? n : 'UE');
  const [a, b] = [side(from), side(to)].sort((x, y) => CORE_ORDER.indexOf(x) - CORE_ORDER.indexOf(y));
  return `${a}–${b}`;
}

/** User parts of the identities a message names (SIP From/To/P-Asserted-Identity, Cx User-Name/Public-Identity). */
export function usersOf(text: string | undefined): string[] {
  if (!text) return [];
  const users = new Set<string>();
  for (const m of text.matchAll(/^(?:From|f|To|t|P-Asserted-Identity)\s*:[^\r\n]*?(?:sips?|tel):\+?([^@;>\s]+)/gim)) users.add(m[1].toLowerCase());
  for (const m of text.matchAll(/^\s*(?:User-Name|Public-Identity):\s*(?:sips?:|tel:)?\+?([^@;\s]+)/gm)) users.add(m[1].toLowerCase());
  return [...users];
}

/** The live model (see the module comment). */
export class ConsoleModel {
  private readonly entries: ConsoleEntry[] = [];
  private readonly texts = new Map<number, string>();
  private readonly listeners = new Set<(e: LiveEvent) => void>();
  private readonly sas = new Map<string, SecurityAssociation>();
  private readonly bySpi = new Map<number, SecurityAssociation[]>();
  private readonly offs: (() => void)[] = [];
  private readonly decoder: LadderDecoder;
  private nextId = 1;

  constructor(
    private readonly src: LiveSources,
    private readonly maxEntries = 5000,
  ) {
    this.decoder = new LadderDecoder({
      nameOf: (e, proto) => src.tap.nameOf(e, proto),
      saFor: (spi, to: Endpoint) => (this.bySpi.get(spi) ?? []).find((sa) => endpointId(sa.dst) === endpointId(to)),
      render: redactingRender,
    });
    for (const o of src.saOwners()) this.watch(o);
    this.offs.push(src.tap.onPacket((p) => this.packet(p)));
    if (src.onChange) this.offs.push(src.onChange(() => this.emit({ type: 'state' })));
  }

  /** Follows one more SA owner (a UE that started later). */
  watch(o: { sets(): SaSet[]; on(l: (e: SaEvent) => void): () => void }): void {
    for (const set of o.sets()) for (const sa of set.sas) this.noteSa(sa);
    this.offs.push(
      o.on((e) => {
        if (e.kind === 'saCreated') this.noteSa(e.sa);
        this.emit({ type: 'state' });
      }),
    );
  }

  private noteSa(sa: SecurityAssociation): void {
    const key = `${sa.spi}|${endpointId(sa.src)}|${endpointId(sa.dst)}`;
    if (this.sas.has(key)) return;
    if (this.sas.size >= KEEP_SAS) {
      const [oldKey, old] = this.sas.entries().next().value as [string, SecurityAssociation];
      this.sas.delete(oldKey);
      this.bySpi.set(old.spi, (this.bySpi.get(old.spi) ?? []).filter((x) => x !== old));
    }
    this.sas.set(key, sa);
    this.bySpi.set(sa.spi, [...(this.bySpi.get(sa.spi) ?? []), sa]);
  }

  private packet(p: WirePacket): void {
    for (const e of this.decoder.decode(p)) {
      const { text, ...rest } = e;
      const entry: ConsoleEntry = { ...rest, id: this.nextId++, users: usersOf(text), leg: legOf(e.from, e.to) };
      this.entries.push(entry);
      if (text !== undefined) this.texts.set(entry.id, text);
      while (this.entries.length > this.maxEntries) this.texts.delete(this.entries.shift()!.id);
      this.emit({ type: 'message', entry });
    }
    // A REGISTER or a NOTIFY may have changed the registrations (the HTTP layer throttles these).
    this.emit({ type: 'state' });
  }

  private emit(e: LiveEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch {
        // A listener's failure is its own.
      }
    }
  }

  /** Calls `l` for every new entry and state change; returns the unsubscribe function. */
  subscribe(l: (e: LiveEvent) => void): () => void {
    this.listeners.add(l);
    return () => void this.listeners.delete(l);
  }

  /** The ladder so far (oldest first), at most `limit` of the newest. */
  ladder(limit = this.maxEntries): ConsoleEntry[] {
    return this.entries.slice(-limit);
  }

  /** A message's full (redacted) text. */
  text(id: number): string | undefined {
    return this.texts.get(id);
  }

  /** Every SA seen (for the Wireshark esp_sa export). */
  allSas(): SecurityAssociation[] {
    return [...this.sas.values()];
  }

  /** Registrations and SA tables now. */
  state(): ConsoleState {
    const now = this.src.now();
    const pcscf = new Map(this.src.pcscfRegistrations().map((r) => [r.impi, r]));
    const registrations = this.src.registrations().map((r): RegistrationView => {
      const p = pcscf.get(r.impi);
      return {
        impi: r.impi,
        aor: r.aor,
        impus: [...r.impus],
        contacts: r.bindings.map((b) => ({ uri: b.uri, expiresAt: b.expiresAt })),
        ...(p ? { pcscf: { setId: p.setId, expiresAt: now + p.expiresInMs, ...(p.ending ? { ending: p.ending.reason } : {}) } } : {}),
      };
    });
    const saSets = this.src.saOwners().flatMap((o) =>
      o.sets().map(
        (s): SaSetView => ({
          owner: o.owner,
          setId: s.id,
          impi: s.impi,
          impus: [...s.impus],
          state: s.state,
          createdAt: s.createdAt,
          expiresAt: s.expiresAt,
          sas: s.sas.map((sa) => ({ spi: sa.spi, direction: sa.direction, flow: sa.flow, src: hostPort(sa.src), dst: hostPort(sa.dst), alg: `${sa.integrity}/${sa.encryption}` })),
        }),
      ),
    );
    return { now, registrations, saSets, messages: this.entries.length };
  }

  close(): void {
    for (const off of this.offs.splice(0)) off();
    this.listeners.clear();
  }
}
