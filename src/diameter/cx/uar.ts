/**
 * User-Authorization-Request/Answer (UAR/UAA), TS 29.229 §6.1.1–6.1.2; procedure TS 29.228
 * §6.1.1. The I-CSCF asks the HSS whether a user may register and which S-CSCF serves it.
 *
 * ```
 * < User-Authorization-Request> ::= < Diameter Header: 300, REQ, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } { Auth-Session-State }
 *    { Origin-Host } { Origin-Realm } [ Destination-Host ] { Destination-Realm } { User-Name }
 *    [ OC-Supported-Features ] *[ Supported-Features ] { Public-Identity }
 *    { Visited-Network-Identifier } [ User-Authorization-Type ] [ UAR-Flags ] *[ AVP ]
 *    *[ Proxy-Info ] *[ Route-Record ]
 *
 * < User-Authorization-Answer> ::= < Diameter Header: 300, PXY, 16777216 >
 *    < Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } [ Result-Code ]
 *    [ Experimental-Result ] { Auth-Session-State } { Origin-Host } { Origin-Realm }
 *    [ OC-Supported-Features ] [ OC-OLR ] *[ Supported-Features ] [ Server-Name ]
 *    [ Server-Capabilities ] *[ AVP ] [ Failed-AVP ] *[ Proxy-Info ] *[ Route-Record ]
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

export interface UserAuthorizationRequest extends CxRequestCommon {
  /** IMPI. */
  userName: string;
  /** IMPU. */
  publicIdentity: string;
  /** Visited network (the P-Visited-Network-ID), as bytes of the header value. */
  visitedNetworkIdentifier: Uint8Array;
  /** See `UserAuthorizationType`; absent means REGISTRATION (TS 29.229 §6.3.24). */
  userAuthorizationType?: number;
  uarFlags?: number;
}

export interface UserAuthorizationAnswer extends CxAnswerCommon {
  serverName?: string;
  serverCapabilities?: ServerCapabilities;
}

/** Builds a UAR (TS 29.229 §6.1.1). */
export function buildUar(r: UserAuthorizationRequest, ids?: { hopByHop?: number; endToEnd?: number }): DiameterMessage {
  const avps = [...requestHead(r), avp('User-Name', r.userName), ...featuresAvps(r.supportedFeatures), avp('Public-Identity', r.publicIdentity), avp('Visited-Network-Identifier', r.visitedNetworkIdentifier)];
  if (r.userAuthorizationType !== undefined) avps.push(avp('User-Authorization-Type', r.userAuthorizationType));
  if (r.uarFlags !== undefined) avps.push(avp('UAR-Flags', r.uarFlags));
  avps.push(...requestTail(r));
  return cxRequest(CxCommand.USER_AUTHORIZATION, avps, ids);
}

/** Parses a UAR. */
export function parseUar(m: DiameterMessage): UserAuthorizationRequest {
  expectCommand(m, CxCommand.USER_AUTHORIZATION, true, 'UAR');
  const r = new AvpReader(m.avps);
  const out = readRequestCommon(r) as UserAuthorizationRequest;
  out.userName = r.req('User-Name');
  out.publicIdentity = r.req('Public-Identity');
  out.visitedNetworkIdentifier = r.req('Visited-Network-Identifier');
  const t = r.opt('User-Authorization-Type');
  if (t !== undefined) out.userAuthorizationType = t;
  const f = r.opt('UAR-Flags');
  if (f !== undefined) out.uarFlags = f;
  readRequestTail(r, out);
  return out;
}

/** Builds the UAA answering `request` (TS 29.229 §6.1.2). */
export function buildUaa(request: DiameterMessage, input: CxAnswerInput<UserAuthorizationAnswer>): DiameterMessage {
  const a = input;
  const avps = [...answerHead(a, request), ...featuresAvps(a.supportedFeatures)];
  if (a.serverName !== undefined) avps.push(avp('Server-Name', a.serverName));
  if (a.serverCapabilities) avps.push(serverCapabilitiesAvp(a.serverCapabilities));
  avps.push(...answerTail(a, request));
  return cxAnswer(request, avps);
}

/** Parses a UAA. */
export function parseUaa(m: DiameterMessage): UserAuthorizationAnswer {
  expectCommand(m, CxCommand.USER_AUTHORIZATION, false, 'UAA');
  const r = new AvpReader(m.avps);
  const out: UserAuthorizationAnswer = readAnswerCommon(r);
  const sn = r.opt('Server-Name');
  if (sn !== undefined) out.serverName = sn;
  const sc = r.opt('Server-Capabilities');
  if (sc) out.serverCapabilities = parseServerCapabilities(sc);
  readAnswerTail(r, out);
  return out;
}
