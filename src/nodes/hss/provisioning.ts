/**
 * Subscriber provisioning: the one external form of a subscriber (subscriber-schema.ts), shared
 * by the CLI (`imsec hss subscriber …`), file import and the REST API, turned into store records.
 *
 * An IMPU given as a string is in implicit set 1; the default public identity is the one marked
 * `"default": true`, else the first. An OP is turned into OPc at once (TS 35.206 §4.1) and
 * dropped. `sqn` is the highest SQN already used by the USIM (0 for a new card): the store keeps
 * SEQ_HE = SEQ(sqn) and the first vector gets SEQ + 1 (TS 33.102 C.1.1).
 *
 * K, OP and OPc are write-only: {@link subscriberView} has no field for them, and no error
 * message here quotes them (a non-hex K is reported as "k must be …", never with its value).
 * Errors are InvalidArgumentErrors whose `argument` is the field's own name (`k`, `impu`, `irs`),
 * which the CLI turns into its flag.
 */
import type { TSchema } from 'typebox';
import { InvalidArgumentError } from '../../common/index.js';
import { checkSchema } from '../../common/schema.js';
import { computeOpc, splitSqn } from '../../auth/index.js';
import { quoteName, validateNewSubscriber, type AuthScheme, type HssStore, type NewSubscriber, type PublicIdentitySpec, type Subscriber, type SubscriberPatch } from '../../store/index.js';
import {
  NewSubscriberSchema, SubscriberPatchSchema,
  type ImpuInput, type RegistrationView, type SubscriberInput, type SubscriberPatchInput, type SubscriberView,
} from './subscriber-schema.js';

export type { ImpuInput, RegistrationView, SubscriberInput, SubscriberPatchInput, SubscriberView };

export const DEFAULT_AMF = 0x8000;
export const DEFAULT_AUTH_SCHEMES: readonly AuthScheme[] = Object.freeze(['Digest-AKAv1-MD5']);
const DEFAULT_IND_BITS = 5;

function fail(field: string, message: string): never {
  throw new InvalidArgumentError(`${field} ${message}`, field);
}

/** `input` checked against `schema`, or an InvalidArgumentError naming the field by its own name. */
function checked<S extends TSchema>(schema: S, input: unknown) {
  const r = checkSchema(schema, input);
  if (r.ok) return r.value;
  const { path, keyword, title, message } = r.issue;
  const name = String(title ?? [...path].reverse().find((p) => typeof p === 'string') ?? 'subscriber');
  if (keyword === 'additionalProperties') {
    const key = String(path[path.length - 1]);
    throw new InvalidArgumentError(`unknown field ${quoteName(key)}${path.length > 1 && title !== undefined ? ` in an ${title}` : ''}`, key);
  }
  return fail(name, message);
}

/** K plus exactly one of OP / OPc (hex, checked by the schema) → OPc (an OP is used once and forgotten). */
function keysFrom(k: string, op: string | undefined, opc: string | undefined): { k: Uint8Array; opc: Uint8Array } {
  if (op !== undefined && opc !== undefined) throw new InvalidArgumentError('give either op or opc, not both', 'op');
  if (op === undefined && opc === undefined) throw new InvalidArgumentError('op or opc is required with k', 'opc');
  const kb = new Uint8Array(Buffer.from(k, 'hex'));
  return { k: kb, opc: opc !== undefined ? new Uint8Array(Buffer.from(opc, 'hex')) : computeOpc(kb, new Uint8Array(Buffer.from(op!, 'hex'))) };
}

function impusOf(list: NonNullable<SubscriberPatchInput['impus']>): PublicIdentitySpec[] {
  const items = list.map((u): ImpuInput => (typeof u === 'string' ? { impu: u } : u));
  const marked = items.filter((u) => u.default === true).length;
  if (marked > 1) fail('impus', 'may mark only one IMPU as default');
  return items.map((u, i) => ({ impu: u.impu, irs: u.irs ?? 1, barred: u.barred ?? false, pseudonym: u.pseudonym ?? false, isDefault: marked === 0 ? i === 0 : u.default === true }));
}

const schemesOf = (v: readonly AuthScheme[]): AuthScheme[] => [...new Set(v)];

/** SEQ_HE from "the highest SQN used so far" (TS 33.102 C.1.1). */
const seqHeFrom = (sqn: number, indBits: number): number => splitSqn(sqn, indBits).seq;

/** External form → store record; InvalidArgumentError naming the field on any problem. */
export function parseSubscriberInput(input: unknown): NewSubscriber {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidArgumentError('a subscriber must be a JSON object', 'subscriber');
  const v = checked(NewSubscriberSchema, input);
  const indBits = v.indBits ?? DEFAULT_IND_BITS;
  const s: NewSubscriber = {
    impi: v.impi,
    ...keysFrom(v.k, v.op, v.opc),
    amf: v.amf === undefined ? DEFAULT_AMF : parseInt(v.amf, 16),
    seqHe: v.sqn === undefined ? 0 : seqHeFrom(v.sqn, indBits),
    indBits,
    authSchemes: v.authSchemes === undefined ? [...DEFAULT_AUTH_SCHEMES] : schemesOf(v.authSchemes),
    serviceProfile: v.serviceProfile ?? null,
    impus: impusOf(v.impus),
    implicitSets: v.implicitSets ?? [],
  };
  validateNewSubscriber(s);
  return s;
}

/** External patch → store patch. `indBits` of the stored subscriber is needed to read `sqn`. */
export function parsePatchInput(input: unknown, currentIndBits: number): SubscriberPatch {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidArgumentError('a change must be a JSON object', 'patch');
  const v = checked(SubscriberPatchSchema, input);
  const p: SubscriberPatch = {};
  if (v.k !== undefined || v.op !== undefined || v.opc !== undefined) {
    if (v.k === undefined) fail('k', 'is required to change op/opc (OPc depends on K)');
    Object.assign(p, keysFrom(v.k, v.op, v.opc));
  }
  if (v.amf !== undefined) p.amf = parseInt(v.amf, 16);
  if (v.indBits !== undefined) p.indBits = v.indBits;
  if (v.sqn !== undefined) p.seqHe = seqHeFrom(v.sqn, p.indBits ?? currentIndBits);
  if (v.authSchemes !== undefined) p.authSchemes = schemesOf(v.authSchemes);
  if (v.serviceProfile !== undefined) p.serviceProfile = v.serviceProfile;
  if (v.impus !== undefined) p.impus = impusOf(v.impus);
  if (v.implicitSets !== undefined) p.implicitSets = v.implicitSets;
  return p;
}

/**
 * IMPU specs from CLI/CSV lists: every IMPU in set 1, the first the default, `barred` and
 * `pseudonym` naming IMPUs of the list.
 */
export function impusFromLists(impus: readonly string[], barred: readonly string[] = [], pseudonym: readonly string[] = []): ImpuInput[] {
  for (const [flag, list] of [['barred', barred], ['pseudonym', pseudonym]] as const) {
    for (const u of list) if (!impus.includes(u)) fail(flag, `names ${quoteName(u)}, which is not one of the IMPUs`);
  }
  return impus.map((impu) => ({ impu, barred: barred.includes(impu), pseudonym: pseudonym.includes(impu) }));
}

/** The public view of a subscriber (no K/OPc: the record has none to give). */
export function subscriberView(s: Subscriber): SubscriberView {
  return {
    impi: s.impi,
    impus: s.impus.map((u) => ({ impu: u.impu, irs: u.irs, default: u.isDefault, barred: u.barred, pseudonym: u.pseudonym, state: u.state, scscfName: u.scscfName })),
    amf: s.amf.toString(16).padStart(4, '0'),
    seqHe: s.seqHe,
    indBits: s.indBits,
    authSchemes: [...s.authSchemes],
    serviceProfile: s.serviceProfile,
    implicitSets: s.implicitSets.map((x) => ({ ...x })),
  };
}

export function registrationView(s: Subscriber): RegistrationView {
  return { impi: s.impi, impus: s.impus.map((u) => ({ impu: u.impu, irs: u.irs, state: u.state, scscfName: u.scscfName })) };
}

/** Validate and insert one subscriber; its public view. */
export async function provisionSubscriber(store: HssStore, input: unknown): Promise<SubscriberView> {
  return subscriberView(await store.createSubscriber(parseSubscriberInput(input)));
}

/** Validate and apply a change; NotFoundError if the IMPI is unknown. */
export async function changeSubscriber(store: HssStore, impi: string, input: unknown): Promise<SubscriberView> {
  const current = await store.getSubscriber(impi);
  const patch = parsePatchInput(input, current?.indBits ?? 5);
  return subscriberView(await store.updateSubscriber(impi, patch));
}
