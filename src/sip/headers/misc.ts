/**
 * Event and Subscription-State (RFC 6665 §8.2.1, §8.2.3), Content-Type (RFC 3261 §20.15),
 * Warning (RFC 3261 §20.43) and Retry-After (RFC 3261 §20.33).
 *
 *   Event              =  ( "Event" / "o" ) HCOLON event-type *( SEMI event-param )
 *   event-type         =  event-package *( "." event-template )     ; token characters
 *   Subscription-State =  "Subscription-State" HCOLON substate-value *( SEMI subexp-params )
 *   Content-Type       =  ( "Content-Type" / "c" ) HCOLON media-type
 *   media-type         =  m-type SLASH m-subtype *(SEMI m-parameter)
 *   Warning            =  "Warning" HCOLON warning-value *(COMMA warning-value)
 *   warning-value      =  warn-code SP warn-agent SP warn-text
 *   warn-code          =  3DIGIT      warn-agent = hostport / pseudonym     warn-text = quoted-string
 *   Retry-After        =  "Retry-After" HCOLON delta-seconds [ comment ] *( SEMI retry-param )
 *   retry-param        =  ("duration" EQUAL delta-seconds) / generic-param
 *   comment            =  LPAREN *(ctext / quoted-pair / comment) RPAREN
 */
import { DIGIT, isDigits } from '../message/chars.js';
import { parseList, parseOne } from './scanner.js';
import { SipParams, quote, unquote } from './params.js';

export interface EventHeader {
  /** event-type, e.g. `reg`, `presence`, `conference`. */
  type: string;
  /** id and other event-params. */
  params: SipParams;
}

export function parseEvent(value: string): EventHeader {
  return parseOne(value, 'Event', (sc) => ({ type: sc.token('event-type'), params: sc.params(false) }));
}

export function formatEvent(v: EventHeader): string {
  return `${v.type}${v.params.toString()}`;
}

export interface SubscriptionState {
  /** active, pending, terminated, or an extension. */
  state: string;
  /** expires, reason, retry-after and extensions. */
  params: SipParams;
}

export function parseSubscriptionState(value: string): SubscriptionState {
  return parseOne(value, 'Subscription-State', (sc) => {
    const state = sc.token('substate-value');
    const params = sc.params(false);
    for (const k of ['expires', 'retry-after']) {
      const v = params.get(k);
      if (v !== undefined && (v === null || !isDigits(v) || +v > 4294967295)) sc.fail(`bad ${k}`);
    }
    return { state, params };
  });
}

export function formatSubscriptionState(v: SubscriptionState): string {
  return `${v.state}${v.params.toString()}`;
}

export interface ContentType {
  type: string;
  subtype: string;
  /** boundary, charset... (raw values). */
  params: SipParams;
}

export function parseContentType(value: string): ContentType {
  return parseOne(value, 'Content-Type', (sc) => {
    const type = sc.token('m-type');
    sc.expect(0x2f, '/');
    const subtype = sc.token('m-subtype');
    return { type, subtype, params: sc.params(false) };
  });
}

export function formatContentType(v: ContentType): string {
  return `${v.type}/${v.subtype}${v.params.toString()}`;
}

/** `type/subtype` lower-cased, without parameters (media types compare case-insensitively). */
export function mediaType(v: ContentType): string {
  return `${v.type}/${v.subtype}`.toLowerCase();
}

export interface Warning {
  /** 3-digit warn-code (300-399 in RFC 3261 §20.43). */
  code: number;
  /** hostport or pseudonym of the element that added it. */
  agent: string;
  /** warn-text, unquoted. */
  text: string;
}

const AGENT = new Uint8Array(128);
for (const ch of "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.!%*_+`'~:[]") AGENT[ch.charCodeAt(0)] = 1;

export function parseWarning(value: string): Warning[] {
  return parseList(value, 'Warning', (sc) => {
    const at = sc.pos;
    const code = sc.take(AGENT, 'warn-code');
    if (!/^[0-9]{3}$/.test(code)) sc.fail('warn-code must be 3 digits', at);
    if (sc.ws() === 0) sc.fail('expected SP');
    const agent = sc.take(AGENT, 'warn-agent');
    if (sc.ws() === 0) sc.fail('expected SP');
    return { code: +code, agent, text: unquote(sc.quoted()) };
  });
}

export function formatWarning(v: Warning[]): string {
  return v.map((w) => `${String(w.code).padStart(3, '0')} ${w.agent} ${quote(w.text)}`).join(', ');
}

export interface RetryAfter {
  /** delta-seconds: how long the client should wait before retrying. */
  seconds: number;
  /** The comment, with its parentheses, if any. */
  comment?: string;
  /** duration and other retry-params. */
  params: SipParams;
}

const MAX_DELTA = 4294967295;

export function parseRetryAfter(value: string): RetryAfter {
  return parseOne(value, 'Retry-After', (sc) => {
    const at = sc.pos;
    const n = sc.take(DIGIT, 'delta-seconds');
    if (n.replace(/^0+(?=.)/, '').length > 10 || +n > MAX_DELTA) sc.fail('delta-seconds out of range', at);
    const save = sc.pos;
    sc.ws();
    const comment = sc.peek() === 0x28 ? sc.comment() : ((sc.pos = save), undefined);
    const params = sc.params(false);
    const d = params.get('duration');
    if (d !== undefined && (d === null || !isDigits(d) || +d > MAX_DELTA)) sc.fail('bad duration');
    return { seconds: +n, ...(comment !== undefined ? { comment } : {}), params };
  });
}

export function formatRetryAfter(v: RetryAfter): string {
  return `${v.seconds}${v.comment !== undefined ? ` ${v.comment}` : ''}${v.params.toString()}`;
}
