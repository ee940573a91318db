/**
 * The few facts of a SIP message the checks need, read leniently (a capture shows what peers
 * really send): Via count, Call-ID and CSeq, identities, Expires, and the sec-agree and Digest
 * headers through the project's codecs (RFC 3329, TS 33.203 Annex H; RFC 3310, TS 24.229 §7.2A).
 * Parsing failures give undefined, never a throw.
 */
import { parseDigestChallenge, parseDigestCredentials, type DigestChallenge, type DigestCredentials } from '../auth/index.js';
import { parseSecurityMechanisms, type SecMechanism } from '../secagree/index.js';
import { splitList, type SipMessage } from '../sip/index.js';

export function viaCount(m: SipMessage): number {
  return m.headers.getAll('Via').reduce((n, v) => n + splitList(v).length, 0);
}

export function callId(m: SipMessage): string {
  return (m.headers.get('Call-ID') ?? '').trim();
}

/** CSeq number and method (RFC 3261 §20.16). */
export function cseq(m: SipMessage): { n: number; method: string } | undefined {
  const v = /^\s*(\d+)\s+(\S+)/.exec(m.headers.get('CSeq') ?? '');
  return v ? { n: Number(v[1]), method: v[2] } : undefined;
}

/** The transaction a response answers: Call-ID, CSeq and top Via branch. */
export function txKey(m: SipMessage): string {
  const c = cseq(m);
  const branch = /;\s*branch=([^;,\s]+)/i.exec(m.headers.get('Via') ?? '')?.[1] ?? '';
  return `${callId(m)}|${c?.n ?? ''}|${c?.method ?? ''}|${branch}`;
}

/** The URI of a name-addr or addr-spec header value, without parameters or brackets. */
export function uriOf(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const angle = /<([^>]*)>/.exec(value);
  const uri = angle ? angle[1] : value.trim().split(/[;,\s]/)[0];
  return uri ? normalizeUri(uri) : undefined;
}

/** scheme:user@host (lowercase scheme and host, no parameters or port) for identity comparison. */
export function normalizeUri(uri: string): string {
  const m = /^(sips?|tel):([^;?]*)/i.exec(uri.trim());
  if (!m) return uri.trim();
  const scheme = m[1].toLowerCase();
  if (scheme === 'tel') return `tel:${m[2].replace(/[-.()]/g, '')}`;
  const at = m[2].lastIndexOf('@');
  const user = at >= 0 ? m[2].slice(0, at + 1) : '';
  const host = (at >= 0 ? m[2].slice(at + 1) : m[2]).replace(/:\d+$/, '').toLowerCase();
  return `${scheme}:${user}${host}`;
}

export function pAssociatedUris(m: SipMessage): string[] {
  return m.headers.getAll('P-Associated-URI').flatMap((v) => splitList(v)).map((v) => uriOf(v)).filter((v): v is string => v !== undefined);
}

/** The identity a UE asserts in a request: P-Preferred-Identity, else From. */
export function assertedIdentity(m: SipMessage): string | undefined {
  return uriOf(m.headers.get('P-Preferred-Identity')) ?? uriOf(m.headers.get('From'));
}

/** Registration expiry in seconds: the Contact's expires, else Expires (RFC 3261 §10.2.1). */
export function expiresOf(m: SipMessage): number | undefined {
  const c = /;\s*expires\s*=\s*(\d+)/i.exec(m.headers.get('Contact') ?? '');
  if (c) return Number(c[1]);
  const e = /^\s*(\d+)\s*$/.exec(m.headers.get('Expires') ?? '');
  return e ? Number(e[1]) : undefined;
}

export function securityHeader(m: SipMessage, name: 'Security-Client' | 'Security-Server' | 'Security-Verify'): SecMechanism[] | undefined {
  const values = m.headers.getAll(name);
  if (values.length === 0) return undefined;
  try {
    return values.flatMap((v) => parseSecurityMechanisms(v));
  } catch {
    return undefined;
  }
}

export function credentials(m: SipMessage): DigestCredentials | undefined {
  const v = m.headers.get('Authorization');
  if (v === undefined || !/^\s*digest\s/i.test(v)) return undefined;
  try {
    return parseDigestCredentials(v);
  } catch {
    return undefined;
  }
}

export function challenge(m: SipMessage): DigestChallenge | undefined {
  const v = m.headers.get('WWW-Authenticate');
  if (v === undefined || !/^\s*digest\s/i.test(v)) return undefined;
  try {
    return parseDigestChallenge(v);
  } catch {
    return undefined;
  }
}

/** The integrity-protected value the P-CSCF put in a forwarded REGISTER (TS 24.229 §7.2A.1). */
export function integrityProtected(m: SipMessage): string | undefined {
  return /integrity-protected\s*=\s*"?([a-z-]+)"?/i.exec(m.headers.get('Authorization') ?? '')?.[1]?.toLowerCase();
}
