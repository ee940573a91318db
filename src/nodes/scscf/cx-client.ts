/**
 * The S-CSCF side of Cx (TS 29.228 §6.1.2, §6.1.3, §6.2.2, §6.3; TS 29.229 §6.1): the port the
 * registrar uses ({@link CxPort}: MAR for vectors or resynchronisation, SAR for registration state
 * and the profile) and its Diameter implementation over any `request(msg) → answer` function — a
 * DiameterNode in a process, or an HSS core called directly in a test. The HSS-initiated RTR and
 * PPR are decoded here too and answered from what the S-CSCF core reports.
 *
 * Vectors and keys are secrets: results carry them only in {@link HeldVector}s, never in messages.
 */
import type { DiameterMessage } from '../../diameter/index.js';
import { CxCommand, CxResult, ServerAssignmentType, SipAuthScheme, UserDataAlreadyAvailable, akaResyncItem, akaVectorOf, buildMar, parseMaa, buildPpa, parsePpr, buildRta, parseRtr, buildSar, parseSaa, DiameterAvpError, describeResult, isExperimental, isSuccess, ResultCode, type DiameterResult } from '../../diameter/index.js';
import { versionOfScheme } from './auth.js';
import type { HeldVector } from './vectors.js';

export interface MarRequest {
  impi: string;
  impu: string;
  /** SIP-Authentication-Scheme asked for ("Unknown" lets the HSS choose). */
  scheme: string;
  /** SIP-Number-Auth-Items. */
  items: number;
  /** Resynchronisation (TS 29.228 §6.3: SIP-Authorization = RAND‖AUTS). */
  resync?: { rand: Uint8Array; auts: Uint8Array };
}

/**
 * Why a Cx request failed: `user` — the HSS refused the identity (unknown, mismatch, barred,
 * scheme): a 403 to the UE; `auth` — the HSS refused the resynchronisation (bad MAC-S): 403;
 * `busy` — no answer in time, no usable peer, or DIAMETER_TOO_BUSY / DIAMETER_UNABLE_TO_DELIVER
 * (RFC 6733 §7.1.3: transient, another try may succeed): 503 with Retry-After; `unavailable` — an
 * unexpected HSS error (any other failure, a malformed answer): 500.
 */
export type CxFailureKind = 'user' | 'auth' | 'busy' | 'unavailable';

export type MarResult = { ok: true; vectors: HeldVector[] } | { ok: false; kind: CxFailureKind; message: string };

export interface SarRequest {
  impi: string;
  /** The public identities concerned (the registered one; the HSS extends to its implicit set). */
  impus: string[];
  /** `ServerAssignmentType` (TS 29.229 §6.3.15). */
  type: number;
  userDataAvailable: boolean;
}

export type SarResult = { ok: true; userData?: string } | { ok: false; kind: CxFailureKind; message: string };

/** What the registrar needs from the HSS. */
export interface CxPort {
  mar(r: MarRequest): Promise<MarResult>;
  sar(r: SarRequest): Promise<SarResult>;
}

export interface DiameterCxClientOptions {
  /** Sends a request and resolves with its answer (DiameterNode.request, or an HSS core's handler). */
  request: (msg: DiameterMessage) => Promise<DiameterMessage>;
  newSessionId: () => string;
  originHost: string;
  originRealm: string;
  destinationRealm: string;
  destinationHost?: string;
  /** Server-Name: the S-CSCF's SIP URI. */
  serverName: string;
}

function failureKind(r: DiameterResult): CxFailureKind {
  // 3GPP permanent failures (5001 user unknown, 5002 identities don't match, 5006 scheme…) and
  // authorisation/authentication rejections concern the user; anything else is the network's.
  if (isExperimental(r) && r.code >= 5000 && r.code < 6000) return 'user';
  if (!isExperimental(r) && (r.code === 5003 || r.code === 4001)) return r.code === 4001 ? 'auth' : 'user';
  if (!isExperimental(r) && (r.code === ResultCode.DIAMETER_TOO_BUSY || r.code === ResultCode.DIAMETER_UNABLE_TO_DELIVER)) return 'busy';
  return 'unavailable';
}

/** {@link CxPort} over Diameter (TS 29.229 MAR/MAA, SAR/SAA). */
export class DiameterCxClient implements CxPort {
  constructor(private readonly o: DiameterCxClientOptions) {}

  private head(): { sessionId: string; originHost: string; originRealm: string; destinationRealm: string; destinationHost?: string } {
    return {
      sessionId: this.o.newSessionId(),
      originHost: this.o.originHost,
      originRealm: this.o.originRealm,
      destinationRealm: this.o.destinationRealm,
      ...(this.o.destinationHost !== undefined ? { destinationHost: this.o.destinationHost } : {}),
    };
  }

  async mar(r: MarRequest): Promise<MarResult> {
    const item = r.resync ? akaResyncItem(r.resync.rand, r.resync.auts, r.scheme === 'Unknown' ? SipAuthScheme.DIGEST_AKAV1_MD5 : r.scheme) : { scheme: r.scheme };
    const mar = buildMar({ ...this.head(), userName: r.impi, publicIdentity: r.impu, sipAuthDataItem: item, sipNumberAuthItems: r.items, serverName: this.o.serverName });
    let answer: DiameterMessage;
    try {
      answer = await this.o.request(mar);
    } catch (err) {
      return { ok: false, kind: 'busy', message: `MAR: ${(err as Error).message}` };
    }
    try {
      const maa = parseMaa(answer);
      if (!isSuccess(maa.result)) return { ok: false, kind: r.resync && failureKind(maa.result) === 'auth' ? 'auth' : failureKind(maa.result), message: `MAA: ${describeResult(maa.result)}` };
      const vectors: HeldVector[] = maa.sipAuthDataItems.map((i) => ({
        ...akaVectorOf(i),
        version: versionOfScheme(i.scheme),
        ...(i.itemNumber !== undefined ? { itemNumber: i.itemNumber } : {}),
      }));
      if (vectors.length === 0) return { ok: false, kind: 'unavailable', message: 'MAA carries no authentication vector' };
      return { ok: true, vectors };
    } catch (err) {
      return { ok: false, kind: 'unavailable', message: `MAA: ${(err as Error).message}` };
    }
  }

  async sar(r: SarRequest): Promise<SarResult> {
    const sar = buildSar({
      ...this.head(),
      userName: r.impi,
      publicIdentities: r.impus,
      serverName: this.o.serverName,
      serverAssignmentType: r.type,
      userDataAlreadyAvailable: r.userDataAvailable ? UserDataAlreadyAvailable.USER_DATA_ALREADY_AVAILABLE : UserDataAlreadyAvailable.USER_DATA_NOT_AVAILABLE,
    });
    let answer: DiameterMessage;
    try {
      answer = await this.o.request(sar);
    } catch (err) {
      return { ok: false, kind: 'busy', message: `SAR: ${(err as Error).message}` };
    }
    try {
      const saa = parseSaa(answer);
      if (!isSuccess(saa.result)) return { ok: false, kind: failureKind(saa.result), message: `SAA: ${describeResult(saa.result)}` };
      return saa.userData ? { ok: true, userData: new TextDecoder().decode(saa.userData) } : { ok: true };
    } catch (err) {
      return { ok: false, kind: 'unavailable', message: `SAA: ${(err as Error).message}` };
    }
  }
}

/** What the S-CSCF core does with HSS-initiated requests. */
export interface CxServerHandlers {
  /** RTR (TS 29.228 §6.1.3): de-register these identities (empty: every one of the IMPI); resolves with the IMPUs removed. */
  registrationTermination(r: { impi: string; impus: string[]; reasonCode: number; reasonInfo?: string }): Promise<string[]>;
  /** PPR (TS 29.228 §6.2.2): a new profile; false when the S-CSCF holds no registration of the IMPI. */
  pushProfile(r: { impi: string; userData?: string }): Promise<boolean>;
}

/**
 * Answers an HSS-initiated Cx request (RTR → RTA, PPR → PPA) through `handlers`.
 * @throws DiameterAvpError for a command the S-CSCF does not serve (the node answers it).
 */
export async function answerCxRequest(req: DiameterMessage, handlers: CxServerHandlers, me: { originHost: string; originRealm: string }): Promise<DiameterMessage> {
  if (req.commandCode === CxCommand.REGISTRATION_TERMINATION) {
    const r = parseRtr(req);
    await handlers.registrationTermination({
      impi: r.userName,
      impus: r.publicIdentities,
      reasonCode: r.deregistrationReason.code,
      ...(r.deregistrationReason.info !== undefined ? { reasonInfo: r.deregistrationReason.info } : {}),
    });
    return buildRta(req, { ...me, result: CxResult.SUCCESS });
  }
  if (req.commandCode === CxCommand.PUSH_PROFILE) {
    const r = parsePpr(req);
    const known = await handlers.pushProfile({ impi: r.userName, ...(r.userData ? { userData: new TextDecoder().decode(r.userData) } : {}) });
    return buildPpa(req, { ...me, result: known ? CxResult.SUCCESS : CxResult.ERROR_USER_UNKNOWN });
  }
  throw new DiameterAvpError(`command ${req.commandCode} is not served by the S-CSCF`, 3001);
}

/** Server-Assignment-Type values the registrar sends (re-exported for callers and tests). */
export const SAR = ServerAssignmentType;
