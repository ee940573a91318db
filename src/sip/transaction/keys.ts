/**
 * Transaction matching (RFC 3261 §17.1.3, §17.2.3) as map keys.
 *
 * - Client side (§17.1.3): a response matches the client transaction whose request had the same
 *   top-Via branch and whose method equals the response's CSeq method (so a CANCEL, which shares
 *   the INVITE's branch, has its own transaction).
 * - Server side (§17.2.3), branch with the magic cookie `z9hG4bK`: same branch, same sent-by,
 *   same method — except that an ACK matches the INVITE it acknowledges.
 * - Server side, RFC 2543 peers (no magic cookie): Request-URI, From tag, Call-ID, CSeq number
 *   and the whole top Via must match (the To tag is left out, which lets the ACK of a non-2xx
 *   match without remembering the tag the response carried).
 */
import { InvalidArgumentError } from '../../common/index.js';
import { BRANCH_MAGIC, callIdOf, cseqOf, fromTag, topVia, viaBranch } from '../headers/index.js';
import type { SipRequest, SipResponse } from '../message/index.js';

/** True for a branch that follows RFC 3261 §8.1.1.7 (starts with the magic cookie). */
export function isRfc3261Branch(branch: string | undefined): branch is string {
  return branch !== undefined && branch.length > BRANCH_MAGIC.length && branch.startsWith(BRANCH_MAGIC);
}

/** The key of the client transaction a request starts; throws when the top Via has no branch. */
export function clientKeyOfRequest(req: SipRequest): string {
  const via = topVia(req);
  const branch = via ? viaBranch(via) : undefined;
  if (!branch) throw new InvalidArgumentError('the request needs a top Via with a branch (RFC 3261 §8.1.1.7)', 'via');
  return `${branch}|${req.method}`;
}

/** §17.1.3: the key a response matches by, or undefined when its Via or CSeq cannot be read. */
export function clientKeyOfResponse(resp: SipResponse): string | undefined {
  try {
    const via = topVia(resp);
    const branch = via ? viaBranch(via) : undefined;
    const cseq = cseqOf(resp);
    if (!branch || !cseq) return undefined;
    return `${branch}|${cseq.method}`;
  } catch {
    return undefined;
  }
}

/**
 * §17.2.3: the key of the server transaction a request belongs to. `asMethod` looks up another
 * method's transaction with the same identifiers (RFC 3261 §9.2: the INVITE a CANCEL cancels).
 */
export function serverKeyOfRequest(req: SipRequest, asMethod?: string): string {
  const method = asMethod ?? (req.method === 'ACK' ? 'INVITE' : req.method);
  let via;
  try {
    via = topVia(req);
  } catch {
    via = undefined;
  }
  const branch = via ? viaBranch(via) : undefined;
  if (via && isRfc3261Branch(branch)) {
    return `${branch}|${via.host.toLowerCase()}:${via.port ?? ''}|${method}`;
  }
  return `2543|${req.uri}|${safe(() => fromTag(req))}|${safe(() => callIdOf(req))}|${safe(() => cseqOf(req)?.seq)}|${req.headers.getAll('via')[0] ?? ''}|${method}`;
}

function safe(f: () => string | number | undefined): string {
  try {
    return String(f() ?? '');
  } catch {
    return '';
  }
}

