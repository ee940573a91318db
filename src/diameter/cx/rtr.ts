/**
 * Registration-Termination-Request/Answer (RTR/RTA), TS 29.229 §6.1.9–6.1.10; procedure TS 29.228
 * §6.1.3. The HSS de-registers identities at the S-CSCF (administrative de-registration).
 *
 * ```
 * < Registration-Termination-Request > ::= < Diameter Header: 304, REQ, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } { Auth-Session-State }
 *    { Origin-Host } { Origin-Realm } { Destination-Host } { Destination-Realm } { User-Name }
 *    [ Associated-Identities ] *[ Supported-Features ] *[ Public-Identity ]
 *    { Deregistration-Reason } [ RTR-Flags ] *[ AVP ] *[ Proxy-Info ] *[ Route-Record ]
 *
 * < Registration-Termination-Answer > ::= < Diameter Header: 304, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } [ Result-Code ]
 *    [ Experimental-Result ] { Auth-Session-State } { Origin-Host } { Origin-Realm }
 *    [ Associated-Identities ] *[ Supported-Features ] *[ Identity-with-Emergency-Registration ]
 *    *[ AVP ] [ Failed-AVP ] *[ Proxy-Info ] *[ Route-Record ]
 * ```
 */
import type { DiameterMessage } from '../codec/message.js';
import { avp } from '../dictionary/registry.js';
import {
  AvpReader,
  type CxAnswerCommon,
  type CxAnswerInput,
  type CxRequestCommon,
  answerHead,
  answerTail,
  cxAnswer,
  cxRequest,
  expectCommand,
  featuresAvps,
  readAnswerCommon,
  readAnswerTail,
  readRequestCommon,
  readRequestTail,
  requestHead,
  requestTail,
} from './common.js';
import { CxCommand } from './constants.js';
import { type DeregistrationReason, associatedIdentitiesAvp, deregistrationReasonAvp, parseAssociatedIdentities, parseDeregistrationReason } from './groups.js';

export interface RegistrationTerminationRequest extends CxRequestCommon {
  /** Required: an RTR goes to one S-CSCF. */
  destinationHost: string;
  userName: string;
  associatedIdentities?: string[];
  /** Empty: every public identity of the private one(s). */
  publicIdentities: string[];
  deregistrationReason: DeregistrationReason;
  rtrFlags?: number;
}

export interface RegistrationTerminationAnswer extends CxAnswerCommon {
  associatedIdentities?: string[];
}

/** Builds an RTR (TS 29.229 §6.1.9). */
export function buildRtr(r: RegistrationTerminationRequest, ids?: { hopByHop?: number; endToEnd?: number }): DiameterMessage {
  const avps = [...requestHead(r, { destinationHostRequired: true }), avp('User-Name', r.userName)];
  if (r.associatedIdentities) avps.push(associatedIdentitiesAvp(r.associatedIdentities));
  avps.push(...featuresAvps(r.supportedFeatures), ...r.publicIdentities.map((p) => avp('Public-Identity', p)), deregistrationReasonAvp(r.deregistrationReason));
  if (r.rtrFlags !== undefined) avps.push(avp('RTR-Flags', r.rtrFlags));
  avps.push(...requestTail(r));
  return cxRequest(CxCommand.REGISTRATION_TERMINATION, avps, ids);
}

/** Parses an RTR. */
export function parseRtr(m: DiameterMessage): RegistrationTerminationRequest {
  expectCommand(m, CxCommand.REGISTRATION_TERMINATION, true, 'RTR');
  const r = new AvpReader(m.avps);
  const head = readRequestCommon(r);
  if (head.destinationHost === undefined) r.req('Destination-Host');
  const out = head as RegistrationTerminationRequest;
  out.userName = r.req('User-Name');
  out.publicIdentities = r.all('Public-Identity');
  out.deregistrationReason = parseDeregistrationReason(r.req('Deregistration-Reason'));
  const ai = r.opt('Associated-Identities');
  if (ai) out.associatedIdentities = parseAssociatedIdentities(ai);
  const f = r.opt('RTR-Flags');
  if (f !== undefined) out.rtrFlags = f;
  readRequestTail(r, out);
  return out;
}

/** Builds the RTA answering `request` (TS 29.229 §6.1.10). */
export function buildRta(request: DiameterMessage, input: CxAnswerInput<RegistrationTerminationAnswer>): DiameterMessage {
  const a = input;
  const avps = answerHead(a, request);
  if (a.associatedIdentities) avps.push(associatedIdentitiesAvp(a.associatedIdentities));
  avps.push(...featuresAvps(a.supportedFeatures), ...answerTail(a, request));
  return cxAnswer(request, avps);
}

/** Parses an RTA. */
export function parseRta(m: DiameterMessage): RegistrationTerminationAnswer {
  expectCommand(m, CxCommand.REGISTRATION_TERMINATION, false, 'RTA');
  const r = new AvpReader(m.avps);
  const out: RegistrationTerminationAnswer = readAnswerCommon(r);
  const ai = r.opt('Associated-Identities');
  if (ai) out.associatedIdentities = parseAssociatedIdentities(ai);
  readAnswerTail(r, out);
  return out;
}
