/**
 * Message builders for the transaction tests. They assemble messages field by field with
 * SipHeaders, independently of the code under test.
 */
import { SipHeaders } from '../../../src/sip/message/sip-headers.js';
import { SipRequest, SipResponse, type SipMessage } from '../../../src/sip/message/message.js';
import type { TxChannel } from '../../../src/sip/transaction/layer.js';

export const BRANCH = 'z9hG4bK776asdhds';

export function request(method: string, opts: { branch?: string; sentBy?: string; cseq?: number; cseqMethod?: string; routes?: string[]; toTag?: string } = {}): SipRequest {
  const h = new SipHeaders([
    ['Via', `SIP/2.0/UDP ${opts.sentBy ?? 'pc33.atlanta.com'};branch=${opts.branch ?? BRANCH}`],
    ['Max-Forwards', '70'],
    ['To', `Bob <sip:bob@biloxi.com>${opts.toTag ? `;tag=${opts.toTag}` : ''}`],
    ['From', 'Alice <sip:alice@atlanta.com>;tag=1928301774'],
    ['Call-ID', 'a84b4c76e66710@pc33.atlanta.com'],
    ['CSeq', `${opts.cseq ?? 314159} ${opts.cseqMethod ?? method}`],
  ]);
  for (const r of opts.routes ?? []) h.append('Route', r);
  h.append('Contact', '<sip:alice@pc33.atlanta.com>');
  h.append('Content-Length', '0');
  return new SipRequest(method, 'sip:bob@biloxi.com', h);
}

/** A response to `req` with the request's Via, From, Call-ID, CSeq and a To tag. */
export function response(req: SipRequest, status: number, reason = 'Reason', toTag = 'a6c85cf'): SipResponse {
  const h = new SipHeaders();
  for (const v of req.headers.getLines('via')) h.append('Via', v);
  const to = req.headers.get('to') ?? '';
  h.append('To', status > 100 && !/;tag=/.test(to) ? `${to};tag=${toTag}` : to);
  h.append('From', req.headers.get('from') ?? '');
  h.append('Call-ID', req.headers.get('call-id') ?? '');
  h.append('CSeq', req.headers.get('cseq') ?? '');
  h.append('Content-Length', '0');
  return new SipResponse(status, reason, h);
}

/** A channel that records what the layer sends and can be told to fail. */
export function channel(reliable = false) {
  const sent: SipMessage[] = [];
  let failing = false;
  const ch: TxChannel & { sent: SipMessage[]; fail(): void } = {
    reliable,
    sent,
    send(msg) {
      if (failing) return Promise.reject(new Error('unreachable'));
      sent.push(msg);
      return Promise.resolve();
    },
    fail() {
      failing = true;
    },
  };
  return ch;
}
