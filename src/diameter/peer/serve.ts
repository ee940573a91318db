/**
 * Serving an incoming application request (RFC 6733 §6.1, §7): the checks the base protocol makes
 * before the application sees a request, and the error answers when they fail.
 * 1. An AVP with the 'M' bit that the dictionary does not know → DIAMETER_AVP_UNSUPPORTED (5001)
 *    with the AVPs in Failed-AVP (§4.1, §7.1.5).
 * 2. An application not negotiated with this peer in CER/CEA → DIAMETER_APPLICATION_UNSUPPORTED
 *    (3007, 'E' bit; §7.1.3).
 * 3. No handler → DIAMETER_COMMAND_UNSUPPORTED (3001).
 * 4. The handler's answer; a thrown {@link DiameterAvpError} becomes its Result-Code and
 *    Failed-AVP; any other failure DIAMETER_UNABLE_TO_COMPLY (5012).
 * The answer always carries the request's Hop-by-Hop and End-to-End identifiers (§6.2).
 */
import type { Logger } from '../../common/index.js';
import type { DiameterMessage } from '../codec/message.js';
import { ApplicationId, ResultCode } from '../dictionary/base.js';
import { type Dictionary, unsupportedMandatoryAvps } from '../dictionary/registry.js';
import { DiameterAvpError } from '../errors.js';
import { type Capabilities, commonApplications } from './base-messages.js';
import { buildErrorAnswer } from './error-answer.js';
import type { RequestHandler } from './node-options.js';

export interface ServeContext {
  local: Capabilities;
  /** The peer's CER/CEA capabilities (negotiated applications). */
  peerCaps: Capabilities | undefined;
  peerHost: string;
  dictionary: Dictionary;
  handler: RequestHandler | undefined;
  log: Logger;
}

/** The answer to send for `req` (see the module comment for the order of checks). */
export async function answerRequest(req: DiameterMessage, c: ServeContext): Promise<DiameterMessage> {
  const errAnswer = (resultCode: number, errorMessage?: string, failedAvps?: DiameterMessage['avps']): DiameterMessage =>
    buildErrorAnswer(req, {
      originHost: c.local.originHost,
      originRealm: c.local.originRealm,
      resultCode,
      ...(errorMessage !== undefined ? { errorMessage } : {}),
      ...(failedAvps ? { failedAvps } : {}),
    });
  let answer: DiameterMessage;
  const unsupported = unsupportedMandatoryAvps(req.avps, c.dictionary);
  const apps = c.peerCaps ? commonApplications(c.local, c.peerCaps) : [];
  if (unsupported.length > 0) {
    const first = unsupported[0];
    answer = errAnswer(ResultCode.DIAMETER_AVP_UNSUPPORTED, `unsupported mandatory AVP ${first.code}${first.vendorId ? `/${first.vendorId}` : ''}`, unsupported);
  } else if (req.applicationId !== ApplicationId.COMMON_MESSAGES && !apps.includes(req.applicationId) && !apps.includes(ApplicationId.RELAY)) {
    answer = errAnswer(ResultCode.DIAMETER_APPLICATION_UNSUPPORTED, `application ${req.applicationId} was not negotiated`);
  } else if (!c.handler) {
    answer = errAnswer(ResultCode.DIAMETER_COMMAND_UNSUPPORTED, `no handler for command ${req.commandCode}`);
  } else {
    try {
      answer = await c.handler(req, { peer: c.peerHost });
    } catch (e) {
      if (e instanceof DiameterAvpError) answer = errAnswer(e.resultCode, e.message, e.avp ? [e.avp] : undefined);
      else {
        c.log.warn({ peer: c.peerHost, command: req.commandCode, err: (e as Error).message }, 'diameter: request handler failed');
        answer = errAnswer(ResultCode.DIAMETER_UNABLE_TO_COMPLY, 'request handler failed');
      }
    }
  }
  return { ...answer, hopByHop: req.hopByHop, endToEnd: req.endToEnd };
}
