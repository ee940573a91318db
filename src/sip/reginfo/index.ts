/** The registration event package body, application/reginfo+xml (RFC 3680): a pure codec. */
export {
  decodeReginfo,
  encodeReginfo,
  formatReginfo,
  REGINFO_NAMESPACE,
  REGINFO_CONTENT_TYPE,
  REGISTRATION_STATES,
  CONTACT_STATES,
  CONTACT_EVENTS,
  type Reginfo,
  type ReginfoRegistration,
  type ReginfoContact,
  type ReginfoContactEvent,
  type ReginfoContactState,
  type ReginfoRegistrationState,
  type ReginfoUnknownParam,
} from './reginfo.js';
