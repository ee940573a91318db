/**
 * Non-INVITE server transactions in "Completed" on an unreliable transport (RFC 3261 §17.2.2):
 * for Timer J (64*T1) they only absorb request retransmissions by resending the final response.
 * That is all this table keeps of them — the key, the response's bytes and its channel, and the
 * deadline — instead of the whole transaction (request, machine, handle, closures, one timer
 * each). The bytes, not the response: a response's header values are views into the request's
 * text, so a kept SipResponse kept that text and a dozen objects for Timer J, and what lives that
 * long is what the collector promotes and marks again and again. A retransmission (rare) parses
 * the bytes back. The key is the layer's flat copy, the same string the TU's response context
 * keeps.
 *
 * Every entry lives for the same Timer J, so one FIFO and one timer end them all
 * ({@link ExpiringMap}).
 *
 * A TU that asked to hear of its transaction's end (a proxy's response context, which RFC 3261
 * §16.7 keeps "until all of its associated transactions have been terminated") is told here, when
 * Timer J fires or a resend fails (§17.2.4): its transaction lingers as compactly as any other.
 */
import { ExpiringMap, type Clock } from '../../common/index.js';
import { DEFAULT_SIP_LIMITS } from '../message/index.js';
import { parseMessage, serializeMessage } from '../parser/index.js';
import type { SipMessage, SipResponse, TxEndReason } from './types.js';

/** Where a response goes again: the transaction's channel (layer.ts TxChannel). */
interface Sender {
  send(msg: SipMessage): Promise<void>;
}

interface Lingering {
  readonly response: Uint8Array;
  readonly channel: Sender;
  /** The TU's end callback, when it asked for one. */
  readonly onEnd: ((reason: TxEndReason) => void) | undefined;
}

/** The "Completed" non-INVITE server transactions, ended together by one timer. */
export class LingeringTable {
  private readonly entries: ExpiringMap<Lingering>;

  /** `timerJ`: how long each entry lingers (§17.2.2: 64*T1 on an unreliable transport). */
  constructor(clock: Clock, timerJ: number) {
    this.entries = new ExpiringMap<Lingering>(clock, timerJ, (_key, e) => e.onEnd?.('normal'));
  }

  get size(): number {
    return this.entries.size;
  }

  /** Timer J: how long each entry lingers. */
  get lifetimeMs(): number {
    return this.entries.lifetimeMs;
  }

  /**
   * §17.2.2: the transaction entered "Completed" with `response`; it ends after Timer J, and then
   * `onEnd` hears of it.
   */
  add(txKey: string, response: SipResponse, channel: Sender, onEnd?: (reason: TxEndReason) => void): void {
    let bytes: Uint8Array;
    try {
      bytes = serializeMessage(response);
    } catch {
      // A response that cannot be serialized was not sent either (the transport refused it): the
      // transaction has nothing to resend and ends now.
      onEnd?.('normal');
      return;
    }
    // The layer's own flat copy of the key (layer.ts receiveRequest), shared with the TU's response context.
    this.entries.set(txKey, { response: bytes, channel, onEnd });
  }

  /** Whether the transaction `key` is lingering in "Completed". */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** §17.2.2: a retransmitted request in "Completed" gets the final response again. */
  resend(key: string): boolean {
    const e = this.entries.get(key);
    if (e === undefined) return false;
    let response: SipMessage;
    try {
      response = parseMessage(e.response, { maxMessageBytes: Math.max(e.response.length, DEFAULT_SIP_LIMITS.maxMessageBytes) });
    } catch {
      // What this stack serialized always parses; should it not, the transaction just ends.
      this.end(key, e, 'normal');
      return true;
    }
    // §17.2.4: a transport error ends the transaction ("Terminated"), nothing else.
    e.channel.send(response).catch(() => this.end(key, e, 'transportError'));
    return true;
  }

  /** Entry `e` of `key` (when it is still the one there) terminates. */
  private end(key: string, e: Lingering, reason: TxEndReason): void {
    if (this.entries.get(key) !== e) return;
    this.entries.delete(key);
    e.onEnd?.(reason);
  }

  /** Forgets everything and stops the timer (on shutdown). */
  clear(): void {
    this.entries.clear();
  }
}
