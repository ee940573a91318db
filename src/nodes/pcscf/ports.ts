/**
 * What the P-CSCF core works over (its injected ports) and the context its parts share: the SIP
 * side (B2's SipStack fits {@link PcscfSip}), the protected-port edge ({@link ProtectedPorts},
 * wire.ts), the options, and small helpers over SIP messages. No I/O here.
 */
import type { Clock, Logger, Rng } from '../../common/index.js';
import type { SaManager, SaSet } from '../../ipsec/index.js';
import { parseSecurityMechanisms, type PcscfSecAgreePolicy, type SecMechanism } from '../../secagree/index.js';
import { formatUri, toOf, type SipRequest, type SipResponse } from '../../sip/index.js';
import type { RequestContext, SendRequestOptions } from '../../sip/stack/index.js';
import type { Destination, Endpoint, SipTransport } from '../../sip/transport/index.js';
import type { HostTable } from '../common/index.js';
import type { SelfId } from './routing.js';
import type { PcscfState } from './state.js';
import type { PcscfCounters } from './tables.js';

/** The SIP side the core needs (B2's SipStack provides all of it). */
export interface PcscfSip {
  forwardRequest(req: SipRequest, dest: Destination, opts?: SendRequestOptions): Promise<SipResponse>;
  forwardStateless(req: SipRequest, dest: Destination): Promise<void>;
  sendRequest(req: SipRequest, dest: Destination): Promise<SipResponse>;
  sendResponse(resp: SipResponse, ctx: Pick<RequestContext, 'transport' | 'remote' | 'receivedOn'>): Promise<void>;
  newTag(): string;
  newCallId(host?: string): string;
}

/** The protected ports of the SA sets (the datapath edge; wire.ts implements it). */
export interface ProtectedPorts {
  /**
   * The local protected ports of a new set for the UE at (address, port_us): the P-CSCF's one
   * port_ps and a port_pc none of that UE's live sets uses (R-RR-1). Throws when none is free.
   */
  portsFor(ueAddress: string, uePortS: number): { portC: number; portS: number };
  /** Waits until a new set's SAs are installed; resolves with the protected SIP transport. */
  open(set: SaSet): Promise<SipTransport>;
  /** The protected transport of a live set. */
  transportOf(setId: number): SipTransport | undefined;
  /** Whether `port` is one of the P-CSCF's protected ports (port_ps, a port_pc); without it, the live sets are searched. */
  isProtectedPort?(port: number): boolean;
}

export interface PcscfCoreOptions {
  sa: SaManager;
  sip: PcscfSip;
  ports: ProtectedPorts;
  clock: Clock;
  rng: Rng;
  logger?: Logger;
  policy: PcscfSecAgreePolicy;
  hosts: HostTable;
  /** The I-CSCF every REGISTER goes to. */
  icscf: Destination;
  /** The unprotected face: host written into Path/Record-Route/Contact, and the bound port. */
  face: { host: string; port: number };
  /** The local address of the SAs. */
  protectedAddress: string;
  /** Every address and name of this P-CSCF (Route recognition). */
  addresses: string[];
  names: string[];
  visitedNetworkId: string;
  /** `ip` or `ip:port` entries whose unprotected requests come from the core. */
  trustedCore: string[];
  regEvent: { subscribe: boolean; expires: number };
  ueTrusted: boolean;
  /** Lifetime of the `forwarded` state when no response ever comes (reg-await-auth). */
  registrationTimerMs: number;
  /** Caps on registration attempts opened by unprotected REGISTERs (503 + Retry-After beyond). */
  overload: OverloadLimits;
  /**
   * How long a registration ended by reg-event waits for the NOTIFY meant for the UE before its
   * SAs go, when the UE has not answered one yet (default 2 s, `DEREGISTRATION_GRACE_MS` in state.ts).
   */
  deregistrationGraceMs?: number;
}

/** Caps on half-open registrations (issue [O]): per UE address, in all, and the Retry-After given. */
export interface OverloadLimits {
  attemptsPerAddress: number;
  attemptsTotal: number;
  retryAfterSeconds: number;
}

/** What the parts of the core share (built once by PcscfCore). */
export interface CoreContext {
  readonly o: PcscfCoreOptions;
  readonly log: Logger;
  readonly counters: PcscfCounters;
  readonly state: PcscfState;
  readonly self: SelfId;
  /** The P-CSCF's own URI (reg-event From/Contact). */
  readonly selfUri: string;
}

/** Answers, then runs `after` (the response is already handed to the datapath, which waits for it). */
export function respondThen(ctx: RequestContext, status: number, reason: string, after: () => unknown): void {
  try {
    ctx.reply(status, reason);
  } finally {
    after();
  }
}

export function respondOutThen(ctx: RequestContext, out: SipResponse, after: () => unknown): void {
  try {
    ctx.respond(out);
  } finally {
    after();
  }
}

export function ep(e: Endpoint): string {
  return e.address.includes(':') ? `[${e.address}]:${e.port}` : `${e.address}:${e.port}`;
}

export function tryParseMechanisms(lines: string[]): SecMechanism[] | undefined {
  try {
    return lines.flatMap(parseSecurityMechanisms);
  } catch {
    return undefined;
  }
}

export function toUri(req: SipRequest): string | undefined {
  try {
    const t = toOf(req);
    return t ? formatUri(t.uri) : undefined;
  } catch {
    return undefined;
  }
}

/** TS 23.003 §13.3: without credentials, the IMPI derived from the IMPU (user@domain). */
export function impiFromTo(req: SipRequest): string | undefined {
  try {
    const t = toOf(req);
    if (!t || t.uri.kind !== 'sip' || t.uri.user === undefined) return undefined;
    return `${t.uri.user}@${t.uri.host}`;
  } catch {
    return undefined;
  }
}

export function numberHeader(resp: SipResponse, name: string): number | undefined {
  const v = resp.headers.get(name);
  if (v === undefined) return undefined;
  const n = Number(v.trim());
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function safeText(s: string): string {
  return s.replace(/["\\\r\n]/g, ' ').slice(0, 120);
}
