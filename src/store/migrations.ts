/**
 * Versioned schema migrations. The database records every applied version in
 * `schema_migrations`; at open, the store applies the missing ones in order, inside one
 * transaction (with a lock so two processes opening at once do not race), and refuses a
 * database whose version is newer than the newest migration this code knows.
 *
 * Append new migrations at the end with the next version; never edit one that has shipped.
 */

export interface Migration {
  version: number;
  name: string;
  /** Statements for SQLite (better-sqlite3 `exec`). */
  sqlite: string;
  /** Statements for PostgreSQL (one simple-query string). */
  postgres: string;
}

const STATES = "('NOT_REGISTERED','PENDING','REGISTERED','UNREGISTERED')";

/**
 * v1: subscriber (keys, AMF, SQN state per TS 33.102 Annex C), implicit_set (per-set service
 * profile), impu (flags + registration state per TS 29.228 §6.1), ind_assignment (C.1.2).
 */
const v1: Migration = {
  version: 1,
  name: 'hss initial schema',
  sqlite: `
    CREATE TABLE subscriber (
      impi            TEXT PRIMARY KEY,
      k               BLOB NOT NULL CHECK (length(k) = 16),
      opc             BLOB NOT NULL CHECK (length(opc) = 16),
      amf             INTEGER NOT NULL CHECK (amf BETWEEN 0 AND 65535),
      seq_he          INTEGER NOT NULL CHECK (seq_he >= 0),
      ind_bits        INTEGER NOT NULL CHECK (ind_bits BETWEEN 0 AND 10),
      auth_schemes    TEXT NOT NULL,
      service_profile TEXT
    ) WITHOUT ROWID;
    CREATE TABLE implicit_set (
      impi            TEXT NOT NULL REFERENCES subscriber(impi) ON DELETE CASCADE,
      irs             INTEGER NOT NULL,
      service_profile TEXT,
      PRIMARY KEY (impi, irs)
    ) WITHOUT ROWID;
    CREATE TABLE impu (
      impu                TEXT PRIMARY KEY,
      impi                TEXT NOT NULL,
      irs                 INTEGER NOT NULL,
      position            INTEGER NOT NULL,
      barred              INTEGER NOT NULL DEFAULT 0,
      pseudonym           INTEGER NOT NULL DEFAULT 0,
      is_default          INTEGER NOT NULL DEFAULT 0,
      reg_state           TEXT NOT NULL DEFAULT 'NOT_REGISTERED' CHECK (reg_state IN ${STATES}),
      scscf_name          TEXT,
      pending_prev_state  TEXT CHECK (pending_prev_state IN ${STATES}),
      pending_prev_scscf  TEXT,
      FOREIGN KEY (impi, irs) REFERENCES implicit_set(impi, irs) ON DELETE CASCADE
    ) WITHOUT ROWID;
    CREATE INDEX impu_by_impi ON impu(impi, irs);
    CREATE INDEX impu_by_scscf ON impu(scscf_name);
    CREATE TABLE ind_assignment (
      origin_host TEXT PRIMARY KEY,
      ind         INTEGER NOT NULL CHECK (ind >= 0)
    ) WITHOUT ROWID;
  `,
  postgres: `
    CREATE TABLE subscriber (
      impi            TEXT PRIMARY KEY,
      k               BYTEA NOT NULL CHECK (length(k) = 16),
      opc             BYTEA NOT NULL CHECK (length(opc) = 16),
      amf             INTEGER NOT NULL CHECK (amf BETWEEN 0 AND 65535),
      seq_he          BIGINT NOT NULL CHECK (seq_he >= 0),
      ind_bits        INTEGER NOT NULL CHECK (ind_bits BETWEEN 0 AND 10),
      auth_schemes    TEXT NOT NULL,
      service_profile TEXT
    );
    CREATE TABLE implicit_set (
      impi            TEXT NOT NULL REFERENCES subscriber(impi) ON DELETE CASCADE,
      irs             INTEGER NOT NULL,
      service_profile TEXT,
      PRIMARY KEY (impi, irs)
    );
    CREATE TABLE impu (
      impu                TEXT PRIMARY KEY,
      impi                TEXT NOT NULL,
      irs                 INTEGER NOT NULL,
      position            INTEGER NOT NULL,
      barred              BOOLEAN NOT NULL DEFAULT false,
      pseudonym           BOOLEAN NOT NULL DEFAULT false,
      is_default          BOOLEAN NOT NULL DEFAULT false,
      reg_state           TEXT NOT NULL DEFAULT 'NOT_REGISTERED' CHECK (reg_state IN ${STATES}),
      scscf_name          TEXT,
      pending_prev_state  TEXT CHECK (pending_prev_state IN ${STATES}),
      pending_prev_scscf  TEXT,
      FOREIGN KEY (impi, irs) REFERENCES implicit_set(impi, irs) ON DELETE CASCADE
    );
    CREATE INDEX impu_by_impi ON impu(impi, irs);
    CREATE INDEX impu_by_scscf ON impu(scscf_name);
    CREATE TABLE ind_assignment (
      origin_host TEXT PRIMARY KEY,
      ind         INTEGER NOT NULL CHECK (ind >= 0)
    );
  `,
};

/**
 * v2 (S-CSCF, src/store/registrar-store.ts): one row per registration held by an S-CSCF
 * (TS 24.229 §5.4.1): the registered IMPU (aor), its IMPI, the implicit set, the User-Data from
 * the SAA, and the contact bindings (contact, Path, expiry, Call-ID/CSeq, instance/reg-id) as
 * JSON, written whole in one statement so a restarted S-CSCF finds exactly what it answered.
 */
const v2: Migration = {
  version: 2,
  name: 'scscf registrar',
  sqlite: `
    CREATE TABLE scscf_registration (
      scscf_name  TEXT NOT NULL,
      aor         TEXT NOT NULL,
      impi        TEXT NOT NULL,
      impus       TEXT NOT NULL,
      user_data   TEXT,
      bindings    TEXT NOT NULL,
      expires_at  INTEGER NOT NULL,
      updated_at  INTEGER NOT NULL,
      PRIMARY KEY (scscf_name, aor)
    ) WITHOUT ROWID;
    CREATE INDEX scscf_registration_by_impi ON scscf_registration(scscf_name, impi);
  `,
  postgres: `
    CREATE TABLE scscf_registration (
      scscf_name  TEXT NOT NULL,
      aor         TEXT NOT NULL,
      impi        TEXT NOT NULL,
      impus       JSONB NOT NULL,
      user_data   TEXT,
      bindings    JSONB NOT NULL,
      expires_at  BIGINT NOT NULL,
      updated_at  BIGINT NOT NULL,
      PRIMARY KEY (scscf_name, aor)
    );
    CREATE INDEX scscf_registration_by_impi ON scscf_registration(scscf_name, impi);
  `,
};

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = Object.freeze([v1, v2]);

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Migrations must be numbered 1, 2, 3, … in order (checked at open, so a bad edit fails fast). */
export function checkMigrationList(list: readonly Migration[]): void {
  list.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`migration list out of order: position ${i} has version ${m.version}`);
  });
}

/** The refusal message for a database newer than the code. */
export function newerSchemaMessage(dbVersion: number, codeVersion: number): string {
  return `database schema version ${dbVersion} is newer than this imsec supports (${codeVersion}); upgrade imsec or use another store`;
}
