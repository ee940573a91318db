/**
 * Base protocol peer messages: Capabilities-Exchange (RFC 6733 §5.3), Device-Watchdog (§5.5) and
 * Disconnect-Peer (§5.4), with capabilities negotiation (§5.3: common applications, §5.3.1
 * Host-IP-Address). Pure builders and parsers.
 *
 * ```
 * <CER> ::= < Diameter Header: 257, REQ >            <CEA> ::= < Diameter Header: 257 >
 *           { Origin-Host }                                    { Result-Code }
 *           { Origin-Realm }                                   { Origin-Host }
 *        1* { Host-IP-Address }                                { Origin-Realm }
 *           { Vendor-Id }                                   1* { Host-IP-Address }
 *           { Product-Name }                                   { Vendor-Id }
 *           [ Origin-State-Id ]                                { Product-Name }
 *         * [ Supported-Vendor-Id ]                            [ Origin-State-Id ]
 *         * [ Auth-Application-Id ]                            [ Error-Message ]
 *         * [ Inband-Security-Id ]                             [ Failed-AVP ]
 *         * [ Acct-Application-Id ]                          * [ Supported-Vendor-Id ]
 *         * [ Vendor-Specific-Application-Id ]               * [ Auth-Application-Id ]
 *           [ Firmware-Revision ]                            * [ Inband-Security-Id ]
 *         * [ AVP ]                                          * [ Acct-Application-Id ]
 *                                                            * [ Vendor-Specific-Application-Id ]
 *                                                              [ Firmware-Revision ]
 *                                                            * [ AVP ]
 * <DWR> ::= < Diameter Header: 280, REQ > { Origin-Host } { Origin-Realm } [ Origin-State-Id ] *[ AVP ]
 * <DWA> ::= < Diameter Header: 280 > { Result-Code } { Origin-Host } { Origin-Realm } [ Error-Message ]
 *           [ Failed-AVP ] [ Origin-State-Id ] *[ AVP ]
 * <DPR> ::= < Diameter Header: 282, REQ > { Origin-Host } { Origin-Realm } { Disconnect-Cause } *[ AVP ]
 * <DPA> ::= < Diameter Header: 282 > { Result-Code } { Origin-Host } { Origin-Realm } [ Error-Message ]
 *           [ Failed-AVP ] *[ AVP ]
 * ```
 */
import type { Avp } from '../codec/avp.js';
import { type DiameterMessage, FLAG_ERROR, FLAG_REQUEST, answerHeaderFor } from '../codec/message.js';
import { ApplicationId, BaseCommand, ResultCode, isProtocolError } from '../dictionary/base.js';
import { avp } from '../dictionary/registry.js';
import { AvpReader } from '../dictionary/reader.js';

/** RFC 6733 §6.11 Vendor-Specific-Application-Id: `{ Vendor-Id } [ Auth-Application-Id ] [ Acct-Application-Id ]`. */
export interface VendorSpecificApplicationId {
  vendorId: number;
  authApplicationId?: number;
  acctApplicationId?: number;
}

/** What a node advertises in CER/CEA (RFC 6733 §5.3.1). */
export interface Capabilities {
  originHost: string;
  originRealm: string;
  hostIpAddresses: string[];
  vendorId: number;
  productName: string;
  originStateId?: number;
  firmwareRevision?: number;
  supportedVendorIds: number[];
  authApplicationIds: number[];
  acctApplicationIds: number[];
  inbandSecurityIds?: number[];
  vendorSpecificApplicationIds: VendorSpecificApplicationId[];
}

/** A received CEA: the peer's capabilities and the Result-Code. */
export interface CapabilitiesAnswer extends Capabilities {
  resultCode: number;
  errorMessage?: string;
}

function baseRequest(commandCode: number, avps: Avp[]): DiameterMessage {
  return { flags: FLAG_REQUEST, commandCode, applicationId: ApplicationId.COMMON_MESSAGES, hopByHop: 0, endToEnd: 0, avps };
}

function capabilityAvps(c: Capabilities): Avp[] {
  const out: Avp[] = [
    avp('Origin-Host', c.originHost),
    avp('Origin-Realm', c.originRealm),
    ...c.hostIpAddresses.map((a) => avp('Host-IP-Address', a)),
    avp('Vendor-Id', c.vendorId),
    avp('Product-Name', c.productName),
  ];
  if (c.originStateId !== undefined) out.push(avp('Origin-State-Id', c.originStateId));
  return out;
}

function applicationAvps(c: Capabilities): Avp[] {
  const out: Avp[] = [
    ...c.supportedVendorIds.map((v) => avp('Supported-Vendor-Id', v)),
    ...c.authApplicationIds.map((v) => avp('Auth-Application-Id', v)),
    ...(c.inbandSecurityIds ?? []).map((v) => avp('Inband-Security-Id', v)),
    ...c.acctApplicationIds.map((v) => avp('Acct-Application-Id', v)),
    ...c.vendorSpecificApplicationIds.map(vendorSpecificApplicationIdAvp),
  ];
  if (c.firmwareRevision !== undefined) out.push(avp('Firmware-Revision', c.firmwareRevision));
  return out;
}

export function vendorSpecificApplicationIdAvp(v: VendorSpecificApplicationId): Avp {
  const g = [avp('Vendor-Id', v.vendorId)];
  if (v.authApplicationId !== undefined) g.push(avp('Auth-Application-Id', v.authApplicationId));
  if (v.acctApplicationId !== undefined) g.push(avp('Acct-Application-Id', v.acctApplicationId));
  return avp('Vendor-Specific-Application-Id', g);
}

/** Builds a CER (RFC 6733 §5.3.1). Identifiers are set by the sender. */
export function buildCer(c: Capabilities): DiameterMessage {
  return baseRequest(BaseCommand.CAPABILITIES_EXCHANGE, [...capabilityAvps(c), ...applicationAvps(c)]);
}

/** Builds the CEA to `cer` (RFC 6733 §5.3.2); a 3xxx Result-Code sets the 'E' bit (§7.1.3). */
export function buildCea(cer: DiameterMessage, c: Capabilities, resultCode: number, opts: { errorMessage?: string; failedAvps?: Avp[] } = {}): DiameterMessage {
  const avps = [avp('Result-Code', resultCode), ...capabilityAvps(c)];
  if (opts.errorMessage !== undefined) avps.push(avp('Error-Message', opts.errorMessage));
  if (opts.failedAvps?.length) avps.push(avp('Failed-AVP', opts.failedAvps));
  avps.push(...applicationAvps(c));
  return { ...answerHeaderFor(cer, isProtocolError(resultCode)), avps };
}

function readCapabilities(r: AvpReader): Capabilities {
  const out: Capabilities = {
    originHost: r.req('Origin-Host'),
    originRealm: r.req('Origin-Realm'),
    hostIpAddresses: r.all('Host-IP-Address'),
    vendorId: r.req('Vendor-Id'),
    productName: r.req('Product-Name'),
    supportedVendorIds: r.all('Supported-Vendor-Id'),
    authApplicationIds: r.all('Auth-Application-Id'),
    acctApplicationIds: r.all('Acct-Application-Id'),
    vendorSpecificApplicationIds: r.all('Vendor-Specific-Application-Id').map((g) => {
      const gr = new AvpReader(g);
      const v: VendorSpecificApplicationId = { vendorId: gr.opt('Vendor-Id') ?? 0 };
      const auth = gr.opt('Auth-Application-Id');
      const acct = gr.opt('Acct-Application-Id');
      if (auth !== undefined) v.authApplicationId = auth;
      if (acct !== undefined) v.acctApplicationId = acct;
      return v;
    }),
  };
  const osi = r.opt('Origin-State-Id');
  if (osi !== undefined) out.originStateId = osi;
  const fw = r.opt('Firmware-Revision');
  if (fw !== undefined) out.firmwareRevision = fw;
  const isi = r.all('Inband-Security-Id');
  if (isi.length) out.inbandSecurityIds = isi;
  return out;
}

/** Parses a CER. @throws DiameterAvpError 5005 when a required AVP is missing. */
export function parseCer(m: DiameterMessage): Capabilities {
  return readCapabilities(new AvpReader(m.avps));
}

/** Parses a CEA. */
export function parseCea(m: DiameterMessage): CapabilitiesAnswer {
  const r = new AvpReader(m.avps);
  const resultCode = r.req('Result-Code');
  const em = r.opt('Error-Message');
  // A CEA with a protocol error may carry only Result-Code, Origin-Host and Origin-Realm (RFC 6733 §7.2).
  if ((m.flags & FLAG_ERROR) !== 0 || resultCode !== ResultCode.DIAMETER_SUCCESS) {
    const out: CapabilitiesAnswer = {
      resultCode,
      originHost: r.opt('Origin-Host') ?? '',
      originRealm: r.opt('Origin-Realm') ?? '',
      hostIpAddresses: r.all('Host-IP-Address'),
      vendorId: r.opt('Vendor-Id') ?? 0,
      productName: r.opt('Product-Name') ?? '',
      supportedVendorIds: [],
      authApplicationIds: [],
      acctApplicationIds: [],
      vendorSpecificApplicationIds: [],
    };
    if (em !== undefined) out.errorMessage = em;
    return out;
  }
  const out: CapabilitiesAnswer = { ...readCapabilities(r), resultCode };
  if (em !== undefined) out.errorMessage = em;
  return out;
}

/** Application ids a node advertises (auth and acct, plain and vendor-specific). */
export function advertisedApplications(c: Capabilities): Set<number> {
  const s = new Set<number>([...c.authApplicationIds, ...c.acctApplicationIds]);
  for (const v of c.vendorSpecificApplicationIds) {
    if (v.authApplicationId !== undefined) s.add(v.authApplicationId);
    if (v.acctApplicationId !== undefined) s.add(v.acctApplicationId);
  }
  return s;
}

/**
 * RFC 6733 §5.3: the applications both sides support. The Relay application (0xffffffff) on
 * either side matches every application of the other.
 */
export function commonApplications(local: Capabilities, remote: Capabilities): number[] {
  const a = advertisedApplications(local);
  const b = advertisedApplications(remote);
  if (a.has(ApplicationId.RELAY)) return [...b];
  if (b.has(ApplicationId.RELAY)) return [...a];
  return [...a].filter((x) => b.has(x));
}

/** Builds a DWR (RFC 6733 §5.5.1). */
export function buildDwr(originHost: string, originRealm: string, originStateId?: number): DiameterMessage {
  const avps = [avp('Origin-Host', originHost), avp('Origin-Realm', originRealm)];
  if (originStateId !== undefined) avps.push(avp('Origin-State-Id', originStateId));
  return baseRequest(BaseCommand.DEVICE_WATCHDOG, avps);
}

/** Builds the DWA to `dwr` (RFC 6733 §5.5.2). */
export function buildDwa(dwr: DiameterMessage, originHost: string, originRealm: string, originStateId?: number): DiameterMessage {
  const avps = [avp('Result-Code', ResultCode.DIAMETER_SUCCESS), avp('Origin-Host', originHost), avp('Origin-Realm', originRealm)];
  if (originStateId !== undefined) avps.push(avp('Origin-State-Id', originStateId));
  return { ...answerHeaderFor(dwr), avps };
}

/** Builds a DPR (RFC 6733 §5.4.1) with a Disconnect-Cause (§5.4.3). */
export function buildDpr(originHost: string, originRealm: string, disconnectCause: number): DiameterMessage {
  return baseRequest(BaseCommand.DISCONNECT_PEER, [avp('Origin-Host', originHost), avp('Origin-Realm', originRealm), avp('Disconnect-Cause', disconnectCause)]);
}

/** Builds the DPA to `dpr` (RFC 6733 §5.4.2). */
export function buildDpa(dpr: DiameterMessage, originHost: string, originRealm: string, resultCode: number = ResultCode.DIAMETER_SUCCESS): DiameterMessage {
  return { ...answerHeaderFor(dpr, isProtocolError(resultCode)), avps: [avp('Result-Code', resultCode), avp('Origin-Host', originHost), avp('Origin-Realm', originRealm)] };
}

/** Result-Code, Origin-Host and Disconnect-Cause of a DWA/DPA/DPR, leniently. */
export function readBaseFields(m: DiameterMessage): { resultCode?: number; originHost?: string; disconnectCause?: number } {
  const r = new AvpReader(m.avps);
  const out: { resultCode?: number; originHost?: string; disconnectCause?: number } = {};
  const rc = r.opt('Result-Code');
  const oh = r.opt('Origin-Host');
  const dc = r.opt('Disconnect-Cause');
  if (rc !== undefined) out.resultCode = rc;
  if (oh !== undefined) out.originHost = oh;
  if (dc !== undefined) out.disconnectCause = dc;
  return out;
}

/** True for the base peer commands handled by the peer layer rather than the application (CER/CEA, DWR/DWA, DPR/DPA). */
export function isPeerCommand(m: DiameterMessage): boolean {
  return (
    m.applicationId === ApplicationId.COMMON_MESSAGES &&
    (m.commandCode === BaseCommand.CAPABILITIES_EXCHANGE || m.commandCode === BaseCommand.DEVICE_WATCHDOG || m.commandCode === BaseCommand.DISCONNECT_PEER)
  );
}
