/**
 * RFC 3261 §17.1.1.3: the ACK a client INVITE transaction sends for a non-2xx final response.
 * It belongs to the INVITE transaction (same branch), so the server transaction can match it
 * (§17.2.3).
 */
import { SipHeaders, SipRequest, type SipResponse } from '../message/index.js';

/**
 * Builds the ACK for `response` (300-699) to `invite`:
 * 1. Request-URI, Call-ID, From and the CSeq number are those of the INVITE; the CSeq method is ACK.
 * 2. To is the To of the response (it carries the UAS's tag).
 * 3. Exactly one Via: the top Via of the INVITE (same branch).
 * 4. The INVITE's Route header fields are kept, so the ACK follows the INVITE's path.
 * 5. Max-Forwards is the INVITE's (every request carries one, §8.1.1.6); no body.
 */
export function buildNon2xxAck(invite: SipRequest, response: SipResponse): SipRequest {
  const h = invite.headers;
  const out = new SipHeaders();
  const via = h.getAll('via')[0];
  if (via !== undefined) out.append('Via', via);
  for (const route of h.getLines('route')) out.append('Route', route);
  const maxForwards = h.get('max-forwards');
  out.append('Max-Forwards', maxForwards ?? '70');
  const from = h.get('from');
  if (from !== undefined) out.append('From', from);
  const to = response.headers.get('to') ?? h.get('to');
  if (to !== undefined) out.append('To', to);
  const callId = h.get('call-id');
  if (callId !== undefined) out.append('Call-ID', callId);
  const seq = /^\s*(\d+)/.exec(h.get('cseq') ?? '')?.[1] ?? '0';
  out.append('CSeq', `${seq} ACK`);
  out.append('Content-Length', '0');
  return new SipRequest('ACK', invite.uri, out);
}
