/**
 * The Diameter base protocol dictionary, RFC 6733: AVPs (§4.5 table, with the section defining each),
 * command codes (§3.1), application ids (§2.4), Result-Code values (§7.1) and the base
 * enumerations. Flags: `m` is whether this node sets the 'M' bit when sending (the §4.5 "MUST"
 * column); the 'V' bit is set exactly when `vendorId` is non-zero.
 */
import type { AvpSpec } from './spec.js';

/** RFC 6733 §4.5 AVPs of the base protocol (plus RFC 7155 / RFC 4590 AVPs that Cx groups reuse). */
export const BASE_AVPS = {
  'User-Name': { code: 1, type: 'UTF8String', m: true, ref: 'RFC 6733 §8.14' },
  'Framed-IP-Address': { code: 8, type: 'OctetString', m: true, ref: 'RFC 7155 §4.4.10.5' },
  Class: { code: 25, type: 'OctetString', m: true, ref: 'RFC 6733 §8.20' },
  'Session-Timeout': { code: 27, type: 'Unsigned32', m: true, ref: 'RFC 6733 §8.13' },
  'Proxy-State': { code: 33, type: 'OctetString', m: true, ref: 'RFC 6733 §6.7.4' },
  'Acct-Session-Id': { code: 44, type: 'OctetString', m: true, ref: 'RFC 6733 §9.8.4' },
  'Acct-Multi-Session-Id': { code: 50, type: 'UTF8String', m: true, ref: 'RFC 6733 §9.8.5' },
  'Event-Timestamp': { code: 55, type: 'Time', m: true, ref: 'RFC 6733 §8.21' },
  'Acct-Interim-Interval': { code: 85, type: 'Unsigned32', m: true, ref: 'RFC 6733 §9.8.2' },
  'Framed-Interface-Id': { code: 96, type: 'Unsigned64', m: true, ref: 'RFC 7155 §4.4.10.5' },
  'Framed-IPv6-Prefix': { code: 97, type: 'OctetString', m: true, ref: 'RFC 7155 §4.4.10.5' },
  'Digest-Realm': { code: 104, type: 'UTF8String', m: true, ref: 'RFC 4590 §3' },
  'Digest-QoP': { code: 110, type: 'UTF8String', m: true, ref: 'RFC 4590 §3' },
  'Digest-Algorithm': { code: 111, type: 'UTF8String', m: true, ref: 'RFC 4590 §3' },
  'Digest-HA1': { code: 121, type: 'OctetString', m: true, ref: 'RFC 4590 §3' },
  'Host-IP-Address': { code: 257, type: 'Address', m: true, ref: 'RFC 6733 §5.3.5' },
  'Auth-Application-Id': { code: 258, type: 'Unsigned32', m: true, ref: 'RFC 6733 §6.8' },
  'Acct-Application-Id': { code: 259, type: 'Unsigned32', m: true, ref: 'RFC 6733 §6.9' },
  'Vendor-Specific-Application-Id': { code: 260, type: 'Grouped', m: true, ref: 'RFC 6733 §6.11' },
  'Redirect-Host-Usage': { code: 261, type: 'Enumerated', m: true, ref: 'RFC 6733 §6.13' },
  'Redirect-Max-Cache-Time': { code: 262, type: 'Unsigned32', m: true, ref: 'RFC 6733 §6.14' },
  'Session-Id': { code: 263, type: 'UTF8String', m: true, ref: 'RFC 6733 §8.8' },
  'Origin-Host': { code: 264, type: 'DiameterIdentity', m: true, ref: 'RFC 6733 §6.3' },
  'Supported-Vendor-Id': { code: 265, type: 'Unsigned32', m: true, ref: 'RFC 6733 §5.3.6' },
  'Vendor-Id': { code: 266, type: 'Unsigned32', m: true, ref: 'RFC 6733 §5.3.3' },
  'Firmware-Revision': { code: 267, type: 'Unsigned32', m: false, ref: 'RFC 6733 §5.3.4' },
  'Result-Code': { code: 268, type: 'Unsigned32', m: true, ref: 'RFC 6733 §7.1' },
  'Product-Name': { code: 269, type: 'UTF8String', m: false, ref: 'RFC 6733 §5.3.7' },
  'Session-Binding': { code: 270, type: 'Unsigned32', m: true, ref: 'RFC 6733 §8.17' },
  'Session-Server-Failover': { code: 271, type: 'Enumerated', m: true, ref: 'RFC 6733 §8.18' },
  'Multi-Round-Time-Out': { code: 272, type: 'Unsigned32', m: true, ref: 'RFC 6733 §8.19' },
  'Disconnect-Cause': { code: 273, type: 'Enumerated', m: true, ref: 'RFC 6733 §5.4.3' },
  'Auth-Request-Type': { code: 274, type: 'Enumerated', m: true, ref: 'RFC 6733 §8.7' },
  'Auth-Grace-Period': { code: 276, type: 'Unsigned32', m: true, ref: 'RFC 6733 §8.10' },
  'Auth-Session-State': { code: 277, type: 'Enumerated', m: true, ref: 'RFC 6733 §8.11' },
  'Origin-State-Id': { code: 278, type: 'Unsigned32', m: true, ref: 'RFC 6733 §8.16' },
  'Failed-AVP': { code: 279, type: 'Grouped', m: true, ref: 'RFC 6733 §7.5' },
  'Proxy-Host': { code: 280, type: 'DiameterIdentity', m: true, ref: 'RFC 6733 §6.7.3' },
  'Error-Message': { code: 281, type: 'UTF8String', m: false, ref: 'RFC 6733 §7.3' },
  'Route-Record': { code: 282, type: 'DiameterIdentity', m: true, ref: 'RFC 6733 §6.7.1' },
  'Destination-Realm': { code: 283, type: 'DiameterIdentity', m: true, ref: 'RFC 6733 §6.6' },
  'Proxy-Info': { code: 284, type: 'Grouped', m: true, ref: 'RFC 6733 §6.7.2' },
  'Re-Auth-Request-Type': { code: 285, type: 'Enumerated', m: true, ref: 'RFC 6733 §8.12' },
  'Accounting-Sub-Session-Id': { code: 287, type: 'Unsigned64', m: true, ref: 'RFC 6733 §9.8.6' },
  'Authorization-Lifetime': { code: 291, type: 'Unsigned32', m: true, ref: 'RFC 6733 §8.9' },
  'Redirect-Host': { code: 292, type: 'DiameterURI', m: true, ref: 'RFC 6733 §6.12' },
  'Destination-Host': { code: 293, type: 'DiameterIdentity', m: true, ref: 'RFC 6733 §6.5' },
  'Error-Reporting-Host': { code: 294, type: 'DiameterIdentity', m: false, ref: 'RFC 6733 §7.4' },
  'Termination-Cause': { code: 295, type: 'Enumerated', m: true, ref: 'RFC 6733 §8.15' },
  'Origin-Realm': { code: 296, type: 'DiameterIdentity', m: true, ref: 'RFC 6733 §6.4' },
  'Experimental-Result': { code: 297, type: 'Grouped', m: true, ref: 'RFC 6733 §7.6' },
  'Experimental-Result-Code': { code: 298, type: 'Unsigned32', m: true, ref: 'RFC 6733 §7.7' },
  'Inband-Security-Id': { code: 299, type: 'Unsigned32', m: true, ref: 'RFC 6733 §6.10' },
  /** RFC 7944 §9.1: "The M-bit MUST NOT be set." */
  DRMP: { code: 301, type: 'Enumerated', m: false, ref: 'RFC 7944 §9.1' },
  'Accounting-Record-Type': { code: 480, type: 'Enumerated', m: true, ref: 'RFC 6733 §9.8.1' },
  'Accounting-Realtime-Required': { code: 483, type: 'Enumerated', m: true, ref: 'RFC 6733 §9.8.7' },
  'Accounting-Record-Number': { code: 485, type: 'Unsigned32', m: true, ref: 'RFC 6733 §9.8.3' },
} as const satisfies Record<string, AvpSpec>;

/** RFC 6733 §3.1 Command Codes of the base protocol. */
export const BaseCommand = {
  /** Capabilities-Exchange-Request/Answer, §5.3.1/§5.3.2. */
  CAPABILITIES_EXCHANGE: 257,
  /** Re-Auth-Request/Answer, §8.3. */
  RE_AUTH: 258,
  /** Accounting-Request/Answer, §9.7. */
  ACCOUNTING: 271,
  /** Abort-Session-Request/Answer, §8.5. */
  ABORT_SESSION: 274,
  /** Session-Termination-Request/Answer, §8.4. */
  SESSION_TERMINATION: 275,
  /** Device-Watchdog-Request/Answer, §5.5.1/§5.5.2. */
  DEVICE_WATCHDOG: 280,
  /** Disconnect-Peer-Request/Answer, §5.4.1/§5.4.2. */
  DISCONNECT_PEER: 282,
} as const;

/** RFC 6733 §2.4 Application Identifiers. */
export const ApplicationId = {
  COMMON_MESSAGES: 0,
  BASE_ACCOUNTING: 3,
  RELAY: 0xffffffff,
} as const;

/** RFC 6733 §7.1 Result-Code AVP values (the IETF namespace; 3GPP codes travel in Experimental-Result). */
export const ResultCode = {
  DIAMETER_MULTI_ROUND_AUTH: 1001,
  DIAMETER_SUCCESS: 2001,
  DIAMETER_LIMITED_SUCCESS: 2002,
  DIAMETER_COMMAND_UNSUPPORTED: 3001,
  DIAMETER_UNABLE_TO_DELIVER: 3002,
  DIAMETER_REALM_NOT_SERVED: 3003,
  DIAMETER_TOO_BUSY: 3004,
  DIAMETER_LOOP_DETECTED: 3005,
  DIAMETER_REDIRECT_INDICATION: 3006,
  DIAMETER_APPLICATION_UNSUPPORTED: 3007,
  DIAMETER_INVALID_HDR_BITS: 3008,
  DIAMETER_INVALID_AVP_BITS: 3009,
  DIAMETER_UNKNOWN_PEER: 3010,
  DIAMETER_AUTHENTICATION_REJECTED: 4001,
  DIAMETER_OUT_OF_SPACE: 4002,
  ELECTION_LOST: 4003,
  DIAMETER_AVP_UNSUPPORTED: 5001,
  DIAMETER_UNKNOWN_SESSION_ID: 5002,
  DIAMETER_AUTHORIZATION_REJECTED: 5003,
  DIAMETER_INVALID_AVP_VALUE: 5004,
  DIAMETER_MISSING_AVP: 5005,
  DIAMETER_RESOURCES_EXCEEDED: 5006,
  DIAMETER_CONTRADICTING_AVPS: 5007,
  DIAMETER_AVP_NOT_ALLOWED: 5008,
  DIAMETER_AVP_OCCURS_TOO_MANY_TIMES: 5009,
  DIAMETER_NO_COMMON_APPLICATION: 5010,
  DIAMETER_UNSUPPORTED_VERSION: 5011,
  DIAMETER_UNABLE_TO_COMPLY: 5012,
  DIAMETER_INVALID_BIT_IN_HEADER: 5013,
  DIAMETER_INVALID_AVP_LENGTH: 5014,
  DIAMETER_INVALID_MESSAGE_LENGTH: 5015,
  DIAMETER_INVALID_AVP_BIT_COMBO: 5016,
  DIAMETER_NO_COMMON_SECURITY: 5017,
} as const;

/** RFC 6733 §7.1: protocol errors (3xxx) travel in answers with the 'E' bit set. */
export function isProtocolError(resultCode: number): boolean {
  return resultCode >= 3000 && resultCode < 4000;
}

/** RFC 6733 §5.4.3 Disconnect-Cause values. */
export const DisconnectCause = {
  REBOOTING: 0,
  BUSY: 1,
  DO_NOT_WANT_TO_TALK_TO_YOU: 2,
} as const;

/** RFC 6733 §8.11 Auth-Session-State values. */
export const AuthSessionState = {
  STATE_MAINTAINED: 0,
  NO_STATE_MAINTAINED: 1,
} as const;

/** RFC 6733 §8.7 Auth-Request-Type values. */
export const AuthRequestType = {
  AUTHENTICATE_ONLY: 1,
  AUTHORIZE_ONLY: 2,
  AUTHORIZE_AUTHENTICATE: 3,
} as const;

/** RFC 6733 §8.15 Termination-Cause values. */
export const TerminationCause = {
  DIAMETER_LOGOUT: 1,
  DIAMETER_SERVICE_NOT_PROVIDED: 2,
  DIAMETER_BAD_ANSWER: 3,
  DIAMETER_ADMINISTRATIVE: 4,
  DIAMETER_LINK_BROKEN: 5,
  DIAMETER_AUTH_EXPIRED: 6,
  DIAMETER_USER_MOVED: 7,
  DIAMETER_SESSION_TIMEOUT: 8,
} as const;

/** RFC 6733 §6.13 Redirect-Host-Usage values. */
export const RedirectHostUsage = {
  DONT_CACHE: 0,
  ALL_SESSION: 1,
  ALL_REALM: 2,
  REALM_AND_APPLICATION: 3,
  ALL_APPLICATION: 4,
  ALL_HOST: 5,
  ALL_USER: 6,
} as const;

/** RFC 6733 §8.18 Session-Server-Failover values. */
export const SessionServerFailover = {
  REFUSE_SERVICE: 0,
  TRY_AGAIN: 1,
  ALLOW_SERVICE: 2,
  TRY_AGAIN_ALLOW_SERVICE: 3,
} as const;

/** RFC 6733 §8.12 Re-Auth-Request-Type values. */
export const ReAuthRequestType = {
  AUTHORIZE_ONLY: 0,
  AUTHORIZE_AUTHENTICATE: 1,
} as const;

/** RFC 6733 §9.8.1 Accounting-Record-Type values. */
export const AccountingRecordType = {
  EVENT_RECORD: 1,
  START_RECORD: 2,
  INTERIM_RECORD: 3,
  STOP_RECORD: 4,
} as const;

/** RFC 6733 §9.8.7 Accounting-Realtime-Required values. */
export const AccountingRealtimeRequired = {
  DELIVER_AND_GRANT: 1,
  GRANT_AND_STORE: 2,
  GRANT_AND_LOSE: 3,
} as const;

/** RFC 7944 §9.1 DRMP values (PRIORITY_0 is the highest). */
export const Drmp = {
  PRIORITY_0: 0,
  PRIORITY_1: 1,
  PRIORITY_2: 2,
  PRIORITY_3: 3,
  PRIORITY_4: 4,
  PRIORITY_5: 5,
  PRIORITY_6: 6,
  PRIORITY_7: 7,
  PRIORITY_8: 8,
  PRIORITY_9: 9,
  PRIORITY_10: 10,
  PRIORITY_11: 11,
  PRIORITY_12: 12,
  PRIORITY_13: 13,
  PRIORITY_14: 14,
  PRIORITY_15: 15,
} as const;
