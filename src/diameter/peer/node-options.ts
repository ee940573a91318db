/**
 * Configuration and callback types of {@link DiameterNode} (node.ts), with the defaults of RFC 6733
 * and RFC 3539 timers, and the local capabilities a node advertises in CER/CEA (RFC 6733 §5.3.1).
 */
import type { Clock, Logger, Rng } from '../../common/index.js';
import type { DiameterMessage } from '../codec/message.js';
import type { Dictionary } from '../dictionary/registry.js';
import type { DiameterTransport } from '../transport/types.js';
import type { Capabilities, VendorSpecificApplicationId } from './base-messages.js';

/** A known peer (the allowlist: an Origin-Host not listed is refused with DIAMETER_UNKNOWN_PEER). */
export interface PeerConfig {
  /** The peer's Origin-Host. */
  host: string;
  /** The realm it serves (routing); defaults to the part of `host` after the first dot. */
  realm?: string;
  /** Address to connect to; without it this node only accepts the peer's connection. */
  connect?: { host: string; port: number };
  /**
   * IP addresses the peer's inbound connections may come from; absent: any. A CER naming this
   * Origin-Host from another address is refused like an unknown peer (RFC 6733 §5.3: the peer is
   * known by its identity and the transport it comes over; DIAMETER_UNKNOWN_PEER, §7.1.3).
   */
  addresses?: string[];
}

export interface DiameterTimers {
  /** Default request timeout (answer not received): 5000 ms. */
  requestTimeoutMs?: number;
  /** RFC 3539 Twinit: 30000 ms. */
  watchdogMs?: number;
  /** DWAs needed after a reconnect before the peer is used (RFC 3539: 3). */
  reopenDwas?: number;
  /** Connection set-up and CEA wait: 5000 ms. */
  ceaTimeoutMs?: number;
  /** DPA wait after DPR: 2000 ms. */
  dpaTimeoutMs?: number;
  /** After sending a DPA, wait this long for the peer to close: 1000 ms. */
  lingerMs?: number;
  /** First reconnect delay: 1000 ms, doubling up to `reconnectMaxMs`. */
  reconnectMinMs?: number;
  /** RFC 6733 §2.1 Tc ("recommended to be 30 seconds"): 30000 ms. */
  reconnectMaxMs?: number;
  /** A new inbound connection must send its CER within: 5000 ms. */
  cerTimeoutMs?: number;
}

/**
 * The limits before capabilities exchange (RFC 6733 §5.3: the first message on an inbound
 * connection must be a CER; §5.6.1 Wait-Conn-Ack / R-Conn-CER): 4 KiB for the CER — real CERs,
 * even with many Vendor-Specific-Application-Ids, are well under 1 KiB — and 64 connections
 * waiting for theirs (the CER timer, `timers.cerTimeoutMs`, bounds how long each waits).
 */
export const PRE_CER_DEFAULTS = { maxMessageSize: 4096, maxUnboundConnections: 64 } as const;

export interface DiameterNodeOptions {
  originHost: string;
  originRealm: string;
  /** Host-IP-Address values for CER/CEA (RFC 6733 §5.3.5); at least one. */
  hostIpAddresses: string[];
  /** Vendor-Id in CER/CEA (RFC 6733 §5.3.3): 0 unless a vendor. */
  vendorId?: number;
  productName?: string;
  firmwareRevision?: number;
  /** Origin-State-Id (RFC 6733 §8.16): should increase on every restart; defaults to the start time in seconds. */
  originStateId?: number;
  authApplicationIds?: number[];
  acctApplicationIds?: number[];
  /** None by default: the application (Cx: `cxCapabilities()`) names its own. */
  vendorSpecificApplicationIds?: VendorSpecificApplicationId[];
  /** None by default (Cx: [10415], `cxCapabilities()`). */
  supportedVendorIds?: number[];
  peers: PeerConfig[];
  listen?: { host: string; port: number };
  /** Extra realm routes: realm → peer hosts. Each peer's own realm is added automatically. */
  routes?: { realm: string; peers: string[] }[];
  /** Refuse a CER that shares no application (DIAMETER_NO_COMMON_APPLICATION, RFC 6733 §5.3); default true. */
  requireCommonApplication?: boolean;
  timers?: DiameterTimers;
  /** Largest message accepted once a peer is bound (default 4 MiB, the framer's). */
  maxMessageSize?: number;
  /**
   * Largest message accepted on an inbound connection before its CER is accepted (default
   * {@link PRE_CER_DEFAULTS}): a CER is small, so nobody unauthenticated makes the node buffer more.
   */
  preCerMaxMessageSize?: number;
  /** Inbound connections waiting for (or refused at) their CER, at most (default {@link PRE_CER_DEFAULTS}); beyond, new ones are closed at once. */
  maxUnboundConnections?: number;
  clock?: Clock;
  rng?: Rng;
  transport?: DiameterTransport;
  logger?: Logger;
  dictionary?: Dictionary;
}

/** Handles an application request; returns (or resolves to) the answer. Throw a DiameterAvpError to answer its Result-Code. */
export type RequestHandler = (request: DiameterMessage, info: { peer: string }) => DiameterMessage | Promise<DiameterMessage>;

export type PeerStatus = 'up' | 'down' | 'suspect';

/** A traced message: direction, peer Origin-Host (or the remote address before CER), the message and its bytes. */
export type TraceCallback = (dir: 'in' | 'out', peer: string, msg: DiameterMessage, raw: Uint8Array) => void;

export interface RequestOptions {
  timeoutMs?: number;
  /** Send to this peer (Origin-Host) only, bypassing routing. */
  peer?: string;
}

/** Timer values with every default filled in. */
export function resolveTimers(t: DiameterTimers = {}): Required<DiameterTimers> {
  return {
    requestTimeoutMs: t.requestTimeoutMs ?? 5000,
    watchdogMs: t.watchdogMs ?? 30000,
    reopenDwas: t.reopenDwas ?? 3,
    ceaTimeoutMs: t.ceaTimeoutMs ?? 5000,
    dpaTimeoutMs: t.dpaTimeoutMs ?? 2000,
    lingerMs: t.lingerMs ?? 1000,
    reconnectMinMs: t.reconnectMinMs ?? 1000,
    reconnectMaxMs: t.reconnectMaxMs ?? 30000,
    cerTimeoutMs: t.cerTimeoutMs ?? 5000,
  };
}

/** What the node advertises in CER/CEA: the applications and vendors it was given, nothing more. */
export function localCapabilities(opts: DiameterNodeOptions, nowMs: number): Capabilities {
  const c: Capabilities = {
    originHost: opts.originHost,
    originRealm: opts.originRealm,
    hostIpAddresses: opts.hostIpAddresses,
    vendorId: opts.vendorId ?? 0,
    productName: opts.productName ?? 'imsec',
    originStateId: opts.originStateId ?? Math.floor(nowMs / 1000) >>> 0,
    supportedVendorIds: opts.supportedVendorIds ?? [],
    authApplicationIds: opts.authApplicationIds ?? [],
    acctApplicationIds: opts.acctApplicationIds ?? [],
    vendorSpecificApplicationIds: opts.vendorSpecificApplicationIds ?? [],
  };
  if (opts.firmwareRevision !== undefined) c.firmwareRevision = opts.firmwareRevision;
  return c;
}
