/**
 * The header fields of a SIP message, in order, with their raw (unfolded) values
 * (RFC 3261 §7.3). Names compare case-insensitively and compact forms stand for their long
 * forms (§7.3.3); values are kept as received and parsed into typed values only on demand
 * (src/sip/headers/).
 */
import { InvalidArgumentError } from '../../common/index.js';
import { trimWs } from './chars.js';

/**
 * Compact forms: RFC 3261 §7.3.3 (i m e l c f s k t v) and later registrations in the IANA
 * SIP parameters registry (o u: RFC 6665, r: RFC 3515, b: RFC 3892, x: RFC 4028,
 * y n: RFC 4474, a j d: RFC 3841).
 */
export const COMPACT_FORMS: Readonly<Record<string, string>> = Object.freeze({
  i: 'Call-ID',
  m: 'Contact',
  e: 'Content-Encoding',
  l: 'Content-Length',
  c: 'Content-Type',
  f: 'From',
  s: 'Subject',
  k: 'Supported',
  t: 'To',
  v: 'Via',
  o: 'Event',
  u: 'Allow-Events',
  r: 'Refer-To',
  b: 'Referred-By',
  x: 'Session-Expires',
  y: 'Identity',
  n: 'Identity-Info',
  a: 'Accept-Contact',
  j: 'Reject-Contact',
  d: 'Request-Disposition',
});

const COMPACT_KEYS = Object.create(null) as Record<string, string>;
for (const [k, v] of Object.entries(COMPACT_FORMS)) COMPACT_KEYS[k] = v.toLowerCase();

/**
 * Header fields whose grammar is a comma-separated list (`1#` or `#` in RFC 3261 §25 and the
 * extensions), so several values may share one line. Headers not listed here, including every
 * unknown header (RFC 4475 §3.1.1.1), are never split: WWW-Authenticate, Authorization, Date,
 * Call-ID and the rest carry commas that are not list separators.
 */
export const LIST_HEADERS: ReadonlySet<string> = new Set([
  'via', 'contact', 'route', 'record-route', 'path', 'service-route',
  'require', 'proxy-require', 'supported', 'unsupported', 'allow', 'allow-events',
  'accept', 'accept-encoding', 'accept-language', 'alert-info', 'call-info', 'error-info',
  'content-encoding', 'content-language', 'in-reply-to', 'warning', 'reason',
  'p-associated-uri', 'p-asserted-identity', 'p-preferred-identity', 'p-visited-network-id',
  'p-access-network-info', 'p-media-authorization', 'p-early-media', 'p-called-party-id-list',
  'security-client', 'security-server', 'security-verify',
  'accept-contact', 'reject-contact', 'request-disposition', 'history-info',
  'geolocation', 'feature-caps', 'recv-info', 'resource-priority', 'accept-resource-priority',
  'diversion', 'permission-missing', 'trigger-consent', 'policy-contact', 'user-to-user',
]);

const keyCache = new Map<string, string>();

/**
 * Header names as usually spelled, looked up by (length, first character) and compared with
 * `===`: no string hashing on the parser's hot path.
 */
const COMMON_NAMES = [
  'Via', 'From', 'To', 'Call-ID', 'Call-Id', 'CSeq', 'Max-Forwards', 'Contact', 'Content-Length', 'Content-Type', 'Expires',
  'Route', 'Record-Route', 'Path', 'Service-Route', 'Require', 'Proxy-Require', 'Supported', 'Unsupported', 'Allow', 'Allow-Events',
  'Accept', 'Accept-Encoding', 'Accept-Language', 'User-Agent', 'Server', 'Date', 'Subject', 'Event', 'Subscription-State',
  'Authorization', 'Proxy-Authorization', 'WWW-Authenticate', 'Proxy-Authenticate', 'Authentication-Info', 'Min-Expires',
  'Security-Client', 'Security-Server', 'Security-Verify', 'P-Access-Network-Info', 'P-Associated-URI', 'P-Asserted-Identity',
  'P-Preferred-Identity', 'P-Charging-Vector', 'P-Charging-Function-Addresses', 'P-Visited-Network-ID', 'Privacy', 'Timestamp',
  'Warning', 'Reason', 'Refer-To', 'Referred-By', 'Session-Expires', 'Min-SE', 'RSeq', 'RAck', 'Retry-After', 'Organization',
  'Content-Disposition', 'Content-Encoding', 'Record-Route', 'History-Info', 'Accept-Contact', 'Reject-Contact', 'Identity',
  'P-Called-Party-ID', 'P-Served-User', 'P-Early-Media', 'Feature-Caps', 'Recv-Info', 'Geolocation', 'Alert-Info', 'Call-Info',
  'v', 'f', 't', 'i', 'm', 'l', 'c', 'k', 's', 'e', 'o', 'u', 'r', 'b', 'x', 'y', 'a', 'j', 'd', 'n',
];
const FAST: ([string, string][] | undefined)[] = [];
for (const n of COMMON_NAMES) {
  for (const spelling of new Set([n, n.toLowerCase()])) {
    const slot = spelling.length * 128 + spelling.charCodeAt(0);
    const list = (FAST[slot] ??= []);
    if (!list.some(([x]) => x === spelling)) list.push([spelling, spelling.length === 1 ? (COMPACT_KEYS[spelling] ?? spelling) : n.toLowerCase()]);
  }
}

/** @internal The key of a header name spelled as commonly written (`Via`, `via`, `v`), else ''. */
export function knownHeaderKey(name: string): string {
  return knownHeaderEntry(name)?.[1] ?? '';
}

/** The [spelling, key] of a header name spelled as one of the known spellings (the table's own strings). */
export function knownHeaderEntry(name: string): readonly [spelling: string, key: string] | undefined {
  const len = name.length;
  if (len < 64) {
    const c = name.charCodeAt(0);
    if (c < 128) {
      const list = FAST[len * 128 + c];
      if (list !== undefined) for (let i = 0; i < list.length; i++) if (list[i][0] === name) return list[i];
    }
  }
  return undefined;
}

/** The lower-case long name a header name stands for: `v` and `VIA` both give `via`. */
export function headerKey(name: string): string {
  const known = knownHeaderKey(name);
  if (known !== '') return known;
  const hit = keyCache.get(name);
  if (hit !== undefined) return hit;
  const lower = name.toLowerCase();
  const key = lower.length === 1 ? (COMPACT_KEYS[lower] ?? lower) : lower;
  if (keyCache.size < 2048) keyCache.set(name, key);
  return key;
}

/** True when the header's values form a comma-separated list. */
export function isListHeader(name: string): boolean {
  return LIST_HEADERS.has(headerKey(name));
}

/**
 * Splits a list header value at the commas that separate values: commas inside a
 * quoted-string (with quoted-pairs) or inside `<...>` do not count. Values are trimmed; empty
 * values are dropped (use the typed codecs for strict grammar checks).
 */
export function splitList(value: string): string[] {
  if (value.indexOf(',') === -1) {
    const t = trimWs(value);
    return t ? [t] : [];
  }
  const out: string[] = [];
  let start = 0;
  let quoted = false;
  let angle = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (quoted) {
      if (c === 0x5c) i++;
      else if (c === 0x22) quoted = false;
    } else if (c === 0x22) quoted = true;
    else if (c === 0x3c) angle = true;
    else if (c === 0x3e) angle = false;
    else if (c === 0x2c && !angle) {
      const t = trimWs(value.slice(start, i));
      if (t) out.push(t);
      start = i + 1;
    }
  }
  const t = trimWs(value.slice(start));
  if (t) out.push(t);
  return out;
}

/** One header field as it appears in the message. */
export interface SipHeaderEntry {
  /** The name as received (or as given), e.g. `v` or `VIA`. */
  name: string;
  /** The raw value, unfolded and trimmed. */
  value: string;
}

/** Ordered, case-insensitive header fields with raw values. */
export class SipHeaders implements Iterable<[string, string]> {
  private names: string[] = [];
  private values: string[] = [];
  private keys: string[] = [];

  /** Builds from `[name, value]` pairs, in order. */
  constructor(entries?: Iterable<readonly [string, string]>) {
    if (entries) for (const [n, v] of entries) this.append(n, v);
  }

  /** Number of header fields (lines after unfolding). */
  get size(): number {
    return this.names.length;
  }

  /** @internal parser fast path: name already checked, key already computed. */
  _push(name: string, key: string, value: string): void {
    this.names.push(name);
    this.keys.push(key);
    this.values.push(value);
  }

  /** The value of the first field with this name, raw (a list header's line is not split). */
  get(name: string): string | undefined {
    const k = headerKey(name);
    const keys = this.keys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === k) return this.values[i];
    return undefined;
  }

  /**
   * Every value for this name: for list headers (Via, Contact, Route, ...) each line is split at
   * its separating commas; other headers give one value per field.
   */
  getAll(name: string): string[] {
    const k = headerKey(name);
    const list = LIST_HEADERS.has(k);
    const out: string[] = [];
    for (let i = 0; i < this.keys.length; i++) {
      if (this.keys[i] !== k) continue;
      if (list) for (const v of splitList(this.values[i])) out.push(v);
      else out.push(this.values[i]);
    }
    return out;
  }

  /** The raw value of every field with this name, one per line, unsplit. */
  getLines(name: string): string[] {
    const k = headerKey(name);
    const out: string[] = [];
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] === k) out.push(this.values[i]);
    return out;
  }

  /** Number of fields (lines) with this name. */
  count(name: string): number {
    const k = headerKey(name);
    let n = 0;
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] === k) n++;
    return n;
  }

  has(name: string): boolean {
    const k = headerKey(name);
    return this.keys.includes(k);
  }

  /** Adds a field after all others. */
  append(name: string, value: string): this {
    checkField(name, value);
    this._push(name, headerKey(name), trimWs(value));
    return this;
  }

  /**
   * Adds a field before the first field of the same name (a proxy's new top Via,
   * RFC 3261 §16.6 step 8), or before every field when there is none.
   */
  prepend(name: string, value: string): this {
    checkField(name, value);
    const k = headerKey(name);
    let at = this.keys.indexOf(k);
    if (at < 0) at = 0;
    this.names.splice(at, 0, name);
    this.keys.splice(at, 0, k);
    this.values.splice(at, 0, trimWs(value));
    return this;
  }

  /** Replaces every field of this name by one field, kept where the first one was. */
  set(name: string, value: string): this {
    checkField(name, value);
    const k = headerKey(name);
    const at = this.keys.indexOf(k);
    if (at < 0) return this.append(name, value);
    this.names[at] = name;
    this.values[at] = trimWs(value);
    for (let i = this.keys.length - 1; i > at; i--) if (this.keys[i] === k) this.removeAt(i);
    return this;
  }

  /** Removes every field of this name; returns how many were removed. */
  remove(name: string): number {
    const k = headerKey(name);
    let n = 0;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      if (this.keys[i] === k) {
        this.removeAt(i);
        n++;
      }
    }
    return n;
  }

  /**
   * Removes the first value of this name and returns it: for a list header whose first line
   * holds several values, only the first value goes (a proxy removing its Via from a response,
   * RFC 3261 §16.7 step 3).
   */
  removeFirst(name: string): string | undefined {
    const k = headerKey(name);
    const at = this.keys.indexOf(k);
    if (at < 0) return undefined;
    if (LIST_HEADERS.has(k)) {
      const parts = splitList(this.values[at]);
      if (parts.length > 1) {
        this.values[at] = parts.slice(1).join(', ');
        return parts[0];
      }
    }
    const v = this.values[at];
    this.removeAt(at);
    return v;
  }

  /**
   * Replaces the first value of this name in place, keeping the field's name and position: for a
   * list header whose first line holds several values, only the first value changes (a transport
   * writing the top Via, RFC 3261 §18.1.1, §18.2.1). Returns false when there is no such field.
   */
  replaceFirst(name: string, value: string): boolean {
    const k = headerKey(name);
    const at = this.keys.indexOf(k);
    if (at < 0) return false;
    checkField(this.names[at], value);
    const v = trimWs(value);
    if (LIST_HEADERS.has(k)) {
      const parts = splitList(this.values[at]);
      if (parts.length > 1) {
        parts[0] = v;
        this.values[at] = parts.join(', ');
        return true;
      }
    }
    this.values[at] = v;
    return true;
  }

  /** The fields in order as `[name, value]`. */
  *[Symbol.iterator](): Iterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i], this.values[i]];
  }

  /** The fields in order. */
  entries(): SipHeaderEntry[] {
    const out: SipHeaderEntry[] = [];
    for (let i = 0; i < this.names.length; i++) out.push({ name: this.names[i], value: this.values[i] });
    return out;
  }

  /** @internal serializer access without allocation. */
  _name(i: number): string {
    return this.names[i];
  }
  /** @internal */
  _value(i: number): string {
    return this.values[i];
  }
  /** @internal */
  _key(i: number): string {
    return this.keys[i];
  }

  /** A deep copy. */
  clone(): SipHeaders {
    const h = new SipHeaders();
    h.names = this.names.slice();
    h.values = this.values.slice();
    h.keys = this.keys.slice();
    return h;
  }

  private removeAt(i: number): void {
    this.names.splice(i, 1);
    this.keys.splice(i, 1);
    this.values.splice(i, 1);
  }
}

function checkField(name: string, value: string): void {
  if (name.length === 0 || !/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(name)) throw new InvalidArgumentError(`invalid SIP header name ${JSON.stringify(name)}`, 'name');
  if (/[\r\n]/.test(value)) throw new InvalidArgumentError(`value of ${name} contains CR or LF`, 'value');
}
