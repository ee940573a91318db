/**
 * The S-CSCF registrar store (TS 24.229 §5.4.1): what an S-CSCF must still know after a restart
 * — who is registered, at which contacts, reachable through which Path, until when. One
 * interface, two implementations (SQLite in {@link SqliteRegistrarStore}, PostgreSQL in
 * {@link PostgresRegistrarStore}); both keep one row per registration (schema migration v2) and
 * write it whole, in one statement, so a reader never sees half a change.
 *
 * Several S-CSCFs may share one database: every row belongs to the S-CSCF that wrote it
 * (`scscfName`, its Server-Name) and each only ever reads its own.
 *
 * No secrets live here (no vectors, no keys): authentication state is short-lived and stays in
 * memory.
 */
import { InvalidArgumentError } from '../common/index.js';

/** One contact binding of a registration (RFC 3261 §10.3, RFC 3327 Path, RFC 5626 instance/reg-id). */
export interface StoredBinding {
  /** Contact URI as registered: the key of the binding within its registration. */
  uri: string;
  /** The Contact header value as registered, without `expires` (returned in the 200 OK). */
  contact: string;
  /** RFC 3680 contact id (stable for the life of the binding). */
  id: string;
  /** Absolute expiry, milliseconds on the S-CSCF's clock. */
  expiresAt: number;
  /** When the binding was first created, milliseconds on the same clock (duration-registered). */
  registeredAt: number;
  /** Path header values of the REGISTER, top first (the route towards the UE, RFC 3327 §5.3). */
  path: readonly string[];
  callId: string;
  cseq: number;
  /** +sip.instance (unquoted) and reg-id, RFC 5626 §4.1. */
  instance?: string;
  regId?: number;
  /** q value (0..1). */
  q?: number;
  /** Where the REGISTER came from (the last hop, e.g. the I-CSCF or P-CSCF). */
  received?: { transport: 'udp' | 'tcp'; address: string; port: number };
}

/** One registration: a registered public identity with its implicit set and its bindings. */
export interface StoredRegistration {
  /** The public identity the UE registered (the To URI). */
  aor: string;
  impi: string;
  /** The implicit registration set, default identity first (P-Associated-URI order). */
  impus: string[];
  /** Cx User-Data from the SAA (TS 29.228 Annex E), or null. */
  userData: string | null;
  bindings: StoredBinding[];
}

export interface RegistrarStore {
  readonly kind: 'sqlite' | 'postgres';
  /** Insert or replace a registration of `scscfName`, bindings included, atomically. */
  putRegistration(scscfName: string, r: StoredRegistration): Promise<void>;
  /** Remove one registration; false when there was none. */
  deleteRegistration(scscfName: string, aor: string): Promise<boolean>;
  getRegistration(scscfName: string, aor: string): Promise<StoredRegistration | null>;
  /** Every registration of `scscfName`, ordered by aor. */
  listRegistrations(scscfName: string): Promise<StoredRegistration[]>;
  close(): Promise<void>;
}

/** The stored row of a registration, as both implementations read and write it. */
export interface RegistrationRow {
  aor: string;
  impi: string;
  impus: string[];
  userData: string | null;
  bindings: StoredBinding[];
  /** The latest binding expiry (0 without bindings), for housekeeping queries. */
  expiresAt: number;
}

/** Checks a registration before it is written (a bad value must not reach the database). */
export function checkRegistration(scscfName: string, r: StoredRegistration): RegistrationRow {
  if (typeof scscfName !== 'string' || scscfName === '') throw new InvalidArgumentError('scscfName must be a non-empty string', 'scscfName');
  if (typeof r.aor !== 'string' || r.aor === '') throw new InvalidArgumentError('aor must be a non-empty string', 'aor');
  if (typeof r.impi !== 'string' || r.impi === '') throw new InvalidArgumentError('impi must be a non-empty string', 'impi');
  if (!Array.isArray(r.impus) || r.impus.some((u) => typeof u !== 'string' || u === '')) throw new InvalidArgumentError('impus must be non-empty strings', 'impus');
  const seen = new Set<string>();
  for (const b of r.bindings) {
    if (typeof b.uri !== 'string' || b.uri === '' || seen.has(b.uri)) throw new InvalidArgumentError('binding URIs must be non-empty and distinct', 'bindings');
    seen.add(b.uri);
    for (const n of [b.expiresAt, b.registeredAt, b.cseq]) if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('binding times and CSeq must be non-negative integers', 'bindings');
    if (!Array.isArray(b.path)) throw new InvalidArgumentError('binding path must be an array', 'bindings');
  }
  return {
    aor: r.aor,
    impi: r.impi,
    impus: [...r.impus],
    userData: r.userData,
    bindings: r.bindings.map((b) => ({ ...b, path: [...b.path] })),
    expiresAt: r.bindings.reduce((m, b) => Math.max(m, b.expiresAt), 0),
  };
}

/** A registration read back from its columns (JSON already decoded). */
export function registrationFromRow(row: { aor: string; impi: string; impus: unknown; user_data: string | null; bindings: unknown }): StoredRegistration {
  return {
    aor: row.aor,
    impi: row.impi,
    impus: row.impus as string[],
    userData: row.user_data,
    bindings: row.bindings as StoredBinding[],
  };
}
