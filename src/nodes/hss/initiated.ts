/**
 * HSS-initiated Cx procedures: administrative de-registration with RTR (TS 29.228 §6.1.3) and the
 * profile push with PPR when provisioning changes the data of a registered user (TS 29.228
 * §6.2.2, §6.5.2.1). The HSS sends each request to the S-CSCF holding the identities: its
 * Server-Name (SIP URI) is mapped to a Diameter peer learned from that S-CSCF's own MAR/SAR,
 * else from the configuration, else from the URI's host when that host is a configured peer.
 */
import type { Logger } from '../../common/index.js';
import { ReasonCode, isSuccess, parsePpa, parseRta, readResult, describeResult, type DeregistrationReason, type DiameterMessage } from '../../diameter/index.js';
import { NotFoundError, type HssStore, type PublicIdentity } from '../../store/index.js';
import type { HssCore } from './core.js';

/** What {@link HssInitiated} needs from the Diameter node. */
export interface CxSender {
  request(msg: DiameterMessage, opts: { peer: string; timeoutMs?: number }): Promise<DiameterMessage>;
  newSessionId(): string;
}

/** Who to de-register: every registered identity of a private identity, or given public identities (with their implicit sets). */
export type DeregisterTarget = { impi: string; impus?: undefined } | { impus: string[]; impi?: undefined };

/** The outcome for one S-CSCF. */
export interface InitiatedResult {
  scscfName: string;
  /** Diameter peer the request went to (undefined: none known). */
  peer: string | undefined;
  impi: string;
  impus: string[];
  ok: boolean;
  /** The answer's result, or why nothing was sent. */
  detail: string;
}

export interface HssInitiatedOptions {
  core: HssCore;
  store: HssStore;
  sender: CxSender;
  /** Configured peers: Origin-Host → realm. */
  peers: ReadonlyMap<string, string>;
  /** Configured Server-Name → Origin-Host. */
  scscfHosts: Readonly<Record<string, string>>;
  timeoutMs?: number;
  logger: Logger;
}

/** Reason-Code names accepted by the REST API and CLI (TS 29.229 §6.3.17). */
export const REASON_CODES: Readonly<Record<string, number>> = ReasonCode;

export class HssInitiated {
  constructor(private readonly o: HssInitiatedOptions) {}

  /** The Diameter peer serving an S-CSCF name, or undefined. */
  peerFor(scscfName: string): string | undefined {
    const learned = this.o.core.scscfHosts.get(scscfName);
    if (learned !== undefined) return learned;
    const configured = this.o.scscfHosts[scscfName];
    if (configured !== undefined) return configured;
    const m = /^sips?:(?:[^@;>]*@)?([^:;>?]+)/i.exec(scscfName);
    return m !== null && this.o.peers.has(m[1].toLowerCase()) ? m[1] : undefined;
  }

  private realmOf(host: string): string {
    return this.o.peers.get(host.toLowerCase()) ?? host.slice(host.indexOf('.') + 1);
  }

  /** The identities to act on, grouped by the S-CSCF holding them (only those with one). */
  private async served(target: DeregisterTarget): Promise<Map<string, PublicIdentity[]>> {
    const pubs: PublicIdentity[] = [];
    if (target.impi !== undefined) {
      const sub = await this.o.store.getSubscriber(target.impi);
      if (sub === null) throw new NotFoundError('subscriber', target.impi);
      pubs.push(...sub.impus);
    } else {
      const seen = new Set<string>();
      for (const impu of target.impus) {
        if (seen.has(impu)) continue;
        const set = await this.o.store.getImplicitSet(impu);
        if (set === null) throw new NotFoundError('impu', impu);
        for (const u of set.impus) {
          seen.add(u.impu);
          pubs.push(u);
        }
      }
    }
    const by = new Map<string, PublicIdentity[]>();
    for (const p of pubs) {
      if (p.scscfName === null || p.state === 'NOT_REGISTERED') continue;
      by.set(p.scscfName, [...(by.get(p.scscfName) ?? []), p]);
    }
    return by;
  }

  /**
   * Administrative de-registration (TS 29.228 §6.1.3): one RTR per S-CSCF; when it answers
   * success, the identities become NOT_REGISTERED with no S-CSCF name in the store.
   * @throws NotFoundError when the IMPI or an IMPU is unknown.
   */
  async deregister(target: DeregisterTarget, reason: DeregistrationReason = { code: ReasonCode.PERMANENT_TERMINATION }): Promise<InitiatedResult[]> {
    const out: InitiatedResult[] = [];
    for (const [scscfName, pubs] of await this.served(target)) {
      const impi = pubs[0].impi;
      const impus = pubs.map((p) => p.impu);
      const peer = this.peerFor(scscfName);
      if (peer === undefined) {
        out.push({ scscfName, peer, impi, impus, ok: false, detail: 'no Diameter peer known for this S-CSCF' });
        continue;
      }
      try {
        const rtr = this.o.core.buildRtr({ sessionId: this.o.sender.newSessionId(), destinationHost: peer, destinationRealm: this.realmOf(peer), impi, impus, reason });
        const rta = parseRta(await this.o.sender.request(rtr, { peer, ...(this.o.timeoutMs ? { timeoutMs: this.o.timeoutMs } : {}) }));
        if (!isSuccess(rta.result)) {
          out.push({ scscfName, peer, impi, impus, ok: false, detail: describeResult(rta.result) });
          continue;
        }
        const done = new Set<string>();
        for (const p of pubs) {
          const key = `${p.impi}\u0000${p.irs}`;
          if (done.has(key)) continue;
          done.add(key);
          await this.o.store.setRegistration(p.impu, { state: 'NOT_REGISTERED', scscfName: null });
        }
        this.o.logger.info({ impi, impus, peer, reason: reason.code }, 'hss: identities de-registered (RTR)');
        out.push({ scscfName, peer, impi, impus, ok: true, detail: describeResult(rta.result) });
      } catch (err) {
        this.o.logger.warn({ impi, peer, err: (err as Error).message }, 'hss: RTR failed');
        out.push({ scscfName, peer, impi, impus, ok: false, detail: (err as Error).message });
      }
    }
    return out;
  }

  /** Push the current profile of `impi` to every S-CSCF holding one of its identities (PPR, TS 29.228 §6.2.2). */
  async pushProfile(impi: string): Promise<InitiatedResult[]> {
    const out: InitiatedResult[] = [];
    for (const [scscfName, pubs] of await this.served({ impi })) {
      const impus = pubs.map((p) => p.impu);
      const peer = this.peerFor(scscfName);
      if (peer === undefined) {
        out.push({ scscfName, peer, impi, impus, ok: false, detail: 'no Diameter peer known for this S-CSCF' });
        continue;
      }
      try {
        const userData = await this.o.core.userData(impi, pubs);
        const ppr = this.o.core.buildPpr({ sessionId: this.o.sender.newSessionId(), destinationHost: peer, destinationRealm: this.realmOf(peer), impi, userData });
        const ppa = await this.o.sender.request(ppr, { peer, ...(this.o.timeoutMs ? { timeoutMs: this.o.timeoutMs } : {}) });
        const result = readResult(ppa.avps) ?? parsePpa(ppa).result;
        this.o.logger.info({ impi, peer, result: describeResult(result) }, 'hss: profile pushed (PPR)');
        out.push({ scscfName, peer, impi, impus, ok: isSuccess(result), detail: describeResult(result) });
      } catch (err) {
        this.o.logger.warn({ impi, peer, err: (err as Error).message }, 'hss: PPR failed');
        out.push({ scscfName, peer, impi, impus, ok: false, detail: (err as Error).message });
      }
    }
    return out;
  }

  /**
   * The store as the provisioning side should see it: a change to the profile or identities of
   * a subscriber is pushed to its S-CSCF (PPR), and deleting a registered subscriber
   * de-registers it first (RTR, PERMANENT_TERMINATION). The pushes run after the change
   * commits and never fail the change itself.
   */
  observe(store: HssStore): HssStore {
    const updateSubscriber: HssStore['updateSubscriber'] = async (impi, patch) => {
      const s = await store.updateSubscriber(impi, patch);
      this.o.core.forget(impi);
      if (patch.serviceProfile !== undefined || patch.implicitSets !== undefined || patch.impus !== undefined) {
        void this.pushProfile(impi).catch((err: Error) => this.o.logger.warn({ impi, err: err.message }, 'hss: PPR after update failed'));
      }
      return s;
    };
    const deleteSubscriber: HssStore['deleteSubscriber'] = async (impi) => {
      await this.deregister({ impi }).catch(() => []);
      this.o.core.forget(impi);
      return store.deleteSubscriber(impi);
    };
    return new Proxy(store, {
      get(target, prop) {
        if (prop === 'updateSubscriber') return updateSubscriber;
        if (prop === 'deleteSubscriber') return deleteSubscriber;
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }
}
