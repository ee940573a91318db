/**
 * 3GPP P-headers (RFC 7315, TS 24.229 §7.2A): P-Visited-Network-ID, P-Access-Network-Info,
 * P-Charging-Vector.
 *
 *   P-Visited-Network-ID  =  "P-Visited-Network-ID" HCOLON vnetwork-spec *(COMMA vnetwork-spec)
 *   vnetwork-spec         =  (token / quoted-string) *(SEMI vnetwork-param)
 *   P-Access-Network-Info =  "P-Access-Network-Info" HCOLON access-net-spec *(COMMA access-net-spec)
 *   access-net-spec       =  (access-type / access-class) *(SEMI access-info)
 *   access-info           =  cgi-3gpp / utran-cell-id-3gpp / dsl-location / i-wlan-node-id /
 *                            ci-3gpp2 / eth-location / ... / extension-access-info   (generic-param forms)
 *   P-Charging-Vector     =  "P-Charging-Vector" HCOLON icid-value *(SEMI charge-params)
 *   icid-value            =  "icid-value" EQUAL gen-value
 */
import { isToken } from '../message/chars.js';
import { Scanner, parseList, parseOne } from './scanner.js';
import { SipParams, quote, unquote } from './params.js';

export interface VisitedNetworkId {
  /** The network name, unquoted. */
  network: string;
  params: SipParams;
}

export function parsePVisitedNetworkId(value: string): VisitedNetworkId[] {
  return parseList(value, 'P-Visited-Network-ID', (sc) => {
    const network = sc.peek() === 0x22 ? unquote(sc.quoted()) : sc.token('network');
    return { network, params: sc.params(true) };
  });
}

export function formatPVisitedNetworkId(v: VisitedNetworkId[]): string {
  return v.map((x) => `${isToken(x.network) ? x.network : quote(x.network)}${x.params.toString()}`).join(', ');
}

export interface AccessNetworkInfo {
  /** access-type or access-class, e.g. `3GPP-E-UTRAN-FDD`, `IEEE-802.11`. */
  accessType: string;
  /** utran-cell-id-3gpp, cgi-3gpp, network-provided... (raw values). */
  params: SipParams;
}

export function parsePAccessNetworkInfo(value: string): AccessNetworkInfo[] {
  return parseList(value, 'P-Access-Network-Info', (sc) => ({ accessType: sc.token('access-type'), params: sc.params(true) }));
}

export function formatPAccessNetworkInfo(v: AccessNetworkInfo[]): string {
  return v.map((x) => `${x.accessType}${x.params.toString()}`).join(', ');
}

/** P-Charging-Vector parameters in order; `icid-value` must be present (RFC 7315 §4.6). */
export function parsePChargingVector(value: string): SipParams {
  return parseOne(value, 'P-Charging-Vector', (sc: Scanner) => {
    const params = new SipParams();
    const name = sc.token('parameter name');
    params._add(name, sc.eat(0x3d) ? sc.genValue() : null);
    sc.params(false, params);
    if (params.get('icid-value') == null) sc.fail('missing icid-value', 0);
    return params;
  });
}

export function formatPChargingVector(v: SipParams): string {
  return v.toString().slice(1);
}
