/**
 * The Cx User-Data AVP content (TS 29.228 §7.7 and Annex E, XML schema CxDataType): the IMS
 * subscription of one private identity as the S-CSCF receives it in SAA and PPR.
 *
 * ```
 * tIMSSubscription ::= PrivateID, ServiceProfile+, Extension?
 * tServiceProfile  ::= PublicIdentity+, CoreNetworkServicesAuthorization?, InitialFilterCriteria*,
 *                      SharedIFCSetID*, Extension?
 * tPublicIdentity  ::= BarringIndication? (xs:boolean, default false), Identity, Extension?
 * ```
 *
 * One ServiceProfile carries the whole implicit registration set (TS 29.228 §6.5.1.1: the HSS
 * sends every public identity of the set, so the S-CSCF learns the set, R-REG-2). The stored
 * service profile (HssStore `serviceProfile`) provides the rest of the ServiceProfile: either a
 * fragment of its children (`<InitialFilterCriteria>…`, `<CoreNetworkServicesAuthorization>…`) or
 * a whole `<IMSSubscription>` document, whose first ServiceProfile's children other than
 * PublicIdentity are used. Pure: strings in, string out.
 */
import type { PublicIdentity } from '../../store/index.js';

/** XML character data / attribute escaping (XML 1.0 §2.4). */
export function xmlEscape(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/**
 * The children of the ServiceProfile that come from the stored profile: for a full
 * IMSSubscription document the content of its first ServiceProfile minus its PublicIdentity
 * elements; for a fragment, the fragment itself (an XML declaration is dropped).
 */
export function profileBody(stored: string | null): string {
  if (stored === null) return '';
  const text = stored.replace(/^\s*<\?xml[^>]*\?>/, '').trim();
  if (!/<(?:\w+:)?IMSSubscription[\s>/]/.test(text)) return text;
  const sp = /<((?:\w+:)?ServiceProfile)(?:\s[^>]*)?>([\s\S]*?)<\/\1\s*>/.exec(text);
  if (sp === null) return '';
  return sp[2].replace(/<((?:\w+:)?PublicIdentity)(?:\s[^>]*)?>[\s\S]*?<\/\1\s*>/g, '').replace(/<(?:\w+:)?PublicIdentity\s*\/>/g, '').trim();
}

/** Does the profile give the user services while unregistered (an iFC for the unregistered part, TS 29.228 Annex B.2.2)? */
export function hasUnregisteredServices(stored: string | null): boolean {
  const body = profileBody(stored);
  for (const m of body.matchAll(/<(?:\w+:)?InitialFilterCriteria(?:\s[^>]*)?>([\s\S]*?)<\/(?:\w+:)?InitialFilterCriteria\s*>/g)) {
    const ppi = /<(?:\w+:)?ProfilePartIndicator\s*>\s*([^<]*?)\s*</.exec(m[1]);
    // Annex B.2.2: no ProfilePartIndicator = the iFC applies in any state; 1 = UNREGISTERED.
    if (ppi === null || ppi[1] === '1' || /^unregistered$/i.test(ppi[1])) return true;
  }
  return false;
}

/** One ServiceProfile: the IMPUs of an implicit registration set and the set's stored profile. */
export interface ProfileSet {
  impus: readonly Pick<PublicIdentity, 'impu' | 'barred'>[];
  serviceProfile: string | null;
}

/**
 * `<IMSSubscription>` for `impi` with one ServiceProfile per set (each listing its IMPUs in
 * order with their barring flags, then the stored profile's other elements).
 */
export function buildUserData(impi: string, sets: readonly ProfileSet[]): string {
  const profiles = sets.map((s) => {
    const ids = s.impus
      .map((u) => `<PublicIdentity><BarringIndication>${u.barred ? 1 : 0}</BarringIndication><Identity>${xmlEscape(u.impu)}</Identity></PublicIdentity>`)
      .join('');
    return `<ServiceProfile>${ids}${profileBody(s.serviceProfile)}</ServiceProfile>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?><IMSSubscription><PrivateID>${xmlEscape(impi)}</PrivateID>${profiles.join('')}</IMSSubscription>`;
}
