/**
 * Store errors. Each carries a stable code (see ImsErrorCode) and data a caller can branch on:
 * the REST API maps {@link NotFoundError} to 404 and {@link ConflictError} to 409, the Cx server
 * maps them to DIAMETER_ERROR_USER_UNKNOWN and friends. Messages name identities (IMPI, IMPU)
 * but never key material, and never a connection URL (it may carry a password).
 */
import { ImsError } from '../common/index.js';

/** A storage failure: the database could not be opened or a statement failed. */
export class StoreError extends ImsError {
  constructor(message: string, options?: ErrorOptions) {
    super('STORE', message, options);
  }
}

/** The entity a lookup or update named does not exist. */
export class NotFoundError extends ImsError {
  constructor(
    readonly entity: 'subscriber' | 'impu',
    readonly key: string,
  ) {
    super('STORE_NOT_FOUND', `no ${entity === 'subscriber' ? 'subscriber with IMPI' : 'public identity'} ${key}`);
  }
}

/**
 * A write would duplicate a unique identity. `index` is the position in a bulk insert
 * ({@link HssStore.createSubscribers}) of the subscriber that clashed.
 */
export class ConflictError extends ImsError {
  constructor(
    readonly field: 'impi' | 'impu',
    readonly value: string,
    readonly index?: number,
  ) {
    super('STORE_CONFLICT', `${field === 'impi' ? 'IMPI' : 'IMPU'} ${value} already exists`);
  }
}

/** The database schema is newer than this code, or a migration failed. */
export class SchemaVersionError extends ImsError {
  constructor(
    message: string,
    readonly databaseVersion: number,
    readonly codeVersion: number,
  ) {
    super('STORE_SCHEMA', message);
  }
}
