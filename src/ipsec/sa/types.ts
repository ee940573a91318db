/**
 * The IPsec security associations of one IMS registration (TS 33.203 §7.1, SPEC R-SA-3).
 *
 * TS 33.203 names the four protected ports port_uc/port_us (UE client/server) and
 * port_pc/port_ps (P-CSCF client/server) and the SPIs of the inbound SAs at each of them
 * spi_uc/spi_us/spi_pc/spi_ps. Each side allocates the SPIs of its own inbound SAs:
 *
 * | flow    | from    | to      | SPI (chosen by the receiver) | UE view | P-CSCF view |
 * |---------|---------|---------|------------------------------|---------|-------------|
 * | `uc-ps` | port_uc | port_ps | spi_ps (P-CSCF spi-s)        | out     | in          |
 * | `us-pc` | port_us | port_pc | spi_pc (P-CSCF spi-c)        | out     | in          |
 * | `pc-us` | port_pc | port_us | spi_us (UE spi-s)            | in      | out         |
 * | `ps-uc` | port_ps | port_uc | spi_uc (UE spi-c)            | in      | out         |
 *
 * An SA covers UDP and TCP alike (R-SA-3: the transports share the SAs).
 */
import type { Endpoint } from '../../ip/index.js';
import type { IpsecMode } from '../../secagree/index.js';
import type { EncryptionAlg, EspKeys, IntegrityAlg } from '../esp/index.js';

export type { Endpoint } from '../../ip/index.js';

/** Transport protocols that run over the SAs. */
export type Transport = 'udp' | 'tcp';
export const TRANSPORTS: readonly Transport[] = ['udp', 'tcp'];

/** Which side this SA table belongs to. */
export type SaRole = 'ue' | 'pcscf';

/** Direction as seen from the local node. */
export type SaDirection = 'in' | 'out';

/**
 * Life of an SA set (TS 33.203 §7.4): `temporary` between the 401 and the successful protected
 * REGISTER (short await-auth lifetime), `active` for the registration lifetime, `old` while a
 * newer set takes over, `deleted` at the end (terminal; the set then leaves the table).
 */
export type SaState = 'temporary' | 'active' | 'old' | 'deleted';

/** The four flows of {@link SecurityAssociation} (see the table above). */
export type SaFlow = 'uc-ps' | 'us-pc' | 'pc-us' | 'ps-uc';
export const SA_FLOWS: readonly SaFlow[] = ['uc-ps', 'us-pc', 'pc-us', 'ps-uc'];

/** Why an SA left the table. */
export type SaDeleteReason =
  /** Its lifetime (await-auth or registration) ran out (R-SA-7). */
  | 'expired'
  /** Registration removed (de-registration, network-initiated, R-SA-7). */
  | 'deregistered'
  /** Replaced by a newer set after change-over (R-RR-2). */
  | 'replaced'
  /** The registration that created it failed (R-SM-4, R-RR-3, R-FAIL-*). */
  | 'failed'
  /** Evicted to keep at most three sets per IMPI (R-SA-6). */
  | 'evicted'
  /** Removed by the application for another reason (shutdown). */
  | 'removed';

/** One side's SPIs and protected ports (spi-c, spi-s, port-c, port-s of sec-agree). */
export interface SaEndpointParams {
  address: string;
  spiC: number;
  spiS: number;
  portC: number;
  portS: number;
}

/**
 * One unidirectional ESP SA. `keys` is secret: it is named so that the project logger redacts
 * it, and only the export functions ({@link wiresharkLinesForSet}, xfrm argv) render it.
 */
export interface SecurityAssociation {
  /** `<setId>/<flow>`. */
  readonly id: string;
  readonly setId: number;
  readonly flow: SaFlow;
  readonly direction: SaDirection;
  readonly spi: number;
  /** Selector: source address and protected port. */
  readonly src: Endpoint;
  /** Selector: destination address and protected port. */
  readonly dst: Endpoint;
  readonly transports: readonly Transport[];
  readonly integrity: IntegrityAlg;
  readonly encryption: EncryptionAlg;
  readonly mode: IpsecMode;
  readonly keys: EspKeys;
  readonly impi: string;
  readonly impus: readonly string[];
  state: SaState;
}

/** The four SAs of one registration and its bookkeeping. */
export interface SaSet {
  readonly id: number;
  readonly role: SaRole;
  readonly impi: string;
  impus: readonly string[];
  readonly ue: SaEndpointParams;
  readonly pcscf: SaEndpointParams;
  readonly integrity: IntegrityAlg;
  readonly encryption: EncryptionAlg;
  readonly mode: IpsecMode;
  state: SaState;
  readonly createdAt: number;
  /** Clock time at which the set expires. */
  expiresAt: number;
  /** Clock time of the first packet received on one of its inbound SAs (undefined before). */
  firstInboundAt?: number;
  /** Live SAs (an SA may leave before its set, e.g. the UE's old outbound SAs, R-RR-2). */
  sas: SecurityAssociation[];
}

/** One row of the P-CSCF SA table of TS 33.203 §7.1 (R-SA-4). */
export interface SaTableEntry {
  ueAddress: string;
  /** The UE protected port of the SA (its port_uc or port_us). */
  uePort: number;
  transport: Transport;
  spi: number;
  direction: SaDirection;
  impi: string;
  impus: readonly string[];
  setId: number;
  state: SaState;
}

/** What a datapath backend sees (R-SA-3 mirrored to the kernel or to userspace ESP). */
export type SaEvent =
  | { kind: 'saCreated'; sa: SecurityAssociation }
  | { kind: 'saDeleted'; sa: SecurityAssociation; reason: SaDeleteReason }
  | { kind: 'setStateChanged'; set: SaSet; from: SaState; to: SaState };
