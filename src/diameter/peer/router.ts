/**
 * Realm-based routing (RFC 6733 §6.1.4–6.1.6, simplified to a static table): a request goes to
 * the peer named in Destination-Host when that peer is usable; otherwise to the usable peers
 * serving its Destination-Realm, in round-robin order. Pure: usability is passed in.
 */
import type { DiameterMessage } from '../codec/message.js';
import { getValue } from '../dictionary/registry.js';

export interface RouteTable {
  /** Destination-Realm → Origin-Hosts of the peers that serve it, in preference order. */
  readonly realms: ReadonlyMap<string, readonly string[]>;
}

export class Router {
  private readonly rr = new Map<string, number>();
  constructor(private readonly table: RouteTable) {}

  /** Candidate peers for `msg`, best first; `usable(host)` says which peers are open and OKAY. */
  candidates(msg: DiameterMessage, usable: (host: string) => boolean): string[] {
    const out: string[] = [];
    const destHost = getValue(msg.avps, 'Destination-Host');
    const destRealm = getValue(msg.avps, 'Destination-Realm');
    if (destHost !== undefined && usable(destHost)) out.push(destHost);
    if (destRealm !== undefined) {
      const peers = this.table.realms.get(destRealm.toLowerCase()) ?? [];
      const live = peers.filter((p) => p !== destHost && usable(p));
      if (live.length) {
        const at = (this.rr.get(destRealm) ?? 0) % live.length;
        this.rr.set(destRealm, at + 1);
        out.push(...live.slice(at), ...live.slice(0, at));
      }
    }
    return out;
  }
}
