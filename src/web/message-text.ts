/**
 * The full text of a message for the console, with every secret removed before it leaves the
 * process (TS 33.203 §6.1: IK and CK never leave the core towards the UE side; imsec's rule: no
 * secret on a page):
 *
 * - SIP: the `ik` and `ck` parameters the S-CSCF adds to WWW-Authenticate for the P-CSCF
 *   (TS 24.229 §5.4.1.2.1) become `[secret]`.
 * - Diameter: one line per AVP (grouped AVPs indented), named from the base + Cx dictionary;
 *   Confidentiality-Key, Integrity-Key and SIP-Authorization (XRES in an MAA, TS 29.229 §6.3.15)
 *   become `[secret]`.
 */
import { decodeValue, defaultDictionary, isRequest, type Avp, type DiameterMessage } from '../diameter/index.js';
import { DIAMETER_COMMANDS } from '../nodes/demo/index.js';

/** The redaction marker. */
export const SECRET = '[secret]';

/** AVPs whose value is never shown. */
export const SECRET_AVPS: ReadonlySet<string> = new Set(['Confidentiality-Key', 'Integrity-Key', 'SIP-Authorization']);

const decoder = new TextDecoder('utf-8', { fatal: false });

/** A SIP message's text with IK and CK removed (quoted or token form, any case). */
export function redactSipText(text: string): string {
  return text.replace(/\b(ik|ck)\s*=\s*("[^"]*"|[^,;\s\r\n]+)/gi, (_m, name: string) => `${name}="${SECRET}"`);
}

/** A SIP message's bytes as redacted text. */
export function sipText(bytes: Uint8Array): string {
  return redactSipText(decoder.decode(bytes));
}

function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function avpLines(avps: readonly Avp[], depth: number, out: string[]): void {
  const pad = '  '.repeat(depth + 1);
  for (const a of avps) {
    const def = defaultDictionary.of(a);
    const name = def?.name ?? `AVP ${a.code}${a.vendorId ? ` (vendor ${a.vendorId})` : ''}`;
    if (def && SECRET_AVPS.has(def.name)) {
      out.push(`${pad}${name}: ${SECRET}`);
      continue;
    }
    let value: unknown;
    try {
      value = def ? decodeValue(def.type, a.data) : a.data;
    } catch {
      value = a.data;
    }
    if (Array.isArray(value)) {
      out.push(`${pad}${name}:`);
      avpLines(value as Avp[], depth + 1, out);
    } else {
      const v = value instanceof Uint8Array ? `0x${hex(value)}` : value instanceof Date ? value.toISOString() : String(value);
      out.push(`${pad}${name}: ${v}`);
    }
  }
}

/** A Diameter message as redacted text: the header, then its AVPs. */
export function diameterText(m: DiameterMessage): string {
  const names = DIAMETER_COMMANDS[m.commandCode];
  const req = isRequest(m);
  const lines = [`${names ? names[req ? 0 : 1] : `command ${m.commandCode}`} (code ${m.commandCode}, ${req ? 'request' : 'answer'}, application ${m.applicationId}, hop-by-hop 0x${m.hopByHop.toString(16)}, end-to-end 0x${m.endToEnd.toString(16)})`];
  avpLines(m.avps, 0, lines);
  return lines.join('\n');
}

/** The renderers the ladder decoder takes. */
export const redactingRender = { sip: sipText, diameter: diameterText };
