/**
 * Ordered `;name=value` parameters (RFC 3261 §25.1 generic-param, uri-parameter). Names keep
 * their spelling and compare case-insensitively (§7.3.1, §19.1.4); values are raw text as in
 * the message (a quoted-string keeps its quotes: use {@link unquote}). A parameter without a
 * value (`;lr`, `;rport`) has the value `null`.
 */
import { InvalidArgumentError } from '../../common/index.js';

export class SipParams implements Iterable<[string, string | null]> {
  /** Names at even indexes, each value after its name: one array per set of parameters, not one per parameter. */
  private flat: (string | null)[] = [];

  constructor(entries?: Iterable<readonly [string, string | null]>) {
    if (entries) for (const [k, v] of entries) this.flat.push(k, v);
  }

  get size(): number {
    return this.flat.length >> 1;
  }

  /** The index of the name in `flat`, or -1. */
  private index(name: string): number {
    const l = this.flat;
    for (let i = 0; i < l.length; i += 2) if (l[i] === name) return i;
    let lower: string | undefined;
    for (let i = 0; i < l.length; i += 2) {
      const k = l[i] as string;
      if (k.length === name.length && k.toLowerCase() === (lower ??= name.toLowerCase())) return i;
    }
    return -1;
  }

  /** The raw value; `null` when present without a value; `undefined` when absent. */
  get(name: string): string | null | undefined {
    const i = this.index(name);
    return i < 0 ? undefined : this.flat[i + 1];
  }

  has(name: string): boolean {
    return this.index(name) >= 0;
  }

  /** Sets (in place when present, else appended); `null` for a parameter without value. */
  set(name: string, value: string | null = null): this {
    if (!name || /[\s;,=]/.test(name)) throw new InvalidArgumentError(`bad parameter name ${JSON.stringify(name)}`, 'name');
    if (value !== null && /[\r\n]/.test(value)) throw new InvalidArgumentError('parameter value contains CR or LF', 'value');
    const i = this.index(name);
    if (i >= 0) this.flat[i + 1] = value;
    else this.flat.push(name, value);
    return this;
  }

  delete(name: string): boolean {
    const i = this.index(name);
    if (i < 0) return false;
    this.flat.splice(i, 2);
    return true;
  }

  [Symbol.iterator](): Iterator<[string, string | null]> {
    const out: [string, string | null][] = [];
    for (let i = 0; i < this.flat.length; i += 2) out.push([this.flat[i] as string, this.flat[i + 1]]);
    return out[Symbol.iterator]();
  }

  clone(): SipParams {
    const c = new SipParams();
    c.flat = this.flat.slice();
    return c;
  }

  /** `;a=b;c` (empty string when there are none). */
  toString(): string {
    let s = '';
    for (let i = 0; i < this.flat.length; i += 2) {
      const v = this.flat[i + 1];
      s += v === null ? `;${this.flat[i]}` : `;${this.flat[i]}=${v}`;
    }
    return s;
  }

  /** @internal parser fast path */
  _add(name: string, value: string | null): void {
    this.flat.push(name, value);
  }
}

/** Removes the quotes and quoted-pair backslashes of a quoted-string; other text is returned as is. */
export function unquote(v: string): string {
  if (v.length < 2 || v.charCodeAt(0) !== 0x22 || v.charCodeAt(v.length - 1) !== 0x22) return v;
  const inner = v.slice(1, -1);
  return inner.indexOf('\\') < 0 ? inner : inner.replace(/\\([\s\S])/g, '$1');
}

/**
 * A quoted-string for `s` (RFC 3261 §25.1): `"` and `\` and the control characters that qdtext
 * does not allow become quoted-pairs. CR and LF cannot be carried and are refused.
 */
export function quote(s: string): string {
  if (/[\r\n]/.test(s)) throw new InvalidArgumentError('CR or LF cannot appear in a quoted-string', 'value');
  return `"${s.replace(/[\\"\x00-\x08\x0b\x0c\x0e-\x1f\x7f]/g, '\\$&')}"`;
}
