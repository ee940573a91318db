/**
 * Subscriber provisioning: the one external form of a subscriber shared by the CLI
 * (`imsec hss subscriber …`), file import and the REST API, turned into store records.
 *
 * Input (JSON; hex without prefix):
 * ```json
 * { "impi": "alice@ims.lab", "impus": ["sip:alice@ims.lab", { "impu": "tel:+15550100", "irs": 1, "barred": true }],
 *   "k": "465b…", "op": "cdc2…"  (or "opc": "cd63…"),
 *   "amf": "8000", "sqn": 0, "indBits": 5, "authSchemes": ["Digest-AKAv1-MD5"],
 *   "serviceProfile": "<IMSSubscription>…</IMSSubscription>",
 *   "implicitSets": [{ "irs": 2, "serviceProfile": "…" }] }
 * ```
 * An IMPU given as a string is in implicit set 1; the default public identity is the one marked
 * `"default": true`, else the first. An OP is turned into OPc at once (TS 35.206 §4.1) and
 * dropped. `sqn` is the highest SQN already used by the USIM (0 for a new card): the store keeps
 * SEQ_HE = SEQ(sqn) and the first vector gets SEQ + 1 (TS 33.102 C.1.1).
 *
 * K, OP and OPc are write-only: {@link subscriberView} has no field for them, and no error
 * message here quotes them (a non-hex K is reported as "k must be …", never with its value).
 */
import { InvalidArgumentError } from '../../common/errors.js';
import { computeOpc, SQN_MAX } from '../../auth/milenage/milenage.js';
import { splitSqn } from '../../auth/aka/sqn.js';
import {
  AUTH_SCHEMES, checkImpi, checkImpu, MAX_IMPUS, MAX_PROFILE_CHARS, quoteName, validateNewSubscriber,
  type AuthScheme, type HssStore, type ImplicitSetSpec, type NewSubscriber, type PublicIdentitySpec, type RegistrationState, type Subscriber, type SubscriberPatch,
} from '../../store/index.js';

/** One IMPU in the external form. */
export interface ImpuInput {
  impu: string;
  irs?: number;
  barred?: boolean;
  pseudonym?: boolean;
  default?: boolean;
}

/** A new subscriber in the external form (REST body, JSON import element). */
export interface SubscriberInput {
  impi: string;
  impus: (string | ImpuInput)[];
  k: string;
  op?: string;
  opc?: string;
  amf?: string;
  sqn?: number;
  indBits?: number;
  authSchemes?: string[];
  serviceProfile?: string | null;
  implicitSets?: { irs: number; serviceProfile: string | null }[];
}

/** A change in the external form (REST PATCH body, CLI update): every field optional, no IMPI. */
export type SubscriberPatchInput = Partial<Omit<SubscriberInput, 'impi'>>;

/** What show/list/REST print: everything but K, OP and OPc. */
export interface SubscriberView {
  impi: string;
  impus: { impu: string; irs: number; default: boolean; barred: boolean; pseudonym: boolean; state: RegistrationState; scscfName: string | null }[];
  amf: string;
  seqHe: number;
  indBits: number;
  authSchemes: AuthScheme[];
  serviceProfile: string | null;
  implicitSets: ImplicitSetSpec[];
}

export interface RegistrationView {
  impi: string;
  impus: { impu: string; irs: number; state: RegistrationState; scscfName: string | null }[];
}

export const DEFAULT_AMF = 0x8000;
export const DEFAULT_AUTH_SCHEMES: readonly AuthScheme[] = Object.freeze(['Digest-AKAv1-MD5']);
const INPUT_FIELDS = ['impi', 'impus', 'k', 'op', 'opc', 'amf', 'sqn', 'indBits', 'authSchemes', 'serviceProfile', 'implicitSets'];
const IMPU_FIELDS = ['impu', 'irs', 'barred', 'pseudonym', 'default'];

function fail(field: string, message: string): never {
  throw new InvalidArgumentError(`${field} ${message}`, field);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function onlyFields(o: Record<string, unknown>, allowed: readonly string[], where: string): void {
  for (const key of Object.keys(o)) {
    if (!allowed.includes(key)) throw new InvalidArgumentError(`unknown field ${quoteName(key)}${where}`, key);
  }
}

/** A 16-byte secret from 32 hex digits; the message never contains the value. */
export function secretHex(v: unknown, field: 'k' | 'op' | 'opc'): Uint8Array {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{32}$/.test(v)) fail(field, 'must be 16 bytes (32 hex digits)');
  return new Uint8Array(Buffer.from(v, 'hex'));
}

export function parseAmf(v: unknown): number {
  if (typeof v !== 'string' || !/^[0-9a-fA-F]{4}$/.test(v)) fail('amf', 'must be 2 bytes (4 hex digits), e.g. 8000');
  return parseInt(v, 16);
}

function intField(v: unknown, field: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(field, `must be an integer in ${min}..${max}`);
  return v;
}

function parseBool(v: unknown, field: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') fail(field, 'must be true or false');
  return v;
}

/** K plus exactly one of OP / OPc → OPc (an OP is used once and forgotten). */
export function keysFrom(k: unknown, op: unknown, opc: unknown): { k: Uint8Array; opc: Uint8Array } {
  if (k === undefined) fail('k', 'is required');
  const kb = secretHex(k, 'k');
  if (op !== undefined && opc !== undefined) throw new InvalidArgumentError('give either op or opc, not both', 'op');
  if (op === undefined && opc === undefined) throw new InvalidArgumentError('op or opc is required with k', 'opc');
  return { k: kb, opc: opc !== undefined ? secretHex(opc, 'opc') : computeOpc(kb, secretHex(op, 'op')) };
}

export function parseImpus(v: unknown): PublicIdentitySpec[] {
  if (!Array.isArray(v) || v.length === 0) fail('impus', 'must list at least one IMPU');
  if (v.length > MAX_IMPUS) fail('impus', `may list at most ${MAX_IMPUS} IMPUs`);
  const list = v.map((item): ImpuInput => {
    if (typeof item === 'string') return { impu: item };
    if (!isObject(item)) fail('impus', 'entries must be URIs or objects');
    onlyFields(item, IMPU_FIELDS, ' in an IMPU');
    return item as unknown as ImpuInput;
  });
  const marked = list.filter((u) => u.default === true).length;
  if (marked > 1) fail('impus', 'may mark only one IMPU as default');
  return list.map((u, i) => ({
    impu: checkImpu(u.impu),
    irs: u.irs === undefined ? 1 : intField(u.irs, 'irs', 1, 1000),
    barred: parseBool(u.barred, 'barred'),
    pseudonym: parseBool(u.pseudonym, 'pseudonym'),
    isDefault: marked === 0 ? i === 0 : u.default === true,
  }));
}

function parseSchemes(v: unknown): AuthScheme[] {
  if (!Array.isArray(v) || v.length === 0) fail('authSchemes', 'must list at least one scheme');
  for (const s of v) {
    if (typeof s !== 'string' || !AUTH_SCHEMES.includes(s as AuthScheme)) {
      fail('authSchemes', `must name known schemes (${AUTH_SCHEMES.join(', ')}), got ${quoteName(String(s))}`);
    }
  }
  return [...new Set(v as AuthScheme[])];
}

function parseProfile(v: unknown, field = 'serviceProfile'): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' || v.length > MAX_PROFILE_CHARS) fail(field, `must be a string of at most ${MAX_PROFILE_CHARS} characters`);
  return v;
}

function parseSets(v: unknown): ImplicitSetSpec[] {
  if (!Array.isArray(v)) fail('implicitSets', 'must be a list');
  return v.map((s) => {
    if (!isObject(s)) fail('implicitSets', 'entries must be objects');
    onlyFields(s, ['irs', 'serviceProfile'], ' in an implicit set');
    return { irs: intField(s.irs, 'irs', 1, 1000), serviceProfile: parseProfile(s.serviceProfile) };
  });
}

/** SEQ_HE from "the highest SQN used so far" (TS 33.102 C.1.1). */
function seqHeFrom(v: unknown, indBits: number): number {
  return splitSqn(intField(v, 'sqn', 0, SQN_MAX), indBits).seq;
}

/** External form → store record; InvalidArgumentError naming the field on any problem. */
export function parseSubscriberInput(input: unknown): NewSubscriber {
  if (!isObject(input)) throw new InvalidArgumentError('a subscriber must be a JSON object', 'subscriber');
  onlyFields(input, INPUT_FIELDS, '');
  const impi = checkImpi(input.impi);
  const { k, opc } = keysFrom(input.k, input.op, input.opc);
  const indBits = input.indBits === undefined ? 5 : intField(input.indBits, 'indBits', 0, 10);
  const s: NewSubscriber = {
    impi,
    k,
    opc,
    amf: input.amf === undefined ? DEFAULT_AMF : parseAmf(input.amf),
    seqHe: input.sqn === undefined ? 0 : seqHeFrom(input.sqn, indBits),
    indBits,
    authSchemes: input.authSchemes === undefined ? [...DEFAULT_AUTH_SCHEMES] : parseSchemes(input.authSchemes),
    serviceProfile: parseProfile(input.serviceProfile),
    impus: parseImpus(input.impus),
    implicitSets: input.implicitSets === undefined ? [] : parseSets(input.implicitSets),
  };
  validateNewSubscriber(s);
  return s;
}

/** External patch → store patch. `indBits` of the stored subscriber is needed to read `sqn`. */
export function parsePatchInput(input: unknown, currentIndBits: number): SubscriberPatch {
  if (!isObject(input)) throw new InvalidArgumentError('a change must be a JSON object', 'patch');
  onlyFields(input, INPUT_FIELDS.filter((f) => f !== 'impi'), '');
  const p: SubscriberPatch = {};
  if (input.k !== undefined || input.op !== undefined || input.opc !== undefined) {
    if (input.k === undefined) fail('k', 'is required to change op/opc (OPc depends on K)');
    Object.assign(p, keysFrom(input.k, input.op, input.opc));
  }
  if (input.amf !== undefined) p.amf = parseAmf(input.amf);
  if (input.indBits !== undefined) p.indBits = intField(input.indBits, 'indBits', 0, 10);
  if (input.sqn !== undefined) p.seqHe = seqHeFrom(input.sqn, p.indBits ?? currentIndBits);
  if (input.authSchemes !== undefined) p.authSchemes = parseSchemes(input.authSchemes);
  if (input.serviceProfile !== undefined) p.serviceProfile = parseProfile(input.serviceProfile);
  if (input.impus !== undefined) p.impus = parseImpus(input.impus);
  if (input.implicitSets !== undefined) p.implicitSets = parseSets(input.implicitSets);
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
