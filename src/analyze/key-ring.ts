/**
 * The keys the analyser found or was given, and the ESP SAs built from them.
 * - IMS AKA keys (CK, IK, and XRES when the HSS's MAA showed them) by RAND: from the Cx MAA's
 *   SIP-Auth-Data-Item (TS 29.229 §6.3.13: SIP-Authenticate = RAND‖AUTN, SIP-Authorization =
 *   XRES, Confidentiality-Key, Integrity-Key) or from the S-CSCF's 401 (TS 24.229 §7.2A.4 ck=, ik=).
 * - ESP SAs by SPI: expanded from IK/CK as TS 33.203 Annex I says once a 401 ties a RAND to an
 *   SA set (registrations.ts), or given in a keys file. Several SAs may share an SPI (a P-CSCF
 *   that hands out the same SPIs to every UE): the newest whose ICV verifies wins.
 * Secret material never leaves this module except through {@link KeyRing.derivedSas} (for the
 * `--export-keys` file the user asked for).
 */
import { EspSa, type EncryptionAlg, type IntegrityAlg } from '../ipsec/index.js';
import type { GivenSa } from './keys-file.js';
import type { EspOutcome } from './types.js';

const MAX_AKA = 10_000;
const MAX_SAS_PER_SPI = 8;
const MAX_DERIVED = 10_000;

export interface AkaKeys {
  readonly ik: Uint8Array;
  readonly ck: Uint8Array;
  readonly autn?: Uint8Array;
  readonly xres?: Uint8Array;
  /** Where they were found (frames of the MAA or the 401). */
  readonly source: 'maa' | 'scscf-401';
  readonly frames: number[];
}

interface RingSa {
  readonly given: GivenSa;
  readonly sa: EspSa;
  readonly origin: 'derived' | 'file';
  readonly setId?: number;
}

export interface OpenedEsp {
  outcome: EspOutcome;
  seq: number;
  setId?: number;
  payload?: Uint8Array;
  nextHeader?: number;
}

function addressMatches(pattern: string, address: string): boolean {
  return pattern === '*' || pattern === '' || pattern === address;
}

export class KeyRing {
  private readonly aka = new Map<string, AkaKeys>();
  private readonly bySpi = new Map<number, RingSa[]>();
  private readonly derived: GivenSa[] = [];
  private readonly derivedKeys = new Set<string>();
  private readonly announced = new Set<number>();

  /** Remembers the AKA keys of a RAND (hex); a later source does not replace an MAA's. */
  addAka(randHex: string, keys: AkaKeys): void {
    const had = this.aka.get(randHex);
    if (had && had.source === 'maa') return;
    if (!had && this.aka.size >= MAX_AKA) this.aka.delete(this.aka.keys().next().value as string);
    this.aka.set(randHex, keys);
  }

  akaFor(randHex: string): AkaKeys | undefined {
    return this.aka.get(randHex);
  }

  /** Adds an SA; returns false when its parameters cannot make an SA (reported by the caller). */
  addSa(given: GivenSa, origin: 'derived' | 'file', setId?: number): boolean {
    let sa: EspSa;
    try {
      sa = new EspSa({ spi: given.spi, integrity: given.integrity, encryption: given.encryption, keys: given.keys, allowReservedSpi: true, replayWindow: 64 });
    } catch {
      return false;
    }
    const list = this.bySpi.get(given.spi) ?? [];
    list.unshift({ given, sa, origin, ...(setId !== undefined ? { setId } : {}) });
    if (list.length > MAX_SAS_PER_SPI) list.pop();
    this.bySpi.set(given.spi, list);
    if (origin === 'derived') {
      // The same SA again (the same vector reused, or a capture replayed) is exported once.
      const k = `${given.src}|${given.dst}|${given.spi}|${Buffer.from(given.keys.integrityKey).toString('hex')}|${Buffer.from(given.keys.encryptionKey).toString('hex')}`;
      if (!this.derivedKeys.has(k) && this.derived.length < MAX_DERIVED) {
        this.derivedKeys.add(k);
        this.derived.push(given);
      }
    }
    return true;
  }

  /** True when a keys file gave an SA for this SPI. */
  hasGivenSa(spi: number): boolean {
    return (this.bySpi.get(spi) ?? []).some((r) => r.origin === 'file');
  }

  /** An SPI negotiated in the capture (Security-Client/Server), keyed or not. */
  announceSpi(spi: number): void {
    if (this.announced.size < 100_000) this.announced.add(spi);
  }

  knowsSpi(spi: number): boolean {
    return this.bySpi.has(spi) || this.announced.has(spi);
  }

  /** The SAs derived from the capture (secret: only for the user's export file). */
  derivedSas(): readonly GivenSa[] {
    return this.derived;
  }

  /** Transforms of the SAs that could open packets of this SPI (for messages; no keys). */
  transformsOf(spi: number): { integrity: IntegrityAlg; encryption: EncryptionAlg }[] {
    return (this.bySpi.get(spi) ?? []).map((r) => ({ integrity: r.given.integrity, encryption: r.given.encryption }));
  }

  /** RFC 4303 §3.4: finds the SA, checks replay and ICV, decrypts. Never throws. */
  open(dst: string, packet: Uint8Array): OpenedEsp {
    const spi = ((packet[0] << 24) | (packet[1] << 16) | (packet[2] << 8) | packet[3]) >>> 0;
    const seq = ((packet[4] << 24) | (packet[5] << 16) | (packet[6] << 8) | packet[7]) >>> 0;
    const all = this.bySpi.get(spi);
    if (!all) return { outcome: 'no-sa', seq };
    // Prefer the most telling reason: replay > icv > malformed.
    const rank = (x: EspOutcome) => (x === 'replay' || x === 'too-old' ? 2 : x === 'icv' ? 1 : 0);
    let worst: EspOutcome = 'malformed';
    let worstSet: number | undefined;
    let worstRank = -1;
    let tried = 0;
    for (const r of all) {
      // RFC 4301 §4.4.2: an inbound SA is found by SPI and destination; the source is a policy
      // check, which the analysis makes itself (R-SA-9), so a packet from a wrong source still opens.
      if (!addressMatches(r.given.dst, dst)) continue;
      tried++;
      const top = r.sa.replay.top;
      const res = r.sa.open(packet);
      if (res.ok) return { outcome: 'ok', seq, payload: res.payload, nextHeader: res.nextHeader, ...(r.setId !== undefined ? { setId: r.setId } : {}) };
      const o: EspOutcome = res.reason === 'replay' ? (top - seq >= r.sa.replay.size ? 'too-old' : 'replay') : res.reason === 'icv' ? 'icv' : 'malformed';
      if (rank(o) > worstRank) {
        worst = o;
        worstSet = r.setId;
        worstRank = rank(o);
      }
    }
    if (tried === 0) return { outcome: 'no-sa', seq };
    return { outcome: worst, seq, ...(worstSet !== undefined ? { setId: worstSet } : {}) };
  }
}
