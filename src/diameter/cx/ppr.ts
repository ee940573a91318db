/**
 * Push-Profile-Request/Answer (PPR/PPA), TS 29.229 §6.1.11–6.1.12; procedure TS 29.228 §6.1.5.
 * The HSS pushes a changed profile, charging information or SIP-Auth-Data-Item to the S-CSCF.
 *
 * ```
 * < Push-Profile-Request > ::= < Diameter Header: 305, REQ, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } { Auth-Session-State }
 *    { Origin-Host } { Origin-Realm } { Destination-Host } { Destination-Realm } { User-Name }
 *    *[ Supported-Features ] [ User-Data ] [ Charging-Information ] [ SIP-Auth-Data-Item ]
 *    [ Allowed-WAF-WWSF-Identities ] *[ AVP ] *[ Proxy-Info ] *[ Route-Record ]
 *
 * < Push-Profile-Answer > ::= < Diameter Header: 305, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } [ Result-Code ]
 *    [ Experimental-Result ] { Auth-Session-State } { Origin-Host } { Origin-Realm }
 *    *[ Supported-Features ] *[ AVP ] [ Failed-AVP ] *[ Proxy-Info ] *[ Route-Record ]
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
import { type ChargingInformation, type SipAuthDataItem, chargingInformationAvp, parseChargingInformation, parseSipAuthDataItem, sipAuthDataItemAvp } from './groups.js';

export interface PushProfileRequest extends CxRequestCommon {
  destinationHost: string;
  userName: string;
  userData?: Uint8Array;
  chargingInformation?: ChargingInformation;
  sipAuthDataItem?: SipAuthDataItem;
}

export type PushProfileAnswer = CxAnswerCommon;

/** Builds a PPR (TS 29.229 §6.1.11). */
export function buildPpr(r: PushProfileRequest, ids?: { hopByHop?: number; endToEnd?: number }): DiameterMessage {
  const avps = [...requestHead(r, { destinationHostRequired: true }), avp('User-Name', r.userName), ...featuresAvps(r.supportedFeatures)];
  if (r.userData) avps.push(avp('User-Data', r.userData));
  if (r.chargingInformation) avps.push(chargingInformationAvp(r.chargingInformation));
  if (r.sipAuthDataItem) avps.push(sipAuthDataItemAvp(r.sipAuthDataItem));
  avps.push(...requestTail(r));
  return cxRequest(CxCommand.PUSH_PROFILE, avps, ids);
}

/** Parses a PPR. */
export function parsePpr(m: DiameterMessage): PushProfileRequest {
  expectCommand(m, CxCommand.PUSH_PROFILE, true, 'PPR');
  const r = new AvpReader(m.avps);
  const head = readRequestCommon(r);
  if (head.destinationHost === undefined) r.req('Destination-Host');
  const out = head as PushProfileRequest;
  out.userName = r.req('User-Name');
  const ud = r.opt('User-Data');
  if (ud) out.userData = ud;
  const ci = r.opt('Charging-Information');
  if (ci) out.chargingInformation = parseChargingInformation(ci);
  const sad = r.opt('SIP-Auth-Data-Item');
  if (sad) out.sipAuthDataItem = parseSipAuthDataItem(sad);
  readRequestTail(r, out);
  return out;
}

/** Builds the PPA answering `request` (TS 29.229 §6.1.12). */
export function buildPpa(request: DiameterMessage, input: CxAnswerInput<PushProfileAnswer>): DiameterMessage {
  const a = input;
  return cxAnswer(request, [...answerHead(a, request), ...featuresAvps(a.supportedFeatures), ...answerTail(a, request)]);
}

/** Parses a PPA. */
export function parsePpa(m: DiameterMessage): PushProfileAnswer {
  expectCommand(m, CxCommand.PUSH_PROFILE, false, 'PPA');
  const r = new AvpReader(m.avps);
  const out: PushProfileAnswer = readAnswerCommon(r);
  readAnswerTail(r, out);
  return out;
}
