/**
 * Dictionary lookups and typed AVP helpers. `avp('Public-Identity', 'sip:alice@ims.lab')` builds
 * an AVP with the right code, vendor and flags, and the value type is checked at compile time
 * (`avp('SIP-Item-Number', 'x')` does not type-check). `getValue(avps, name)` reads one back.
 */
import { type Avp, AVP_FLAG_MANDATORY, AVP_FLAG_VENDOR, isMandatory } from '../codec/avp.js';
import { type DataTypeValues, decodeValue, encodeValue } from '../codec/types.js';
import { DiameterAvpError } from '../errors.js';
import { BASE_AVPS } from './base.js';
import { CX_AVPS } from './cx.js';
import type { AvpDef, AvpSpec } from './spec.js';

/** Every AVP this package knows by name: RFC 6733 base and TS 29.229 Cx. */
export const AVPS = { ...BASE_AVPS, ...CX_AVPS } as const;
export type AvpName = keyof typeof AVPS;
/** The TypeScript type of an AVP's value, from its data format. */
export type AvpValue<N extends AvpName> = DataTypeValues[(typeof AVPS)[N]['type']];

/** A set of AVP definitions, looked up by (Vendor-ID, code) or by name. */
export class Dictionary {
  private readonly byVendor = new Map<number, Map<number, AvpDef>>();
  private readonly byName = new Map<string, AvpDef>();

  constructor(defs: Iterable<AvpDef>) {
    for (const d of defs) {
      let m = this.byVendor.get(d.vendorId);
      if (!m) this.byVendor.set(d.vendorId, (m = new Map<number, AvpDef>()));
      m.set(d.code, d);
      this.byName.set(d.name, d);
    }
  }

  /** Builds a dictionary from tables like {@link BASE_AVPS}. */
  static fromTables(...tables: Record<string, AvpSpec>[]): Dictionary {
    return new Dictionary(tables.flatMap((t) => Object.entries(t).map(([name, s]) => ({ ...s, name, vendorId: s.vendorId ?? 0 }))));
  }

  /** A new dictionary with more tables (later entries win). */
  extend(...tables: Record<string, AvpSpec>[]): Dictionary {
    return new Dictionary([...this.byName.values(), ...Dictionary.fromTables(...tables).byName.values()]);
  }

  get(vendorId: number, code: number): AvpDef | undefined {
    return this.byVendor.get(vendorId)?.get(code);
  }

  /** The definition of a received AVP. */
  of(a: Avp): AvpDef | undefined {
    return this.get(a.flags & AVP_FLAG_VENDOR ? a.vendorId : 0, a.code);
  }

  named(name: string): AvpDef | undefined {
    return this.byName.get(name);
  }

  get size(): number {
    return this.byName.size;
  }
}

/** The base + Cx dictionary. */
export const defaultDictionary = Dictionary.fromTables(BASE_AVPS, CX_AVPS);

const SPECS = new Map<string, AvpSpec>(Object.entries(AVPS));

/** The dictionary entry for `name` (from the static tables). */
export function specOf(name: string): AvpSpec {
  const s = SPECS.get(name);
  if (!s) throw new DiameterAvpError(`unknown AVP name ${JSON.stringify(name)}`, 5001, name);
  return s;
}

/** Options for {@link avp}: override the dictionary's 'M' bit. */
export interface AvpOptions {
  mandatory?: boolean;
}

/** Builds a typed AVP by name (code, Vendor-ID, 'V' and 'M' bits from the dictionary). */
export function avp<N extends AvpName>(name: N, value: AvpValue<N>, opts?: AvpOptions): Avp {
  const s = specOf(name);
  const vendorId = s.vendorId ?? 0;
  let flags = vendorId ? AVP_FLAG_VENDOR : 0;
  if (opts?.mandatory ?? s.m) flags |= AVP_FLAG_MANDATORY;
  return { code: s.code, flags, vendorId, data: encodeValue(s.type, value as never) };
}

/** True when `a` is the AVP named `name` (same code and Vendor-ID). */
export function isAvp(a: Avp, name: AvpName): boolean {
  const s = specOf(name);
  const vendorId = s.vendorId ?? 0;
  return a.code === s.code && (a.flags & AVP_FLAG_VENDOR ? a.vendorId : 0) === vendorId;
}

/** The first AVP named `name`, raw. */
export function findAvp(avps: readonly Avp[], name: AvpName): Avp | undefined {
  const s = specOf(name);
  const vendorId = s.vendorId ?? 0;
  for (const a of avps) if (a.code === s.code && (a.flags & AVP_FLAG_VENDOR ? a.vendorId : 0) === vendorId) return a;
  return undefined;
}

/** Every AVP named `name`, raw, in order. */
export function findAvps(avps: readonly Avp[], name: AvpName): Avp[] {
  const s = specOf(name);
  const vendorId = s.vendorId ?? 0;
  return avps.filter((a) => a.code === s.code && (a.flags & AVP_FLAG_VENDOR ? a.vendorId : 0) === vendorId);
}

/** Decodes a raw AVP as `name`'s type; a bad value throws {@link DiameterAvpError} naming the AVP. */
export function valueOf<N extends AvpName>(a: Avp, name: N, spec: AvpSpec = specOf(name)): AvpValue<N> {
  try {
    return decodeValue(spec.type, a.data) as AvpValue<N>;
  } catch (e) {
    if (e instanceof DiameterAvpError) throw new DiameterAvpError(`${name}: ${e.message}`, e.resultCode, name, a);
    throw e;
  }
}

/** The value of the first AVP named `name`, or undefined. */
export function getValue<N extends AvpName>(avps: readonly Avp[], name: N): AvpValue<N> | undefined {
  const a = findAvp(avps, name);
  return a ? valueOf(a, name) : undefined;
}

/** The values of every AVP named `name`. */
export function getValues<N extends AvpName>(avps: readonly Avp[], name: N): AvpValue<N>[] {
  return findAvps(avps, name).map((a) => valueOf(a, name));
}

/**
 * The value of the required AVP `name` ({AVP} in a CCF).
 * @throws DiameterAvpError 5005 DIAMETER_MISSING_AVP with an example AVP for Failed-AVP (RFC 6733
 *   §7.1.5: "an example of the missing AVP complete with the Vendor-Id ... of correct minimum
 *   length and contain zeroes").
 */
export function requireValue<N extends AvpName>(avps: readonly Avp[], name: N): AvpValue<N> {
  const a = findAvp(avps, name);
  if (!a) throw new DiameterAvpError(`missing required AVP ${name}`, 5005, name, missingAvpExample(name));
  return valueOf(a, name);
}

/** RFC 6733 §7.1.5: the zero-filled example of a missing AVP that goes into Failed-AVP. */
export function missingAvpExample(name: AvpName): Avp {
  const s = specOf(name);
  const vendorId = s.vendorId ?? 0;
  const size: Partial<Record<string, number>> = {
    Integer32: 4,
    Unsigned32: 4,
    Enumerated: 4,
    Float32: 4,
    Time: 4,
    Integer64: 8,
    Unsigned64: 8,
    Float64: 8,
    Address: 6,
  };
  const data = new Uint8Array(size[s.type] ?? 0);
  if (s.type === 'Address') data[1] = 1;
  return { code: s.code, flags: (vendorId ? AVP_FLAG_VENDOR : 0) | (s.m ? AVP_FLAG_MANDATORY : 0), vendorId, data };
}

/**
 * RFC 6733 §4.1: AVPs with the 'M' bit set that `dict` does not know, looking inside known Grouped
 * AVPs too. A request carrying any must be answered with DIAMETER_AVP_UNSUPPORTED (5001) and the
 * offending AVPs in Failed-AVP.
 */
export function unsupportedMandatoryAvps(avps: readonly Avp[], dict: Dictionary = defaultDictionary): Avp[] {
  const out: Avp[] = [];
  const walk = (list: readonly Avp[], depth: number): void => {
    for (const a of list) {
      const def = dict.of(a);
      if (!def) {
        if (isMandatory(a)) out.push(a);
        continue;
      }
      if (def.type === 'Grouped' && depth < 8) {
        let children: Avp[];
        try {
          children = decodeValue('Grouped', a.data);
        } catch {
          continue;
        }
        walk(children, depth + 1);
      }
    }
  };
  walk(avps, 0);
  return out;
}
