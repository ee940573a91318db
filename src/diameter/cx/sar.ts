/**
 * Server-Assignment-Request/Answer (SAR/SAA), TS 29.229 §6.1.3–6.1.4; procedure TS 29.228 §6.1.2.
 * The S-CSCF tells the HSS it serves (or no longer serves) a user and fetches the profile.
 *
 * ```
 * < Server-Assignment-Request> ::= < Diameter Header: 301, REQ, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } { Auth-Session-State }
 *    { Origin-Host } { Origin-Realm } [ Destination-Host ] { Destination-Realm } [ User-Name ]
 *    [ OC-Supported-Features ] *[ Supported-Features ] *[ Public-Identity ]
 *    [ Wildcarded-Public-Identity ] { Server-Name } { Server-Assignment-Type }
 *    { User-Data-Already-Available } [ SCSCF-Restoration-Info ]
 *    [ Multiple-Registration-Indication ] [ Session-Priority ] [ SAR-Flags ] *[ AVP ]
 *    *[ Proxy-Info ] *[ Route-Record ]
 *
 * < Server-Assignment-Answer> ::= < Diameter Header: 301, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } [ Result-Code ]
 *    [ Experimental-Result ] { Auth-Session-State } { Origin-Host } { Origin-Realm } [ User-Name ]
 *    [ OC-Supported-Features ] [ OC-OLR ] *[ Supported-Features ] [ User-Data ]
 *    [ Charging-Information ] [ Associated-Identities ] [ Loose-Route-Indication ]
 *    *[ SCSCF-Restoration-Info ] [ Associated-Registered-Identities ] [ Server-Name ]
 *    [ Wildcarded-Public-Identity ] [ Priviledged-Sender-Indication ]
 *    [ Allowed-WAF-WWSF-Identities ] *[ AVP ] [ Failed-AVP ] *[ Proxy-Info ] *[ Route-Record ]
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
import { type ChargingInformation, associatedIdentitiesAvp, chargingInformationAvp, parseAssociatedIdentities, parseChargingInformation } from './groups.js';

export interface ServerAssignmentRequest extends CxRequestCommon {
  /** IMPI (absent for an unregistered user with only a public identity). */
  userName?: string;
  publicIdentities: string[];
  wildcardedPublicIdentity?: string;
  serverName: string;
  /** See `ServerAssignmentType`. */
  serverAssignmentType: number;
  /** See `UserDataAlreadyAvailable`. */
  userDataAlreadyAvailable: number;
  multipleRegistrationIndication?: number;
  sessionPriority?: number;
  sarFlags?: number;
}

export interface ServerAssignmentAnswer extends CxAnswerCommon {
  userName?: string;
  /** The IMS subscription profile (TS 29.228 Annex E XML), as bytes. */
  userData?: Uint8Array;
  chargingInformation?: ChargingInformation;
  /** Associated-Identities: the private identities sharing the public ones. */
  associatedIdentities?: string[];
  looseRouteIndication?: number;
  serverName?: string;
  wildcardedPublicIdentity?: string;
  priviledgedSenderIndication?: number;
}

/** Builds an SAR (TS 29.229 §6.1.3). */
export function buildSar(r: ServerAssignmentRequest, ids?: { hopByHop?: number; endToEnd?: number }): DiameterMessage {
  const avps = requestHead(r);
  if (r.userName !== undefined) avps.push(avp('User-Name', r.userName));
  avps.push(...featuresAvps(r.supportedFeatures), ...r.publicIdentities.map((p) => avp('Public-Identity', p)));
  if (r.wildcardedPublicIdentity !== undefined) avps.push(avp('Wildcarded-Public-Identity', r.wildcardedPublicIdentity));
  avps.push(avp('Server-Name', r.serverName), avp('Server-Assignment-Type', r.serverAssignmentType), avp('User-Data-Already-Available', r.userDataAlreadyAvailable));
  if (r.multipleRegistrationIndication !== undefined) avps.push(avp('Multiple-Registration-Indication', r.multipleRegistrationIndication));
  if (r.sessionPriority !== undefined) avps.push(avp('Session-Priority', r.sessionPriority));
  if (r.sarFlags !== undefined) avps.push(avp('SAR-Flags', r.sarFlags));
  avps.push(...requestTail(r));
  return cxRequest(CxCommand.SERVER_ASSIGNMENT, avps, ids);
}

/** Parses an SAR. */
export function parseSar(m: DiameterMessage): ServerAssignmentRequest {
  expectCommand(m, CxCommand.SERVER_ASSIGNMENT, true, 'SAR');
  const r = new AvpReader(m.avps);
  const head = readRequestCommon(r);
  const userName = r.opt('User-Name');
  const out = head as ServerAssignmentRequest;
  out.publicIdentities = r.all('Public-Identity');
  out.serverName = r.req('Server-Name');
  out.serverAssignmentType = r.req('Server-Assignment-Type');
  out.userDataAlreadyAvailable = r.req('User-Data-Already-Available');
  if (userName !== undefined) out.userName = userName;
  const w = r.opt('Wildcarded-Public-Identity');
  if (w !== undefined) out.wildcardedPublicIdentity = w;
  const mri = r.opt('Multiple-Registration-Indication');
  if (mri !== undefined) out.multipleRegistrationIndication = mri;
  const sp = r.opt('Session-Priority');
  if (sp !== undefined) out.sessionPriority = sp;
  const f = r.opt('SAR-Flags');
  if (f !== undefined) out.sarFlags = f;
  readRequestTail(r, out);
  return out;
}

/** Builds the SAA answering `request` (TS 29.229 §6.1.4). */
export function buildSaa(request: DiameterMessage, input: CxAnswerInput<ServerAssignmentAnswer>): DiameterMessage {
  const a = input;
  const avps = answerHead(a, request);
  if (a.userName !== undefined) avps.push(avp('User-Name', a.userName));
  avps.push(...featuresAvps(a.supportedFeatures));
  if (a.userData) avps.push(avp('User-Data', a.userData));
  if (a.chargingInformation) avps.push(chargingInformationAvp(a.chargingInformation));
  if (a.associatedIdentities) avps.push(associatedIdentitiesAvp(a.associatedIdentities));
  if (a.looseRouteIndication !== undefined) avps.push(avp('Loose-Route-Indication', a.looseRouteIndication));
  if (a.serverName !== undefined) avps.push(avp('Server-Name', a.serverName));
  if (a.wildcardedPublicIdentity !== undefined) avps.push(avp('Wildcarded-Public-Identity', a.wildcardedPublicIdentity));
  if (a.priviledgedSenderIndication !== undefined) avps.push(avp('Priviledged-Sender-Indication', a.priviledgedSenderIndication));
  avps.push(...answerTail(a, request));
  return cxAnswer(request, avps);
}

/** Parses an SAA. */
export function parseSaa(m: DiameterMessage): ServerAssignmentAnswer {
  expectCommand(m, CxCommand.SERVER_ASSIGNMENT, false, 'SAA');
  const r = new AvpReader(m.avps);
  const out: ServerAssignmentAnswer = readAnswerCommon(r);
  const un = r.opt('User-Name');
  if (un !== undefined) out.userName = un;
  const ud = r.opt('User-Data');
  if (ud) out.userData = ud;
  const ci = r.opt('Charging-Information');
  if (ci) out.chargingInformation = parseChargingInformation(ci);
  const ai = r.opt('Associated-Identities');
  if (ai) out.associatedIdentities = parseAssociatedIdentities(ai);
  const lri = r.opt('Loose-Route-Indication');
  if (lri !== undefined) out.looseRouteIndication = lri;
  const sn = r.opt('Server-Name');
  if (sn !== undefined) out.serverName = sn;
  const w = r.opt('Wildcarded-Public-Identity');
  if (w !== undefined) out.wildcardedPublicIdentity = w;
  const psi = r.opt('Priviledged-Sender-Indication');
  if (psi !== undefined) out.priviledgedSenderIndication = psi;
  readAnswerTail(r, out);
  return out;
}
