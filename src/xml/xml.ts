/**
 * A small, strict, bounded XML reader and writer for the XML bodies the IMS nodes exchange:
 * RFC 3680 reginfo (application/reginfo+xml) and the TS 29.228 Annex E IMS subscription in Cx
 * User-Data. Not a general XML processor: a document type declaration is refused (so no entity
 * expansion can happen), only the five predefined entities and character references are
 * understood, and input size, depth and element count are capped. Pure: no I/O, no globals.
 *
 * Grammar followed (XML 1.0 §2–§4, simplified):
 * ```
 * document  ::= prolog element Misc*
 * prolog    ::= XMLDecl? Misc*            Misc ::= Comment | PI | S
 * element   ::= EmptyElemTag | STag content ETag
 * STag      ::= '<' Name (S Attribute)* S? '>'     Attribute ::= Name Eq AttValue
 * content   ::= CharData? ((element | Reference | CDSect | PI | Comment) CharData?)*
 * Reference ::= '&' Name ';' | '&#' [0-9]+ ';' | '&#x' [0-9a-fA-F]+ ';'
 * ```
 */
import { detached, ImsError } from '../common/index.js';

/** A malformed or over-limit XML document; `offset` is the character position of the problem. */
export class XmlParseError extends ImsError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('XML_PARSE', `${message} (at ${offset})`);
  }
}

/** One element: qualified name as written, attributes in order, children (elements and text). */
export interface XmlElement {
  name: string;
  attrs: [string, string][];
  children: (XmlElement | string)[];
}

export interface XmlLimits {
  /** Characters of input (default 1 MiB). */
  maxLength: number;
  /** Nesting depth (default 32). */
  maxDepth: number;
  /** Elements in the document (default 20000). */
  maxElements: number;
}

export const DEFAULT_XML_LIMITS: XmlLimits = Object.freeze({ maxLength: 1 << 20, maxDepth: 32, maxElements: 20000 });

const NAME_START = /[A-Za-z_:\u00C0-\uFFFF]/;
const NAME_CHAR = /[A-Za-z0-9_:.\-\u00B7\u00C0-\uFFFF]/;

/** XML 1.0 §2.2 Char, less the surrogates JavaScript strings carry in pairs. */
function isXmlChar(c: number): boolean {
  return c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
}

class Reader {
  pos = 0;
  elements = 0;
  constructor(
    readonly s: string,
    readonly limits: XmlLimits,
  ) {}

  fail(msg: string, at = this.pos): never {
    throw new XmlParseError(msg, at);
  }

  startsWith(t: string): boolean {
    return this.s.startsWith(t, this.pos);
  }

  ws(): void {
    const s = this.s;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x9 && c !== 0xa && c !== 0xd) break;
      this.pos++;
    }
  }

  name(): string {
    const s = this.s;
    const start = this.pos;
    if (start >= s.length || !NAME_START.test(s[start])) this.fail('expected a name');
    this.pos++;
    while (this.pos < s.length && NAME_CHAR.test(s[this.pos])) this.pos++;
    return s.slice(start, this.pos);
  }

  /** Skips to just after `end`, failing if it never comes. */
  skipPast(end: string, what: string): string {
    const i = this.s.indexOf(end, this.pos);
    if (i < 0) this.fail(`unterminated ${what}`);
    const body = this.s.slice(this.pos, i);
    this.pos = i + end.length;
    return body;
  }

  /** Comments, processing instructions and white space between markup (prolog and epilog). */
  misc(): void {
    for (;;) {
      this.ws();
      if (this.startsWith('<!--')) {
        this.pos += 4;
        const body = this.skipPast('-->', 'comment');
        if (body.includes('--')) this.fail('"--" inside a comment');
      } else if (this.startsWith('<?')) {
        this.pos += 2;
        this.skipPast('?>', 'processing instruction');
      } else if (this.startsWith('<!')) {
        this.fail('document type declarations are not accepted');
      } else return;
    }
  }

  /** Text up to the next '<', with references resolved. */
  text(stop: string): string {
    const s = this.s;
    let out = '';
    let from = this.pos;
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos);
      if (c === 0x3c || (stop === '"' && c === 0x22) || (stop === "'" && c === 0x27)) break;
      if (c === 0x26) {
        out += s.slice(from, this.pos);
        out += this.reference();
        from = this.pos;
        continue;
      }
      if (!isXmlChar(c) && !(c >= 0xd800 && c <= 0xdfff)) this.fail('character not allowed in XML');
      this.pos++;
    }
    // Its own string, not a view of the document: an identity read from a Cx User-Data is kept
    // for the registration's life (common/strings.ts).
    return detached(out + s.slice(from, this.pos));
  }

  reference(): string {
    const at = this.pos;
    const semi = this.s.indexOf(';', at);
    if (semi < 0 || semi - at > 12) this.fail('bad entity reference', at);
    const ref = this.s.slice(at + 1, semi);
    this.pos = semi + 1;
    switch (ref) {
      case 'lt':
        return '<';
      case 'gt':
        return '>';
      case 'amp':
        return '&';
      case 'quot':
        return '"';
      case 'apos':
        return "'";
    }
    let cp: number | undefined;
    if (/^#[0-9]{1,7}$/.test(ref)) cp = Number(ref.slice(1));
    else if (/^#x[0-9A-Fa-f]{1,6}$/.test(ref)) cp = parseInt(ref.slice(2), 16);
    if (cp === undefined) this.fail(`unknown entity &${ref};`, at);
    if (!isXmlChar(cp)) this.fail('character reference to a character not allowed in XML', at);
    return String.fromCodePoint(cp);
  }

  element(depth: number): XmlElement {
    if (depth > this.limits.maxDepth) this.fail('XML nested too deeply');
    if (++this.elements > this.limits.maxElements) this.fail('too many XML elements');
    if (this.s.charCodeAt(this.pos) !== 0x3c) this.fail("expected '<'");
    this.pos++;
    const name = this.name();
    const attrs: [string, string][] = [];
    for (;;) {
      const before = this.pos;
      this.ws();
      if (this.startsWith('/>')) {
        this.pos += 2;
        return { name, attrs, children: [] };
      }
      if (this.startsWith('>')) {
        this.pos++;
        break;
      }
      if (this.pos === before) this.fail('expected white space before an attribute');
      const an = this.name();
      this.ws();
      if (this.s[this.pos] !== '=') this.fail("expected '='");
      this.pos++;
      this.ws();
      const q = this.s[this.pos];
      if (q !== '"' && q !== "'") this.fail('expected a quoted attribute value');
      this.pos++;
      const value = this.text(q);
      if (this.s[this.pos] !== q) this.fail(this.pos >= this.s.length ? 'unterminated attribute value' : "'<' in an attribute value");
      this.pos++;
      if (attrs.some(([n]) => n === an)) this.fail(`duplicate attribute ${an}`);
      attrs.push([an, value]);
    }
    const children: (XmlElement | string)[] = [];
    const pushText = (t: string): void => {
      if (t === '') return;
      const last = children[children.length - 1];
      if (typeof last === 'string') children[children.length - 1] = last + t;
      else children.push(t);
    };
    for (;;) {
      if (this.pos >= this.s.length) this.fail(`element <${name}> is not closed`);
      if (this.startsWith('</')) {
        this.pos += 2;
        const end = this.name();
        if (end !== name) this.fail(`</${end}> closes <${name}>`);
        this.ws();
        if (this.s[this.pos] !== '>') this.fail("expected '>'");
        this.pos++;
        return { name, attrs, children };
      }
      if (this.startsWith('<!--')) {
        this.pos += 4;
        const body = this.skipPast('-->', 'comment');
        if (body.includes('--')) this.fail('"--" inside a comment');
      } else if (this.startsWith('<![CDATA[')) {
        this.pos += 9;
        pushText(this.skipPast(']]>', 'CDATA section'));
      } else if (this.startsWith('<?')) {
        this.pos += 2;
        this.skipPast('?>', 'processing instruction');
      } else if (this.startsWith('<!')) {
        this.fail('markup declaration inside an element');
      } else if (this.s.charCodeAt(this.pos) === 0x3c) {
        children.push(this.element(depth + 1));
      } else {
        pushText(this.text('<'));
      }
    }
  }
}

/** Parses a document and returns its root element. @throws XmlParseError */
export function parseXml(input: string | Uint8Array, limits: Partial<XmlLimits> = {}): XmlElement {
  const lim: XmlLimits = { ...DEFAULT_XML_LIMITS, ...limits };
  let s: string;
  if (typeof input === 'string') s = input;
  else {
    if (input.length > lim.maxLength * 4) throw new XmlParseError('XML document too large', 0);
    try {
      s = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      throw new XmlParseError('XML document is not UTF-8', 0);
    }
  }
  if (s.length > lim.maxLength) throw new XmlParseError('XML document too large', lim.maxLength);
  if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
  const r = new Reader(s, lim);
  r.misc();
  if (r.pos >= s.length) r.fail('no root element');
  const root = r.element(0);
  r.misc();
  if (r.pos < s.length) r.fail('content after the root element');
  return root;
}

/** The local part of a qualified name (`gr:pub-gruu` → `pub-gruu`). */
export function localName(name: string): string {
  const i = name.indexOf(':');
  return i < 0 ? name : name.slice(i + 1);
}

/** The value of an attribute (by qualified name), or undefined. */
export function attr(e: XmlElement, name: string): string | undefined {
  for (const [n, v] of e.attrs) if (n === name) return v;
  return undefined;
}

/** Child elements whose local name is `name` (any namespace prefix). */
export function childElements(e: XmlElement, name?: string): XmlElement[] {
  const out: XmlElement[] = [];
  for (const c of e.children) if (typeof c !== 'string' && (name === undefined || localName(c.name) === name)) out.push(c);
  return out;
}

/** The first child element with local name `name`, or undefined. */
export function childElement(e: XmlElement, name: string): XmlElement | undefined {
  for (const c of e.children) if (typeof c !== 'string' && localName(c.name) === name) return c;
  return undefined;
}

/** The concatenated text content of an element (direct text children only). */
export function textOf(e: XmlElement): string {
  let s = '';
  for (const c of e.children) if (typeof c === 'string') s += c;
  return s;
}

/** Escapes text for element content or a double-quoted attribute value. Refuses characters XML cannot carry. */
export function escapeXml(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.codePointAt(i)!;
    if (c > 0xffff) i++;
    if (!isXmlChar(c)) throw new XmlParseError('character not allowed in XML', i);
  }
  return s.replace(/[&<>"\r]/g, (ch) => (ch === '&' ? '&amp;' : ch === '<' ? '&lt;' : ch === '>' ? '&gt;' : ch === '"' ? '&quot;' : '&#13;'));
}
