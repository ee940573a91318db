/**
 * Cx grouped AVPs as typed objects (TS 29.229 §6.3): SIP-Auth-Data-Item (§6.3.13),
 * Server-Capabilities (§6.3.4), Deregistration-Reason (§6.3.16), Charging-Information (§6.3.19),
 * SIP-Digest-Authenticate (§6.3.36) and Associated-Identities (§6.3.33), plus the IMS AKA helpers
 * that put RAND‖AUTN, XRES, CK, IK and RAND‖AUTS where TS 29.228 §6.3 puts them.
 */
import { concatBytes } from '../../common/index.js';
import type { Avp } from '../codec/avp.js';
import { avp } from '../dictionary/registry.js';
import { DiameterAvpError } from '../errors.js';
import { AvpReader } from './common.js';
import { SipAuthScheme } from './constants.js';

/** TS 29.229 §6.3.36 SIP-Digest-Authenticate: `{ Digest-Realm } { Digest-QoP } { Digest-HA1 } [ Digest-Algorithm ] *[AVP]`. */
export interface SipDigestAuthenticate {
  realm: string;
  qop: string;
  ha1: Uint8Array;
  algorithm?: string;
}

/**
 * TS 29.229 §6.3.13:
 * ```
 * SIP-Auth-Data-Item ::= < AVP Header : 612 10415 >
 *    [ SIP-Item-Number ]
 *    [ SIP-Authentication-Scheme ]
 *    [ SIP-Authenticate ]
 *    [ SIP-Authorization ]
 *    [ SIP-Authentication-Context ]
 *    [ Confidentiality-Key ]
 *    [ Integrity-Key ]
 *    [ SIP-Digest-Authenticate ]
 *    [ Framed-IP-Address ]
 *    [ Framed-IPv6-Prefix ]
 *    [ Framed-Interface-Id ]
 *  * [ Line-Identifier ]
 *  *[AVP]
 * ```
 * For IMS AKA (TS 29.228 §6.3 Table 6.3.2): SIP-Authenticate = RAND‖AUTN, SIP-Authorization =
 * XRES, Confidentiality-Key = CK, Integrity-Key = IK; in a resynchronisation MAR,
 * SIP-Authorization = RAND‖AUTS. These hold secrets: never log a SipAuthDataItem.
 */
export interface SipAuthDataItem {
  itemNumber?: number;
  scheme?: string;
  authenticate?: Uint8Array;
  authorization?: Uint8Array;
  authenticationContext?: Uint8Array;
  confidentialityKey?: Uint8Array;
  integrityKey?: Uint8Array;
  digestAuthenticate?: SipDigestAuthenticate;
  framedIpAddress?: Uint8Array;
  framedIpv6Prefix?: Uint8Array;
  framedInterfaceId?: bigint;
  lineIdentifiers?: Uint8Array[];
  extraAvps?: Avp[];
}

export function sipAuthDataItemAvp(i: SipAuthDataItem): Avp {
  const c: Avp[] = [];
  if (i.itemNumber !== undefined) c.push(avp('SIP-Item-Number', i.itemNumber));
  if (i.scheme !== undefined) c.push(avp('SIP-Authentication-Scheme', i.scheme));
  if (i.authenticate) c.push(avp('SIP-Authenticate', i.authenticate));
  if (i.authorization) c.push(avp('SIP-Authorization', i.authorization));
  if (i.authenticationContext) c.push(avp('SIP-Authentication-Context', i.authenticationContext));
  if (i.confidentialityKey) c.push(avp('Confidentiality-Key', i.confidentialityKey));
  if (i.integrityKey) c.push(avp('Integrity-Key', i.integrityKey));
  if (i.digestAuthenticate) {
    const d = i.digestAuthenticate;
    const g = [avp('Digest-Realm', d.realm), avp('Digest-QoP', d.qop), avp('Digest-HA1', d.ha1)];
    if (d.algorithm !== undefined) g.push(avp('Digest-Algorithm', d.algorithm));
    c.push(avp('SIP-Digest-Authenticate', g));
  }
  if (i.framedIpAddress) c.push(avp('Framed-IP-Address', i.framedIpAddress));
  if (i.framedIpv6Prefix) c.push(avp('Framed-IPv6-Prefix', i.framedIpv6Prefix));
  if (i.framedInterfaceId !== undefined) c.push(avp('Framed-Interface-Id', i.framedInterfaceId));
  for (const l of i.lineIdentifiers ?? []) c.push(avp('Line-Identifier', l));
  c.push(...(i.extraAvps ?? []));
  return avp('SIP-Auth-Data-Item', c);
}

export function parseSipAuthDataItem(children: Avp[]): SipAuthDataItem {
  const r = new AvpReader(children);
  const out: SipAuthDataItem = {};
  const set = <K extends keyof SipAuthDataItem>(k: K, v: SipAuthDataItem[K] | undefined): void => {
    if (v !== undefined) out[k] = v;
  };
  set('itemNumber', r.opt('SIP-Item-Number'));
  set('scheme', r.opt('SIP-Authentication-Scheme'));
  set('authenticate', r.opt('SIP-Authenticate'));
  set('authorization', r.opt('SIP-Authorization'));
  set('authenticationContext', r.opt('SIP-Authentication-Context'));
  set('confidentialityKey', r.opt('Confidentiality-Key'));
  set('integrityKey', r.opt('Integrity-Key'));
  const da = r.opt('SIP-Digest-Authenticate');
  if (da) {
    const dr = new AvpReader(da);
    const d: SipDigestAuthenticate = { realm: dr.req('Digest-Realm'), qop: dr.req('Digest-QoP'), ha1: dr.req('Digest-HA1') };
    const alg = dr.opt('Digest-Algorithm');
    if (alg !== undefined) d.algorithm = alg;
    out.digestAuthenticate = d;
  }
  set('framedIpAddress', r.opt('Framed-IP-Address'));
  set('framedIpv6Prefix', r.opt('Framed-IPv6-Prefix'));
  set('framedInterfaceId', r.opt('Framed-Interface-Id'));
  const li = r.all('Line-Identifier');
  if (li.length) out.lineIdentifiers = li;
  const rest = r.rest();
  if (rest.length) out.extraAvps = rest;
  return out;
}

/** One IMS AKA authentication vector (TS 33.203 §6.1, TS 33.102 §6.3.2). Secret: never log it. */
export interface AkaVector {
  rand: Uint8Array;
  autn: Uint8Array;
  xres: Uint8Array;
  ck: Uint8Array;
  ik: Uint8Array;
}

/**
 * The SIP-Auth-Data-Item an HSS puts in an MAA for one AKA vector (TS 29.228 §6.3 Table 6.3.2):
 * SIP-Authenticate = RAND‖AUTN, SIP-Authorization = XRES, Confidentiality-Key = CK,
 * Integrity-Key = IK.
 */
export function akaAuthDataItem(v: AkaVector, opts: { itemNumber?: number; scheme?: string } = {}): SipAuthDataItem {
  if (v.rand.length !== 16 || v.autn.length !== 16) throw new DiameterAvpError('RAND and AUTN must be 16 bytes each', 5004, 'SIP-Authenticate');
  const item: SipAuthDataItem = {
    scheme: opts.scheme ?? SipAuthScheme.DIGEST_AKAV1_MD5,
    authenticate: concatBytes(v.rand, v.autn),
    authorization: v.xres,
    confidentialityKey: v.ck,
    integrityKey: v.ik,
  };
  if (opts.itemNumber !== undefined) item.itemNumber = opts.itemNumber;
  return item;
}

/** Reads an AKA vector back from an MAA item. @throws DiameterAvpError 5005/5004 when a part is missing or RAND‖AUTN is not 32 bytes. */
export function akaVectorOf(item: SipAuthDataItem): AkaVector {
  const { authenticate, authorization, confidentialityKey, integrityKey } = item;
  if (!authenticate || !authorization || !confidentialityKey || !integrityKey) {
    throw new DiameterAvpError('SIP-Auth-Data-Item lacks SIP-Authenticate, SIP-Authorization, Confidentiality-Key or Integrity-Key', 5005, 'SIP-Auth-Data-Item');
  }
  if (authenticate.length !== 32) throw new DiameterAvpError(`SIP-Authenticate is ${authenticate.length} bytes, RAND‖AUTN is 32`, 5004, 'SIP-Authenticate');
  return { rand: authenticate.subarray(0, 16), autn: authenticate.subarray(16), xres: authorization, ck: confidentialityKey, ik: integrityKey };
}

/**
 * The SIP-Auth-Data-Item of a resynchronisation MAR (TS 29.228 §6.3 Table 6.3.1, TS 33.203
 * §6.1.2): scheme plus SIP-Authorization = RAND‖AUTS (16 + 14 bytes).
 */
export function akaResyncItem(rand: Uint8Array, auts: Uint8Array, scheme: string = SipAuthScheme.DIGEST_AKAV1_MD5): SipAuthDataItem {
  if (rand.length !== 16 || auts.length !== 14) throw new DiameterAvpError('RAND must be 16 bytes and AUTS 14', 5004, 'SIP-Authorization');
  return { scheme, authorization: concatBytes(rand, auts) };
}

/** RAND and AUTS from a resync MAR item, or undefined when the item carries no 30-byte SIP-Authorization. */
export function resyncInfoOf(item: SipAuthDataItem): { rand: Uint8Array; auts: Uint8Array } | undefined {
  const a = item.authorization;
  if (!a || a.length !== 30) return undefined;
  return { rand: a.subarray(0, 16), auts: a.subarray(16) };
}

/** TS 29.229 §6.3.4: `Server-Capabilities ::= *[Mandatory-Capability] *[Optional-Capability] *[Server-Name] *[AVP]`. */
export interface ServerCapabilities {
  mandatory: number[];
  optional: number[];
  serverNames: string[];
}

export function serverCapabilitiesAvp(c: ServerCapabilities): Avp {
  return avp('Server-Capabilities', [
    ...c.mandatory.map((v) => avp('Mandatory-Capability', v)),
    ...c.optional.map((v) => avp('Optional-Capability', v)),
    ...c.serverNames.map((v) => avp('Server-Name', v)),
  ]);
}

export function parseServerCapabilities(children: Avp[]): ServerCapabilities {
  const r = new AvpReader(children);
  return { mandatory: r.all('Mandatory-Capability'), optional: r.all('Optional-Capability'), serverNames: r.all('Server-Name') };
}

/** TS 29.229 §6.3.16: `Deregistration-Reason ::= { Reason-Code } [ Reason-Info ] *[AVP]`. */
export interface DeregistrationReason {
  code: number;
  info?: string;
}

export function deregistrationReasonAvp(d: DeregistrationReason): Avp {
  const c = [avp('Reason-Code', d.code)];
  if (d.info !== undefined) c.push(avp('Reason-Info', d.info));
  return avp('Deregistration-Reason', c);
}

export function parseDeregistrationReason(children: Avp[]): DeregistrationReason {
  const r = new AvpReader(children);
  const out: DeregistrationReason = { code: r.req('Reason-Code') };
  const info = r.opt('Reason-Info');
  if (info !== undefined) out.info = info;
  return out;
}

/**
 * TS 29.229 §6.3.19: `Charging-Information ::= [ Primary-Event-Charging-Function-Name ]
 * [ Secondary-Event-Charging-Function-Name ] [ Primary-Charging-Collection-Function-Name ]
 * [ Secondary-Charging-Collection-Function-Name ] *[AVP]` (DiameterURI values).
 */
export interface ChargingInformation {
  primaryEventChargingFunctionName?: string;
  secondaryEventChargingFunctionName?: string;
  primaryChargingCollectionFunctionName?: string;
  secondaryChargingCollectionFunctionName?: string;
}

export function chargingInformationAvp(c: ChargingInformation): Avp {
  const g: Avp[] = [];
  if (c.primaryEventChargingFunctionName !== undefined) g.push(avp('Primary-Event-Charging-Function-Name', c.primaryEventChargingFunctionName));
  if (c.secondaryEventChargingFunctionName !== undefined) g.push(avp('Secondary-Event-Charging-Function-Name', c.secondaryEventChargingFunctionName));
  if (c.primaryChargingCollectionFunctionName !== undefined) g.push(avp('Primary-Charging-Collection-Function-Name', c.primaryChargingCollectionFunctionName));
  if (c.secondaryChargingCollectionFunctionName !== undefined) g.push(avp('Secondary-Charging-Collection-Function-Name', c.secondaryChargingCollectionFunctionName));
  return avp('Charging-Information', g);
}

export function parseChargingInformation(children: Avp[]): ChargingInformation {
  const r = new AvpReader(children);
  const out: ChargingInformation = {};
  const a = r.opt('Primary-Event-Charging-Function-Name');
  const b = r.opt('Secondary-Event-Charging-Function-Name');
  const c = r.opt('Primary-Charging-Collection-Function-Name');
  const d = r.opt('Secondary-Charging-Collection-Function-Name');
  if (a !== undefined) out.primaryEventChargingFunctionName = a;
  if (b !== undefined) out.secondaryEventChargingFunctionName = b;
  if (c !== undefined) out.primaryChargingCollectionFunctionName = c;
  if (d !== undefined) out.secondaryChargingCollectionFunctionName = d;
  return out;
}

/** TS 29.229 §6.3.33: `Associated-Identities ::= *[ User-Name ] *[AVP]` — the private identities. */
export function associatedIdentitiesAvp(userNames: string[]): Avp {
  return avp('Associated-Identities', userNames.map((u) => avp('User-Name', u)));
}

export function parseAssociatedIdentities(children: Avp[]): string[] {
  return new AvpReader(children).all('User-Name');
}
