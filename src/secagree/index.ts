/**
 * Sec-agree: RFC 3329 Security-Client/Server/Verify headers with the TS 33.203 Annex H
 * `ipsec-3gpp` mechanism, and the pure negotiation functions of the UE and the P-CSCF.
 */
export { SecAgreeParseError } from './errors.js';
export {
  parseSecurityMechanisms,
  formatSecurityMechanisms,
  formatSecMechanism,
  type SecMechanism,
  type SecParam,
  type IpsecMode,
  type IpsecProtocol,
} from './header.js';
export {
  IPSEC_3GPP,
  IPSEC_MODES,
  SEC_AGREE_DEFAULTS,
  isValidAlgCombination,
  isIpsec3gpp,
  effectiveIpsec,
  sameTransform,
  sameMechanism,
  listDifference,
  type IntegrityAlgName,
  type EncryptionAlgName,
  type EffectiveIpsec,
} from './mechanism.js';
export { SEC_AGREE_FAILURE_STATUS, type NegotiationFailure, type NegotiationFailureReason } from './outcome.js';
export { buildUeOffer, ueAcceptSecurityServer, type SecAgreeEndpoint, type UeOfferConfig, type UeAcceptance } from './offer.js';
export {
  choosePcscfMechanism,
  buildSecurityServer,
  securityServerFor,
  supportedMechanisms,
  DEFAULT_PCSCF_POLICY,
  type PcscfSecAgreePolicy,
  type SecAgreeSelection,
} from './choose.js';
export { checkSecurityVerify, checkSecurityClientUnchanged, type CheckResult } from './verify.js';
