/**
 * One SA set of the probe's UE (TS 33.203 §7.1): the four SAs held by hand (keyed by Annex I,
 * selectors from the agreed ports), and, for the kernel datapath, the same four as XFRM states
 * and policies in transport mode. Which mechanism the UE takes from a Security-Server.
 */
import { deriveEspKeys, type EncryptionAlg, type IntegrityAlg } from '../ipsec/index.js';
import { buildSaSet, type SecurityAssociation } from '../ipsec/index.js';
import type { XfrmDatapath } from '../ipsec/index.js';
import type { Endpoint } from '../ip/index.js';
import type { SecMechanism } from '../secagree/index.js';
import { ProbeError } from './errors.js';
import { handSa, type HandSa } from './hand-sa.js';
import type { AkaKeys } from './subscriber.js';

/** The UE's side of one SA set (TS 33.203 §7.1). */
export interface HandSet {
  server: SecMechanism;
  /** The whole Security-Server of the 401 (what Security-Verify must repeat, RFC 3329 §2.3.1). */
  serverList: SecMechanism[];
  /** The UE's offer for this set (its spi-c, spi-s, port-c, port-s). */
  offer: SecMechanism[];
  ucPs: HandSa;
  usPc: HandSa;
  pcUs: HandSa;
  psUc: HandSa;
  ps: Endpoint;
  pc: Endpoint;
  /** Service-Route of the 200 OK (RFC 3608): the rest of the route set of requests (TS 24.229 §5.1.2A.1.1). */
  serviceRoute?: string[];
  /** xfrm: the four kernel SAs, and when they are installed. */
  kernel?: SecurityAssociation[];
  ready: Promise<void>;
}

/** The mechanisms the probe offers, best first (TS 33.203 Annex H, seed 002). */
export const DEFAULT_OFFER: readonly { alg: string; ealg: string }[] = [
  { alg: 'hmac-sha-1-96', ealg: 'null' },
  { alg: 'hmac-md5-96', ealg: 'null' },
];

/** The mechanism the UE takes from Security-Server: the highest q it offered (TS 33.203 §7.2). */
export function chosenMechanism(server: SecMechanism[], offer: SecMechanism[]): SecMechanism | undefined {
  const sorted = [...server].sort((a, b) => (b.q ?? 0) - (a.q ?? 0));
  return sorted.find((s) => s.name.toLowerCase() === 'ipsec-3gpp' && offer.some((o) => o.alg === s.alg && (o.ealg ?? 'null') === (s.ealg ?? 'null') && o.mod === (s.mod ?? 'trans')));
}

/** The four hand-held SAs for a chosen mechanism (uc→ps and us→pc out, pc→us and ps→uc in). Throws ProbeError. */
export function handSet(p: { server: SecMechanism; serverList: SecMechanism[]; offer: SecMechanism[]; keys: AkaKeys; uc: Endpoint; us: Endpoint; pcscf: string }): HandSet {
  const { server, offer } = p;
  const o = offer[0];
  if (server.spiC === undefined || server.spiS === undefined || server.portC === undefined || server.portS === undefined) throw new ProbeError('the Security-Server lacks spi-c/spi-s/port-c/port-s');
  const ps = { address: p.pcscf, port: server.portS };
  const pc = { address: p.pcscf, port: server.portC };
  const base = { alg: server.alg ?? 'hmac-md5-96', ealg: server.ealg ?? 'null', ik: p.keys.ik, ck: p.keys.ck };
  return {
    server,
    serverList: p.serverList,
    offer,
    ps,
    pc,
    ready: Promise.resolve(),
    ucPs: handSa({ ...base, spi: server.spiS, src: p.uc, dst: ps }),
    usPc: handSa({ ...base, spi: server.spiC, src: p.us, dst: pc }),
    pcUs: handSa({ ...base, spi: o.spiS!, src: pc, dst: p.us }),
    psUc: handSa({ ...base, spi: o.spiC!, src: ps, dst: p.uc }),
  };
}

/** xfrm: the set's four SAs as kernel states and policies, transport mode (R-SA-3 layout). Throws ProbeError. */
export async function installKernelSet(xfrm: XfrmDatapath, set: HandSet, keys: AkaKeys, id: { setId: number; impi: string; impu: string }): Promise<void> {
  const s = set.server;
  const o = set.offer[0];
  const alg = (s.alg ?? 'hmac-md5-96') as IntegrityAlg;
  const ealg = (s.ealg ?? 'null') as EncryptionAlg;
  let sas: SecurityAssociation[];
  try {
    sas = buildSaSet({
      setId: id.setId,
      role: 'ue',
      impi: id.impi,
      impus: [id.impu],
      ue: { address: set.ucPs.src.address, spiC: o.spiC!, spiS: o.spiS!, portC: set.ucPs.src.port, portS: set.usPc.src.port },
      pcscf: { address: set.ps.address, spiC: s.spiC!, spiS: s.spiS!, portC: s.portC!, portS: s.portS! },
      integrity: alg,
      encryption: ealg,
      mode: 'trans',
      keys: deriveEspKeys(alg, ealg, keys.ik, keys.ck),
      state: 'active',
    });
  } catch (e) {
    throw new ProbeError(`the agreed SAs cannot be built: ${(e as Error).message}`);
  }
  set.kernel = [];
  for (const sa of sas) {
    try {
      await xfrm.install(sa);
    } catch (e) {
      throw new ProbeError(`installing the kernel SA ${sa.flow} failed: ${(e as Error).message}`);
    }
    set.kernel.push(sa);
  }
}
