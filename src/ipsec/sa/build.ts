/**
 * The four SAs of one registration, exactly as TS 33.203 §7.1 and SPEC R-SA-3 lay them out
 * (see the table in types.ts). Pure: the same inputs give the same SAs.
 */
import { InvalidArgumentError } from '../../common/index.js';
import type { IpsecMode } from '../../secagree/index.js';
import type { EncryptionAlg, EspKeys, IntegrityAlg } from '../esp/index.js';
import { isReservedSpi } from './allocate.js';
import { TRANSPORTS, type Endpoint, type SaDirection, type SaEndpointParams, type SaFlow, type SaRole, type SaState, type SecurityAssociation } from './types.js';

export interface SaSetSpec {
  setId: number;
  role: SaRole;
  impi: string;
  impus: readonly string[];
  ue: SaEndpointParams;
  pcscf: SaEndpointParams;
  integrity: IntegrityAlg;
  encryption: EncryptionAlg;
  mode: IpsecMode;
  keys: EspKeys;
  state: SaState;
}

function checkSide(e: SaEndpointParams, who: string): void {
  for (const spi of [e.spiC, e.spiS]) {
    if (!Number.isInteger(spi) || isReservedSpi(spi) || spi > 0xffffffff) throw new InvalidArgumentError(`${who} SPI ${spi} is reserved or out of range`, 'spi');
  }
  for (const port of [e.portC, e.portS]) {
    if (!Number.isInteger(port) || port < 1 || port > 0xffff) throw new InvalidArgumentError(`${who} protected port ${port} out of range`, 'port');
  }
  if (e.spiC === e.spiS) throw new InvalidArgumentError(`${who} spi-c equals spi-s`, 'spi');
  if (e.portC === e.portS) throw new InvalidArgumentError(`${who} port-c equals port-s`, 'port');
}

/**
 * Build the four SAs (R-SA-3). Checks that the four SPIs are distinct, so uplink and downlink
 * never share an SPI and no packet can be reflected back as valid.
 */
export function buildSaSet(spec: SaSetSpec): SecurityAssociation[] {
  checkSide(spec.ue, 'UE');
  checkSide(spec.pcscf, 'P-CSCF');
  const spis = new Set([spec.ue.spiC, spec.ue.spiS, spec.pcscf.spiC, spec.pcscf.spiS]);
  if (spis.size !== 4) throw new InvalidArgumentError('UE and P-CSCF SPIs must all differ (reflection protection)', 'spi');
  const { ue, pcscf } = spec;
  // The four protected endpoints, each one object that the SAs using it share (read-only).
  const uc: Endpoint = { address: ue.address, port: ue.portC };
  const us: Endpoint = { address: ue.address, port: ue.portS };
  const pc: Endpoint = { address: pcscf.address, port: pcscf.portC };
  const ps: Endpoint = { address: pcscf.address, port: pcscf.portS };
  // flow, SPI (chosen by the receiver), source, destination, uplink (UE → P-CSCF)
  const flows: Array<[SaFlow, number, Endpoint, Endpoint, boolean]> = [
    ['uc-ps', pcscf.spiS, uc, ps, true],
    ['us-pc', pcscf.spiC, us, pc, true],
    ['pc-us', ue.spiS, pc, us, false],
    ['ps-uc', ue.spiC, ps, uc, false],
  ];
  return flows.map(([flow, spi, src, dst, uplink]) => new Sa(spec, flow, uplink === (spec.role === 'pcscf') ? 'in' : 'out', spi, src, dst));
}

/**
 * One SA, every field set in its constructor, where V8 keeps them inside the object (a property
 * added to a finished object literal goes to an out-of-object store instead: 100,000 sets hold
 * 400,000 SAs); what can be made from the fields (the id) is not kept. The keys are an own
 * property that is not enumerable: JSON.stringify, pino and util.inspect never see them (log
 * hygiene). Not a private field behind a getter: pino's redaction reads properties of a copy,
 * where a private field throws.
 */
class Sa implements SecurityAssociation {
  readonly setId: number;
  readonly transports = TRANSPORTS;
  readonly integrity: IntegrityAlg;
  readonly encryption: EncryptionAlg;
  readonly mode: IpsecMode;
  readonly impi: string;
  readonly impus: readonly string[];
  state: SaState;
  declare readonly keys: EspKeys;

  constructor(
    spec: SaSetSpec,
    readonly flow: SaFlow,
    readonly direction: SaDirection,
    readonly spi: number,
    readonly src: Endpoint,
    readonly dst: Endpoint,
  ) {
    this.setId = spec.setId;
    this.integrity = spec.integrity;
    this.encryption = spec.encryption;
    this.mode = spec.mode;
    this.impi = spec.impi;
    this.impus = spec.impus;
    this.state = spec.state;
    Object.defineProperty(this, 'keys', { value: spec.keys, enumerable: false, writable: false });
  }

  /** `<setId>/<flow>`, made when asked for: not a string kept per SA (four per registered UE). */
  get id(): string {
    return `${this.setId}/${this.flow}`;
  }

  /** What JSON and the logger see: the fields and the id, never the keys. */
  toJSON(): Omit<SecurityAssociation, 'keys'> {
    return { ...this, id: this.id };
  }
}

/** The UE-side protected port of an SA (its port_uc or port_us). */
export function uePortOf(sa: SecurityAssociation): number {
  return sa.flow === 'uc-ps' || sa.flow === 'us-pc' ? sa.src.port : sa.dst.port;
}

/** The UE address of an SA. */
export function ueAddressOf(sa: SecurityAssociation): string {
  return sa.flow === 'uc-ps' || sa.flow === 'us-pc' ? sa.src.address : sa.dst.address;
}
