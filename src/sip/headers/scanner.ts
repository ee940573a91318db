/**
 * A cursor over one header value, with the lexical rules of RFC 3261 §25.1 that every typed
 * codec shares. Values reach the codecs unfolded (the parser turned LWS into spaces), so
 * linear white space is just SP / HTAB here.
 *
 *   SWS = [LWS]   SEMI = SWS ";" SWS   EQUAL = SWS "=" SWS   COMMA = SWS "," SWS
 *   generic-param = token [ EQUAL gen-value ]
 *   gen-value     = token / host / quoted-string
 *   quoted-string = SWS DQUOTE *(qdtext / quoted-pair ) DQUOTE
 *   qdtext        = LWS / %x21 / %x23-5B / %x5D-7E / UTF8-NONASCII
 *   quoted-pair   = "\" (%x00-09 / %x0B-0C / %x0E-7F)
 *   comment       = LPAREN *(ctext / quoted-pair / comment) RPAREN
 */
import { SipParseError } from '../message/errors.js';
import { GENVALUE, TOKEN } from '../message/chars.js';
import { SipParams } from './params.js';

export class Scanner {
  pos = 0;

  constructor(
    readonly s: string,
    readonly header: string,
  ) {}

  get eof(): boolean {
    return this.pos >= this.s.length;
  }

  /** Char code at the cursor, or -1 at the end. */
  peek(): number {
    return this.pos < this.s.length ? this.s.charCodeAt(this.pos) : -1;
  }

  fail(reason: string, at = this.pos): never {
    throw new SipParseError(reason, at, { header: this.header });
  }

  /** Skips SP and HTAB; returns how many. */
  ws(): number {
    const p = this.pos;
    while (this.pos < this.s.length) {
      const c = this.s.charCodeAt(this.pos);
      if (c !== 32 && c !== 9) break;
      this.pos++;
    }
    return this.pos - p;
  }

  /** Consumes `c` (after optional white space on both sides when `lws`). */
  expect(c: number, what: string, lws = true): void {
    if (lws) this.ws();
    if (this.peek() !== c) this.fail(`expected ${what}`);
    this.pos++;
    if (lws) this.ws();
  }

  /** True (and consumed) when the next non-space character is `c`. */
  eat(c: number): boolean {
    const save = this.pos;
    this.ws();
    if (this.peek() === c) {
      this.pos++;
      this.ws();
      return true;
    }
    this.pos = save;
    return false;
  }

  /** 1*(characters of table `t`). */
  take(t: Uint8Array, what: string): string {
    const p = this.pos;
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c >= 128 || t[c] === 0) break;
      this.pos++;
    }
    if (this.pos === p) this.fail(`expected ${what}`);
    return s.slice(p, this.pos);
  }

  token(what = 'token'): string {
    return this.take(TOKEN, what);
  }

  /** A quoted-string, returned raw with its quotes. */
  quoted(): string {
    const s = this.s;
    const p = this.pos;
    if (s.charCodeAt(p) !== 0x22) this.fail('expected quoted-string');
    let i = p + 1;
    for (;;) {
      if (i >= s.length) this.fail('unterminated quoted-string', p);
      const c = s.charCodeAt(i);
      if (c === 0x22) break;
      i = this.textChar(i, 'quoted-string');
    }
    this.pos = i + 1;
    return s.slice(p, i + 1);
  }

  /** A comment (nested, with quoted-pairs), returned raw with its parentheses. */
  comment(): string {
    const s = this.s;
    const p = this.pos;
    if (s.charCodeAt(p) !== 0x28) this.fail('expected comment');
    let depth = 0;
    let i = p;
    for (;;) {
      if (i >= s.length) this.fail('unterminated comment', p);
      const c = s.charCodeAt(i);
      if (c === 0x28) depth++;
      else if (c === 0x29 && --depth === 0) break;
      i = this.textChar(i, 'comment');
    }
    this.pos = i + 1;
    return s.slice(p, i + 1);
  }

  /** Past one character of a quoted-string or comment at `i` (a quoted-pair is two); control characters fail. */
  private textChar(i: number, what: string): number {
    const s = this.s;
    const c = s.charCodeAt(i);
    if (c === 0x5c) {
      const n = s.charCodeAt(i + 1);
      if (i + 1 >= s.length || n === 10 || n === 13 || n > 0x7f) this.fail('bad quoted-pair', i);
      return i + 2;
    }
    if ((c < 0x20 && c !== 9) || c === 0x7f) this.fail(`control character in ${what}`, i);
    return i + 1;
  }

  /** gen-value = token / host / quoted-string (raw). */
  genValue(): string {
    return this.peek() === 0x22 ? this.quoted() : this.take(GENVALUE, 'parameter value');
  }

  /**
   * *( SEMI generic-param ), stopping before `,` (when `list`) or at the end. Anything else
   * after a parameter is an error.
   */
  params(list: boolean, into = new SipParams()): SipParams {
    for (;;) {
      const save = this.pos;
      this.ws();
      const c = this.peek();
      if (c === 0x3b) {
        this.pos++;
        this.ws();
        if (this.eof || this.peek() === 0x3b || this.peek() === 0x2c) this.fail('empty parameter');
        const name = this.token('parameter name');
        let value: string | null = null;
        const before = this.pos;
        this.ws();
        if (this.peek() === 0x3d) {
          this.pos++;
          this.ws();
          value = this.genValue();
        } else this.pos = before;
        into._add(name, value);
        continue;
      }
      if (c === -1 || (list && c === 0x2c)) {
        this.pos = save;
        return into;
      }
      this.fail('unexpected character after value');
    }
  }

  /** At the end (after white space), or at a list comma when `list`. */
  atEnd(list: boolean): boolean {
    const save = this.pos;
    this.ws();
    const c = this.peek();
    this.pos = save;
    return c === -1 || (list && c === 0x2c);
  }

  /** Requires the end of the value (trailing white space allowed). */
  end(): void {
    this.ws();
    if (!this.eof) this.fail('unexpected text after value');
  }
}

/**
 * Parses a comma-separated list (`1#item`, or `#item` when `allowEmpty`): every element must
 * parse; empty elements (`a,,b`) are errors.
 */
export function parseList<T>(value: string, header: string, item: (sc: Scanner) => T, allowEmpty = false): T[] {
  const sc = new Scanner(value, header);
  sc.ws();
  const out: T[] = [];
  if (sc.eof) {
    if (allowEmpty) return out;
    sc.fail('empty value');
  }
  for (;;) {
    sc.ws();
    if (sc.peek() === 0x2c || sc.eof) sc.fail('empty list element');
    out.push(item(sc));
    sc.ws();
    if (sc.eof) return out;
    if (sc.peek() !== 0x2c) sc.fail('expected comma');
    sc.pos++;
  }
}

/** Parses exactly one item, with nothing after it. */
export function parseOne<T>(value: string, header: string, item: (sc: Scanner) => T): T {
  const sc = new Scanner(value, header);
  sc.ws();
  if (sc.eof) sc.fail('empty value');
  const v = item(sc);
  sc.end();
  return v;
}
