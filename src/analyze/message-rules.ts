/**
 * The per-message rules of the capture checks that need no registration state of their own: the
 * ports and flows of SIP on and off the SAs (R-SA-3, R-SA-5; TS 33.203 §7.1, TS 24.229
 * §5.1.1.2.2) and the outcome of each ESP packet (R-ESP, R-SA-7). The {@link Checker} owns the
 * state and calls these with a read view of it.
 */
import type { KeyRing } from './key-ring.js';
import type { Registration, SaSet } from './model.js';
import type { RuleName } from './rules.js';
import type { SaTable } from './sa-table.js';
import { parseAkaNonce } from '../auth/index.js';
import { toHex } from '../common/index.js';
import { verifyAkaResponse } from './aka-checks.js';
import { assertedIdentity, challenge as challengeOf, credentials, cseq, txKey } from './sip-facts.js';
import type { Endpoint, EspEvent, SipEvent } from './types.js';

/** TS 24.229 Table 7.8.1: reg-await-auth, the temporary set's lifetime (4 minutes). */
export const REG_AWAIT_AUTH_MS = 4 * 60_000;

/** `address|port`, the key of an endpoint in the checker's maps. */
export const ep = (e: Endpoint) => `${e.address}|${e.port}`;
/** An endpoint as a finding's text shows it (IPv6 in brackets). */
export const show = (e: Endpoint) => `${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`;
/** An SPI as 0x-prefixed 8 hex digits. */
export const hex32 = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

/** What the rules read of the checker's state, and how they report. */
export interface RuleContext {
  readonly table: SaTable;
  readonly keys: KeyRing;
  readonly registrations: readonly Registration[];
  readonly ueEndpoints: ReadonlyMap<string, number>;
  readonly requests: ReadonlyMap<string, { src: Endpoint; dst: Endpoint }>;
  readonly pending: ReadonlySet<Registration>;
  report(rule: RuleName, frames: number[], message: string, extra?: { subject?: string; registration?: number }): void;
}

/** Unprotected SIP on a protected port (R-SA-5) or a non-REGISTER request in the clear (R-SA-5). */
export function portRules(c: RuleContext, ev: SipEvent): void {
  const { onSrc, onDst } = c.table.protectedEnds(ev.src, ev.dst);
  const m = ev.message;
  const what = m.kind === 'request' ? m.method : `${m.status} (${cseq(m)?.method ?? '?'})`;
  if (onSrc || onDst) {
    const which = onSrc && onDst ? 'from and to protected ports' : onSrc ? `from the protected port ${ev.src.port}` : `to the protected port ${ev.dst.port}`;
    c.report('port.clear-on-protected', ev.frames, `SIP ${what} in the clear over ${ev.transport.toUpperCase()} ${show(ev.src)} → ${show(ev.dst)}, ${which}`, { subject: `${ep(ev.src)}>${ep(ev.dst)}|${what}` });
    return;
  }
  if (m.kind === 'request' && m.method !== 'REGISTER' && c.ueEndpoints.has(ep(ev.src))) {
    const reg = c.registrations[c.ueEndpoints.get(ep(ev.src))!];
    if (reg?.activeSet !== undefined) c.report('port.clear-request', ev.frames, `${m.method} from the UE ${show(ev.src)} in the clear while SA set ${reg.activeSet} is active`, { subject: `${ep(ev.src)}|${m.method}`, registration: reg.index });
  }
}

/** R-SA-3: the SA's ports, the UDP flow rule and TCP responses on their request's connection. */
export function flowRules(c: RuleContext, ev: SipEvent, s: SaSet): void {
  const spi = ev.protection!.spi;
  // The SA an SPI names fixes its ports (TS 33.203 §7.1 table in ipsec/sa/types.ts).
  const e: [number, number, string] | undefined =
    spi === s.spiPs ? [s.uc, s.ps, 'UE port_uc → P-CSCF port_ps'] : spi === s.spiPc ? [s.us, s.pc, 'UE port_us → P-CSCF port_pc'] : spi === s.spiUs ? [s.pc, s.us, 'P-CSCF port_pc → UE port_us'] : spi === s.spiUc ? [s.ps, s.uc, 'P-CSCF port_ps → UE port_uc'] : undefined;
  const m = ev.message;
  const what = m.kind === 'request' ? m.method : `${m.status} (${cseq(m)?.method ?? '?'})`;
  if (e && (ev.src.port !== e[0] || ev.dst.port !== e[1])) {
    c.report('sa.wrong-sa', ev.frames, `${what} on SPI ${hex32(spi)} (${e[2]}) carries ports ${ev.src.port} → ${ev.dst.port}`, { subject: `${s.id}|${spi}|${ev.src.port}>${ev.dst.port}`, registration: s.registration });
    return;
  }
  if (ev.transport === 'udp') {
    if (spi === s.spiPc || spi === s.spiUc) {
      const fromUe = spi === s.spiPc;
      c.report('sa.udp-flow', ev.frames, `over UDP the ${fromUe ? 'UE sends' : 'UE receives'} ${m.kind === 'request' ? 'requests' : 'responses'} ${fromUe ? 'from port_uc to port_ps' : 'on port_us from port_pc'}; ${what} went ${e?.[2] ?? `${ev.src.port} → ${ev.dst.port}`}`, { subject: `${s.ue}>${s.pcscf}|${ev.src.port}>${ev.dst.port}|${m.kind}`, registration: s.registration });
    }
  } else if (m.kind === 'response') {
    const req = c.requests.get(txKey(m));
    if (req && (ep(req.src) !== ep(ev.dst) || ep(req.dst) !== ep(ev.src))) {
      c.report('sa.tcp-response-connection', ev.frames, `${what} went ${show(ev.src)} → ${show(ev.dst)}, but its request came on ${show(req.src)} → ${show(req.dst)}`, { subject: `${s.id}|${ev.src.port}>${ev.dst.port}`, registration: s.registration });
    }
  } else if (spi === s.spiPc || spi === s.spiUc) {
    c.report('sa.udp-flow', ev.frames, `over TCP requests go on UE port_uc → P-CSCF port_ps and P-CSCF port_pc → UE port_us connections; ${what} went ${e?.[2] ?? ''}`, { subject: `${s.id}|${spi}|tcp-request`, registration: s.registration });
  }
}

/** The outcome of one ESP packet: R-ESP (integrity, replay), R-SA-7 (lifetimes), unknown SPIs. */
export function espRules(c: RuleContext, ev: EspEvent): void {
  const set = ev.setId !== undefined ? c.table.get(ev.setId) : c.table.bySpi(ev.spi, ev.src, ev.dst);
  const fromUe = set ? ev.spi === set.spiPs || ev.spi === set.spiPc : c.ueEndpoints.has(`${ev.src}|${ev.ports?.src ?? ''}`) || [...c.pending].some((r) => r.ue === ev.src);
  if (set) {
    if (fromUe) set.esp.fromUe++;
    if (ev.outcome === 'ok') set.esp.ok++;
    else if (ev.outcome === 'icv') set.esp.icv++;
    else if (ev.outcome === 'replay' || ev.outcome === 'too-old') set.esp.replay++;
  }
  const spi = hex32(ev.spi);
  switch (ev.outcome) {
    case 'ok':
      if (set && (set.state === 'deleted' || set.state === 'failed' || (set.expiresAt !== undefined && ev.at > set.expiresAt))) {
        c.report('sa.lifetime', ev.frames, `ESP on SPI ${spi} of SA set ${set.id} after the set ended (${set.state}${set.expiresAt !== undefined && ev.at > set.expiresAt ? `, ${((ev.at - set.expiresAt) / 1000).toFixed(1)} s past expiry + 30 s` : ''})`, { subject: `${set.id}`, registration: set.registration });
      } else if (set && set.state === 'temporary' && ev.at - set.createdAt > REG_AWAIT_AUTH_MS) {
        c.report('sa.lifetime', ev.frames, `ESP on the temporary SA set ${set.id} ${((ev.at - set.createdAt) / 1000).toFixed(0)} s after the 401, past reg-await-auth (4 min)`, { subject: `${set.id}`, registration: set.registration });
      }
      return;
    case 'icv':
      c.report('esp.icv', ev.frames, `ESP from ${ev.src} to ${ev.dst} on SPI ${spi} fails the integrity check (${transformText(c.keys, ev.spi)})`, { subject: `${ev.src}>${ev.dst}|${ev.spi}`, ...(set ? { registration: set.registration } : {}) });
      return;
    case 'replay':
    case 'too-old':
      c.report('esp.replay', ev.frames, `ESP seq ${ev.seq} on SPI ${spi} from ${ev.src} ${ev.outcome === 'replay' ? 'was already received (replay)' : 'is left of the 64-packet anti-replay window'}`, { subject: `${ev.spi}|${ev.seq}`, ...(set ? { registration: set.registration } : {}) });
      return;
    case 'malformed':
      c.report('esp.malformed', ev.frames, `ESP on SPI ${spi} is malformed (length or padding)`, { subject: `${ev.spi}` });
      return;
    case 'no-sa':
      if (c.keys.knowsSpi(ev.spi)) {
        c.report('esp.no-keys', ev.frames, `ESP on SPI ${spi} was negotiated, but no CK/IK for it was found in the capture or the keys file`, { subject: `${ev.spi}` });
      } else {
        for (const r of c.pending) if (r.challenge && r.ue === ev.src) r.challenge.unknownSpiFromUe++;
        c.report('esp.unknown-spi', ev.frames, `ESP from ${ev.src} to ${ev.dst} on SPI ${spi}, which no Security-Client/Server of the capture negotiated`, { subject: `${ev.src}>${ev.dst}|${ev.spi}` });
      }
      return;
  }
}

function transformText(keys: KeyRing, spi: number): string {
  const t = keys.transformsOf(spi)[0];
  return t ? `${t.integrity}/${t.encryption}, keys from IK/CK by TS 33.203 Annex I` : 'no SA';
}

/** R-SA-4: a protected request must carry an IMPU registered on its SA. */
export function impuBinding(c: RuleContext, ev: SipEvent, s: SaSet): void {
  const reg = c.registrations[s.registration];
  const id = assertedIdentity(ev.message);
  if (!reg || reg.impus.size === 0 || id === undefined || reg.impus.has(id)) return;
  const m = ev.message as { method: string };
  c.report('sa.impu-not-bound', ev.frames, `${m.method} on SA set ${s.id} of ${reg.impi} asserts ${id}, which is not among its registered IMPUs (${[...reg.impus].join(', ')})`, { registration: reg.index });
}

/** RFC 3310 §3.3 / RFC 4169 §3: the response computed with XRES (from the MAA) as password. */
export function checkDigest(c: RuleContext, ev: SipEvent, reg: Registration, cr: ReturnType<typeof credentials>): void {
  if (!cr || !cr.response) return;
  const v = verifyAkaResponse(cr, ev.message.body, c.keys);
  reg.digest[v.kind]++;
  if (v.kind === 'failed') c.report('aka.response-mismatch', ev.frames, `digest response of ${reg.impi} does not verify against XRES (${v.detail})`, { registration: reg.index });
}

/** The S-CSCF's 401 to the P-CSCF: ck= and ik= (TS 24.229 §7.2A.4) are keys for the analysis. */
export function scscfChallenge(c: RuleContext, ev: SipEvent): void {
  // Each CSCF forwards the same challenge: parse it only while its RAND's keys are unknown.
  const www = ev.message.headers.get('WWW-Authenticate') ?? '';
  const nonce = /nonce="([^"]*)"/i.exec(www)?.[1];
  if (!/\bik=/i.test(www) || nonce === undefined) return;
  try {
    if (c.keys.akaFor(toHex(parseAkaNonce(nonce).rand))) return;
  } catch {
    return;
  }
  const ch = challengeOf(ev.message);
  if (!ch?.ik || !ch.ck || ch.ik.length !== 16 || ch.ck.length !== 16) return;
  try {
    c.keys.addAka(toHex(parseAkaNonce(ch.nonce).rand), { ik: ch.ik, ck: ch.ck, source: 'scscf-401', frames: ev.frames });
  } catch {
    // Not an AKA nonce.
  }
}
