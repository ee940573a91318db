/**
 * A reader over a list of AVPs that follows a Command Code Format (RFC 6733 §3.2): `req` for
 * `{ AVP }`, `opt` for `[ AVP ]`, `all` for `*[ AVP ]`; what no one asked for stays in `rest()`
 * (the `*[ AVP ]` tail), so unknown AVPs are carried, not dropped.
 */
import type { Avp } from '../codec/avp.js';
import { DiameterAvpError } from '../errors.js';
import { AVP_FLAG_VENDOR } from '../codec/avp.js';
import { type AvpName, type AvpValue, missingAvpExample, specOf, valueOf } from './registry.js';
import type { AvpSpec } from './spec.js';
import { type DiameterResult, readResult } from './result.js';

/**
 * Reads AVPs by name, marking each as consumed; {@link rest} returns what no one asked for, in
 * order (the `*[ AVP ]` of a CCF).
 */
export class AvpReader {
  private readonly used: boolean[];
  constructor(readonly avps: readonly Avp[]) {
    this.used = new Array<boolean>(avps.length).fill(false);
  }

  private index(name: AvpName, from = 0, s: AvpSpec = specOf(name)): number {
    const vendorId = s.vendorId ?? 0;
    const avps = this.avps;
    for (let i = from; i < avps.length; i++) {
      const a = avps[i];
      if (a.code === s.code && !this.used[i] && (a.flags & AVP_FLAG_VENDOR ? a.vendorId : 0) === vendorId) return i;
    }
    return -1;
  }

  /** `[ name ]`: the value, or undefined. A second occurrence stays in {@link rest}. */
  opt<N extends AvpName>(name: N): AvpValue<N> | undefined {
    const s = specOf(name);
    const i = this.index(name, 0, s);
    if (i < 0) return undefined;
    this.used[i] = true;
    return valueOf(this.avps[i], name, s);
  }

  /** `{ name }`: the value. @throws DiameterAvpError 5005 DIAMETER_MISSING_AVP. */
  req<N extends AvpName>(name: N): AvpValue<N> {
    const s = specOf(name);
    const i = this.index(name, 0, s);
    if (i < 0) throw new DiameterAvpError(`missing required AVP ${name}`, 5005, name, missingAvpExample(name));
    this.used[i] = true;
    return valueOf(this.avps[i], name, s);
  }

  /** `*[ name ]`: every value. */
  all<N extends AvpName>(name: N): AvpValue<N>[] {
    const s = specOf(name);
    const out: AvpValue<N>[] = [];
    for (let i = this.index(name, 0, s); i >= 0; i = this.index(name, i + 1, s)) {
      this.used[i] = true;
      out.push(valueOf(this.avps[i], name, s));
    }
    return out;
  }

  /** `*[ name ]`, raw AVPs. */
  allRaw(name: AvpName): Avp[] {
    const s = specOf(name);
    const out: Avp[] = [];
    for (let i = this.index(name, 0, s); i >= 0; i = this.index(name, i + 1, s)) {
      this.used[i] = true;
      out.push(this.avps[i]);
    }
    return out;
  }

  /** The result (Result-Code or Experimental-Result) of an answer. @throws 5005 when neither is present. */
  result(): DiameterResult {
    const r = readResult(this.avps);
    if (!r) throw new DiameterAvpError('answer has neither Result-Code nor Experimental-Result', 5005, 'Result-Code', missingAvpExample('Result-Code'));
    const i = this.index(r.vendorId ? 'Experimental-Result' : 'Result-Code');
    if (i >= 0) this.used[i] = true;
    return r;
  }

  /** AVPs not consumed, in their original order. */
  rest(): Avp[] {
    return this.avps.filter((_, i) => !this.used[i]);
  }
}

