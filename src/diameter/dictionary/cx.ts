/**
 * The Cx/Dx dictionary, 3GPP TS 29.229 §6.3 Table 6.3.1 (vendor 10415, application 16777216).
 *
 * Codes, types and flags were checked against TS 29.229 §6.3 (Rel-12..16 text, as reproduced by
 * the ETSI TS 129 229 editions) and cross-checked with two independent dictionaries (Wireshark's
 * TGPP.xml and scapy's contrib/diameter.py, built from ETS 29229 V12.3.0). AVPs 600–626 and 633
 * set 'M' and 'V'; the later optional-feature AVPs (628–632, 634 onwards) set 'V' only, so a peer
 * that does not know them can ignore them. Names follow TS 29.229 (Wireshark prefixes some with
 * "3GPP-" and calls 606 "Cx-User-Data").
 */
import type { AvpSpec } from './spec.js';

/** IANA enterprise number of 3GPP (TS 29.229 §6). */
export const VENDOR_3GPP = 10415;
/** IANA enterprise number of ETSI (Line-Identifier, ETSI TS 183 033 §6.3.34). */
export const VENDOR_ETSI = 13019;

const V = VENDOR_3GPP;

/** TS 29.229 §6.3 Cx AVPs. */
export const CX_AVPS = {
  'Visited-Network-Identifier': { code: 600, vendorId: V, type: 'OctetString', m: true, ref: 'TS 29.229 §6.3.1' },
  'Public-Identity': { code: 601, vendorId: V, type: 'UTF8String', m: true, ref: 'TS 29.229 §6.3.2' },
  'Server-Name': { code: 602, vendorId: V, type: 'UTF8String', m: true, ref: 'TS 29.229 §6.3.3' },
  'Server-Capabilities': { code: 603, vendorId: V, type: 'Grouped', m: true, ref: 'TS 29.229 §6.3.4' },
  'Mandatory-Capability': { code: 604, vendorId: V, type: 'Unsigned32', m: true, ref: 'TS 29.229 §6.3.5' },
  'Optional-Capability': { code: 605, vendorId: V, type: 'Unsigned32', m: true, ref: 'TS 29.229 §6.3.6' },
  'User-Data': { code: 606, vendorId: V, type: 'OctetString', m: true, ref: 'TS 29.229 §6.3.7' },
  'SIP-Number-Auth-Items': { code: 607, vendorId: V, type: 'Unsigned32', m: true, ref: 'TS 29.229 §6.3.8' },
  'SIP-Authentication-Scheme': { code: 608, vendorId: V, type: 'UTF8String', m: true, ref: 'TS 29.229 §6.3.9' },
  'SIP-Authenticate': { code: 609, vendorId: V, type: 'OctetString', m: true, ref: 'TS 29.229 §6.3.10' },
  'SIP-Authorization': { code: 610, vendorId: V, type: 'OctetString', m: true, ref: 'TS 29.229 §6.3.11' },
  'SIP-Authentication-Context': { code: 611, vendorId: V, type: 'OctetString', m: true, ref: 'TS 29.229 §6.3.12' },
  'SIP-Auth-Data-Item': { code: 612, vendorId: V, type: 'Grouped', m: true, ref: 'TS 29.229 §6.3.13' },
  'SIP-Item-Number': { code: 613, vendorId: V, type: 'Unsigned32', m: true, ref: 'TS 29.229 §6.3.14' },
  'Server-Assignment-Type': { code: 614, vendorId: V, type: 'Enumerated', m: true, ref: 'TS 29.229 §6.3.15' },
  'Deregistration-Reason': { code: 615, vendorId: V, type: 'Grouped', m: true, ref: 'TS 29.229 §6.3.16' },
  'Reason-Code': { code: 616, vendorId: V, type: 'Enumerated', m: true, ref: 'TS 29.229 §6.3.17' },
  'Reason-Info': { code: 617, vendorId: V, type: 'UTF8String', m: true, ref: 'TS 29.229 §6.3.18' },
  'Charging-Information': { code: 618, vendorId: V, type: 'Grouped', m: true, ref: 'TS 29.229 §6.3.19' },
  'Primary-Event-Charging-Function-Name': { code: 619, vendorId: V, type: 'DiameterURI', m: true, ref: 'TS 29.229 §6.3.20' },
  'Secondary-Event-Charging-Function-Name': { code: 620, vendorId: V, type: 'DiameterURI', m: true, ref: 'TS 29.229 §6.3.21' },
  'Primary-Charging-Collection-Function-Name': { code: 621, vendorId: V, type: 'DiameterURI', m: true, ref: 'TS 29.229 §6.3.22' },
  'Secondary-Charging-Collection-Function-Name': { code: 622, vendorId: V, type: 'DiameterURI', m: true, ref: 'TS 29.229 §6.3.23' },
  'User-Authorization-Type': { code: 623, vendorId: V, type: 'Enumerated', m: true, ref: 'TS 29.229 §6.3.24' },
  'User-Data-Already-Available': { code: 624, vendorId: V, type: 'Enumerated', m: true, ref: 'TS 29.229 §6.3.26' },
  'Confidentiality-Key': { code: 625, vendorId: V, type: 'OctetString', m: true, ref: 'TS 29.229 §6.3.27' },
  'Integrity-Key': { code: 626, vendorId: V, type: 'OctetString', m: true, ref: 'TS 29.229 §6.3.28' },
  'Supported-Features': { code: 628, vendorId: V, type: 'Grouped', m: false, ref: 'TS 29.229 §6.3.29' },
  'Feature-List-ID': { code: 629, vendorId: V, type: 'Unsigned32', m: false, ref: 'TS 29.229 §6.3.30' },
  'Feature-List': { code: 630, vendorId: V, type: 'Unsigned32', m: false, ref: 'TS 29.229 §6.3.31' },
  'Supported-Applications': { code: 631, vendorId: V, type: 'Grouped', m: false, ref: 'TS 29.229 §6.3.32' },
  'Associated-Identities': { code: 632, vendorId: V, type: 'Grouped', m: false, ref: 'TS 29.229 §6.3.33' },
  'Originating-Request': { code: 633, vendorId: V, type: 'Enumerated', m: true, ref: 'TS 29.229 §6.3.34' },
  'Wildcarded-Public-Identity': { code: 634, vendorId: V, type: 'UTF8String', m: false, ref: 'TS 29.229 §6.3.35' },
  'SIP-Digest-Authenticate': { code: 635, vendorId: V, type: 'Grouped', m: false, ref: 'TS 29.229 §6.3.36' },
  'Wildcarded-IMPU': { code: 636, vendorId: V, type: 'UTF8String', m: false, ref: 'TS 29.229 §6.3' },
  'UAR-Flags': { code: 637, vendorId: V, type: 'Unsigned32', m: false, ref: 'TS 29.229 §6.3' },
  'Loose-Route-Indication': { code: 638, vendorId: V, type: 'Enumerated', m: false, ref: 'TS 29.229 §6.3' },
  'SCSCF-Restoration-Info': { code: 639, vendorId: V, type: 'Grouped', m: false, ref: 'TS 29.229 §6.3' },
  Path: { code: 640, vendorId: V, type: 'OctetString', m: false, ref: 'TS 29.229 §6.3' },
  Contact: { code: 641, vendorId: V, type: 'OctetString', m: false, ref: 'TS 29.229 §6.3' },
  'Subscription-Info': { code: 642, vendorId: V, type: 'Grouped', m: false, ref: 'TS 29.229 §6.3' },
  'Call-ID-SIP-Header': { code: 643, vendorId: V, type: 'OctetString', m: false, ref: 'TS 29.229 §6.3' },
  'From-SIP-Header': { code: 644, vendorId: V, type: 'OctetString', m: false, ref: 'TS 29.229 §6.3' },
  'To-SIP-Header': { code: 645, vendorId: V, type: 'OctetString', m: false, ref: 'TS 29.229 §6.3' },
  'Record-Route': { code: 646, vendorId: V, type: 'OctetString', m: false, ref: 'TS 29.229 §6.3' },
  'Associated-Registered-Identities': { code: 647, vendorId: V, type: 'Grouped', m: false, ref: 'TS 29.229 §6.3' },
  'Multiple-Registration-Indication': { code: 648, vendorId: V, type: 'Enumerated', m: false, ref: 'TS 29.229 §6.3' },
  'Restoration-Info': { code: 649, vendorId: V, type: 'Grouped', m: false, ref: 'TS 29.229 §6.3' },
  'Session-Priority': { code: 650, vendorId: V, type: 'Enumerated', m: false, ref: 'TS 29.229 §6.3' },
  'Identity-with-Emergency-Registration': { code: 651, vendorId: V, type: 'Grouped', m: false, ref: 'TS 29.229 §6.3' },
  'Priviledged-Sender-Indication': { code: 652, vendorId: V, type: 'Enumerated', m: false, ref: 'TS 29.229 §6.3' },
  'LIA-Flags': { code: 653, vendorId: V, type: 'Unsigned32', m: false, ref: 'TS 29.229 §6.3' },
  'Initial-CSeq-Sequence-Number': { code: 654, vendorId: V, type: 'Unsigned32', m: false, ref: 'TS 29.229 §6.3' },
  'SAR-Flags': { code: 655, vendorId: V, type: 'Unsigned32', m: false, ref: 'TS 29.229 §6.3' },
  'RTR-Flags': { code: 659, vendorId: V, type: 'Unsigned32', m: false, ref: 'TS 29.229 §6.3' },
  /** ETSI TS 183 033 §6.3.34; carried in SIP-Auth-Data-Item for NASS-bundled authentication. */
  'Line-Identifier': { code: 500, vendorId: VENDOR_ETSI, type: 'OctetString', m: false, ref: 'ETSI TS 183 033 §6.3.34' },
} as const satisfies Record<string, AvpSpec>;
