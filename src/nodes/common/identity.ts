/**
 * Comparing public identities (TS 23.003 §13.4): a SIP URI IMPU is `sip:user@domain` and a tel
 * URI IMPU `tel:+number`. {@link impuKey} gives the form two spellings of one identity share, for
 * map keys: scheme lower-case, user and number as written (escapes decoded, visual separators of
 * a tel number dropped), host lower-case, port kept, URI parameters and headers dropped (a
 * `;user=phone` on a sip: IMPU does not make another identity).
 */
import { parseUri, unescapeUri, type Uri } from '../../sip/headers/index.js';

/** The comparison key of a public identity; undefined when the text is not a URI. */
export function impuKey(uri: string | Uri): string | undefined {
  let u: Uri;
  try {
    u = typeof uri === 'string' ? parseUri(uri.trim()) : uri;
  } catch {
    return undefined;
  }
  if (u.kind === 'sip') {
    const user = u.user !== undefined ? `${unescapeUri(u.user)}@` : '';
    return `${u.scheme}:${user}${u.host.toLowerCase()}${u.port !== undefined ? `:${u.port}` : ''}`;
  }
  if (u.kind === 'tel') return `tel:${u.number.replace(/[-.()]/g, '').toLowerCase()}`;
  return `${u.scheme}:${unescapeUri(u.opaque)}`;
}

/** Do two URIs name the same public identity? */
export function sameImpu(a: string | Uri, b: string | Uri): boolean {
  const ka = impuKey(a);
  return ka !== undefined && ka === impuKey(b);
}
