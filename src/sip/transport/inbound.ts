/**
 * What a transport does with the bytes of one received message (RFC 3261 §18.1.2, §18.2.1):
 * parse it, stamp received/rport on a request (RFC 3581 §4), and sort out what must never reach
 * the transaction layer. The answer is a value — hand it up, answer it, or drop it with a
 * reason — never an exception: garbage does not escape a transport.
 */
import { createHash } from 'node:crypto';
import { parseCSeq } from '../headers/index.js';
import {
  createResponse,
  parseMessage,
  serializeMessage,
  validateCore,
  badField,
  SipParseError,
  type RequestCheckFailure,
  type SipLimits,
  type SipMessage,
  type SipRequest,
  type SipResponse,
} from '../message/index.js';
import { responseRoute } from './response-route.js';
import type { DropReason, Endpoint, InboundMessage, TransportCounters, TransportProtocol } from './types.js';
import type { Logger } from '../../common/index.js';
import { readTopVia, stampReceived } from './via.js';

/** Parser limits applied to every message (SipLimits of src/sip/message). */
export type InboundLimits = Partial<SipLimits>;

/**
 * A check a transport runs on every parseable request; a non-null result is answered at once,
 * statelessly. The default, {@link transportCheck}, only rejects what no element could process.
 */
export type RequestCheck = (req: SipRequest) => RequestCheckFailure | null;

export interface InboundContext {
  readonly protocol: TransportProtocol;
  readonly local: Endpoint;
  readonly remote: Endpoint;
}

export type InboundResult =
  | { kind: 'message'; msg: SipMessage }
  /** A request that must be answered with this response, sent to `destination` (§18.2.2). */
  | { kind: 'reject'; response: SipResponse; destination: Endpoint }
  | { kind: 'drop'; reason: DropReason }
  /** Only CR/LF (a keep-alive, RFC 5626 §3.5.1): nothing to do. */
  | { kind: 'keepalive' };

/** The serializer the transports use (one place to add caching later). */
export function serialize(msg: SipMessage): Uint8Array {
  return serializeMessage(msg);
}

/**
 * The checks every SIP element can make without knowing its role (RFC 3261 §8.2 and §16.3 step 1;
 * RFC 4475 §3.1.2 and §3.3): SIP-Version 2.0 (else 505), the core header fields every element
 * reads parse and appear once where they must (`validateCore`, else 400), the mandatory To, From,
 * Call-ID, CSeq and Via (else 400), and a CSeq method equal to the request method (else 400).
 * Other fields are not checked here: "well-formed or not", they are forwarded unchanged by an
 * element that does not read them (§16.3 step 1) and answered 400 by one that does (the stack
 * turns the accessor's SipParseError into that 400). Require, Max-Forwards, methods, body types and
 * the Request-URI scheme (an IMS P-CSCF must take `urn:service:sos`, RFC 5031) are the TU's
 * business: pass `checkRequest` with the TU's options as the transport's `requestCheck` to have
 * them answered here.
 */
export function transportCheck(req: SipRequest): RequestCheckFailure | null {
  if (req.version.toUpperCase() !== 'SIP/2.0') return { status: 505, reason: 'Version Not Supported', detail: `SIP-Version ${req.version}` };
  try {
    validateCore(req);
  } catch (e) {
    const bad = badField(e);
    if (bad) return bad;
    throw e;
  }
  for (const m of ['To', 'From', 'Call-ID', 'CSeq', 'Via']) {
    if (!req.headers.has(m)) return { status: 400, reason: `Missing ${m}`, detail: `missing mandatory header ${m}` };
  }
  if (parseCSeq(req.headers.get('cseq')!).method !== req.method) {
    return { status: 400, reason: 'CSeq Method Mismatch', detail: 'CSeq method differs from the request method' };
  }
  return null;
}

/**
 * Classifies one received message:
 * 1. Only CR/LF → keep-alive.
 * 2. Unparseable → drop ('parse' or 'limit'), unless it is a request whose framing alone failed
 *    (the parser's `partial`): that one gets a 400 if it can be routed (RFC 4475 §3.1.2.2).
 * 3. A response whose core header fields do not parse is dropped ('invalid', RFC 4475
 *    §3.1.2.5); other responses are handed up (the transport layer checks sent-by, §18.1.2).
 * 4. A request without a usable top Via cannot be answered → drop ('invalid').
 * 5. Otherwise stamp received/rport (§18.2.1, RFC 3581 §4) and run the request check: a failure is
 *    answered (never for ACK, §17.1.1.3: an ACK gets no response), else the request is handed up.
 */
export function acceptInbound(bytes: Uint8Array, ctx: InboundContext, limits?: InboundLimits, check: RequestCheck = transportCheck): InboundResult {
  // 1.
  if (isOnlyCrlf(bytes)) return { kind: 'keepalive' };
  // 2.
  let msg: SipMessage;
  try {
    msg = parseMessage(bytes, limits);
  } catch (e) {
    const partial = e instanceof SipParseError ? e.partial : undefined;
    if (partial?.kind === 'request' && partial.method !== 'ACK') {
      const r = reject(partial, ctx, { status: 400, reason: 'Bad Request', detail: (e as Error).message });
      if (r) return r;
    }
    return { kind: 'drop', reason: (e as { code?: string })?.code === 'SIP_LIMIT' ? 'limit' : 'parse' };
  }
  // 3.
  if (msg.kind === 'response') {
    try {
      validateCore(msg);
    } catch {
      return { kind: 'drop', reason: 'invalid' };
    }
    return { kind: 'message', msg };
  }
  // 4. + 5.
  if (!stampReceived(msg, ctx.remote)) return { kind: 'drop', reason: 'invalid' };
  let failure: RequestCheckFailure | null;
  try {
    failure = check(msg);
  } catch {
    failure = { status: 400, reason: 'Bad Request', detail: 'request check failed' };
  }
  if (!failure) return { kind: 'message', msg };
  if (msg.method === 'ACK') return { kind: 'drop', reason: 'invalid' };
  return reject(msg, ctx, failure) ?? { kind: 'drop', reason: 'invalid' };
}

function reject(req: SipRequest, ctx: InboundContext, failure: RequestCheckFailure): InboundResult | undefined {
  if (ctx.protocol === 'udp' && !stampReceived(req, ctx.remote)) return undefined;
  const via = readTopVia(req);
  if (!via) return undefined;
  let response: SipResponse;
  try {
    response = createResponse(req, failure.status, failure.reason, { headers: failure.headers, toTag: statelessTag(req) });
  } catch {
    return undefined;
  }
  const route = responseRoute(via, ctx.protocol, ctx.remote);
  return { kind: 'reject', response, destination: route.connection ?? route.destination };
}

/**
 * RFC 3261 §8.2.7: a stateless UAS must give a retransmitted request the same To tag, so the tag
 * is a digest of what identifies the request (top Via and Call-ID) rather than a random value.
 */
function statelessTag(req: SipRequest): string {
  const id = `${req.headers.getAll('via')[0] ?? ''}|${req.headers.get('call-id') ?? ''}|${req.headers.get('cseq') ?? ''}`;
  return createHash('sha256').update(id).digest('hex').slice(0, 12);
}

function isOnlyCrlf(b: Uint8Array): boolean {
  if (b.length === 0) return false;
  for (let i = 0; i < b.length; i++) if (b[i] !== 13 && b[i] !== 10) return false;
  return true;
}

/**
 * Hands an accepted message to the transport's handler: counted as unmatched when there is none;
 * a throwing handler (the TU) is logged and never takes the transport down with it.
 */
export function handUp(handler: ((m: InboundMessage) => void) | undefined, m: InboundMessage, counters: TransportCounters, log: Logger): void {
  if (!handler) {
    counters.dropped.unmatched++;
    return;
  }
  try {
    handler(m);
  } catch (err) {
    log.error({ err: (err as Error)?.message }, 'message handler threw');
  }
}
