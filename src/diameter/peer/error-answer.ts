/**
 * Error answers, RFC 6733 §7.2:
 * ```
 * <answer-message> ::= < Diameter Header: code, ERR [, PXY] >
 *                  0*1< Session-Id >
 *                     { Origin-Host }
 *                     { Origin-Realm }
 *                     { Result-Code }
 *                     [ Origin-State-Id ]
 *                     [ Error-Message ]
 *                     [ Error-Reporting-Host ]
 *                     [ Failed-AVP ]
 *                     [ Experimental-Result ]
 *                   * [ Proxy-Info ]
 *                   * [ AVP ]
 * ```
 * The 'E' bit is set for protocol errors (3xxx, §7.1.3). Permanent failures (5xxx, e.g.
 * DIAMETER_AVP_UNSUPPORTED) are sent without it, and the application's Vendor-Specific-Application-Id
 * and Auth-Session-State are copied from the request so the answer also fits the command's CCF.
 */
import type { Avp } from '../codec/avp.js';
import { type DiameterMessage, answerHeaderFor } from '../codec/message.js';
import { isProtocolError } from '../dictionary/base.js';
import { avp, isAvp } from '../dictionary/registry.js';

export interface ErrorAnswerOptions {
  originHost: string;
  originRealm: string;
  resultCode: number;
  errorMessage?: string;
  failedAvps?: Avp[];
  originStateId?: number;
}

/** Builds the error answer to `request`. */
export function buildErrorAnswer(request: DiameterMessage, o: ErrorAnswerOptions): DiameterMessage {
  const avps: Avp[] = [];
  const sid = request.avps.find((a) => isAvp(a, 'Session-Id'));
  if (sid) avps.push(sid);
  const protocolError = isProtocolError(o.resultCode);
  if (!protocolError) {
    for (const a of request.avps) if (isAvp(a, 'Vendor-Specific-Application-Id') || isAvp(a, 'Auth-Session-State')) avps.push(a);
  }
  avps.push(avp('Origin-Host', o.originHost), avp('Origin-Realm', o.originRealm), avp('Result-Code', o.resultCode));
  if (o.originStateId !== undefined) avps.push(avp('Origin-State-Id', o.originStateId));
  if (o.errorMessage !== undefined) avps.push(avp('Error-Message', o.errorMessage));
  if (o.failedAvps?.length) avps.push(avp('Failed-AVP', o.failedAvps));
  for (const a of request.avps) if (isAvp(a, 'Proxy-Info')) avps.push(a);
  return { ...answerHeaderFor(request, protocolError), avps };
}
