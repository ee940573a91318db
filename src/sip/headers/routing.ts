/**
 * Route-like headers: Route, Record-Route (RFC 3261 §20.30, §20.34), Path (RFC 3327 §4),
 * Service-Route (RFC 3608 §5) and the IMS identity headers P-Associated-URI,
 * P-Asserted-Identity and P-Preferred-Identity (RFC 7315 §4.1, RFC 3325 §9).
 *
 *   Route            =  "Route" HCOLON route-param *(COMMA route-param)
 *   route-param      =  name-addr *( SEMI rr-param )
 *   Path / Service-Route / Record-Route alike (name-addr required)
 *   P-Associated-URI =  "P-Associated-URI" HCOLON [p-aso-uri-spec *(COMMA p-aso-uri-spec)]
 *   p-aso-uri-spec   =  name-addr *( SEMI ai-param )
 *   PAssertedID      =  "P-Asserted-Identity" HCOLON PAssertedID-value *(COMMA PAssertedID-value)
 *   PAssertedID-value = name-addr / addr-spec             (P-Preferred-Identity alike)
 */
import { parseList } from './scanner.js';
import { formatNameAddr, scanNameAddr, type NameAddr } from './name-addr.js';

/** Route, Record-Route, Path or Service-Route values (angle brackets required). */
export function parseRoute(value: string, header = 'Route'): NameAddr[] {
  return parseList(value, header, (sc) => scanNameAddr(sc, true, true));
}

export function formatRoute(v: NameAddr[]): string {
  return v.map(formatNameAddr).join(', ');
}

export const parseRecordRoute = (value: string): NameAddr[] => parseRoute(value, 'Record-Route');
export const parsePath = (value: string): NameAddr[] => parseRoute(value, 'Path');
export const parseServiceRoute = (value: string): NameAddr[] => parseRoute(value, 'Service-Route');
export const formatRecordRoute = formatRoute;
export const formatPath = formatRoute;
export const formatServiceRoute = formatRoute;

/** P-Associated-URI (may be empty: no associated URIs). */
export function parsePAssociatedUri(value: string): NameAddr[] {
  return parseList(value, 'P-Associated-URI', (sc) => scanNameAddr(sc, true, true), true);
}

/** P-Asserted-Identity: name-addr or addr-spec, one per identity (at most a SIP and a tel URI). */
export function parsePAssertedIdentity(value: string): NameAddr[] {
  return parseList(value, 'P-Asserted-Identity', (sc) => scanNameAddr(sc, true));
}

export function parsePPreferredIdentity(value: string): NameAddr[] {
  return parseList(value, 'P-Preferred-Identity', (sc) => scanNameAddr(sc, true));
}

export const formatPAssociatedUri = formatRoute;
export const formatPAssertedIdentity = formatRoute;
export const formatPPreferredIdentity = formatRoute;
