/**
 * Typed errors. Every error a parser or codec throws is an {@link ImsError} with a stable
 * `code` (a literal union, like undici's `UND_ERR_*`), so callers and tests branch on the code,
 * never on the message. Outcomes a peer must see (a SIP 4xx, a Diameter Result-Code, an AKA
 * sync failure) are returned values, not throws.
 */
export type ImsErrorCode =
  | 'INVALID_ARGUMENT'
  | 'BUFFER_TOO_SMALL'
  | 'AKA_INVALID'
  | 'AKA_MAC_S_FAILURE'
  | 'DIGEST_PARSE'
  | 'SIP_PARSE'
  | 'SIP_LIMIT'
  | 'SIP_TRANSPORT'
  | 'SIP_TIMEOUT'
  | 'SECAGREE_PARSE'
  | 'ESP_PARSE'
  | 'ESP_CONFIG'
  | 'IPSEC_KERNEL'
  | 'IPSEC_SA'
  | 'PCAP'
  | 'DIAMETER_PARSE'
  | 'DIAMETER_AVP'
  | 'DIAMETER_PEER'
  | 'DIAMETER_TIMEOUT'
  | 'STORE'
  | 'STORE_NOT_FOUND'
  | 'STORE_CONFLICT'
  | 'STORE_SCHEMA'
  | 'HSS_IMPORT'
  | 'CONFIG'
  | 'IP_PARSE'
  | 'ESP_SEQ_EXHAUSTED'
  | 'THIG'
  | 'XML_PARSE'
  | 'SIP_RESOLVE'
  | 'UE_REGISTRATION'
  | 'DEMO_STEP'
  | 'PROBE'
  | 'METRICS_TEXT';

export class ImsError extends Error {
  constructor(
    readonly code: ImsErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A bad value given by a caller (CLI flag, config field, API argument). */
export class InvalidArgumentError extends ImsError {
  constructor(
    message: string,
    readonly argument?: string,
  ) {
    super('INVALID_ARGUMENT', message);
  }
}

/** A read past the end of a buffer, or a length field pointing past it (pion's ErrBufferTooSmall). */
export class BufferTooSmallError extends ImsError {
  constructor(
    readonly offset: number,
    readonly wanted: number,
    readonly available: number,
  ) {
    super('BUFFER_TOO_SMALL', `need ${wanted} byte(s) at offset ${offset}, ${available} available`);
  }
}

/** A caught value as an Error (a non-Error throw wrapped, its text kept), so that it can be rethrown as one. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
