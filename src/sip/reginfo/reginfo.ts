/**
 * The registration event package body, `application/reginfo+xml` (RFC 3680 §5.3–§5.4), as the
 * S-CSCF sends it in reg-event NOTIFYs (TS 24.229 §5.4.2.1.2) and the UE and P-CSCF read it
 * (TS 24.229 §5.1.1.3, §5.2.3). Pure codec: {@link encodeReginfo} / {@link decodeReginfo}.
 *
 * ```
 * <reginfo xmlns="urn:ietf:params:xml:ns:reginfo" version="0" state="full">
 *   <registration aor="sip:user@example.com" id="a7" state="active">
 *     <contact id="76" state="active" event="registered" expires="600" duration-registered="0">
 *       <uri>sip:user@192.0.2.1:5060</uri>
 *       <display-name xml:lang="en">User</display-name>
 *       <unknown-param name="+sip.instance">"&lt;urn:uuid:…&gt;"</unknown-param>
 *     </contact>
 *   </registration>
 * </reginfo>
 * ```
 * reginfo: version (nonNegativeInteger, required), state full|partial (required).
 * registration: aor (anyURI), id, state init|active|terminated (all required), contact*.
 * contact: id, state active|terminated, event registered|created|refreshed|shortened|expired|
 * deactivated|probation|unregistered|rejected (required); expires, duration-registered,
 * retry-after (unsignedLong), q, callid, cseq (optional); children uri (required),
 * display-name, unknown-param*. Elements and attributes of other namespaces are skipped.
 */
import { XmlParseError, attr, childElement, childElements, escapeXml, localName, parseXml, textOf, type XmlElement } from '../../xml/index.js';

export const REGINFO_NAMESPACE = 'urn:ietf:params:xml:ns:reginfo';
export const REGINFO_CONTENT_TYPE = 'application/reginfo+xml';

export const REGISTRATION_STATES = ['init', 'active', 'terminated'] as const;
export type ReginfoRegistrationState = (typeof REGISTRATION_STATES)[number];

export const CONTACT_STATES = ['active', 'terminated'] as const;
export type ReginfoContactState = (typeof CONTACT_STATES)[number];

/** RFC 3680 §5.2 contact events. */
export const CONTACT_EVENTS = ['registered', 'created', 'refreshed', 'shortened', 'expired', 'deactivated', 'probation', 'unregistered', 'rejected'] as const;
export type ReginfoContactEvent = (typeof CONTACT_EVENTS)[number];

export interface ReginfoUnknownParam {
  name: string;
  value: string;
}

export interface ReginfoContact {
  id: string;
  state: ReginfoContactState;
  event: ReginfoContactEvent;
  uri: string;
  /** Seconds left (TS 24.229 always sends it; with event "shortened" it is the new, short value). */
  expires?: number;
  durationRegistered?: number;
  retryAfter?: number;
  q?: string;
  callId?: string;
  cseq?: number;
  displayName?: string;
  displayNameLang?: string;
  unknownParams?: ReginfoUnknownParam[];
}

export interface ReginfoRegistration {
  aor: string;
  id: string;
  state: ReginfoRegistrationState;
  contacts: ReginfoContact[];
}

export interface Reginfo {
  version: number;
  state: 'full' | 'partial';
  registrations: ReginfoRegistration[];
}

function fail(msg: string): never {
  throw new XmlParseError(`reginfo: ${msg}`, 0);
}

function oneOf<T extends string>(values: readonly T[], v: string | undefined, what: string): T {
  if (v === undefined) fail(`missing ${what}`);
  if (!(values as readonly string[]).includes(v)) fail(`bad ${what} ${JSON.stringify(v.slice(0, 40))}`);
  return v as T;
}

function required(e: XmlElement, name: string): string {
  const v = attr(e, name);
  if (v === undefined) fail(`<${localName(e.name)}> without ${name}`);
  return v;
}

/** xs:nonNegativeInteger / xs:unsignedLong, kept within the safe integer range. */
function uint(v: string | undefined, what: string): number | undefined {
  if (v === undefined) return undefined;
  const t = v.trim();
  if (!/^[0-9]{1,15}$/.test(t)) fail(`bad ${what} ${JSON.stringify(v.slice(0, 40))}`);
  return Number(t);
}

function decodeContact(e: XmlElement): ReginfoContact {
  const uriEl = childElement(e, 'uri');
  if (!uriEl) fail('<contact> without <uri>');
  const c: ReginfoContact = {
    id: required(e, 'id'),
    state: oneOf(CONTACT_STATES, attr(e, 'state'), 'contact state'),
    event: oneOf(CONTACT_EVENTS, attr(e, 'event'), 'contact event'),
    uri: textOf(uriEl).trim(),
  };
  if (c.uri === '') fail('<uri> is empty');
  const expires = uint(attr(e, 'expires'), 'expires');
  if (expires !== undefined) c.expires = expires;
  const dr = uint(attr(e, 'duration-registered'), 'duration-registered');
  if (dr !== undefined) c.durationRegistered = dr;
  const ra = uint(attr(e, 'retry-after'), 'retry-after');
  if (ra !== undefined) c.retryAfter = ra;
  const q = attr(e, 'q');
  if (q !== undefined) c.q = q;
  const callId = attr(e, 'callid');
  if (callId !== undefined) c.callId = callId;
  const cseq = uint(attr(e, 'cseq'), 'cseq');
  if (cseq !== undefined) c.cseq = cseq;
  const dn = childElement(e, 'display-name');
  if (dn) {
    c.displayName = textOf(dn);
    const lang = attr(dn, 'xml:lang');
    if (lang !== undefined) c.displayNameLang = lang;
  }
  const ups = childElements(e, 'unknown-param').map((u) => ({ name: required(u, 'name'), value: textOf(u) }));
  if (ups.length) c.unknownParams = ups;
  return c;
}

/** Decodes a reginfo document. @throws XmlParseError (code XML_PARSE) for bad XML or a document RFC 3680's schema refuses. */
export function decodeReginfo(input: string | Uint8Array): Reginfo {
  const root = parseXml(input);
  if (localName(root.name) !== 'reginfo') fail(`root element is <${root.name}>, not <reginfo>`);
  const version = uint(attr(root, 'version'), 'version');
  if (version === undefined) fail('<reginfo> without version');
  return {
    version,
    state: oneOf(['full', 'partial'] as const, attr(root, 'state'), 'reginfo state'),
    registrations: childElements(root, 'registration').map((r) => ({
      aor: required(r, 'aor').trim(),
      id: required(r, 'id'),
      state: oneOf(REGISTRATION_STATES, attr(r, 'state'), 'registration state'),
      contacts: childElements(r, 'contact').map(decodeContact),
    })),
  };
}

function a(name: string, v: string | number | undefined): string {
  return v === undefined ? '' : ` ${name}="${escapeXml(String(v))}"`;
}

function checkUint(v: number | undefined, what: string): void {
  if (v !== undefined && !(Number.isSafeInteger(v) && v >= 0 && v < 1e15)) throw new XmlParseError(`reginfo: ${what} must be a non-negative integer`, 0);
}

/** The document as text (UTF-8 declared). */
export function formatReginfo(r: Reginfo): string {
  checkUint(r.version, 'version');
  const out = [`<?xml version="1.0" encoding="UTF-8"?>`, `<reginfo xmlns="${REGINFO_NAMESPACE}"${a('version', r.version)}${a('state', r.state)}>`];
  for (const reg of r.registrations) {
    out.push(`  <registration${a('aor', reg.aor)}${a('id', reg.id)}${a('state', reg.state)}>`);
    for (const c of reg.contacts) {
      for (const [v, w] of [[c.expires, 'expires'], [c.durationRegistered, 'duration-registered'], [c.retryAfter, 'retry-after'], [c.cseq, 'cseq']] as const) checkUint(v, w);
      if (c.uri.trim() === '' || c.uri !== c.uri.trim()) throw new XmlParseError('reginfo: contact uri must be non-empty without surrounding white space', 0);
      out.push(
        `    <contact${a('id', c.id)}${a('state', c.state)}${a('event', c.event)}${a('expires', c.expires)}${a('duration-registered', c.durationRegistered)}` +
          `${a('retry-after', c.retryAfter)}${a('q', c.q)}${a('callid', c.callId)}${a('cseq', c.cseq)}>`,
      );
      out.push(`      <uri>${escapeXml(c.uri)}</uri>`);
      if (c.displayName !== undefined) out.push(`      <display-name${a('xml:lang', c.displayNameLang)}>${escapeXml(c.displayName)}</display-name>`);
      for (const p of c.unknownParams ?? []) out.push(`      <unknown-param${a('name', p.name)}>${escapeXml(p.value)}</unknown-param>`);
      out.push('    </contact>');
    }
    out.push('  </registration>');
  }
  out.push('</reginfo>', '');
  return out.join('\n');
}

/** The document as UTF-8 bytes, ready for a SIP body. */
export function encodeReginfo(r: Reginfo): Uint8Array {
  return new TextEncoder().encode(formatReginfo(r));
}
