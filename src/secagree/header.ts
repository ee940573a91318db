/**
 * Security-Client / Security-Server / Security-Verify header values: RFC 3329 §2.2, extended by
 * 3GPP TS 33.203 Annex H and TS 24.229 §7.2A.7 for `ipsec-3gpp`. Pure codec: no I/O, no globals.
 *
 * ```
 * security-client  = "Security-Client" HCOLON sec-mechanism *(COMMA sec-mechanism)
 * sec-mechanism    = mechanism-name *( SEMI mech-parameters )
 * mechanism-name   = ( "digest" / "tls" / "ipsec-ike" / "ipsec-man" / "ipsec-3gpp" / token )
 * mech-parameters  = ( preference / digest-algorithm / digest-qop / digest-verify / algorithm /
 *                      protocol / mode / encrypt-algorithm / spi-c / spi-s / port-c / port-s /
 *                      extension )
 * preference       = "q" EQUAL qvalue
 * qvalue           = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )        ; RFC 3261 §25.1
 * algorithm        = "alg" EQUAL ( "hmac-md5-96" / "hmac-sha-1-96" / "aes-gmac" / "null" / token )
 * encrypt-algorithm= "ealg" EQUAL ( "des-ede3-cbc" / "aes-cbc" / "aes-gcm" / "null" / token )
 * protocol         = "prot" EQUAL ( "ah" / "esp" )
 * mode             = "mod" EQUAL ( "trans" / "tun" / "UDP-enc-tun" )
 * spi-c / spi-s    = ( "spi-c" / "spi-s" ) EQUAL spivalue      ; spivalue = 10DIGIT, 0..4294967295
 * port-c / port-s  = ( "port-c" / "port-s" ) EQUAL port        ; port = 1*DIGIT, 0..65535
 * extension        = generic-param = token [ EQUAL gen-value ] ; gen-value = token / host / quoted-string
 * ```
 *
 * Parameter names are case-insensitive (RFC 3261 §7.3.1); `alg`/`ealg`/`prot`/`mod` values are
 * kept in their canonical (lower, or `UDP-enc-tun`) spelling. `alg`/`ealg` accept any token so a
 * list carrying an algorithm this build does not know still parses; the negotiation rejects it.
 * Unknown parameters (with or without a value; quoted strings keep their quotes) are kept in
 * order and emitted again. Receivers tolerate empty list elements (a trailing comma, as real UEs
 * send) the way RFC 7230 §7 asks of a `#rule` recipient; at least one mechanism is required.
 */
import { ENCRYPTION_ALGS, INTEGRITY_ALGS, InvalidArgumentError } from '../common/index.js';
import { SecAgreeParseError } from './errors.js';

/** `prot` (TS 33.203 Annex H). Omitted means `esp`. */
export type IpsecProtocol = 'ah' | 'esp';
/** `mod` (TS 33.203 Annex H). Omitted means `trans`. */
export type IpsecMode = 'trans' | 'tun' | 'UDP-enc-tun';

/** A parameter the codec has no field for, kept as written. */
export interface SecParam {
  /** Name as written (compare case-insensitively). */
  name: string;
  /** Value as written; a quoted string keeps its quotes. Absent for a bare name. */
  value?: string;
}

/** One `sec-mechanism` of a Security-* header value. Absent fields were absent on the wire. */
export interface SecMechanism {
  /** mechanism-name as written: `ipsec-3gpp`, `digest`, `tls`, ... (compare case-insensitively). */
  name: string;
  /** Preference `q`, 0..1 with at most three decimals. */
  q?: number;
  /** Integrity algorithm (`hmac-md5-96`, `hmac-sha-1-96`, `aes-gmac`, `null`, or another token). */
  alg?: string;
  /** Encryption algorithm (`null`, `aes-cbc`, `des-ede3-cbc`, `aes-gcm`, or another token). */
  ealg?: string;
  prot?: IpsecProtocol;
  mod?: IpsecMode;
  /** SPI of the sender's inbound SA at its protected client port. */
  spiC?: number;
  /** SPI of the sender's inbound SA at its protected server port. */
  spiS?: number;
  /** The sender's protected client port. */
  portC?: number;
  /** The sender's protected server port. */
  portS?: number;
  /** Every other parameter, in received order. */
  extensions: SecParam[];
}

type KnownField = 'q' | 'alg' | 'ealg' | 'prot' | 'mod' | 'spiC' | 'spiS' | 'portC' | 'portS';

/** Wire name → field, in the order {@link formatSecMechanism} emits them. */
const KNOWN: ReadonlyArray<readonly [string, KnownField]> = [
  ['alg', 'alg'],
  ['ealg', 'ealg'],
  ['prot', 'prot'],
  ['mod', 'mod'],
  ['spi-c', 'spiC'],
  ['spi-s', 'spiS'],
  ['port-c', 'portC'],
  ['port-s', 'portS'],
  ['q', 'q'],
];
const KNOWN_BY_NAME = new Map<string, KnownField>(KNOWN);

const MODES: Record<string, IpsecMode> = { trans: 'trans', tun: 'tun', 'udp-enc-tun': 'UDP-enc-tun' };

// RFC 3261 §25.1: token = 1*(alphanum / "-" / "." / "!" / "%" / "*" / "_" / "+" / "`" / "'" / "~")
const TOKEN_CHARS = new Uint8Array(128);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.!%*_+`'~") TOKEN_CHARS[c.charCodeAt(0)] = 1;
const TOKEN_RE = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
const QVALUE_RE = /^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/;
const IPV6_REF_RE = /^\[[0-9A-Fa-f:.]+\]$/;

class Cursor {
  pos = 0;
  constructor(readonly s: string) {}

  get done(): boolean {
    return this.pos >= this.s.length;
  }
  peek(): string {
    return this.s[this.pos];
  }
  fail(message: string): never {
    throw new SecAgreeParseError(message, this.pos);
  }

  /** SWS = [LWS]; LWS = [*WSP CRLF] 1*WSP (RFC 3261 §25.1), so a folded line counts too. */
  skipSws(): void {
    for (;;) {
      const c = this.s[this.pos];
      if (c === ' ' || c === '\t') this.pos++;
      else if (c === '\r' && this.s[this.pos + 1] === '\n' && (this.s[this.pos + 2] === ' ' || this.s[this.pos + 2] === '\t')) this.pos += 3;
      else return;
    }
  }

  token(what: string): string {
    const start = this.pos;
    const s = this.s;
    while (this.pos < s.length && TOKEN_CHARS[s.charCodeAt(this.pos)] === 1) this.pos++;
    if (this.pos === start) this.fail(`expected ${what}`);
    return this.s.slice(start, this.pos);
  }

  /** quoted-string = DQUOTE *(qdtext / quoted-pair) DQUOTE, returned with its quotes. */
  quoted(): string {
    const start = this.pos;
    this.pos++; // opening DQUOTE
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c === 0x22) {
        this.pos++;
        return this.s.slice(start, this.pos);
      }
      if (c === 0x5c) {
        const n = this.s.charCodeAt(this.pos + 1);
        // quoted-pair = "\" (%x00-09 / %x0B-0C / %x0E-7F)
        if (Number.isNaN(n) || n === 0x0a || n === 0x0d || n > 0x7f) this.fail('bad quoted-pair');
        this.pos += 2;
        continue;
      }
      if (c === 0x0d) {
        const before = this.pos;
        this.skipSws();
        if (this.pos === before) this.fail('bare CR in quoted-string');
        continue;
      }
      // qdtext = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
      if (c === 0x20 || c === 0x09 || c === 0x21 || (c >= 0x23 && c <= 0x7e) || c >= 0x80) {
        this.pos++;
        continue;
      }
      this.fail('invalid character in quoted-string');
    }
    this.pos = start;
    return this.fail('unterminated quoted-string');
  }

  /** gen-value = token / host / quoted-string. */
  genValue(): string {
    const c = this.peek();
    if (c === '"') return this.quoted();
    if (c === '[') {
      const end = this.s.indexOf(']', this.pos);
      const v = end < 0 ? '' : this.s.slice(this.pos, end + 1);
      if (!IPV6_REF_RE.test(v)) this.fail('bad IPv6 reference');
      this.pos = end + 1;
      return v;
    }
    return this.token('parameter value');
  }
}

const KNOWN_ALGORITHMS = new Map<string, string>([...INTEGRITY_ALGS, ...ENCRYPTION_ALGS].map((a) => [a, a]));

function parseKnown(m: SecMechanism, field: KnownField, wireName: string, value: string, at: number): void {
  const bad = (why: string): never => {
    throw new SecAgreeParseError(`${wireName}: ${why}`, at);
  };
  if (m[field] !== undefined) bad('repeated parameter');
  if (value.startsWith('"') || value.startsWith('[')) bad('value must be a token');
  switch (field) {
    case 'q':
      if (!QVALUE_RE.test(value)) bad(`not a qvalue: ${JSON.stringify(value)}`);
      m.q = Number(value);
      return;
    case 'alg':
    case 'ealg': {
      // A known algorithm is kept as this module's constant, not as a view of the header (an SA
      // set keeps its algorithm names for the registration's life: common/strings.ts).
      const v = value.toLowerCase();
      m[field] = KNOWN_ALGORITHMS.get(v) ?? v;
      return;
    }
    case 'prot': {
      const v = value.toLowerCase();
      if (v !== 'ah' && v !== 'esp') bad(`unknown protocol ${JSON.stringify(value)}`);
      m.prot = v as IpsecProtocol;
      return;
    }
    case 'mod': {
      const v = MODES[value.toLowerCase()];
      if (!v) bad(`unknown mode ${JSON.stringify(value)}`);
      m.mod = v;
      return;
    }
    case 'spiC':
    case 'spiS':
      if (!/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff) bad(`not a 32-bit SPI: ${JSON.stringify(value)}`);
      m[field] = Number(value);
      return;
    case 'portC':
    case 'portS':
      if (!/^\d{1,5}$/.test(value) || Number(value) > 0xffff) bad(`not a 16-bit port: ${JSON.stringify(value)}`);
      m[field] = Number(value);
      return;
  }
}

function parseMechanism(cur: Cursor): SecMechanism {
  const m: SecMechanism = { name: cur.token('mechanism-name'), extensions: [] };
  for (;;) {
    const save = cur.pos;
    cur.skipSws();
    if (cur.peek() !== ';') {
      cur.pos = save;
      return m;
    }
    cur.pos++;
    cur.skipSws();
    const at = cur.pos;
    const name = cur.token('parameter name');
    const afterName = cur.pos;
    cur.skipSws();
    let value: string | undefined;
    if (cur.peek() === '=') {
      cur.pos++;
      cur.skipSws();
      if (cur.done) cur.fail(`missing value for ${name}`);
      value = cur.genValue();
    } else {
      cur.pos = afterName;
    }
    const field = KNOWN_BY_NAME.get(name.toLowerCase());
    if (field) {
      if (value === undefined) throw new SecAgreeParseError(`${name.toLowerCase()}: value required`, at);
      parseKnown(m, field, name.toLowerCase(), value, at);
    } else {
      m.extensions.push(value === undefined ? { name } : { name, value });
    }
  }
}

/**
 * Parse a Security-Client, Security-Server or Security-Verify header value (the part after the
 * colon) into its mechanisms, in order. Throws {@link SecAgreeParseError} on malformed input.
 */
export function parseSecurityMechanisms(value: string): SecMechanism[] {
  const cur = new Cursor(value);
  const out: SecMechanism[] = [];
  for (;;) {
    cur.skipSws();
    if (cur.done) break;
    if (cur.peek() !== ',') {
      out.push(parseMechanism(cur));
      cur.skipSws();
      if (cur.done) break;
      if (cur.peek() !== ',') cur.fail(`unexpected ${JSON.stringify(cur.peek())}`);
    }
    cur.pos++; // COMMA (an empty element is tolerated)
  }
  if (out.length === 0) throw new SecAgreeParseError('no sec-mechanism in header value', cur.pos);
  return out;
}

function checkToken(v: string, what: string): void {
  if (!TOKEN_RE.test(v)) throw new InvalidArgumentError(`${what} is not a token: ${JSON.stringify(v)}`, what);
}

function checkInt(v: number, max: number, what: string): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new InvalidArgumentError(`${what} out of range: ${v}`, what);
}

/** Format a qvalue with at most three decimals (`1`, `0.5`, `0.125`). */
function formatQ(q: number): string {
  if (!(q >= 0 && q <= 1) || Math.round(q * 1000) !== q * 1000) throw new InvalidArgumentError(`q must be 0..1 with at most 3 decimals: ${q}`, 'q');
  return String(q);
}

function checkGenValue(v: string, name: string): void {
  if (TOKEN_RE.test(v) || IPV6_REF_RE.test(v)) return;
  if (v.startsWith('"')) {
    try {
      const cur = new Cursor(v);
      cur.quoted();
      if (cur.done) return;
    } catch {
      // fall through to the error below
    }
  }
  throw new InvalidArgumentError(`value of ${name} is not a token, host or quoted-string`, name);
}

/** Format one mechanism: `name;alg=..;ealg=..;prot=..;mod=..;spi-c=..;spi-s=..;port-c=..;port-s=..;q=..;ext...`. */
export function formatSecMechanism(m: SecMechanism): string {
  checkToken(m.name, 'mechanism-name');
  let s = m.name;
  for (const [wire, field] of KNOWN) {
    const v = m[field];
    if (v === undefined) continue;
    switch (field) {
      case 'q':
        s += `;q=${formatQ(v as number)}`;
        continue;
      case 'spiC':
      case 'spiS':
        checkInt(v as number, 0xffffffff, wire);
        break;
      case 'portC':
      case 'portS':
        checkInt(v as number, 0xffff, wire);
        break;
      case 'prot':
        if (v !== 'ah' && v !== 'esp') throw new InvalidArgumentError(`unknown prot ${String(v)}`, 'prot');
        break;
      case 'mod':
        if (!Object.values(MODES).includes(v as IpsecMode)) throw new InvalidArgumentError(`unknown mod ${String(v)}`, 'mod');
        break;
      default:
        checkToken(String(v), wire);
    }
    s += `;${wire}=${v}`;
  }
  for (const p of m.extensions) {
    checkToken(p.name, 'parameter name');
    if (KNOWN_BY_NAME.has(p.name.toLowerCase())) throw new InvalidArgumentError(`extension ${p.name} shadows a known parameter`, p.name);
    if (p.value === undefined) s += `;${p.name}`;
    else {
      checkGenValue(p.value, p.name);
      s += `;${p.name}=${p.value}`;
    }
  }
  return s;
}

/** Format a header value: mechanisms joined by `, ` (RFC 3329 §2.2). */
export function formatSecurityMechanisms(list: readonly SecMechanism[]): string {
  if (list.length === 0) throw new InvalidArgumentError('a Security-* header needs at least one mechanism', 'list');
  return list.map(formatSecMechanism).join(', ');
}
