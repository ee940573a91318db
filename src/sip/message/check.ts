/**
 * What a server element checks before it processes a request (RFC 3261 §8.2 for a UAS,
 * §16.3 for a proxy, §10.3 for a registrar), returned as the error response to send rather
 * than thrown (STYLE §4), and syntax checks of header fields: {@link validateCore} for the fields
 * every element reads (what a transport checks on every message; a response that fails it is
 * dropped, RFC 4475 §3.1.2.5), {@link validateMessage} for every field the stack has a codec for.
 *
 * RFC 3261 §16.3 step 1 ("Reasonable Syntax"): "An element MUST NOT refuse to proxy a request
 * because it contains a method or header field it does not know about", and "Any other
 * components, well-formed or not, SHOULD be ignored and remain unchanged when the message is
 * forwarded. For instance, an element would not reject a request because of a malformed Date
 * header field." RFC 4475 §3.1.2.12 (baddate) says the same of a UAS: "an element shouldn't do
 * that unless the contents of the Date header field were actually important to its processing".
 * So an element checks the core here and every other field where it reads it: the typed
 * accessors throw {@link SipParseError} naming the field, and the stack answers that with 400
 * ({@link parseFailureAnswer}: 502 when the field was a downstream response's).
 */
import { SipParseError } from './errors.js';
import type { SipMessage, SipRequest } from './message.js';
import { headerKey } from './sip-headers.js';
import { parseUri } from '../headers/uri.js';
import { parseViaList } from '../headers/via.js';
import { parseNameAddr } from '../headers/name-addr.js';
import { parseContact } from '../headers/contact.js';
import {
  parseAllow, parseCSeq, parseCallId, parseExpires, parseMaxForwards, parseOptionTags, parsePrivacy, parseSipDate,
} from '../headers/simple.js';
import { parsePAssertedIdentity, parsePAssociatedUri, parsePPreferredIdentity, parseRoute } from '../headers/routing.js';
import { parsePAccessNetworkInfo, parsePChargingVector, parsePVisitedNetworkId } from '../headers/ims.js';
import { contentTypeOf, expiresOf } from '../headers/accessors.js';
import { mediaType, parseContentType, parseEvent, parseSubscriptionState, parseWarning } from '../headers/misc.js';

/** Header fields that may appear at most once (RFC 3261 §7.3.1, RFC 4475 §3.3.8). */
export const SINGLE_HEADERS: ReadonlySet<string> = new Set([
  'from', 'to', 'call-id', 'cseq', 'max-forwards', 'content-type', 'expires', 'min-expires', 'date',
  'event', 'subscription-state', 'p-charging-vector', 'privacy', 'content-length',
]);

const VALIDATORS: Record<string, (v: string, name: string) => unknown> = {
  via: (v) => parseViaList(v),
  from: (v) => parseNameAddr(v, 'From'),
  to: (v) => parseNameAddr(v, 'To'),
  'call-id': (v) => parseCallId(v),
  cseq: (v) => parseCSeq(v),
  'max-forwards': (v) => parseMaxForwards(v),
  contact: (v) => parseContact(v),
  expires: (v) => parseExpires(v),
  'min-expires': (v) => parseExpires(v, 'Min-Expires'),
  route: (v) => parseRoute(v, 'Route'),
  'record-route': (v) => parseRoute(v, 'Record-Route'),
  path: (v) => parseRoute(v, 'Path'),
  'service-route': (v) => parseRoute(v, 'Service-Route'),
  require: (v) => parseOptionTags(v, 'Require'),
  'proxy-require': (v) => parseOptionTags(v, 'Proxy-Require'),
  supported: (v) => parseOptionTags(v, 'Supported'),
  unsupported: (v) => parseOptionTags(v, 'Unsupported'),
  allow: (v) => parseAllow(v),
  'content-type': (v) => parseContentType(v),
  date: (v) => parseSipDate(v),
  'p-associated-uri': (v) => parsePAssociatedUri(v),
  'p-asserted-identity': (v) => parsePAssertedIdentity(v),
  'p-preferred-identity': (v) => parsePPreferredIdentity(v),
  privacy: (v) => parsePrivacy(v),
  'p-visited-network-id': (v) => parsePVisitedNetworkId(v),
  'p-access-network-info': (v) => parsePAccessNetworkInfo(v),
  'p-charging-vector': (v) => parsePChargingVector(v),
  event: (v) => parseEvent(v),
  'subscription-state': (v) => parseSubscriptionState(v),
  warning: (v) => parseWarning(v),
};

/** Per known field: its bit among the single-valued fields (0 when it may repeat) and its validator. */
const RULES: ReadonlyMap<string, { once: number; validate?: (v: string, name: string) => unknown }> = (() => {
  const m = new Map<string, { once: number; validate?: (v: string, name: string) => unknown }>();
  for (const [key, validate] of Object.entries(VALIDATORS)) m.set(key, { once: 0, validate });
  let bit = 1;
  for (const key of SINGLE_HEADERS) {
    m.set(key, { once: bit, validate: VALIDATORS[key] });
    bit <<= 1;
  }
  return m;
})();

/**
 * The header fields every element reads whatever its role, and so checks on every message: the
 * transport and transaction layers match and answer by Via, From, To, Call-ID and CSeq (RFC 3261
 * §17.1.3, §17.2.3, §18.2.2), a proxy routes by Route and Max-Forwards (§16.4, §16.6 step 3), and
 * Content-Length frames the body (§18.3).
 */
export const CORE_HEADERS: ReadonlySet<string> = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'max-forwards', 'route', 'content-length']);

const CORE_RULES: typeof RULES = new Map([...RULES].filter(([key]) => CORE_HEADERS.has(key)));

/**
 * Parses every header field this module has a codec for and checks single-valued fields appear
 * once and Content-Length matches the body. Unknown header fields are not checked (RFC 4475
 * §3.1.1.1). Throws the first {@link SipParseError}, whose `header` names the field. A strict
 * check for tools; an element checks only {@link validateCore} up front (§16.3 step 1).
 */
export function validateMessage(msg: SipMessage): void {
  validateWith(msg, RULES);
}

/**
 * The syntax an element checks before it processes a message, whatever its role: the
 * {@link CORE_HEADERS} parse and appear once where they must (RFC 4475 §3.3.8), Content-Length
 * matches the body, and a request's Request-URI parses without headers. Other fields are left to
 * the element that reads them (RFC 3261 §16.3 step 1). Throws the first {@link SipParseError}.
 */
export function validateCore(msg: SipMessage): void {
  validateWith(msg, CORE_RULES);
}

function validateWith(msg: SipMessage, rules: typeof RULES): void {
  // One lookup per field: its validator and, for a single-valued field, its bit in `seen`.
  let seen = 0;
  const h = msg.headers;
  for (let i = 0; i < h.size; i++) {
    const key = h._key(i);
    const rule = rules.get(key);
    if (rule === undefined) continue;
    if (rule.once !== 0) {
      if ((seen & rule.once) !== 0) throw new SipParseError(`more than one ${canonical(key)}`, 0, { header: canonical(key) });
      seen |= rule.once;
    }
    if (key === 'content-length') {
      const v = h._value(i);
      if (!/^[0-9]{1,15}$/.test(v) || +v !== msg.body.length) throw new SipParseError('Content-Length does not match the body', 0, { header: h._name(i) });
      continue;
    }
    rule.validate?.(h._value(i), h._name(i));
  }
  if (msg.kind === 'request') {
    const u = parseUri(msg.uri, 'Request-URI');
    if (u.kind === 'sip' && u.headers.length) throw new SipParseError('headers are not allowed in a Request-URI', msg.uri.indexOf('?'), { header: 'Request-URI' });
  }
}

function canonical(key: string): string {
  return key.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase()).replace(/^Call-Id$/, 'Call-ID').replace(/^Cseq$/, 'CSeq');
}

/** The response a server element should send instead of processing the request. */
export interface RequestCheckFailure {
  status: number;
  reason: string;
  /** Header fields the response must carry (Unsupported for 420, Allow for 405/501, Accept for 415). */
  headers?: [string, string][];
  /** Why, for logs (names the header; never a value). */
  detail: string;
}

export interface CheckRequestOptions {
  /**
   * Which element checks: a `proxy` looks at Proxy-Require and Max-Forwards (§16.3), a `uas`
   * or `registrar` at Require (§8.2.2.3); a registrar also checks the To URI (§10.3).
   * Default `uas`.
   */
  role?: 'uas' | 'proxy' | 'registrar';
  /** Request-URI schemes served (default sip, sips, tel); others get 416 (§8.2.2.1, §16.3 step 2). */
  uriSchemes?: readonly string[];
  /** Option tags understood (default none); unknown tags in Require / Proxy-Require get 420. */
  supported?: readonly string[];
  /** Methods a UAS implements; when given, others get 405 (known methods) or 501 (§8.2.1). */
  methods?: readonly string[];
  /** Body types a UAS accepts; when given, another Content-Type gets 415 (§8.2.3). */
  contentTypes?: readonly string[];
  /** Treat a missing Max-Forwards as an error (default false: §16.3 step 3 and RFC 4475 §3.4.1 accept it). */
  requireMaxForwards?: boolean;
}

/** Methods of RFC 3261 and its extensions (used to tell 405 from 501). */
export const KNOWN_METHODS: readonly string[] = [
  'INVITE', 'ACK', 'BYE', 'CANCEL', 'OPTIONS', 'REGISTER', 'PRACK', 'SUBSCRIBE', 'NOTIFY', 'PUBLISH', 'INFO', 'REFER', 'MESSAGE', 'UPDATE',
];

const fail = (status: number, reason: string, detail: string, headers?: [string, string][]): RequestCheckFailure =>
  headers ? { status, reason, detail, headers } : { status, reason, detail };

/**
 * The checks of RFC 3261 §8.2 / §16.3 / §10.3 in order; `null` when the request may be
 * processed. Steps:
 * 1. SIP-Version other than 2.0 → 505 (RFC 4475 §3.1.2.16).
 * 2. The core header fields and the Request-URI parse, single-valued ones appear once,
 *    Content-Length matches the body ({@link validateCore}) → else 400 naming the field (§16.3
 *    step 1, RFC 4475 §3.1.2, §3.3.8). Every other field is parsed by the step that reads it
 *    (Require or Proxy-Require, Content-Type, a registrar's Contact and Expires) and only then:
 *    a malformed field the element does not read is not a reason to refuse (§16.3 step 1,
 *    RFC 4475 §3.1.2.12). A field that fails where it is read gets 400 naming it.
 * 3. To, From, Call-ID, CSeq and Via present (§8.1.1) → else 400 (RFC 4475 §3.3.1).
 * 4. CSeq method equals the request method → else 400, or 501 for a method not known (RFC 4475 §3.1.2.17-18).
 * 5. Request-URI scheme served → else 416 (RFC 4475 §3.3.2, §3.3.3).
 * 6. Proxy: Max-Forwards 0 → 483 (§16.3 step 3, RFC 4475 §3.3.11).
 * 7. Require (UAS, registrar; not for ACK/CANCEL) or Proxy-Require (proxy) with unknown tags →
 *    420 with Unsupported (§8.2.2.3, §16.3 step 5, RFC 4475 §3.3.5).
 * 8. UAS: method implemented (405/501 with Allow), body type accepted (415 with Accept),
 *    an INVITE whose Accept excludes SDP (406, RFC 4475 §3.3.15).
 * 9. Registrar: the To URI of a REGISTER is SIP or SIPS (§10.3 step 5; RFC 4475 §3.3.4), and
 *    Contact `*` comes with Expires 0 alone (§10.3 step 6).
 */
export function checkRequest(req: SipRequest, opts: CheckRequestOptions = {}): RequestCheckFailure | null {
  // 1.
  if (req.version.toUpperCase() !== 'SIP/2.0') return fail(505, 'Version Not Supported', `SIP-Version ${req.version}`);
  try {
    return checkSteps(req, opts);
  } catch (e) {
    const bad = badField(e);
    if (bad) return bad;
    throw e;
  }
}

/**
 * The 400 for a header field that does not parse where it is read (RFC 3261 §16.3 step 1, §8.2;
 * RFC 4475 §3.1.2): "Bad <field>", the parser's reason as detail. `undefined` for any other error.
 */
export function badField(e: unknown): RequestCheckFailure | undefined {
  if (!(e instanceof SipParseError)) return undefined;
  const hdr = e.header ?? 'message';
  return fail(400, `Bad ${hdr}`, `${hdr}: ${e.reason}`);
}

/**
 * What to answer when the element processing `req` threw `e` (`undefined` when `e` is no
 * {@link SipParseError}): the request's fault — 400 naming the field (§16.3 step 1) — only when
 * `req` carries that field malformed; otherwise what failed to parse came from elsewhere, in
 * practice a response from downstream: 502 Bad Gateway, "received an invalid response from the
 * downstream server it accessed in attempting to fulfill the request" (RFC 3261 §21.5.3).
 */
export function parseFailureAnswer(e: unknown, req: SipRequest): RequestCheckFailure | undefined {
  if (!(e instanceof SipParseError)) return undefined;
  if (e.header === 'Request-URI' || (e.header !== undefined && hasMalformed(req, e.header))) return badField(e);
  return fail(502, 'Bad Gateway', `a message it received: ${e.header ?? 'message'}: ${e.reason}`);
}

/** Whether `req` carries header field `name` malformed: by its codec here, else (the element's own codec refused it) when present. */
function hasMalformed(req: SipRequest, name: string): boolean {
  const lines = req.headers.getLines(name);
  if (lines.length === 0) return false;
  const key = headerKey(name);
  const rule = RULES.get(key);
  if (rule?.validate === undefined) return true;
  if (rule.once !== 0 && lines.length > 1) return true;
  // RFC 3261 §10.2.2: Contact `*` must be alone.
  if (key === 'contact' && lines.length > 1 && lines.some((l) => l.trim() === '*')) return true;
  try {
    for (const l of lines) rule.validate(l, name);
  } catch (x) {
    if (x instanceof SipParseError) return true;
    throw x;
  }
  return false;
}

function checkSteps(req: SipRequest, opts: CheckRequestOptions): RequestCheckFailure | null {
  const role = opts.role ?? 'uas';
  const h = req.headers;
  // 2.
  validateCore(req);
  // 3.
  for (const m of ['To', 'From', 'Call-ID', 'CSeq', 'Via']) {
    if (!h.has(m)) return fail(400, `Missing ${m}`, `missing mandatory header ${m}`);
  }
  if (opts.requireMaxForwards && !h.has('Max-Forwards')) return fail(400, 'Missing Max-Forwards', 'missing mandatory header Max-Forwards');
  // 4.
  const cseq = parseCSeq(h.get('cseq')!);
  if (cseq.method !== req.method) {
    if (!KNOWN_METHODS.includes(req.method)) return fail(501, 'Not Implemented', `unknown method ${req.method} (CSeq method differs)`);
    return fail(400, 'CSeq Method Mismatch', 'CSeq method differs from the request method');
  }
  // 5.
  const uri = parseUri(req.uri, 'Request-URI');
  const schemes = opts.uriSchemes ?? ['sip', 'sips', 'tel'];
  if (!schemes.includes(uri.scheme)) return fail(416, 'Unsupported URI Scheme', `Request-URI scheme ${uri.scheme}`);
  // 6.
  const mf = h.get('max-forwards');
  if (role === 'proxy' && mf !== undefined && parseMaxForwards(mf) === 0) return fail(483, 'Too Many Hops', 'Max-Forwards is 0');
  // 7.
  const supported = opts.supported ?? [];
  const tagsHeader = role === 'proxy' ? 'Proxy-Require' : 'Require';
  if (role === 'proxy' || (req.method !== 'ACK' && req.method !== 'CANCEL')) {
    const unknown = h.getLines(tagsHeader).flatMap((l) => parseOptionTags(l, tagsHeader)).filter((t) => !supported.includes(t));
    if (unknown.length) return fail(420, 'Bad Extension', `unsupported ${tagsHeader} option tags`, [['Unsupported', unknown.join(', ')]]);
  }
  // 8.
  if (role === 'uas') {
    if (opts.methods && !opts.methods.includes(req.method) && req.method !== 'ACK') {
      const allow: [string, string][] = [['Allow', opts.methods.join(', ')]];
      return KNOWN_METHODS.includes(req.method)
        ? fail(405, 'Method Not Allowed', `method ${req.method} not allowed`, allow)
        : fail(501, 'Not Implemented', `method ${req.method} not implemented`, allow);
    }
    const ct = opts.contentTypes && req.body.length > 0 ? contentTypeOf(req) : undefined;
    if (opts.contentTypes && ct !== undefined) {
      const type = mediaType(ct);
      if (!opts.contentTypes.map((t) => t.toLowerCase()).includes(type)) {
        return fail(415, 'Unsupported Media Type', `body type ${type}`, [['Accept', opts.contentTypes.join(', ')]]);
      }
    }
    const accept = h.getAll('accept');
    if (req.method === 'INVITE' && h.has('accept') && !accept.some((a) => /^(application\/sdp|application\/\*|\*\/\*)\s*(;|$)/i.test(a))) {
      return fail(406, 'Not Acceptable', 'Accept excludes application/sdp');
    }
  }
  // 9.
  if (role === 'registrar' && req.method === 'REGISTER') {
    const to = parseNameAddr(h.get('to')!, 'To');
    if (to.uri.kind !== 'sip') return fail(400, 'Bad To', 'the address-of-record must be a SIP or SIPS URI');
    // The registrar reads Contact and Expires (§10.3 steps 6-7).
    const contacts = h.getLines('contact');
    const star = contacts.map((c) => parseContact(c)).some((c) => c === '*');
    const expires = expiresOf(req);
    if (star && (contacts.length > 1 || expires !== 0)) return fail(400, 'Invalid Contact', 'Contact * needs Expires: 0 and no other Contact');
  }
  return null;
}
