/**
 * The one schema of a subscriber in its external form, shared by the CLI (`imsec hss subscriber`),
 * file import and the REST API (request bodies, responses and the OpenAPI document), and by
 * `imsec core`'s subscriber list. Checked with ajv (common/schema.ts); every message names the
 * field and never quotes a key (no `{value}` in any of them).
 *
 * Input (JSON; hex without prefix):
 * ```json
 * { "impi": "alice@ims.lab", "impus": ["sip:alice@ims.lab", { "impu": "tel:+15550100", "irs": 1, "barred": true }],
 *   "k": "465b…", "op": "cdc2…"  (or "opc": "cd63…"),
 *   "amf": "8000", "sqn": 0, "indBits": 5, "authSchemes": ["Digest-AKAv1-MD5"],
 *   "serviceProfile": "<IMSSubscription>…</IMSSubscription>",
 *   "implicitSets": [{ "irs": 2, "serviceProfile": "…" }] }
 * ```
 * What JSON Schema cannot say (exactly one of OP and OPc, one default IMPU, sets used by IMPUs)
 * is checked by provisioning.ts and store/validate.ts.
 */
import { Type, type Static, type StaticDecode } from 'typebox';
import { SQN_MAX } from '../../auth/index.js';
import { AUTH_SCHEMES, IMPI_PATTERN, IMPU_PATTERN, MAX_IMPUS, MAX_PROFILE_CHARS, REGISTRATION_STATES } from '../../store/index.js';

const hex16 = (description: string) => Type.String({ pattern: '^[0-9a-fA-F]{32}$', errorMessage: 'must be 16 bytes (32 hex digits)', description });

/** IMPI, an NAI (TS 23.003 §13.3). */
export const ImpiField = Type.String({ pattern: IMPI_PATTERN, maxLength: 255, errorMessage: 'must be an NAI of the form user@realm (TS 23.003 §13.3)', description: 'IMPI, an NAI (TS 23.003 §13.3)' });
/** IMPU, a SIP or tel URI (TS 23.003 §13.4). */
export const ImpuField = Type.String({
  title: 'impu',
  pattern: IMPU_PATTERN,
  maxLength: 255,
  errorMessage: 'must be a sip:, sips: or tel: URI without spaces (TS 23.003 §13.4)',
  description: 'IMPU, a SIP or tel URI (TS 23.003 §13.4)',
});
const Irs = Type.Integer({ minimum: 1, maximum: 1000, errorMessage: 'must be an integer in 1..1000', description: 'implicit registration set number' });
const Profile = Type.Union([Type.String({ maxLength: MAX_PROFILE_CHARS }), Type.Null()], { errorMessage: `must be a string of at most ${MAX_PROFILE_CHARS} characters, or null`, description: 'TS 29.228 User-Data XML' });
const Flag = Type.Boolean({ errorMessage: 'must be true or false' });
const State = Type.Enum([...REGISTRATION_STATES]);

/** One IMPU in the external form: a URI (implicit set 1), or an object with its set and flags. */
export const ImpuInput = Type.Union([
  ImpuField,
  Type.Object(
    { impu: ImpuField, irs: Type.Optional(Irs), barred: Type.Optional(Flag), pseudonym: Type.Optional(Flag), default: Type.Optional(Flag) },
    { additionalProperties: false, title: 'IMPU' },
  ),
], { errorMessage: 'entries must be URIs or objects' });
export type ImpuInput = Exclude<Static<typeof ImpuInput>, string>;

const ImplicitSet = Type.Object({ irs: Irs, serviceProfile: Profile }, { additionalProperties: false, title: 'implicit set' });

/** The fields a new subscriber and a change both carry. */
const writable = {
  impus: Type.Array(ImpuInput, {
    minItems: 1,
    maxItems: MAX_IMPUS,
    errorMessage: `must list 1 to ${MAX_IMPUS} IMPUs`,
    description: 'the first is the default public identity unless one says "default": true',
  }),
  k: hex16('K, 16 bytes as 32 hex digits (write-only)'),
  op: Type.Optional(hex16('OP, 16 bytes as 32 hex digits; turned into OPc and never stored')),
  opc: Type.Optional(hex16('OPc, 16 bytes as 32 hex digits (write-only)')),
  amf: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{4}$', errorMessage: 'must be 2 bytes (4 hex digits), e.g. 8000', description: 'AMF, 2 bytes as 4 hex digits (default 8000)' })),
  sqn: Type.Optional(Type.Integer({ minimum: 0, maximum: SQN_MAX, errorMessage: `must be an integer in 0..${SQN_MAX}`, description: 'highest SQN the USIM has used; the next vector is above it' })),
  indBits: Type.Optional(Type.Integer({ minimum: 0, maximum: 10, errorMessage: 'must be an integer in 0..10', description: 'IND length in bits (TS 33.102 Annex C; default 5)' })),
  authSchemes: Type.Optional(
    Type.Array(Type.Enum([...AUTH_SCHEMES], { errorMessage: `must name known schemes (${AUTH_SCHEMES.join(', ')})` }), {
      minItems: 1,
      errorMessage: 'must list at least one scheme',
      description: 'allowed authentication schemes (default Digest-AKAv1-MD5)',
    }),
  ),
  serviceProfile: Type.Optional(Profile),
  implicitSets: Type.Optional(Type.Array(ImplicitSet, { errorMessage: 'must be a list', description: 'the service profile of each implicit set other than the subscriber-wide one' })),
};

/** A new subscriber (REST POST body, JSON import element, CLI add). */
export const NewSubscriberSchema = Type.Object({ impi: ImpiField, ...writable }, { additionalProperties: false, title: 'NewSubscriber' });
export type SubscriberInput = Static<typeof NewSubscriberSchema>;

/** A change (REST PATCH body, CLI update): every field optional, no IMPI, at least one field. */
export const SubscriberPatchSchema = Type.Object(
  { ...writable, impus: Type.Optional(writable.impus), k: Type.Optional(writable.k) },
  { additionalProperties: false, minProperties: 1, title: 'SubscriberPatch' },
);
export type SubscriberPatchInput = Static<typeof SubscriberPatchSchema>;

/** What show/list/REST print: everything but K, OP and OPc (the serializer drops what this does not name). */
export const SubscriberViewSchema = Type.Object(
  {
    impi: ImpiField,
    impus: Type.Array(
      Type.Object(
        { impu: ImpuField, irs: Irs, default: Type.Boolean(), barred: Type.Boolean(), pseudonym: Type.Boolean(), state: State, scscfName: Type.Union([Type.String(), Type.Null()]) },
        { additionalProperties: false },
      ),
    ),
    amf: Type.String(),
    seqHe: Type.Integer({ description: 'SEQ_HE: highest SEQ issued (TS 33.102 C.1.1)' }),
    indBits: Type.Integer(),
    authSchemes: Type.Array(Type.Enum([...AUTH_SCHEMES])),
    serviceProfile: Profile,
    implicitSets: Type.Array(ImplicitSet),
  },
  { additionalProperties: false, title: 'Subscriber' },
);
export type SubscriberView = StaticDecode<typeof SubscriberViewSchema>;

/** Registration state per IMPU (TS 29.228 §6.1). */
export const RegistrationViewSchema = Type.Object(
  {
    impi: ImpiField,
    impus: Type.Array(Type.Object({ impu: ImpuField, irs: Irs, state: State, scscfName: Type.Union([Type.String(), Type.Null()]) }, { additionalProperties: false })),
  },
  { additionalProperties: false, title: 'Registration' },
);
export type RegistrationView = StaticDecode<typeof RegistrationViewSchema>;
