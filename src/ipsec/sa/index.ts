/**
 * IPsec SAs of IMS access security (TS 33.203 §7): the model of a registration's four SAs, the
 * SA table/manager with SPI and port allocation and lifetimes, the datapath interface, and key
 * export.
 */
export { SaError } from './errors.js';
export {
  TRANSPORTS,
  SA_FLOWS,
  type Transport,
  type SaRole,
  type SaDirection,
  type SaState,
  type SaFlow,
  type SaDeleteReason,
  type SaEndpointParams,
  type SecurityAssociation,
  type SaSet,
  type SaTableEntry,
  type SaEvent,
} from './types.js';
export {
  allocateSpi,
  allocatePort,
  isReservedSpi,
  MIN_SPI,
  PCSCF_SPI_POLICY,
  UE_SPI_POLICY,
  type SpiPolicy,
  type PortRange,
} from './allocate.js';
export { buildSaSet, uePortOf, ueAddressOf, type SaSetSpec } from './build.js';
export {
  SaManager,
  type SaManagerOptions,
  type LocalReservation,
  type CreateSetParams,
  type CreateSetResult,
  type CreateSetRefusal,
} from './manager.js';
export { mirrorSaTable, type IpsecDatapath, type Mirror, type MirrorOptions } from './datapath.js';
export { wiresharkLineForSa, wiresharkLinesForSas } from './export.js';
