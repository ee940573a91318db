/**
 * Cx/Dx constants: application id and command codes (TS 29.229 §6, §6.1), Experimental-Result
 * codes (TS 29.229 §6.2, also TS 29.230 §8.1 Table 8.1.2/8.1.4), and the enumerations of §6.3.
 */
import { VENDOR_3GPP } from '../dictionary/cx.js';
import { ResultCode } from '../dictionary/base.js';
import { type DiameterResult, experimentalResult, resultCode } from '../dictionary/result.js';

/** TS 29.229 §6: "The Diameter application identifier assigned to the Cx/Dx interface application is 16777216". */
export const CX_APPLICATION_ID = 16777216;

/**
 * What a Cx node advertises in its CER/CEA: the Cx application as a Vendor-Specific-Application-Id
 * of 3GPP (TS 29.229 §6; RFC 6733 §6.11) and 3GPP as a Supported-Vendor-Id (RFC 6733 §5.3.6).
 * The base peer advertises only what it is given; spread this into its options.
 */
export function cxCapabilities(): { supportedVendorIds: number[]; vendorSpecificApplicationIds: { vendorId: number; authApplicationId: number }[] } {
  return { supportedVendorIds: [VENDOR_3GPP], vendorSpecificApplicationIds: [{ vendorId: VENDOR_3GPP, authApplicationId: CX_APPLICATION_ID }] };
}

/** TS 29.229 §6.1 Table 6.1.1: Command-Code values. */
export const CxCommand = {
  /** UAR/UAA, §6.1.1–6.1.2 (I-CSCF → HSS). */
  USER_AUTHORIZATION: 300,
  /** SAR/SAA, §6.1.3–6.1.4 (S-CSCF → HSS). */
  SERVER_ASSIGNMENT: 301,
  /** LIR/LIA, §6.1.5–6.1.6 (I-CSCF → HSS). */
  LOCATION_INFO: 302,
  /** MAR/MAA, §6.1.7–6.1.8 (S-CSCF → HSS). */
  MULTIMEDIA_AUTH: 303,
  /** RTR/RTA, §6.1.9–6.1.10 (HSS → S-CSCF). */
  REGISTRATION_TERMINATION: 304,
  /** PPR/PPA, §6.1.11–6.1.12 (HSS → S-CSCF). */
  PUSH_PROFILE: 305,
} as const;

/** Wireshark's names for the Cx commands (how `tshark` prints them). */
export const CX_COMMAND_NAMES: Record<number, string> = {
  300: 'User-Authorization',
  301: 'Server-Assignment',
  302: 'Location-Info',
  303: 'Multimedia-Auth',
  304: 'Registration-Termination',
  305: 'Push-Profile',
};

/**
 * TS 29.229 §6.2.1 (success) and §6.2.2 (permanent failures): the 3GPP Experimental-Result-Code
 * values of Cx. They travel only in Experimental-Result with Vendor-Id 10415; as plain
 * Result-Codes the same numbers mean something else (see {@link ResultCode}).
 */
export const CxExperimentalResultCode = {
  DIAMETER_FIRST_REGISTRATION: 2001,
  DIAMETER_SUBSEQUENT_REGISTRATION: 2002,
  DIAMETER_UNREGISTERED_SERVICE: 2003,
  DIAMETER_SUCCESS_SERVER_NAME_NOT_STORED: 2004,
  DIAMETER_ERROR_USER_UNKNOWN: 5001,
  DIAMETER_ERROR_IDENTITIES_DONT_MATCH: 5002,
  DIAMETER_ERROR_IDENTITY_NOT_REGISTERED: 5003,
  DIAMETER_ERROR_ROAMING_NOT_ALLOWED: 5004,
  DIAMETER_ERROR_IDENTITY_ALREADY_REGISTERED: 5005,
  DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED: 5006,
  DIAMETER_ERROR_IN_ASSIGNMENT_TYPE: 5007,
  DIAMETER_ERROR_TOO_MUCH_DATA: 5008,
  DIAMETER_ERROR_NOT_SUPPORTED_USER_DATA: 5009,
  DIAMETER_ERROR_FEATURE_UNSUPPORTED: 5011,
  DIAMETER_ERROR_SERVING_NODE_FEATURE_UNSUPPORTED: 5012,
} as const;

const x = (code: number): DiameterResult => experimentalResult(VENDOR_3GPP, code);
const E = CxExperimentalResultCode;

/**
 * Ready-made results for Cx answers, each in its right namespace: base Result-Codes (RFC 6733
 * §7.1) and 3GPP Experimental-Results (TS 29.229 §6.2).
 */
export const CxResult = {
  /** Result-Code 2001 (RFC 6733 §7.1.2). */
  SUCCESS: resultCode(ResultCode.DIAMETER_SUCCESS),
  /** Result-Code 5003 DIAMETER_AUTHORIZATION_REJECTED (RFC 6733 §7.1.5), e.g. UAA for a barred identity (TS 29.228 §6.1.1). */
  AUTHORIZATION_REJECTED: resultCode(ResultCode.DIAMETER_AUTHORIZATION_REJECTED),
  /** Result-Code 5012 DIAMETER_UNABLE_TO_COMPLY. */
  UNABLE_TO_COMPLY: resultCode(ResultCode.DIAMETER_UNABLE_TO_COMPLY),
  /** Result-Code 5005 DIAMETER_MISSING_AVP. */
  MISSING_AVP: resultCode(ResultCode.DIAMETER_MISSING_AVP),
  /** Result-Code 4001 DIAMETER_AUTHENTICATION_REJECTED. */
  AUTHENTICATION_REJECTED: resultCode(ResultCode.DIAMETER_AUTHENTICATION_REJECTED),
  /** Result-Code 3004 DIAMETER_TOO_BUSY. */
  TOO_BUSY: resultCode(ResultCode.DIAMETER_TOO_BUSY),
  FIRST_REGISTRATION: x(E.DIAMETER_FIRST_REGISTRATION),
  SUBSEQUENT_REGISTRATION: x(E.DIAMETER_SUBSEQUENT_REGISTRATION),
  UNREGISTERED_SERVICE: x(E.DIAMETER_UNREGISTERED_SERVICE),
  SUCCESS_SERVER_NAME_NOT_STORED: x(E.DIAMETER_SUCCESS_SERVER_NAME_NOT_STORED),
  ERROR_USER_UNKNOWN: x(E.DIAMETER_ERROR_USER_UNKNOWN),
  ERROR_IDENTITIES_DONT_MATCH: x(E.DIAMETER_ERROR_IDENTITIES_DONT_MATCH),
  ERROR_IDENTITY_NOT_REGISTERED: x(E.DIAMETER_ERROR_IDENTITY_NOT_REGISTERED),
  ERROR_ROAMING_NOT_ALLOWED: x(E.DIAMETER_ERROR_ROAMING_NOT_ALLOWED),
  ERROR_IDENTITY_ALREADY_REGISTERED: x(E.DIAMETER_ERROR_IDENTITY_ALREADY_REGISTERED),
  ERROR_AUTH_SCHEME_NOT_SUPPORTED: x(E.DIAMETER_ERROR_AUTH_SCHEME_NOT_SUPPORTED),
  ERROR_IN_ASSIGNMENT_TYPE: x(E.DIAMETER_ERROR_IN_ASSIGNMENT_TYPE),
  ERROR_TOO_MUCH_DATA: x(E.DIAMETER_ERROR_TOO_MUCH_DATA),
  ERROR_NOT_SUPPORTED_USER_DATA: x(E.DIAMETER_ERROR_NOT_SUPPORTED_USER_DATA),
  ERROR_FEATURE_UNSUPPORTED: x(E.DIAMETER_ERROR_FEATURE_UNSUPPORTED),
  ERROR_SERVING_NODE_FEATURE_UNSUPPORTED: x(E.DIAMETER_ERROR_SERVING_NODE_FEATURE_UNSUPPORTED),
} as const satisfies Record<string, DiameterResult>;

/** TS 29.229 §6.3.15 Server-Assignment-Type. */
export const ServerAssignmentType = {
  NO_ASSIGNMENT: 0,
  REGISTRATION: 1,
  RE_REGISTRATION: 2,
  UNREGISTERED_USER: 3,
  TIMEOUT_DEREGISTRATION: 4,
  USER_DEREGISTRATION: 5,
  TIMEOUT_DEREGISTRATION_STORE_SERVER_NAME: 6,
  USER_DEREGISTRATION_STORE_SERVER_NAME: 7,
  ADMINISTRATIVE_DEREGISTRATION: 8,
  AUTHENTICATION_FAILURE: 9,
  AUTHENTICATION_TIMEOUT: 10,
  DEREGISTRATION_TOO_MUCH_DATA: 11,
  AAA_USER_DATA_REQUEST: 12,
  PGW_UPDATE: 13,
  RESTORATION: 14,
} as const;

/** TS 29.229 §6.3.24 User-Authorization-Type. */
export const UserAuthorizationType = {
  REGISTRATION: 0,
  DE_REGISTRATION: 1,
  REGISTRATION_AND_CAPABILITIES: 2,
} as const;

/** TS 29.229 §6.3.17 Reason-Code (inside Deregistration-Reason). */
export const ReasonCode = {
  PERMANENT_TERMINATION: 0,
  NEW_SERVER_ASSIGNED: 1,
  SERVER_CHANGE: 2,
  REMOVE_S_CSCF: 3,
} as const;

/** TS 29.229 §6.3.26 User-Data-Already-Available. */
export const UserDataAlreadyAvailable = {
  USER_DATA_NOT_AVAILABLE: 0,
  USER_DATA_ALREADY_AVAILABLE: 1,
} as const;

/** TS 29.229 §6.3.34 Originating-Request. */
export const OriginatingRequest = {
  ORIGINATING: 0,
} as const;

/** TS 29.229 Loose-Route-Indication. */
export const LooseRouteIndication = {
  LOOSE_ROUTE_NOT_REQUIRED: 0,
  LOOSE_ROUTE_REQUIRED: 1,
} as const;

/** TS 29.229 Multiple-Registration-Indication. */
export const MultipleRegistrationIndication = {
  NOT_MULTIPLE_REGISTRATION: 0,
  MULTIPLE_REGISTRATION: 1,
} as const;

/** TS 29.229 Session-Priority (PRIORITY-0 is the highest). */
export const SessionPriority = {
  PRIORITY_0: 0,
  PRIORITY_1: 1,
  PRIORITY_2: 2,
  PRIORITY_3: 3,
  PRIORITY_4: 4,
} as const;

/**
 * TS 29.228 §6.3 Table 6.3.2 / TS 29.229 §6.3.9: SIP-Authentication-Scheme values. IMS AKA uses
 * "Digest-AKAv1-MD5" (RFC 3310); "Unknown" in a MAR lets the HSS choose.
 */
export const SipAuthScheme = {
  DIGEST_AKAV1_MD5: 'Digest-AKAv1-MD5',
  DIGEST_AKAV2_MD5: 'Digest-AKAv2-MD5',
  SIP_DIGEST: 'SIP Digest',
  NASS_BUNDLED: 'NASS-Bundled',
  EARLY_IMS_SECURITY: 'Early-IMS-Security',
  UNKNOWN: 'Unknown',
} as const;
