/**
 * The IMS subscription the HSS sends in Cx User-Data (SAA, PPR): TS 29.228 Annex E (XML schema
 * CxDataType.xsd), read for what a CSCF needs — the private identity and, per service profile,
 * the public identities with their barring indication. Initial filter criteria and other service
 * data are kept only as the raw document. Pure.
 *
 * ```
 * <IMSSubscription>
 *   <PrivateID>user@ims.lab</PrivateID>
 *   <ServiceProfile>
 *     <PublicIdentity>
 *       <BarringIndication>0</BarringIndication>
 *       <Identity>sip:user@ims.lab</Identity>
 *       <Extension><IdentityType>0</IdentityType><DisplayName>…</DisplayName></Extension>
 *     </PublicIdentity>
 *     <InitialFilterCriteria>…</InitialFilterCriteria>
 *   </ServiceProfile>
 * </IMSSubscription>
 * ```
 * TS 29.228 §6.5.1.1 / TS 24.229 §5.4.1.2.2: the identities of the implicit registration set,
 * the first non-barred one being the default public identity.
 */
import { XmlParseError, childElement, childElements, escapeXml, localName, parseXml, textOf } from '../../xml/index.js';

export interface UserDataPublicIdentity {
  identity: string;
  /** BarringIndication 1 (TS 29.228 Table E.1); absent means not barred. */
  barred: boolean;
  /** Extension/IdentityType: 0 public user identity, 1 distinct PSI, 2 wildcarded PSI, 3 wildcarded IMPU. */
  identityType?: number;
  displayName?: string;
}

export interface UserDataServiceProfile {
  publicIdentities: UserDataPublicIdentity[];
}

export interface ImsSubscription {
  privateId?: string;
  serviceProfiles: UserDataServiceProfile[];
}

/** Decodes Cx User-Data. @throws XmlParseError (code XML_PARSE). */
export function decodeImsSubscription(input: string | Uint8Array): ImsSubscription {
  const root = parseXml(input);
  if (localName(root.name) !== 'IMSSubscription') throw new XmlParseError(`User-Data: root element is <${root.name}>, not <IMSSubscription>`, 0);
  const out: ImsSubscription = { serviceProfiles: [] };
  const pid = childElement(root, 'PrivateID');
  if (pid) out.privateId = textOf(pid).trim();
  for (const sp of childElements(root, 'ServiceProfile')) {
    const publicIdentities: UserDataPublicIdentity[] = [];
    for (const pi of childElements(sp, 'PublicIdentity')) {
      const id = childElement(pi, 'Identity');
      if (!id || textOf(id).trim() === '') throw new XmlParseError('User-Data: <PublicIdentity> without <Identity>', 0);
      const b = childElement(pi, 'BarringIndication');
      const bt = b ? textOf(b).trim() : '0';
      if (bt !== '0' && bt !== '1' && bt !== 'true' && bt !== 'false') throw new XmlParseError('User-Data: bad <BarringIndication>', 0);
      const p: UserDataPublicIdentity = { identity: textOf(id).trim(), barred: bt === '1' || bt === 'true' };
      const ext = childElement(pi, 'Extension');
      if (ext) {
        const it = childElement(ext, 'IdentityType');
        if (it && /^[0-9]{1,3}$/.test(textOf(it).trim())) p.identityType = Number(textOf(it).trim());
        const dn = childElement(ext, 'DisplayName');
        if (dn) p.displayName = textOf(dn);
      }
      publicIdentities.push(p);
    }
    out.serviceProfiles.push({ publicIdentities });
  }
  return out;
}

/** Every public identity of the subscription, in document order. */
export function publicIdentitiesOf(s: ImsSubscription): UserDataPublicIdentity[] {
  return s.serviceProfiles.flatMap((p) => p.publicIdentities);
}

/** Builds a minimal TS 29.228 Annex E document (tests, and an HSS that keeps no profile of its own). */
export function formatImsSubscription(s: ImsSubscription): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<IMSSubscription>'];
  if (s.privateId !== undefined) out.push(`<PrivateID>${escapeXml(s.privateId)}</PrivateID>`);
  for (const sp of s.serviceProfiles) {
    out.push('<ServiceProfile>');
    for (const p of sp.publicIdentities) {
      out.push('<PublicIdentity>');
      if (p.barred) out.push('<BarringIndication>1</BarringIndication>');
      out.push(`<Identity>${escapeXml(p.identity)}</Identity>`);
      if (p.identityType !== undefined || p.displayName !== undefined) {
        out.push('<Extension>');
        if (p.identityType !== undefined) out.push(`<IdentityType>${p.identityType}</IdentityType>`);
        if (p.displayName !== undefined) out.push(`<DisplayName>${escapeXml(p.displayName)}</DisplayName>`);
        out.push('</Extension>');
      }
      out.push('</PublicIdentity>');
    }
    out.push('</ServiceProfile>');
  }
  out.push('</IMSSubscription>');
  return out.join('');
}
