/**
 * Building a response to a request (RFC 3261 §8.2.6).
 */
import { InvalidArgumentError, cryptoRng, randomToken, type Rng } from '../../common/index.js';
import { EMPTY_BODY, SipResponse, type SipRequest } from './message.js';
import { SipHeaders } from './sip-headers.js';
import { reasonPhrase } from './reason-phrases.js';
import { parseNameAddr } from '../headers/name-addr.js';

export interface CreateResponseOptions {
  /** To tag to add when the request's To has none (default: random, from `rng`). */
  toTag?: string;
  /** Source of the random To tag (default crypto). */
  rng?: Rng;
  /** Extra header fields, appended in order (Contact, WWW-Authenticate, Security-Server...). */
  headers?: Iterable<readonly [string, string]>;
  body?: Uint8Array;
  /** Content-Type of `body`. */
  contentType?: string;
}

/**
 * A response to `req` (RFC 3261 §8.2.6.1 and §8.2.6.2):
 * 1. The Via fields are copied in order; From, Call-ID and CSeq are copied.
 * 2. To is copied; when the status is above 100 and To has no tag, a tag is added
 *    (the UAS's half of the dialog id, §8.2.6.2, §19.3).
 * 3. A 100 Trying copies Timestamp (§8.2.6.1).
 * 4. Extra header fields and the body follow; Content-Length is set on serialization.
 */
export function createResponse(req: SipRequest, status: number, reason?: string, opts: CreateResponseOptions = {}): SipResponse {
  if (!Number.isInteger(status) || status < 100 || status > 699) throw new InvalidArgumentError('status must be 100-699', 'status');
  const h = req.headers;
  const out = new SipHeaders();
  // 1.
  for (const v of h.getLines('via')) out.append('Via', v);
  const from = h.get('from');
  if (from !== undefined) out.append('From', from);
  // 2.
  const to = h.get('to');
  if (to !== undefined) {
    out.append('To', status > 100 && !hasTag(to) ? `${to};tag=${opts.toTag ?? randomToken(opts.rng ?? cryptoRng, 8)}` : to);
  }
  const callId = h.get('call-id');
  if (callId !== undefined) out.append('Call-ID', callId);
  const cseq = h.get('cseq');
  if (cseq !== undefined) out.append('CSeq', cseq);
  // 3.
  if (status === 100) {
    const ts = h.get('timestamp');
    if (ts !== undefined) out.append('Timestamp', ts);
  }
  // 4.
  if (opts.headers) for (const [n, v] of opts.headers) out.append(n, v);
  if (opts.contentType !== undefined) out.set('Content-Type', opts.contentType);
  return new SipResponse(status, reason ?? reasonPhrase(status), out, opts.body ?? EMPTY_BODY);
}

function hasTag(to: string): boolean {
  try {
    return parseNameAddr(to, 'To').params.has('tag');
  } catch {
    return /;\s*tag\s*=/i.test(to);
  }
}
