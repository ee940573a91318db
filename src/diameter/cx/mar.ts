/**
 * Multimedia-Auth-Request/Answer (MAR/MAA), TS 29.229 §6.1.7–6.1.8; procedure TS 29.228 §6.3.
 * The S-CSCF asks the HSS for authentication vectors (or, with RAND‖AUTS in SIP-Authorization,
 * for resynchronisation).
 *
 * ```
 * < Multimedia-Auth-Request > ::= < Diameter Header: 303, REQ, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } { Auth-Session-State }
 *    { Origin-Host } { Origin-Realm } { Destination-Realm } [ Destination-Host ] { User-Name }
 *    [ OC-Supported-Features ] *[ Supported-Features ] { Public-Identity } { SIP-Auth-Data-Item }
 *    { SIP-Number-Auth-Items } { Server-Name } *[ AVP ] *[ Proxy-Info ] *[ Route-Record ]
 *
 * < Multimedia-Auth-Answer > ::= < Diameter Header: 303, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } [ Result-Code ]
 *    [ Experimental-Result ] { Auth-Session-State } { Origin-Host } { Origin-Realm } [ User-Name ]
 *    [ OC-Supported-Features ] [ OC-OLR ] *[ Supported-Features ] [ Public-Identity ]
 *    [ SIP-Number-Auth-Items ] *[ SIP-Auth-Data-Item ] *[ AVP ] [ Failed-AVP ] *[ Proxy-Info ]
 *    *[ Route-Record ]
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
import { type SipAuthDataItem, parseSipAuthDataItem, sipAuthDataItemAvp } from './groups.js';

export interface MultimediaAuthRequest extends CxRequestCommon {
  /** IMPI. */
  userName: string;
  /** IMPU. */
  publicIdentity: string;
  /** Scheme wanted, or RAND‖AUTS in `authorization` for a resync (TS 29.228 §6.3.1). */
  sipAuthDataItem: SipAuthDataItem;
  /** Number of vectors wanted. */
  sipNumberAuthItems: number;
  /** S-CSCF SIP URI. */
  serverName: string;
}

export interface MultimediaAuthAnswer extends CxAnswerCommon {
  userName?: string;
  publicIdentity?: string;
  sipNumberAuthItems?: number;
  sipAuthDataItems: SipAuthDataItem[];
}

/** Builds an MAR (TS 29.229 §6.1.7). */
export function buildMar(r: MultimediaAuthRequest, ids?: { hopByHop?: number; endToEnd?: number }): DiameterMessage {
  return cxRequest(
    CxCommand.MULTIMEDIA_AUTH,
    [
      ...requestHead(r),
      avp('User-Name', r.userName),
      ...featuresAvps(r.supportedFeatures),
      avp('Public-Identity', r.publicIdentity),
      sipAuthDataItemAvp(r.sipAuthDataItem),
      avp('SIP-Number-Auth-Items', r.sipNumberAuthItems),
      avp('Server-Name', r.serverName),
      ...requestTail(r),
    ],
    ids,
  );
}

/** Parses an MAR. @throws DiameterAvpError (5005 missing AVP, 5004/5014 bad value, 3001 wrong command). */
export function parseMar(m: DiameterMessage): MultimediaAuthRequest {
  expectCommand(m, CxCommand.MULTIMEDIA_AUTH, true, 'MAR');
  const r = new AvpReader(m.avps);
  // Fields are added to the head object (no spread: object spread costs more than the rest of the parse).
  const out = readRequestCommon(r) as MultimediaAuthRequest;
  out.userName = r.req('User-Name');
  out.publicIdentity = r.req('Public-Identity');
  out.sipAuthDataItem = parseSipAuthDataItem(r.req('SIP-Auth-Data-Item'));
  out.sipNumberAuthItems = r.req('SIP-Number-Auth-Items');
  out.serverName = r.req('Server-Name');
  readRequestTail(r, out);
  return out;
}

/** Builds the MAA answering `request` (TS 29.229 §6.1.8). */
export function buildMaa(request: DiameterMessage, input: CxAnswerInput<MultimediaAuthAnswer>): DiameterMessage {
  const a = input;
  const avps = answerHead(a, request);
  if (a.userName !== undefined) avps.push(avp('User-Name', a.userName));
  avps.push(...featuresAvps(a.supportedFeatures));
  if (a.publicIdentity !== undefined) avps.push(avp('Public-Identity', a.publicIdentity));
  if (a.sipNumberAuthItems !== undefined) avps.push(avp('SIP-Number-Auth-Items', a.sipNumberAuthItems));
  for (const i of a.sipAuthDataItems) avps.push(sipAuthDataItemAvp(i));
  avps.push(...answerTail(a, request));
  return cxAnswer(request, avps);
}

/** Parses an MAA. */
export function parseMaa(m: DiameterMessage): MultimediaAuthAnswer {
  expectCommand(m, CxCommand.MULTIMEDIA_AUTH, false, 'MAA');
  const r = new AvpReader(m.avps);
  const out = readAnswerCommon(r) as MultimediaAuthAnswer;
  const un = r.opt('User-Name');
  if (un !== undefined) out.userName = un;
  const pi = r.opt('Public-Identity');
  if (pi !== undefined) out.publicIdentity = pi;
  const n = r.opt('SIP-Number-Auth-Items');
  if (n !== undefined) out.sipNumberAuthItems = n;
  out.sipAuthDataItems = r.all('SIP-Auth-Data-Item').map(parseSipAuthDataItem);
  readAnswerTail(r, out);
  return out;
}
