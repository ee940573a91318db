/**
 * The subscriber the probe registers as (R-LAB-3): a real identity of the target's network
 * (IMPI, IMPU, K, OP or OPc), read from a JSON file, and the AKA answer to a challenge computed
 * with Milenage (TS 35.206, TS 33.102 §6.3.3) and Digest AKAv1/AKAv2 (RFC 3310 §3.3,
 * RFC 4169 §3). K and OPc stay inside the Milenage key schedule; nothing here prints them.
 *
 * ```json
 * { "impi": "alice@ims.lab", "impu": "sip:alice@ims.lab", "k": "…", "opc": "…",
 *   "homeDomain": "ims.lab", "victim": { "impi": "bob@ims.lab", "impu": "sip:bob@ims.lab" } }
 * ```
 * `victim` is another user of the same network, for the binding checks; when absent the probe
 * uses `probe-victim@<homeDomain>`.
 */
import { InvalidArgumentError, fromHex, type Rng } from '../common/index.js';
import { computeOpc, isimAuthenticate, Milenage, parseAkaNonce, type DigestChallenge, type DigestCredentials } from '../auth/index.js';
import { challengeResponse, type UeIdentity } from '../nodes/ue/index.js';
import { ProbeError } from './errors.js';

export interface ProbeSubscriber {
  id: UeIdentity;
  /** Another user's identities (binding checks). */
  victim: { impi: string; impu: string };
  milenage: Milenage;
}

/** What the ISIM gives for one challenge (TS 33.102 §6.3.3). */
export interface AkaKeys {
  res: Uint8Array;
  ik: Uint8Array;
  ck: Uint8Array;
}

function str(o: Record<string, unknown>, k: string, required: boolean): string | undefined {
  const v = o[k];
  if (v === undefined && !required) return undefined;
  if (typeof v !== 'string' || v.length === 0) throw new InvalidArgumentError(`subscriber: "${k}" must be a non-empty string`, '--subscriber');
  return v;
}

/** Parse the subscriber JSON (see the module comment). Throws InvalidArgumentError. */
export function parseSubscriber(raw: unknown): ProbeSubscriber {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new InvalidArgumentError('subscriber: must be a JSON object', '--subscriber');
  const o = raw as Record<string, unknown>;
  const known = ['impi', 'impu', 'homeDomain', 'k', 'op', 'opc', 'victim'];
  const extra = Object.keys(o).find((k) => !known.includes(k));
  if (extra) throw new InvalidArgumentError(`subscriber: unknown field "${extra}"`, '--subscriber');
  const impi = str(o, 'impi', true)!;
  const impu = str(o, 'impu', true)!;
  if (!/^sips?:/i.test(impu)) throw new InvalidArgumentError('subscriber: "impu" must be a SIP URI', '--subscriber');
  const homeDomain = str(o, 'homeDomain', false) ?? impi.split('@')[1];
  if (!homeDomain) throw new InvalidArgumentError('subscriber: "homeDomain" is needed when the IMPI has no @realm', '--subscriber');
  const hex = (k: string): Uint8Array | undefined => {
    const v = str(o, k, false);
    if (v === undefined) return undefined;
    try {
      return fromHex(v, 16, k);
    } catch {
      throw new InvalidArgumentError(`subscriber: "${k}" must be 32 hex digits`, '--subscriber');
    }
  };
  const k = hex('k');
  if (!k) throw new InvalidArgumentError('subscriber: "k" is required', '--subscriber');
  const op = hex('op');
  const opc = hex('opc');
  if ((op === undefined) === (opc === undefined)) throw new InvalidArgumentError('subscriber: give exactly one of "op" and "opc"', '--subscriber');
  let victim = { impi: `probe-victim@${homeDomain}`, impu: `sip:probe-victim@${homeDomain}` };
  if (o.victim !== undefined) {
    if (typeof o.victim !== 'object' || o.victim === null) throw new InvalidArgumentError('subscriber: "victim" must be { impi, impu }', '--subscriber');
    const v = o.victim as Record<string, unknown>;
    victim = { impi: str(v, 'impi', true)!, impu: str(v, 'impu', true)! };
  }
  if (victim.impi === impi || victim.impu === impu) throw new InvalidArgumentError('subscriber: "victim" must be another user', '--subscriber');
  return { id: { impi, impu, homeDomain }, victim, milenage: new Milenage(k, opc ?? computeOpc(k, op!)) };
}

/**
 * RES, IK and CK for a challenge's nonce (RAND‖AUTN, RFC 3310 §3.2), after the network
 * authentication of TS 33.102 §6.3.3 (MAC). SQN freshness is not judged: the probe only needs
 * to answer, and every check starts a new registration. Throws {@link ProbeError} when the MAC
 * fails (the target's network does not know this K/OPc).
 */
export function akaKeys(sub: ProbeSubscriber, nonce: string): AkaKeys {
  let rand: Uint8Array;
  let autn: Uint8Array;
  try {
    ({ rand, autn } = parseAkaNonce(nonce));
  } catch (e) {
    throw new ProbeError(`the 401's nonce is not an AKA nonce: ${(e as Error).message}`);
  }
  const r = isimAuthenticate(sub.milenage, rand, autn, null);
  if (r.result !== 'ok') throw new ProbeError('AUTN does not verify with this subscriber\'s K/OPc (MAC failure): wrong subscriber file or target');
  return { res: r.res, ik: r.ik, ck: r.ck };
}

/** The Authorization answering `ch` (AKAv1 or AKAv2 by the challenge's algorithm). */
export function answer(sub: ProbeSubscriber, ch: DigestChallenge, keys: AkaKeys, rng: Rng): DigestCredentials {
  return challengeResponse(sub.id, ch, ch.algorithm === 'AKAv2-MD5' ? 2 : 1, keys, rng);
}
