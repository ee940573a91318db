/**
 * Topology hiding at the I-CSCF(THIG) (R-HIDE-1; seed 003 §5.2, §6.4; TS 24.229 Rel-5/6 §5.3.3).
 * When a message leaves the home network, every run of consecutive entries that belong to the
 * home network in Via, Record-Route, Route and Path is replaced by ONE entry carrying a sealed
 * token (./thig-token.ts: AES-128-CBC under Kv, random IV, HMAC); when a message comes back, any
 * I-CSCF holding Kv puts the original text back, byte for byte.
 *
 * Replacement entries (the `tokenized-by` parameter names the home domain that sealed them):
 * ```
 * Via:              SIP/2.0/UDP <host>;tokenized-by=<domain>;thig=<token>
 * Route, Record-Route, Path:
 *                   <sip:<token>@<host>[:<port>];lr;tokenized-by=<domain>>
 * ```
 * The token sits in the URI user part and `tokenized-by` is a URI parameter, so both survive a UA
 * turning Record-Route into its route set (RFC 3261 §12.1.2 keeps URIs, drops header parameters);
 * `<host>` should resolve to the network's I-CSCFs, so in-dialog requests come back to one of them.
 *
 * Exactness: the token holds the run's original text with its separators; a run that spans
 * several header fields of the same name is joined into one field when hidden and split back into
 * the same fields (names as spelled) when revealed. Header fields of other names keep their places
 * (RFC 3261 §7.3.1: only the order among fields of one name matters).
 *
 * Pure: no sockets, timers or logging; the IV comes from the injected Rng.
 */
import type { Rng } from '../../common/index.js';
import { parseRoute, parseVia, parseViaList, splitList, SipHeaders, headerKey, cloneMessage, type SipMessage } from '../../sip/index.js';
import { ThigError } from './errors.js';
import { DEFAULT_MAX_TOKEN_CHARS, openThigToken, sealThigToken, tokenKind, type HiddenHeader, type ThigKey } from './thig-token.js';

export type { HiddenHeader } from './thig-token.js';

/** The four headers R-HIDE-1 names. */
export const DEFAULT_HIDDEN_HEADERS: readonly HiddenHeader[] = ['via', 'record-route', 'route', 'path'];

/** What hiding and revealing need to know. */
export interface ThigPolicy {
  key: ThigKey;
  /** The home domain written into `tokenized-by`. */
  domain: string;
  /** Every home domain whose tokens this I-CSCF opens (includes `domain`). */
  domains: readonly string[];
  /** Host (and port) of the replacement entries: a name that reaches the network's I-CSCFs. */
  host: string;
  port?: number;
  /** Headers to hide; default {@link DEFAULT_HIDDEN_HEADERS}. */
  headers?: readonly HiddenHeader[];
  /** An entry's host belongs to the home network. */
  isHome(host: string, port?: number): boolean;
  /** An entry names this I-CSCF itself (kept visible: the way back in). */
  isSelf?(host: string, port?: number): boolean;
  maxTokenChars?: number;
}

export interface HideOptions {
  /**
   * The message is a response going to the UAC of a dialog: its Record-Route will be reversed into
   * a route set (RFC 3261 §12.1.2), so tokens are marked to expand reversed in a Route header.
   */
  towardsUac?: boolean;
}

/** A hidden or revealed message and how many tokens were written or opened. */
export interface ThigResult<M extends SipMessage> {
  msg: M;
  count: number;
}

interface Line {
  name: string;
  value: string;
}

interface Entry {
  line: number;
  start: number;
  end: number;
  text: string;
}

const HEADER_NAMES: Record<HiddenHeader, string> = { via: 'Via', route: 'Route', 'record-route': 'Record-Route', path: 'Path' };

/**
 * Hides the home network's entries of a message that is about to leave it. Returns a new message
 * (the input is not changed) and the number of tokens written.
 */
export function hideTopology<M extends SipMessage>(msg: M, policy: ThigPolicy, rng: Rng, opts: HideOptions = {}): ThigResult<M> {
  let out = msg;
  let count = 0;
  for (const header of policy.headers ?? DEFAULT_HIDDEN_HEADERS) {
    const lines = linesOf(out.headers, header);
    if (lines.length === 0) continue;
    const entries = entriesOf(lines);
    const runs: [number, number][] = [];
    let i = 0;
    while (i < entries.length) {
      if (!hideable(entries[i].text, header, policy)) {
        i++;
        continue;
      }
      let j = i;
      while (j + 1 < entries.length && hideable(entries[j + 1].text, header, policy)) j++;
      runs.push([i, j]);
      i = j + 1;
    }
    if (runs.length === 0) continue;
    // Last run first, so the offsets of earlier runs stay valid.
    for (let r = runs.length - 1; r >= 0; r--) {
      const a = entries[runs[r][0]];
      const b = entries[runs[r][1]];
      const text = spanText(lines, a, b);
      const token = sealThigToken(policy.key, rng, policy.domain, { header, reverseInRoute: header === 'record-route' && opts.towardsUac === true, text });
      const replacement = header === 'via' ? viaTokenEntry(policy, token) : routeTokenEntry(policy, token);
      const merged = lines[a.line].value.slice(0, a.start) + replacement + lines[b.line].value.slice(b.end);
      lines.splice(a.line, b.line - a.line + 1, { name: lines[a.line].name, value: merged });
      count++;
    }
    if (out === msg) out = cloneMessage(msg);
    out.headers = rewrite(out.headers, header, lines);
  }
  return { msg: out, count };
}

/**
 * Puts back what {@link hideTopology} (here or at any I-CSCF with the same Kv) hid: every entry
 * tokenized by one of `policy.domains` is opened and replaced by the original text. Tokens of
 * other domains are left alone.
 * @throws ThigError when a token of ours does not open (wrong Kv, tampered, malformed)
 */
export function revealTopology<M extends SipMessage>(msg: M, policy: ThigPolicy): ThigResult<M> {
  let out = msg;
  let count = 0;
  for (const header of DEFAULT_HIDDEN_HEADERS) {
    const lines = linesOf(out.headers, header);
    if (lines.length === 0) continue;
    const entries = entriesOf(lines);
    let changed = false;
    for (let k = entries.length - 1; k >= 0; k--) {
      const e = entries[k];
      const token = ourToken(e.text, header, policy);
      if (token === undefined) continue;
      const p = openThigToken(policy.key, token.domain, tokenKind(header), token.token, policy.maxTokenChars ?? DEFAULT_MAX_TOKEN_CHARS);
      const segments = restoredSegments(p.text, p.header, header, p.reverseInRoute);
      checkEntries(segments, header);
      const line = lines[e.line];
      const prefix = line.value.slice(0, e.start);
      const suffix = line.value.slice(e.end);
      const newLines: Line[] = segments.map((s, n) => ({ name: n === 0 ? line.name : (s.name as string), value: s.value }));
      newLines[0].value = prefix + newLines[0].value;
      newLines[newLines.length - 1].value += suffix;
      lines.splice(e.line, 1, ...newLines);
      changed = true;
      count++;
    }
    if (!changed) continue;
    if (out === msg) out = cloneMessage(msg);
    out.headers = rewrite(out.headers, header, lines);
  }
  return { msg: out, count };
}

/** True when a message carries a token tokenized by one of the policy's domains. */
export function hasOurTokens(msg: SipMessage, policy: Pick<ThigPolicy, 'domains'>): boolean {
  for (const header of DEFAULT_HIDDEN_HEADERS) {
    for (const l of msg.headers.getLines(header)) {
      if (!/tokenized-by/i.test(l)) continue;
      for (const v of splitList(l)) if (ourToken(v, header, policy)) return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------- entries

function linesOf(h: SipHeaders, header: HiddenHeader): Line[] {
  const out: Line[] = [];
  for (const { name, value } of h.entries()) if (headerKey(name) === header) out.push({ name, value });
  return out;
}

/** Entries of every line with their spans: commas inside quotes or `<...>` do not separate. */
function entriesOf(lines: Line[]): Entry[] {
  const out: Entry[] = [];
  lines.forEach((l, line) => {
    const v = l.value;
    let start = 0;
    let quoted = false;
    let angle = false;
    const push = (from: number, to: number): void => {
      let s = from;
      let e = to;
      while (s < e && (v.charCodeAt(s) === 32 || v.charCodeAt(s) === 9)) s++;
      while (e > s && (v.charCodeAt(e - 1) === 32 || v.charCodeAt(e - 1) === 9)) e--;
      if (e > s) out.push({ line, start: s, end: e, text: v.slice(s, e) });
    };
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      if (quoted) {
        if (c === 0x5c) i++;
        else if (c === 0x22) quoted = false;
      } else if (c === 0x22) quoted = true;
      else if (c === 0x3c) angle = true;
      else if (c === 0x3e) angle = false;
      else if (c === 0x2c && !angle) {
        push(start, i);
        start = i + 1;
      }
    }
    push(start, v.length);
  });
  return out;
}

/** Host and port of an entry, or undefined when it does not parse (such entries are never hidden). */
function hostOf(text: string, header: HiddenHeader): { host: string; port?: number; token: boolean } | undefined {
  try {
    if (header === 'via') {
      const v = parseVia(text);
      return { host: v.host, port: v.port, token: v.params.has('tokenized-by') };
    }
    const r = parseRoute(text, HEADER_NAMES[header]);
    if (r.length !== 1 || r[0].uri.kind !== 'sip') return undefined;
    return { host: r[0].uri.host, port: r[0].uri.port, token: r[0].uri.params.has('tokenized-by') };
  } catch {
    return undefined;
  }
}

function hideable(text: string, header: HiddenHeader, policy: ThigPolicy): boolean {
  const h = hostOf(text, header);
  if (!h || h.token) return false;
  if (policy.isSelf?.(h.host, h.port)) return false;
  return policy.isHome(h.host, h.port);
}

function ourToken(text: string, header: HiddenHeader, policy: Pick<ThigPolicy, 'domains'>): { domain: string; token: string } | undefined {
  try {
    let domain: string | null | undefined;
    let token: string | null | undefined;
    if (header === 'via') {
      const v = parseVia(text);
      domain = v.params.get('tokenized-by');
      token = v.params.get('thig');
    } else {
      const r = parseRoute(text, HEADER_NAMES[header]);
      if (r.length !== 1 || r[0].uri.kind !== 'sip') return undefined;
      domain = r[0].uri.params.get('tokenized-by');
      token = r[0].uri.user;
    }
    if (!domain || !token) return undefined;
    const d = domain.toLowerCase();
    return policy.domains.some((x) => x.toLowerCase() === d) ? { domain: d, token } : undefined;
  } catch {
    return undefined;
  }
}

function spanText(lines: Line[], a: Entry, b: Entry): string {
  if (a.line === b.line) return lines[a.line].value.slice(a.start, b.end);
  let s = lines[a.line].value.slice(a.start);
  for (let l = a.line + 1; l < b.line; l++) s += `\n${lines[l].name}:${lines[l].value}`;
  return s + `\n${lines[b.line].name}:${lines[b.line].value.slice(0, b.end)}`;
}

function viaTokenEntry(p: ThigPolicy, token: string): string {
  return `SIP/2.0/UDP ${hostPort(p)};tokenized-by=${p.domain};thig=${token}`;
}

function routeTokenEntry(p: ThigPolicy, token: string): string {
  return `<sip:${token}@${hostPort(p)};lr;tokenized-by=${p.domain}>`;
}

function hostPort(p: ThigPolicy): string {
  const h = p.host.includes(':') && !p.host.startsWith('[') ? `[${p.host}]` : p.host;
  return p.port === undefined ? h : `${h}:${p.port}`;
}

/**
 * The text a token restores, as header fields: the first segment continues the token's field, the
 * others are new fields of the name they were spelled with. In another header than the one the run
 * came from (a Record-Route run now in a Route), the entries go in one field, reversed when the
 * token says so.
 */
function restoredSegments(text: string, from: HiddenHeader, into: HiddenHeader, reverse: boolean): { name?: string; value: string }[] {
  const parts = text.split('\n');
  const segs: { name?: string; value: string }[] = [{ value: parts[0] }];
  for (let i = 1; i < parts.length; i++) {
    const colon = parts[i].indexOf(':');
    const name = colon > 0 ? parts[i].slice(0, colon) : '';
    if (!/^[A-Za-z0-9\-.!%*_+`'~]+$/.test(name) || headerKey(name) !== from) throw new ThigError('THIG token holds a bad field break', 'content');
    segs.push({ name, value: parts[i].slice(colon + 1) });
  }
  if (from === into && !(into === 'route' && reverse)) return segs;
  const entries = segs.flatMap((s) => splitList(s.value));
  if (into === 'route' && reverse) entries.reverse();
  return [{ value: entries.join(', ') }];
}

function checkEntries(segs: { value: string }[], header: HiddenHeader): void {
  for (const s of segs) {
    try {
      const n = header === 'via' ? parseViaList(s.value).length : parseRoute(s.value, HEADER_NAMES[header]).length;
      if (n === 0) throw new Error('empty');
    } catch {
      throw new ThigError(`THIG token restores an invalid ${HEADER_NAMES[header]}`, 'content');
    }
  }
}

/** The headers with every field of `header` replaced by `lines`, placed where the first one was. */
function rewrite(h: SipHeaders, header: HiddenHeader, lines: Line[]): SipHeaders {
  const out = new SipHeaders();
  let done = false;
  for (const { name, value } of h.entries()) {
    if (headerKey(name) !== header) {
      out.append(name, value);
      continue;
    }
    if (done) continue;
    for (const l of lines) out.append(l.name, l.value);
    done = true;
  }
  return out;
}
