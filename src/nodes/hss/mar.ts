/**
 * The HSS's MAR procedure (TS 29.228 §6.3.1): authentication vectors for IMS AKA (TS 33.102 §6.3)
 * in SQN order, resynchronisation from RAND‖AUTS (§6.3.5), the subscriber's schemes (cached) and
 * one Milenage engine re-keyed per request. RAND comes from the injected Rng. Pure.
 */
import { ExpiringMap, type Clock, type Rng } from '../../common/index.js';
import { generateVector, SqnExhaustedError, verifyAuts } from '../../auth/aka/index.js';
import { Milenage } from '../../auth/milenage/index.js';
import { CxResult, SipAuthScheme, akaAuthDataItem, buildMaa, parseMar, resyncInfoOf, type DiameterMessage, type DiameterResult, type SipAuthDataItem, DiameterAvpError } from '../../diameter/index.js';
import type { SqnAllocation } from '../../store/index.js';
import type { CxContext } from './cx-context.js';

/** What the MAR procedure needs besides the shared context. */
export interface VectorIssuerOptions {
  rng: Rng;
  clock: Clock;
  /** Cap on SIP-Number-Auth-Items honoured per MAR. */
  maxAuthItems: number;
  /** Origin-Hosts that may fetch vectors; null: whoever the node let in. */
  allowed: ReadonlySet<string> | null;
  allocate: (impi: string, originHost: string, count: number) => Promise<SqnAllocation>;
  /** How long a subscriber's allowed schemes are cached, ms (0: no cache). */
  schemeCacheMs: number;
}

/** MAR answers over the shared context (see the module comment). */
export class VectorIssuer {
  /** Each subscriber's allowed schemes, for `schemeCacheMs` (none when 0). */
  private readonly schemes: ExpiringMap<readonly string[]> | undefined;
  /** One Milenage engine, re-keyed per request (each use is synchronous, so requests cannot interleave inside it). */
  private milenage: Milenage | undefined;

  constructor(
    private readonly cx: CxContext,
    private readonly o: VectorIssuerOptions,
  ) {
    this.schemes = o.schemeCacheMs > 0 ? new ExpiringMap<readonly string[]>(o.clock, o.schemeCacheMs) : undefined;
  }

  /** Answers a MAR (TS 29.228 §6.3.1; TS 33.102 §6.3 vectors, §6.3.5 resynchronisation). */
  async mar(req: DiameterMessage): Promise<DiameterMessage> {
    const r = parseMar(req);
    this.cx.counters.mar++;
    const answer = (result: DiameterResult, items: SipAuthDataItem[] = [], errorMessage?: string): DiameterMessage =>
      buildMaa(req, {
        ...this.cx.me,
        result: this.cx.count('MAA', result),
        userName: r.userName,
        publicIdentity: r.publicIdentity,
        ...(items.length > 0 ? { sipNumberAuthItems: items.length } : {}),
        sipAuthDataItems: items,
        ...(errorMessage !== undefined ? { errorMessage } : {}),
      });
    // 0. Only configured S-CSCFs get vectors (the node's CER allowlist already refuses others).
    if (this.o.allowed !== null && !this.o.allowed.has(r.originHost.toLowerCase())) {
      return answer(CxResult.AUTHORIZATION_REJECTED, [], 'peer may not fetch authentication vectors');
    }
    try {
      // 1–2. The identities exist and belong together.
      const id = await this.cx.identify(r.userName, r.publicIdentity);
      if (!id.ok) return answer(id.result);
      const pub = id.pub;
      // 3. The scheme: one the subscriber allows; "Unknown" (or none) picks the subscriber's default.
      const schemes = await this.authSchemes(r.userName);
      if (schemes === null) return answer(CxResult.ERROR_USER_UNKNOWN);
      const scheme = chooseScheme(r.sipAuthDataItem.scheme, { authSchemes: schemes });
      if (scheme === undefined) return answer(CxResult.ERROR_AUTH_SCHEME_NOT_SUPPORTED);
      const n = Math.min(Math.max(r.sipNumberAuthItems, 1), this.o.maxAuthItems);
      // 4. SQNs: fresh ones, or a resynchronisation when SIP-Authorization carries RAND‖AUTS.
      let alloc: SqnAllocation;
      const auth = r.sipAuthDataItem.authorization;
      if (auth !== undefined && auth.length > 0) {
        const rs = resyncInfoOf(r.sipAuthDataItem);
        if (rs === undefined) throw new DiameterAvpError(`SIP-Authorization is ${auth.length} bytes; a resynchronisation carries RAND‖AUTS (30)`, 5004, 'SIP-Authorization');
        const res = await this.cx.store.resync(r.userName, {
          originHost: r.originHost,
          count: n,
          verify: (keys) => verifyAuts(this.engine(keys.k, keys.opc), rs.rand, rs.auts),
        });
        if (!res.ok) {
          // TS 33.102 §6.3.5: a bad MAC-S leaves SQN_HE as it is; the S-CSCF gets no vectors.
          this.cx.counters.resyncRejected++;
          this.cx.log.warn({ impi: r.userName, peer: r.originHost }, 'hss: resynchronisation refused (MAC-S does not verify)');
          return answer(CxResult.AUTHENTICATION_REJECTED, [], 'AUTS does not verify (MAC-S)');
        }
        this.cx.counters.resyncs++;
        this.cx.log.info({ impi: r.userName, peer: r.originHost, seqHeBefore: res.previousSeqHe, seqHe: res.seqHe }, 'hss: resynchronised');
        alloc = res.allocation;
      } else {
        alloc = await this.o.allocate(r.userName, r.originHost, n);
      }
      // 5. Authentication pending at this S-CSCF (the name is stored at MAR, TS 29.228 §6.3.1);
      // a registered user re-authenticated by its own S-CSCF stays registered (R-AKA-7).
      if (!((pub.state === 'REGISTERED' || pub.state === 'PENDING') && pub.scscfName === r.serverName)) {
        await this.cx.setRegistration(r.publicIdentity, { state: 'PENDING', scscfName: r.serverName });
      }
      this.cx.scscfHosts.set(r.serverName, r.originHost);
      // 6. The ordered batch (R-AKA-2): item i carries SQN i, each with a fresh RAND.
      const m = this.engine(alloc.k, alloc.opc);
      const items = alloc.sqns.map((sqn, i) => akaAuthDataItem(generateVector(m, this.o.rng.bytes(16), sqn, alloc.amf), { itemNumber: i + 1, scheme }));
      this.cx.counters.vectors += items.length;
      return answer(CxResult.SUCCESS, items);
    } catch (err) {
      if (err instanceof DiameterAvpError) throw err;
      if (err instanceof SqnExhaustedError) {
        this.cx.log.error({ impi: r.userName }, 'hss: SQN space exhausted');
        return answer(CxResult.UNABLE_TO_COMPLY, [], 'SQN space exhausted');
      }
      return answer(this.cx.storeFailure('MAR', err));
    }
  }

  /**
   * The subscriber's allowed schemes, cached for `schemeCacheMs` (they change only by
   * provisioning, which calls {@link forget}; a change made by another process is seen when the
   * entry expires). Each entry goes when its time is up: the cache holds the subscribers of the
   * last `schemeCacheMs`, not every subscriber that ever registered (issue [K]: memory per
   * registered UE).
   */
  private async authSchemes(impi: string): Promise<readonly string[] | null> {
    const hit = this.schemes?.get(impi);
    if (hit !== undefined) return hit;
    const sub = await this.cx.store.getSubscriber(impi);
    if (sub === null) return null;
    if (this.schemes !== undefined && this.schemes.size < 100_000) this.schemes.set(impi, sub.authSchemes);
    return sub.authSchemes;
  }

  /** Subscribers whose schemes are cached (diagnostics). */
  get cachedSchemes(): number {
    return this.schemes?.size ?? 0;
  }

  /** Drops what the core caches about `impi` (call after provisioning changes it). */
  forget(impi: string): void {
    this.schemes?.delete(impi);
  }

  private engine(k: Uint8Array, opc: Uint8Array): Milenage {
    this.milenage = this.milenage === undefined ? new Milenage(k, opc) : this.milenage.rekey(k, opc);
    return this.milenage;
  }
}

/** The scheme to use: the requested one if the subscriber allows it; "Unknown"/absent → the subscriber's first. */
export function chooseScheme(requested: string | undefined, sub: { authSchemes: readonly string[] }): string | undefined {
  if (requested === undefined || requested === '' || requested.toLowerCase() === SipAuthScheme.UNKNOWN.toLowerCase()) return sub.authSchemes[0];
  return sub.authSchemes.find((s) => s.toLowerCase() === requested.toLowerCase());
}
