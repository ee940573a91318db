/**
 * The SIP message model (RFC 3261 §7): a request or a response, its header fields with raw
 * values ({@link SipHeaders}) and its body as bytes.
 */
import { SipHeaders } from './sip-headers.js';

export const EMPTY_BODY: Uint8Array = new Uint8Array(0);

/**
 * Which IPsec SA protected a received message (TS 33.203 §7.1; R-SA-4 binds identities to it),
 * as the protected transports record it on the message they hand up.
 */
export interface MessageProtection {
  readonly spi: number;
  /** `SecurityAssociation.id` of the inbound SA (`<setId>/<flow>`). */
  readonly saId: string;
  readonly setId: number;
  /** ESP sequence number of the packet (RFC 4303 §2.2); 0 when the carrier cannot tell. */
  readonly seq: number;
  /** Outer UDP source of the ESP packet (differs from the inner source behind a NAT). */
  readonly outer: { readonly address: string; readonly port: number };
}

/** RFC 3261 §7.1: Request-Line = Method SP Request-URI SP SIP-Version CRLF. */
export class SipRequest {
  readonly kind = 'request' as const;

  /**
   * The SA that protected this message, set by the protected transport that received it;
   * undefined for a message received in the clear or built here ({@link cloneMessage} does not
   * copy it: a copy was not received).
   */
  protection?: MessageProtection;

  /**
   * @param method the method token, case-sensitive (RFC 3261 §7.1)
   * @param uri the raw Request-URI (parse it with `parseUri`)
   */
  constructor(
    public method: string,
    public uri: string,
    public headers: SipHeaders = new SipHeaders(),
    public body: Uint8Array = EMPTY_BODY,
    /** SIP-Version as received, e.g. `SIP/2.0`. */
    public version = 'SIP/2.0',
  ) {}
}

/** RFC 3261 §7.2: Status-Line = SIP-Version SP Status-Code SP Reason-Phrase CRLF. */
export class SipResponse {
  readonly kind = 'response' as const;

  /**
   * The SA that protected this message, set by the protected transport that received it;
   * undefined for a message received in the clear or built here ({@link cloneMessage} does not
   * copy it: a copy was not received).
   */
  protection?: MessageProtection;

  constructor(
    public status: number,
    public reason: string,
    public headers: SipHeaders = new SipHeaders(),
    public body: Uint8Array = EMPTY_BODY,
    public version = 'SIP/2.0',
  ) {}
}

export type SipMessage = SipRequest | SipResponse;

export function isRequest(m: SipMessage): m is SipRequest {
  return m.kind === 'request';
}

export function isResponse(m: SipMessage): m is SipResponse {
  return m.kind === 'response';
}

/** A deep copy (headers and body are copied). */
export function cloneMessage<M extends SipMessage>(m: M): M {
  const body = m.body.length ? m.body.slice() : EMPTY_BODY;
  if (m.kind === 'request') return new SipRequest(m.method, m.uri, m.headers.clone(), body, m.version) as M;
  return new SipResponse(m.status, m.reason, m.headers.clone(), body, m.version) as M;
}

/**
 * Same start line, same header fields in the same order (names compared case-insensitively
 * through their long forms, values exactly) and same body. Content-Length fields are left out:
 * the serializer derives them from the body.
 */
export function messagesEqual(a: SipMessage, b: SipMessage): boolean {
  if (a.kind !== b.kind || a.version !== b.version) return false;
  if (a.kind === 'request') {
    const r = b as SipRequest;
    if (a.method !== r.method || a.uri !== r.uri) return false;
  } else {
    const r = b as SipResponse;
    if (a.status !== r.status || a.reason !== r.reason) return false;
  }
  const ha = fieldsWithoutLength(a.headers);
  const hb = fieldsWithoutLength(b.headers);
  if (ha.length !== hb.length) return false;
  for (let i = 0; i < ha.length; i++) if (ha[i][0] !== hb[i][0] || ha[i][1] !== hb[i][1]) return false;
  if (a.body.length !== b.body.length) return false;
  for (let i = 0; i < a.body.length; i++) if (a.body[i] !== b.body[i]) return false;
  return true;
}

function fieldsWithoutLength(h: SipHeaders): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < h.size; i++) if (h._key(i) !== 'content-length') out.push([h._key(i), h._value(i)]);
  return out;
}
