/**
 * Which hosts belong to the home network, to trusted neighbours, or to this I-CSCF itself
 * (TS 24.229 §5.3.1.2 "trusted domain"; §5.3.3 topology hiding "when a message leaves the home
 * network"). Hosts are matched by domain (the name itself or any subdomain) or by address, with an
 * optional port — all lab nodes share 127.0.0.1, so ports tell them apart there.
 */
import { InvalidArgumentError } from '../../common/index.js';

/** A set of hosts: DNS domains and IP addresses (each `ip`, `ip:port` or `[v6]:port`). */
export interface NetworkSpec {
  domains?: readonly string[];
  addresses?: readonly string[];
}

interface AddressRule {
  host: string;
  port?: number;
}

/** A compiled {@link NetworkSpec}: `has(host, port)` answers membership. */
export class NetworkMatcher {
  private readonly domains: string[];
  private readonly addresses: AddressRule[];

  constructor(spec: NetworkSpec = {}) {
    this.domains = (spec.domains ?? []).map((d) => d.toLowerCase().replace(/\.$/, ''));
    for (const d of this.domains) if (!/^[a-z0-9.-]+$/.test(d) || d === '') throw new InvalidArgumentError(`bad domain ${JSON.stringify(d)}`, 'domains');
    this.addresses = (spec.addresses ?? []).map(parseAddressRule);
  }

  /** True when `host` (a name or an IP literal; brackets optional) with `port` (absent: 5060) is in the set. */
  has(host: string, port?: number): boolean {
    const h = canonicalHost(host);
    for (const a of this.addresses) if (a.host === h && (a.port === undefined || a.port === (port ?? 5060))) return true;
    if (isIpLiteral(h)) return false;
    for (const d of this.domains) if (h === d || h.endsWith(`.${d}`)) return true;
    return false;
  }

  get empty(): boolean {
    return this.domains.length === 0 && this.addresses.length === 0;
  }
}

/** Lower case, brackets and a trailing dot removed. */
export function canonicalHost(host: string): string {
  return host.replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '').toLowerCase();
}

export function isIpLiteral(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}

function parseAddressRule(s: string): AddressRule {
  const bad = (): never => {
    throw new InvalidArgumentError(`bad address ${JSON.stringify(s)} (want ip, ip:port or [v6]:port)`, 'addresses');
  };
  let host = s.trim();
  let port: number | undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d{1,5}))?$/.exec(host);
  if (v6) {
    host = v6[1];
    if (v6[2] !== undefined) port = +v6[2];
  } else {
    const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(host);
    if (m) {
      host = m[1];
      if (m[2] !== undefined) port = +m[2];
    } else if (!/^[0-9A-Fa-f:.]+$/.test(host)) bad();
  }
  if (port !== undefined && (port < 1 || port > 65535)) bad();
  if (!host) bad();
  return port === undefined ? { host: canonicalHost(host) } : { host: canonicalHost(host), port };
}
