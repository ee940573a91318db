/**
 * Pieces every Cx command shares (TS 29.229 §6.1, §5.3): the request and answer preamble
 * (`< Session-Id > [ DRMP ] { Vendor-Specific-Application-Id } { Auth-Session-State }
 * { Origin-Host } { Origin-Realm } ...`), Supported-Features, and an {@link AvpReader} that
 * consumes the AVPs a command defines and keeps the rest (`*[ AVP ]`) so nothing is lost.
 */
import type { Avp } from '../codec/avp.js';
import { type DiameterMessage, FLAG_PROXIABLE, FLAG_REQUEST, answerHeaderFor, isRequest } from '../codec/message.js';
import { AuthSessionState } from '../dictionary/base.js';
import { VENDOR_3GPP } from '../dictionary/cx.js';
import { AvpReader } from '../dictionary/reader.js';
import { avp, findAvp, findAvps, missingAvpExample, valueOf } from '../dictionary/registry.js';
import { type DiameterResult, resultAvp } from '../dictionary/result.js';

export { AvpReader };
import { DiameterAvpError } from '../errors.js';
import { CX_APPLICATION_ID } from './constants.js';

/** TS 29.229 §6.3.29: `Supported-Features ::= < AVP header: 628 10415 > { Vendor-Id } { Feature-List-ID } { Feature-List } *[AVP]`. */
export interface SupportedFeatures {
  vendorId: number;
  featureListId: number;
  featureList: number;
}

/** Fields every Cx request carries (TS 29.229 §6.1.x, common head of each CCF). */
export interface CxRequestCommon {
  sessionId: string;
  originHost: string;
  originRealm: string;
  destinationRealm: string;
  destinationHost?: string;
  /** RFC 7944 DRMP priority. */
  drmp?: number;
  supportedFeatures?: SupportedFeatures[];
  /** Proxy-Info AVPs (RFC 6733 §6.7.2), raw. */
  proxyInfo?: Avp[];
  /** Route-Record identities (RFC 6733 §6.7.1). */
  routeRecord?: string[];
  /** Further AVPs (`*[ AVP ]`), including any received that this code does not model. */
  extraAvps?: Avp[];
}

/** Fields every Cx answer carries (TS 29.229 §6.1.x). */
export interface CxAnswerCommon {
  sessionId: string;
  originHost: string;
  originRealm: string;
  /** Result-Code or 3GPP Experimental-Result (see `CxResult`). */
  result: DiameterResult;
  drmp?: number;
  supportedFeatures?: SupportedFeatures[];
  /** Failed-AVP contents (RFC 6733 §7.5). */
  failedAvps?: Avp[];
  /** Error-Message (RFC 6733 §7.3), human readable. */
  errorMessage?: string;
  proxyInfo?: Avp[];
  extraAvps?: Avp[];
}

/** What an answer builder needs besides the request: the answering node's identity. */
export type CxAnswerInput<T extends CxAnswerCommon> = Omit<T, 'sessionId'> & { sessionId?: string };

/** `{ Vendor-Specific-Application-Id }` = { Vendor-Id 10415, Auth-Application-Id 16777216 } (TS 29.229 §6.1 NOTE). */
export function cxVendorSpecificApplicationId(): Avp {
  return CX_VSAI;
}
const CX_VSAI = avp('Vendor-Specific-Application-Id', [avp('Vendor-Id', VENDOR_3GPP), avp('Auth-Application-Id', CX_APPLICATION_ID)]);
const NO_STATE = avp('Auth-Session-State', AuthSessionState.NO_STATE_MAINTAINED);

export function supportedFeaturesAvp(f: SupportedFeatures): Avp {
  return avp('Supported-Features', [avp('Vendor-Id', f.vendorId), avp('Feature-List-ID', f.featureListId), avp('Feature-List', f.featureList)]);
}

export function parseSupportedFeatures(children: Avp[]): SupportedFeatures {
  const r = new AvpReader(children);
  return { vendorId: r.req('Vendor-Id'), featureListId: r.req('Feature-List-ID'), featureList: r.req('Feature-List') };
}

/**
 * Request head in CCF order: `< Session-Id > [ DRMP ] { Vendor-Specific-Application-Id }
 * { Auth-Session-State } { Origin-Host } { Origin-Realm } [ Destination-Host ] { Destination-Realm }`.
 * Auth-Session-State is NO_STATE_MAINTAINED (TS 29.229 §5.3: Cx sessions are implicitly terminated).
 */
export function requestHead(r: CxRequestCommon, opts: { destinationHostRequired?: boolean } = {}): Avp[] {
  const out: Avp[] = [avp('Session-Id', r.sessionId)];
  if (r.drmp !== undefined) out.push(avp('DRMP', r.drmp));
  out.push(CX_VSAI, NO_STATE, avp('Origin-Host', r.originHost), avp('Origin-Realm', r.originRealm));
  if (r.destinationHost !== undefined) out.push(avp('Destination-Host', r.destinationHost));
  else if (opts.destinationHostRequired) throw new DiameterAvpError('Destination-Host is required for this command', 5005, 'Destination-Host');
  out.push(avp('Destination-Realm', r.destinationRealm));
  return out;
}

/** Request tail: `*[ Supported-Features ]` is placed by the caller; this adds `*[ AVP ] *[ Proxy-Info ] *[ Route-Record ]`. */
export function requestTail(r: CxRequestCommon): Avp[] {
  return [...(r.extraAvps ?? []), ...(r.proxyInfo ?? []), ...(r.routeRecord ?? []).map((h) => avp('Route-Record', h))];
}

export function featuresAvps(list: SupportedFeatures[] | undefined): Avp[] {
  return (list ?? []).map(supportedFeaturesAvp);
}

/** Wraps AVPs into a Cx request message (R and P bits, application 16777216). Identifiers are filled in by the node. */
export function cxRequest(commandCode: number, avps: Avp[], ids?: { hopByHop?: number; endToEnd?: number }): DiameterMessage {
  return { flags: FLAG_REQUEST | FLAG_PROXIABLE, commandCode, applicationId: CX_APPLICATION_ID, hopByHop: ids?.hopByHop ?? 0, endToEnd: ids?.endToEnd ?? 0, avps };
}

/**
 * Answer head in CCF order: `< Session-Id > [ DRMP ] { Vendor-Specific-Application-Id }
 * [ Result-Code ] [ Experimental-Result ] { Auth-Session-State } { Origin-Host } { Origin-Realm }`.
 */
export function answerHead(a: CxAnswerInput<CxAnswerCommon>, request: DiameterMessage): Avp[] {
  const out: Avp[] = [avp('Session-Id', a.sessionId ?? sessionIdOf(request))];
  if (a.drmp !== undefined) out.push(avp('DRMP', a.drmp));
  out.push(CX_VSAI, resultAvp(a.result), NO_STATE, avp('Origin-Host', a.originHost), avp('Origin-Realm', a.originRealm));
  return out;
}

/** Answer tail: `*[ AVP ] [ Error-Message ] [ Failed-AVP ] *[ Proxy-Info ]` (the request's Proxy-Info unless `a` sets its own, RFC 6733 §6.2). */
export function answerTail(a: CxAnswerInput<CxAnswerCommon>, request: DiameterMessage): Avp[] {
  const out = [...(a.extraAvps ?? [])];
  if (a.errorMessage !== undefined) out.push(avp('Error-Message', a.errorMessage));
  if (a.failedAvps && a.failedAvps.length > 0) out.push(avp('Failed-AVP', a.failedAvps));
  out.push(...(a.proxyInfo ?? proxyInfoOf(request) ?? []));
  return out;
}

/**
 * Wraps AVPs into the answer to `request` (RFC 6733 §6.2: same identifiers, Proxy-Info copied
 * from the request when the answer sets none).
 */
export function cxAnswer(request: DiameterMessage, avps: Avp[]): DiameterMessage {
  return { ...answerHeaderFor(request), avps };
}

/**
 * Checks that `m` is the Cx request or answer `commandCode`.
 * @throws DiameterAvpError with 3001 DIAMETER_COMMAND_UNSUPPORTED (wrong command) or 3007
 *   DIAMETER_APPLICATION_UNSUPPORTED (wrong application).
 */
export function expectCommand(m: DiameterMessage, commandCode: number, request: boolean, name: string): void {
  if (m.commandCode !== commandCode || isRequest(m) !== request) {
    throw new DiameterAvpError(`expected ${name} (${commandCode}, ${request ? 'request' : 'answer'}), got command ${m.commandCode} ${isRequest(m) ? 'request' : 'answer'}`, 3001);
  }
  if (m.applicationId !== CX_APPLICATION_ID) {
    throw new DiameterAvpError(`${name}: Application-ID ${m.applicationId} is not Cx (${CX_APPLICATION_ID})`, 3007);
  }
}

/** Reads the common request head fields. */
export function readRequestCommon(r: AvpReader): Omit<CxRequestCommon, 'extraAvps'> {
  const sessionId = r.req('Session-Id');
  const drmp = r.opt('DRMP');
  r.allRaw('Vendor-Specific-Application-Id');
  r.opt('Auth-Session-State');
  const out: Omit<CxRequestCommon, 'extraAvps'> = {
    sessionId,
    originHost: r.req('Origin-Host'),
    originRealm: r.req('Origin-Realm'),
    destinationRealm: r.req('Destination-Realm'),
  };
  const dh = r.opt('Destination-Host');
  if (dh !== undefined) out.destinationHost = dh;
  if (drmp !== undefined) out.drmp = drmp;
  return out;
}

/** Reads the common request tail (after the command's own AVPs). */
export function readRequestTail(r: AvpReader, into: CxRequestCommon): void {
  const sf = r.all('Supported-Features');
  if (sf.length) into.supportedFeatures = sf.map(parseSupportedFeatures);
  const pi = r.allRaw('Proxy-Info');
  if (pi.length) into.proxyInfo = pi;
  const rr = r.all('Route-Record');
  if (rr.length) into.routeRecord = rr;
  const rest = r.rest();
  if (rest.length) into.extraAvps = rest;
}

/** Reads the common answer head fields. */
export function readAnswerCommon(r: AvpReader): Omit<CxAnswerCommon, 'extraAvps'> {
  const sessionId = r.req('Session-Id');
  const drmp = r.opt('DRMP');
  r.allRaw('Vendor-Specific-Application-Id');
  r.opt('Auth-Session-State');
  const out: Omit<CxAnswerCommon, 'extraAvps'> = { sessionId, result: r.result(), originHost: r.req('Origin-Host'), originRealm: r.req('Origin-Realm') };
  if (drmp !== undefined) out.drmp = drmp;
  return out;
}

/** Reads the common answer tail. */
export function readAnswerTail(r: AvpReader, into: CxAnswerCommon): void {
  const sf = r.all('Supported-Features');
  if (sf.length) into.supportedFeatures = sf.map(parseSupportedFeatures);
  const em = r.opt('Error-Message');
  if (em !== undefined) into.errorMessage = em;
  const fa = r.all('Failed-AVP');
  if (fa.length) into.failedAvps = fa.flat();
  const pi = r.allRaw('Proxy-Info');
  if (pi.length) into.proxyInfo = pi;
  r.allRaw('Route-Record');
  const rest = r.rest();
  if (rest.length) into.extraAvps = rest;
}

/** Proxy-Info of the request, to copy into an answer (RFC 6733 §6.2 step 4). */
export function proxyInfoOf(request: DiameterMessage): Avp[] | undefined {
  const pi = findAvps(request.avps, 'Proxy-Info');
  return pi.length ? pi : undefined;
}

/** Session-Id of a request (for answers). */
export function sessionIdOf(request: DiameterMessage): string {
  const a = findAvp(request.avps, 'Session-Id');
  if (!a) throw new DiameterAvpError('request has no Session-Id', 5005, 'Session-Id', missingAvpExample('Session-Id'));
  return valueOf(a, 'Session-Id');
}
