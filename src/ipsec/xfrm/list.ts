/**
 * Reading `ip xfrm state list nokeys` and `ip xfrm policy list` output (iproute2 6.x text
 * format), enough to find the entries we own by their reqid and build their delete commands.
 * Pure. We always list states with `nokeys`, so no key material is ever read back.
 *
 * ```
 * src 192.0.2.1 dst 192.0.2.2
 * 	proto esp spi 0x00001000 reqid 1229783041 mode transport
 * 	replay-window 64
 * ```
 * ```
 * src 192.0.2.1/32 dst 192.0.2.2/32 proto udp sport 5060 dport 5062
 * 	dir out priority 1000 ptype main
 * 	tmpl src 192.0.2.1 dst 192.0.2.2
 * 		proto esp spi 0x00001000 reqid 1229783041 mode transport
 * ```
 */

export interface ListedEntry {
  reqid?: number;
  /** argv (after `ip`) that deletes exactly this entry. */
  deleteArgs: string[];
}

function blocks(text: string): string[][] {
  const out: string[][] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (!/^\s/.test(line)) out.push([line.trim()]);
    else if (out.length > 0) out[out.length - 1].push(line.trim());
  }
  return out;
}

function after(tokens: string[], name: string): string | undefined {
  const i = tokens.indexOf(name);
  return i >= 0 && i + 1 < tokens.length ? tokens[i + 1] : undefined;
}

function reqidOf(tokens: string[]): number | undefined {
  const r = after(tokens, 'reqid');
  if (r === undefined) return undefined;
  const n = r.startsWith('0x') ? parseInt(r, 16) : Number(r);
  return Number.isInteger(n) ? n : undefined;
}

/** Entries of `ip xfrm state list nokeys`. */
export function parseStateList(text: string): ListedEntry[] {
  const out: ListedEntry[] = [];
  for (const b of blocks(text)) {
    const head = b[0].split(/\s+/);
    const body = b.slice(1).join(' ').split(/\s+/);
    const src = after(head, 'src');
    const dst = after(head, 'dst');
    const proto = after(body, 'proto');
    const spi = after(body, 'spi');
    if (!src || !dst || !proto || !spi) continue;
    out.push({ reqid: reqidOf(body), deleteArgs: ['xfrm', 'state', 'delete', 'src', src, 'dst', dst, 'proto', proto, 'spi', spi] });
  }
  return out;
}

/** Entries of `ip xfrm policy list` (socket policies, which have no selector, are skipped). */
export function parsePolicyList(text: string): ListedEntry[] {
  const out: ListedEntry[] = [];
  for (const b of blocks(text)) {
    const selector = b[0].split(/\s+/);
    if (selector[0] !== 'src') continue;
    const body = b.slice(1).join(' ').split(/\s+/);
    const dir = after(body, 'dir');
    if (!dir) continue;
    out.push({ reqid: reqidOf(body), deleteArgs: ['xfrm', 'policy', 'delete', ...selector, 'dir', dir] });
  }
  return out;
}
