/**
 * Typed accessors on a message: each parses the raw value on demand (nothing is cached, so a
 * changed header is always read afresh). They throw {@link SipParseError} when the header is
 * malformed and return `undefined` when it is absent.
 */
import type { SipMessage } from '../message/message.js';
import { SipParseError } from '../message/errors.js';
import { Scanner } from './scanner.js';
import { scanVia, parseViaList, type Via } from './via.js';
import { parseCSeq, parseCallId, parseMaxForwards, parseExpires, type CSeq } from './simple.js';
import { parseNameAddr, type NameAddr } from './name-addr.js';
import { parseContact, type ContactList } from './contact.js';
import { parseContentType, type ContentType } from './misc.js';
import { parseRoute } from './routing.js';

/** The first Via value (RFC 3261 §8.2.6.2, §17.2.3: the one that identifies the transaction). */
export function topVia(msg: SipMessage): Via | undefined {
  const line = msg.headers.get('via');
  if (line === undefined) return undefined;
  const sc = new Scanner(line, 'Via');
  const v = scanVia(sc, true);
  sc.ws();
  if (!sc.eof && sc.peek() !== 0x2c) sc.fail('unexpected text after value');
  return v;
}

/** Every Via value, top first, across all Via fields. */
export function viasOf(msg: SipMessage): Via[] {
  return msg.headers.getLines('via').flatMap(parseViaList);
}

/** The branch parameter of the top Via. */
export function branchOf(msg: SipMessage): string | undefined {
  return topVia(msg)?.params.get('branch') ?? undefined;
}

export function cseqOf(msg: SipMessage): CSeq | undefined {
  const v = single(msg, 'CSeq');
  return v === undefined ? undefined : parseCSeq(v);
}

export function callIdOf(msg: SipMessage): string | undefined {
  const v = single(msg, 'Call-ID');
  return v === undefined ? undefined : parseCallId(v);
}

export function fromOf(msg: SipMessage): NameAddr | undefined {
  const v = single(msg, 'From');
  return v === undefined ? undefined : parseNameAddr(v, 'From');
}

export function toOf(msg: SipMessage): NameAddr | undefined {
  const v = single(msg, 'To');
  return v === undefined ? undefined : parseNameAddr(v, 'To');
}

/** The From tag (RFC 3261 §19.3). */
export function fromTag(msg: SipMessage): string | undefined {
  return fromOf(msg)?.params.get('tag') ?? undefined;
}

/** The To tag (absent in an out-of-dialog request and in a 100 Trying). */
export function toTag(msg: SipMessage): string | undefined {
  return toOf(msg)?.params.get('tag') ?? undefined;
}

export function maxForwardsOf(msg: SipMessage): number | undefined {
  const v = single(msg, 'Max-Forwards');
  return v === undefined ? undefined : parseMaxForwards(v);
}

export function expiresOf(msg: SipMessage): number | undefined {
  const v = single(msg, 'Expires');
  return v === undefined ? undefined : parseExpires(v);
}

/** All Contact values across Contact fields, or `*`. */
export function contactsOf(msg: SipMessage): ContactList {
  const lines = msg.headers.getLines('contact');
  const out: NameAddr[] = [];
  for (const l of lines) {
    const c = parseContact(l);
    if (c === '*') {
      if (lines.length > 1) throw new SipParseError('* must be the only Contact', 0, { header: 'Contact' });
      return '*';
    }
    out.push(...c);
  }
  return out;
}

export function contentTypeOf(msg: SipMessage): ContentType | undefined {
  const v = single(msg, 'Content-Type');
  return v === undefined ? undefined : parseContentType(v);
}

/** Route-like values (Route, Record-Route, Path, Service-Route) across all their fields, in order. */
export function routesOf(msg: SipMessage, header: 'Route' | 'Record-Route' | 'Path' | 'Service-Route' = 'Route'): NameAddr[] {
  return msg.headers.getLines(header).flatMap((l) => parseRoute(l, header));
}

/** The value of a header that may appear once (RFC 4475 §3.3.8: more than once is an error). */
function single(msg: SipMessage, name: string): string | undefined {
  const v = msg.headers.get(name);
  if (v !== undefined && msg.headers.count(name) > 1) throw new SipParseError(`more than one ${name}`, 0, { header: name });
  return v;
}
