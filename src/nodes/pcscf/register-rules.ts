/**
 * The P-CSCF's REGISTER rules as pure functions over SIP messages (TS 24.229 §5.2.2, RFC 3329
 * §2.3.1, TS 33.203 §7.2): which unprotected REGISTERs are allowed, the sec-agree gate, the
 * header edits before forwarding, and what the P-CSCF reads from the 401 and the 200. No I/O,
 * no state: core.ts decides with them.
 */
import { withoutAkaKeys, type DigestChallenge, type DigestCredentials } from '../../auth/digest/index.js';
import {
  choosePcscfMechanism,
  formatSecurityMechanisms,
  parseSecurityMechanisms,
  supportedMechanisms,
  type PcscfSecAgreePolicy,
  type SecAgreeSelection,
  type SecMechanism,
} from '../../secagree/index.js';
import {
  contactsOf,
  contactExpires,
  expiresOf,
  formatDigestChallenge,
  formatDigestCredentials,
  formatOptionTags,
  formatPVisitedNetworkId,
  formatUri,
  parseDigestChallenge,
  parseDigestCredentials,
  parseOptionTags,
  parsePAssociatedUri,
  routesOf,
  SipParams,
  type SipMessage,
  type SipRequest,
  type SipResponse,
  type Uri,
} from '../../sip/index.js';

/** RFC 3329 §2.2 option tag. */
export const SEC_AGREE = 'sec-agree';

/**
 * What an unprotected REGISTER is (R-SA-5): the P-CSCF accepts only the first three on its
 * unprotected port; a challenge answer must arrive over the SAs.
 * - `initial`: no credentials, or `nonce=""`/`response=""` (TS 24.229 §5.1.1.2.1).
 * - `sync-failure`: carries `auts` (RFC 3310 §3.4, TS 33.203 §6.1.2).
 * - `auth-failure`: answers a challenge with an empty response, the UE's report of a failed
 *   network authentication (TS 24.229 §5.1.1.5.2, R-FAIL-2).
 * - `challenge-answer`: a digest response computed from a challenge.
 */
export type UnprotectedRegisterKind = 'initial' | 'sync-failure' | 'auth-failure' | 'challenge-answer';

export function classifyUnprotectedRegister(creds: DigestCredentials | undefined): UnprotectedRegisterKind {
  if (creds === undefined) return 'initial';
  if (creds.auts !== undefined) return 'sync-failure';
  if (creds.nonce === '') return 'initial';
  return creds.response === '' ? 'auth-failure' : 'challenge-answer';
}

/** The first Digest credentials of a request, or undefined. Throws DigestParseError when malformed. */
export function credentialsOf(req: SipRequest): DigestCredentials | undefined {
  const line = req.headers.getLines('Authorization')[0];
  return line === undefined ? undefined : parseDigestCredentials(line);
}

/** Option tags of one header across its fields, lower-cased; a malformed field counts as empty. */
export function optionTagsOf(msg: SipMessage, header: 'Require' | 'Proxy-Require' | 'Supported'): string[] {
  const out: string[] = [];
  for (const line of msg.headers.getLines(header)) {
    try {
      out.push(...parseOptionTags(line, header).map((t) => t.toLowerCase()));
    } catch {
      // A malformed list cannot carry a usable tag.
    }
  }
  return out;
}

/** The outcome of the sec-agree gate on an unprotected REGISTER. */
export type SecAgreeGate =
  | { ok: true; offer: SecMechanism[]; selection: SecAgreeSelection }
  | { ok: false; status: number; reason: string; headers: [string, string][]; detail: string };

/**
 * RFC 3329 §2.3.1 and TS 24.229 §5.2.2.1 at the P-CSCF, before anything is forwarded:
 * 1. `sec-agree` must be in Require or Proxy-Require; else 421 (Extension Required) with
 *    `Require: sec-agree` (RFC 3329 §2.3.1: the server insists on the agreement).
 * 2. Security-Client must be present and parse; a missing one is 494 (Security Agreement
 *    Required) listing what the P-CSCF supports, a malformed one 400.
 * 3. One mechanism must be acceptable to the policy (R-SM-2); else 494 with the supported list.
 *    No SA exists at this point, so none is created.
 */
export function secAgreeGate(req: SipRequest, policy: PcscfSecAgreePolicy): SecAgreeGate {
  const supported = (): [string, string][] => [
    ['Require', SEC_AGREE],
    ['Security-Server', formatSecurityMechanisms(supportedMechanisms(policy))],
  ];
  const tags = [...optionTagsOf(req, 'Require'), ...optionTagsOf(req, 'Proxy-Require')];
  if (!tags.includes(SEC_AGREE)) {
    return { ok: false, status: 421, reason: 'Extension Required', headers: [['Require', SEC_AGREE]], detail: 'sec-agree not required by the UE' };
  }
  let offer: SecMechanism[];
  try {
    offer = req.headers.getLines('Security-Client').flatMap(parseSecurityMechanisms);
  } catch (e) {
    return { ok: false, status: 400, reason: 'Bad Security-Client', headers: [], detail: (e as Error).message };
  }
  if (offer.length === 0) return { ok: false, status: 494, reason: 'Security Agreement Required', headers: supported(), detail: 'no Security-Client' };
  const sel = choosePcscfMechanism(offer, policy);
  if (!sel.ok) return { ok: false, status: 494, reason: 'Security Agreement Required', headers: supported(), detail: sel.detail };
  return { ok: true, offer, selection: sel };
}

/** Removes one option tag from a header; the header goes when it is left empty (TS 24.228 R1-1c). */
function removeOptionTag(msg: SipMessage, header: 'Require' | 'Proxy-Require', tag: string): void {
  const lines = msg.headers.getLines(header);
  if (lines.length === 0) return;
  const keep: string[] = [];
  for (const line of lines) {
    let tags: string[];
    try {
      tags = parseOptionTags(line, header);
    } catch {
      keep.push(line);
      continue;
    }
    keep.push(...tags.filter((t) => t.toLowerCase() !== tag));
  }
  msg.headers.remove(header);
  if (keep.length > 0) msg.headers.append(header, formatOptionTags(keep));
}

/**
 * RFC 3329 §2.3.1 / TS 24.229 §5.2.2.1 and §5.2.6.3: the sec-agree headers are hop-by-hop
 * between UE and P-CSCF: Security-Client, Security-Verify and the `sec-agree` option tag of
 * Require and Proxy-Require go before the request leaves the P-CSCF.
 */
export function stripSecAgree(req: SipRequest): void {
  req.headers.remove('Security-Client');
  req.headers.remove('Security-Verify');
  removeOptionTag(req, 'Require', SEC_AGREE);
  removeOptionTag(req, 'Proxy-Require', SEC_AGREE);
}

/**
 * TS 24.229 §5.2.2.1 (R-REG-4): the P-CSCF marks the REGISTER `integrity-protected="yes"` when
 * it arrived over the SAs and `"no"` otherwise, in every Authorization field (any value the UE
 * wrote is overwritten). A REGISTER without Authorization is left as it is.
 */
export function setIntegrityProtected(req: SipRequest, value: 'yes' | 'no'): void {
  const lines = req.headers.getLines('Authorization');
  if (lines.length === 0) return;
  req.headers.remove('Authorization');
  for (const l of lines) req.headers.append('Authorization', formatDigestCredentials({ ...parseDigestCredentials(l), integrityProtected: value }));
}

export interface RegisterAdditions {
  /** The P-CSCF's Path entry (RFC 3327 §5.2), e.g. `<sip:term@127.0.0.1:5060;lr>`. */
  path: string;
  visitedNetworkId: string;
  /** IMS charging identifier (RFC 7315 §4.6 icid-value). */
  icid: string;
  /** icid-generated-at: the P-CSCF's host. */
  host: string;
}

/**
 * TS 24.229 §5.2.2.1 headers the P-CSCF adds to a REGISTER it forwards: its Path entry on top
 * with `Require: path` (so a misrouted request fails with 420, TS 24.228 R1-1c),
 * P-Visited-Network-ID and a fresh P-Charging-Vector. A UE's own P-Charging-Vector,
 * P-Asserted-Identity and P-Visited-Network-ID are replaced (they are not the UE's to set).
 */
export function addRegisterHeaders(req: SipRequest, a: RegisterAdditions): void {
  req.headers.prepend('Path', a.path);
  if (!optionTagsOf(req, 'Require').includes('path')) {
    const existing = req.headers.getLines('Require');
    req.headers.remove('Require');
    req.headers.append('Require', [...existing, 'path'].join(', '));
  }
  req.headers.remove('P-Asserted-Identity');
  req.headers.set('P-Visited-Network-ID', formatPVisitedNetworkId([{ network: a.visitedNetworkId, params: new SipParams() }]));
  req.headers.set('P-Charging-Vector', `icid-value=${a.icid};icid-generated-at=${a.host}`);
}

/** The AKA keys the S-CSCF put in a 401 (TS 24.229 §7.2A.4), with the challenge carrying them. */
export interface AkaKeys {
  ik: Uint8Array;
  ck: Uint8Array;
}

/**
 * IK and CK from the first WWW-Authenticate challenge that has both; undefined when the 401 has
 * none (the S-CSCF did not pass them, R-AKA-6). Throws DigestParseError for a malformed field.
 */
export function akaKeysOf(resp: SipResponse): AkaKeys | undefined {
  for (const line of resp.headers.getLines('WWW-Authenticate')) {
    const ch = parseDigestChallenge(line);
    if (ch.ik !== undefined && ch.ck !== undefined) return { ik: ch.ik, ck: ch.ck };
  }
  return undefined;
}

/**
 * TS 24.229 §5.2.2.1 / R-AKA-6: every WWW-Authenticate of the 401 loses `ik` and `ck` before the
 * UE sees it (a challenge without them is rewritten too, in canonical form).
 */
export function removeAkaKeys(resp: SipResponse): void {
  const lines = resp.headers.getLines('WWW-Authenticate');
  if (lines.length === 0) return;
  const challenges: DigestChallenge[] = lines.map((l) => withoutAkaKeys(parseDigestChallenge(l)));
  resp.headers.remove('WWW-Authenticate');
  for (const ch of challenges) resp.headers.append('WWW-Authenticate', formatDigestChallenge(ch));
}

/** Adds the Security-Server of the 401 (TS 24.229 §5.2.2.1, RFC 3329 §2.3.1). */
export function addSecurityServer(resp: SipResponse, server: readonly SecMechanism[]): void {
  resp.headers.set('Security-Server', formatSecurityMechanisms([...server]));
}

/** The expiry a REGISTER asks for: the Contact's expires, else the Expires header; undefined when neither. */
export function requestedExpires(req: SipRequest): number | undefined {
  try {
    const cs = contactsOf(req);
    if (cs === '*') return expiresOf(req) ?? 0;
    for (const c of cs) {
      const e = contactExpires(c);
      if (e !== undefined) return e;
    }
    return expiresOf(req);
  } catch {
    return undefined;
  }
}

/** The first Contact URI of a REGISTER (undefined for `*` or none). Throws SipParseError. */
export function contactUriOf(msg: SipMessage): Uri | undefined {
  const cs = contactsOf(msg);
  if (cs === '*' || cs.length === 0) return undefined;
  return cs[0].uri;
}

/**
 * The registration lifetime granted by a 200 to REGISTER (RFC 3261 §10.3 step 8): the expires
 * of the Contact naming the UE (matched by host and port), else of the first Contact, else the
 * Expires header; 0 when the UE has no binding left.
 */
export function grantedExpires(resp: SipResponse, ue: { address: string; port?: number }): number {
  const cs = contactsOf(resp);
  if (cs === '*' || cs.length === 0) return expiresOf(resp) ?? 0;
  const mine = cs.find((c) => c.uri.kind === 'sip' && c.uri.host.toLowerCase() === ue.address.toLowerCase() && (ue.port === undefined || (c.uri.port ?? 5060) === ue.port));
  if (!mine) return 0;
  return contactExpires(mine) ?? expiresOf(resp) ?? 0;
}

/** P-Associated-URI values of a 200 (TS 24.229 §5.2.2.1, R-REG-2) as URI strings, in order. */
export function associatedUris(resp: SipResponse): string[] {
  return resp.headers.getLines('P-Associated-URI').flatMap((l) => parsePAssociatedUri(l).map((n) => formatUri(n.uri)));
}

/** Service-Route entries of a 200 (RFC 3608), as name-addr strings in order. */
export function serviceRouteOf(resp: SipResponse): string[] {
  return routesOf(resp, 'Service-Route').map((n) => `<${formatUri(n.uri)}>${n.params.toString()}`);
}
