/**
 * Location-Info-Request/Answer (LIR/LIA), TS 29.229 §6.1.5–6.1.6; procedure TS 29.228 §6.1.4.
 * The I-CSCF asks the HSS which S-CSCF serves a public identity (terminating requests).
 *
 * ```
 * < Location-Info-Request> ::= < Diameter Header: 302, REQ, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } { Auth-Session-State }
 *    { Origin-Host } { Origin-Realm } [ Destination-Host ] { Destination-Realm }
 *    [ Originating-Request ] [ OC-Supported-Features ] *[ Supported-Features ]
 *    { Public-Identity } [ User-Authorization-Type ] [ Session-Priority ] *[ AVP ]
 *    *[ Proxy-Info ] *[ Route-Record ]
 *
 * < Location-Info-Answer> ::= < Diameter Header: 302, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } [ Result-Code ]
 *    [ Experimental-Result ] { Auth-Session-State } { Origin-Host } { Origin-Realm }
 *    [ OC-Supported-Features ] [ OC-OLR ] *[ Supported-Features ] [ Server-Name ]
 *    [ Server-Capabilities ] [ Wildcarded-Public-Identity ] [ LIA-Flags ] *[ AVP ]
 *    [ Failed-AVP ] *[ Proxy-Info ] *[ Route-Record ]
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
import { type ServerCapabilities, parseServerCapabilities, serverCapabilitiesAvp } from './groups.js';

export interface LocationInfoRequest extends CxRequestCommon {
  publicIdentity: string;
  /** `OriginatingRequest.ORIGINATING` when the I-CSCF routes an originating request. */
  originatingRequest?: number;
  userAuthorizationType?: number;
  sessionPriority?: number;
}

export interface LocationInfoAnswer extends CxAnswerCommon {
  serverName?: string;
  serverCapabilities?: ServerCapabilities;
  wildcardedPublicIdentity?: string;
  liaFlags?: number;
}

/** Builds an LIR (TS 29.229 §6.1.5). */
export function buildLir(r: LocationInfoRequest, ids?: { hopByHop?: number; endToEnd?: number }): DiameterMessage {
  const avps = requestHead(r);
  if (r.originatingRequest !== undefined) avps.push(avp('Originating-Request', r.originatingRequest));
  avps.push(...featuresAvps(r.supportedFeatures), avp('Public-Identity', r.publicIdentity));
  if (r.userAuthorizationType !== undefined) avps.push(avp('User-Authorization-Type', r.userAuthorizationType));
  if (r.sessionPriority !== undefined) avps.push(avp('Session-Priority', r.sessionPriority));
  avps.push(...requestTail(r));
  return cxRequest(CxCommand.LOCATION_INFO, avps, ids);
}

/** Parses an LIR. */
export function parseLir(m: DiameterMessage): LocationInfoRequest {
  expectCommand(m, CxCommand.LOCATION_INFO, true, 'LIR');
  const r = new AvpReader(m.avps);
  const out = readRequestCommon(r) as LocationInfoRequest;
  out.publicIdentity = r.req('Public-Identity');
  const o = r.opt('Originating-Request');
  if (o !== undefined) out.originatingRequest = o;
  const t = r.opt('User-Authorization-Type');
  if (t !== undefined) out.userAuthorizationType = t;
  const p = r.opt('Session-Priority');
  if (p !== undefined) out.sessionPriority = p;
  readRequestTail(r, out);
  return out;
}

/** Builds the LIA answering `request` (TS 29.229 §6.1.6). */
export function buildLia(request: DiameterMessage, input: CxAnswerInput<LocationInfoAnswer>): DiameterMessage {
  const a = input;
  const avps = [...answerHead(a, request), ...featuresAvps(a.supportedFeatures)];
  if (a.serverName !== undefined) avps.push(avp('Server-Name', a.serverName));
  if (a.serverCapabilities) avps.push(serverCapabilitiesAvp(a.serverCapabilities));
  if (a.wildcardedPublicIdentity !== undefined) avps.push(avp('Wildcarded-Public-Identity', a.wildcardedPublicIdentity));
  if (a.liaFlags !== undefined) avps.push(avp('LIA-Flags', a.liaFlags));
  avps.push(...answerTail(a, request));
  return cxAnswer(request, avps);
}

/** Parses an LIA. */
export function parseLia(m: DiameterMessage): LocationInfoAnswer {
  expectCommand(m, CxCommand.LOCATION_INFO, false, 'LIA');
  const r = new AvpReader(m.avps);
  const out: LocationInfoAnswer = readAnswerCommon(r);
  const sn = r.opt('Server-Name');
  if (sn !== undefined) out.serverName = sn;
  const sc = r.opt('Server-Capabilities');
  if (sc) out.serverCapabilities = parseServerCapabilities(sc);
  const w = r.opt('Wildcarded-Public-Identity');
  if (w !== undefined) out.wildcardedPublicIdentity = w;
  const f = r.opt('LIA-Flags');
  if (f !== undefined) out.liaFlags = f;
  readAnswerTail(r, out);
  return out;
}
