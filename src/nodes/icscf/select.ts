/**
 * S-CSCF selection from Server-Capabilities (TS 29.228 §6.7 "Capabilities", TS 29.229 §6.3.4;
 * TS 24.229 §5.3.1.2 and §5.3.2.1): the HSS returns the mandatory and optional capabilities the
 * user needs, and possibly preferred S-CSCF names; the I-CSCF chooses from the S-CSCFs it knows.
 *
 * ```
 * Server-Capabilities ::= < AVP Header: 603 10415 >
 *    *[Mandatory-Capability] *[Optional-Capability] *[Server-Name] *[AVP]
 * ```
 *
 * Ranking (pure, deterministic):
 * 1. Only S-CSCFs that support EVERY mandatory capability qualify.
 * 2. Qualifying S-CSCFs named in Server-Capabilities' Server-Name list come first, in that order
 *    (the operator's preference, TS 29.228 §6.7 NOTE).
 * 3. Then by the number of optional capabilities supported, most first.
 * 4. Ties keep the configured order,
 * 5. except that the S-CSCFs tied for first place take turns (`turn`, e.g. a counter of
 *    selections): equal S-CSCFs share the first registrations (TS 23.228 §5.4.3 leaves the choice
 *    among suitable S-CSCFs to the I-CSCF), the way a scaled-out network runs several of them.
 * A Server-Name the HSS lists but this I-CSCF does not know qualifies only when there are no
 * mandatory capabilities (nothing is known about it). Already tried S-CSCFs are left out.
 */
import type { ServerCapabilities } from '../../diameter/index.js';
import { parseUri, uriEquals } from '../../sip/index.js';

/** An S-CSCF this I-CSCF may select: its SIP URI (the Server-Name) and capability numbers. */
export interface ScscfEntry {
  uri: string;
  capabilities?: readonly number[];
}

/** Two S-CSCF names are the same server (URI equality of RFC 3261 §19.1.4, else exact text). */
export function sameServer(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return uriEquals(parseUri(a), parseUri(b));
  } catch {
    return a.toLowerCase() === b.toLowerCase();
  }
}

/** The candidate S-CSCF names, best first; empty when none qualifies (→ 600 Busy Everywhere). */
export function rankScscfs(known: readonly ScscfEntry[], caps: ServerCapabilities | undefined, exclude: readonly string[] = [], turn = 0): string[] {
  const mandatory = caps?.mandatory ?? [];
  const optional = caps?.optional ?? [];
  const preferred = caps?.serverNames ?? [];
  const excluded = (uri: string): boolean => exclude.some((x) => sameServer(x, uri));
  // 1. (an unknown preferred name qualifies only when nothing is mandatory)
  const pool = known.map((s) => ({ uri: s.uri, caps: new Set(s.capabilities ?? []) }));
  if (mandatory.length === 0) for (const p of preferred) if (!pool.some((k) => sameServer(k.uri, p))) pool.push({ uri: p, caps: new Set() });
  const qualifying = pool.map((s, order) => ({ ...s, order })).filter((s) => mandatory.every((m) => s.caps.has(m)) && !excluded(s.uri));
  const prefIndex = (uri: string): number => {
    const i = preferred.findIndex((p) => sameServer(p, uri));
    return i < 0 ? Number.MAX_SAFE_INTEGER : i;
  };
  const score = (c: Set<number>): number => optional.filter((o) => c.has(o)).length;
  // 2.–4.
  qualifying.sort((a, b) => prefIndex(a.uri) - prefIndex(b.uri) || score(b.caps) - score(a.caps) || a.order - b.order);
  const out = qualifying.map((q) => q.uri);
  // 5.
  const first = qualifying[0];
  let tied = 0;
  while (tied < qualifying.length && prefIndex(qualifying[tied].uri) === prefIndex(first.uri) && score(qualifying[tied].caps) === score(first.caps)) tied++;
  if (tied < 2) return out;
  const k = ((turn % tied) + tied) % tied;
  return [...out.slice(k, tied), ...out.slice(0, k), ...out.slice(tied)];
}
