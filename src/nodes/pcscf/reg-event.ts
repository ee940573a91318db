/**
 * The P-CSCF's subscription to the registration event package (RFC 3680, TS 24.229 §5.2.3):
 * after a successful initial registration it subscribes to the state of the registered IMPU and
 * learns from NOTIFYs when the network ends the registration (de-registration, expiry,
 * re-authentication with shortened lifetime). Pure helpers: building the SUBSCRIBE and reading
 * what a reginfo document means for one registration; core.ts sends and keeps the dialog.
 */
import { contentTypeOf, formatUri, mediaType, parseEvent, parseUri, sipUri, SipHeaders, SipRequest, decodeReginfo, REGINFO_CONTENT_TYPE, type Reginfo } from '../../sip/index.js';
import { impuKey } from '../common/index.js';

export interface RegSubscribeSpec {
  /** The registered IMPU subscribed to (Request-URI and To). */
  impu: string;
  /** The P-CSCF's own SIP URI (From, Contact, P-Asserted-Identity). */
  self: string;
  callId: string;
  fromTag: string;
  /** The S-CSCF's To tag once the dialog exists (refreshes). */
  toTag?: string;
  cseq: number;
  /** RFC 6665 §4.1.2.1 / TS 24.229 §5.2.3: 600 000 s asked for. */
  expires: number;
  /** Route set (Service-Route on the first SUBSCRIBE, the dialog's route set on refreshes). */
  routes: readonly string[];
  /** Remote target of a refresh (the S-CSCF's Contact); the IMPU otherwise. */
  target?: string;
  icid: string;
}

/**
 * TS 24.229 §5.2.3: SUBSCRIBE for the reg event package: Request-URI and To the registered IMPU,
 * Event `reg`, Expires 600 000, Accept `application/reginfo+xml`, the P-CSCF's own identity in
 * From, Contact and P-Asserted-Identity, and a P-Charging-Vector.
 */
export function buildRegSubscribe(s: RegSubscribeSpec): SipRequest {
  const h = new SipHeaders();
  if (s.routes.length > 0) h.append('Route', s.routes.join(', '));
  h.append('From', `<${s.self}>;tag=${s.fromTag}`);
  h.append('To', `<${s.impu}>${s.toTag ? `;tag=${s.toTag}` : ''}`);
  h.append('Call-ID', s.callId);
  h.append('CSeq', `${s.cseq} SUBSCRIBE`);
  h.append('Event', 'reg');
  h.append('Expires', String(s.expires));
  h.append('Accept', REGINFO_CONTENT_TYPE);
  h.append('Contact', `<${s.self}>`);
  h.append('P-Asserted-Identity', `<${s.self}>`);
  h.append('P-Charging-Vector', `icid-value=${s.icid}`);
  return new SipRequest('SUBSCRIBE', s.target ?? s.impu, h);
}

/** What a NOTIFY means for the registration of one UE. */
export type RegEventOutcome =
  /** The registration (or the UE's binding) is gone: delete it and its SAs. */
  | { kind: 'deregistered'; aor: string; event: string }
  /** Network-initiated re-authentication (R-RR-5): the binding now ends in `expires` seconds. */
  | { kind: 'shortened'; aor: string; expires: number }
  | { kind: 'none' };

/** Contact events that end the binding (RFC 3680 §5.2). */
const ENDING = new Set(['deactivated', 'expired', 'unregistered', 'rejected', 'probation']);

function hostOf(uri: string): string | undefined {
  try {
    const u = parseUri(uri);
    return u.kind === 'sip' ? u.host.replace(/^\[(.*)\]$/, '$1').toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/**
 * RFC 3680 §5.3 as TS 24.229 §5.2.3 reads it at the P-CSCF: among the registrations of the
 * document that name one of the UE's IMPUs, a `terminated` registration, or a `terminated`
 * contact (or one whose event ends it) at the UE's address, ends the registration; a
 * `shortened` contact of the UE shortens it. The first decisive entry wins.
 */
export function regEventOutcome(doc: Reginfo, reg: { impus: readonly string[]; ueAddress: string }): RegEventOutcome {
  const mine = new Set(reg.impus.map((i) => impuKey(i)).filter((k): k is string => k !== undefined));
  const ue = reg.ueAddress.toLowerCase();
  let shortened: RegEventOutcome = { kind: 'none' };
  for (const r of doc.registrations) {
    const k = impuKey(r.aor);
    if (k === undefined || !mine.has(k)) continue;
    if (r.state === 'terminated') return { kind: 'deregistered', aor: r.aor, event: 'registration terminated' };
    for (const c of r.contacts) {
      if (hostOf(c.uri) !== ue) continue;
      if (c.state === 'terminated' || ENDING.has(c.event)) return { kind: 'deregistered', aor: r.aor, event: c.event };
      if (c.event === 'shortened' && c.expires !== undefined && shortened.kind === 'none') shortened = { kind: 'shortened', aor: r.aor, expires: c.expires };
    }
  }
  return shortened;
}

/** The P-CSCF's own URI for its subscriptions: `sip:pcscf@host:port` (unprotected face). */
export function selfUri(host: string, port: number): string {
  return formatUri(sipUri(host, { user: 'pcscf', port }));
}

/**
 * Whether a NOTIFY the P-CSCF relays towards a UE is a reg-event NOTIFY telling that UE its
 * registration ended (RFC 3680 §5.3 read as for the P-CSCF's own, {@link regEventOutcome}).
 * Anything unreadable is not.
 */
export function notifyEndsRegistration(req: SipRequest, reg: { impus: readonly string[]; ueAddress: string }): boolean {
  if (req.method !== 'NOTIFY' || req.body.length === 0) return false;
  try {
    const ev = req.headers.get('Event');
    if (ev === undefined || parseEvent(ev).type.toLowerCase() !== 'reg') return false;
    const ct = contentTypeOf(req);
    if (!ct || mediaType(ct) !== REGINFO_CONTENT_TYPE) return false;
    return regEventOutcome(decodeReginfo(req.body), reg).kind === 'deregistered';
  } catch {
    return false;
  }
}
