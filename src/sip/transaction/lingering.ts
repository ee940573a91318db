/**
 * Non-INVITE server transactions in "Completed" on an unreliable transport (RFC 3261 §17.2.2):
 * for Timer J (64*T1) they only absorb request retransmissions by resending the final response.
 * That is all this table keeps of them — the key, the response's bytes and its channel, and the
 * deadline — instead of the whole transaction (request, machine, handle, closures, one timer
 * each). The bytes, not the response, and a flat copy of the key: a response's header values and
 * the key are views into the request's text, so a kept SipResponse kept that text and a dozen
 * objects for Timer J, and what lives that long is what the collector promotes and marks again
 * and again. A retransmission (rare) parses the bytes back.
 *
 * Every entry lives for the same Timer J, so deadlines arrive in insertion order: one FIFO and one
 * timer, armed for the oldest deadline, end them all (a timer wheel of one slot per Timer J).
 *
 * A TU that asked to hear of its transaction's end (a proxy's response context, which RFC 3261
 * §16.7 keeps "until all of its associated transactions have been terminated") is told here, when
 * Timer J fires or a resend fails (§17.2.4): its transaction lingers as compactly as any other.
 */
import { detached, type Clock, type TimerHandle } from '../../common/index.js';
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
  readonly deadline: number;
  /** The TU's end callback, when it asked for one. */
  readonly onEnd: ((reason: TxEndReason) => void) | undefined;
}

/** The "Completed" non-INVITE server transactions, ended together by one timer. */
export class LingeringTable {
  private readonly entries = new Map<string, Lingering>();
  /** Keys and their deadlines in deadline order (= insertion order); `head` is the next to expire. */
  private keys: string[] = [];
  private deadlines: number[] = [];
  private head = 0;
  private timer: TimerHandle | undefined;

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * §17.2.2: the transaction entered "Completed" with `response`; it ends after `ms` (Timer J),
   * and then `onEnd` hears of it.
   */
  add(txKey: string, response: SipResponse, channel: Sender, ms: number, onEnd?: (reason: TxEndReason) => void): void {
    let bytes: Uint8Array;
    try {
      bytes = serializeMessage(response);
    } catch {
      // A response that cannot be serialized was not sent either (the transport refused it): the
      // transaction has nothing to resend and ends now.
      onEnd?.('normal');
      return;
    }
    // The key is built from the request's branch and sent-by, slices of its text: a copy of its own.
    const key = detached(txKey);
    const deadline = this.clock.now() + ms;
    this.entries.set(key, { response: bytes, channel, deadline, onEnd });
    this.keys.push(key);
    this.deadlines.push(deadline);
    if (this.timer === undefined) this.arm(deadline);
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
    this.timer?.cancel();
    this.timer = undefined;
    this.entries.clear();
    this.keys = [];
    this.deadlines = [];
    this.head = 0;
  }

  private arm(deadline: number): void {
    this.timer = this.clock.setTimeout(Math.max(0, deadline - this.clock.now()), this.expire);
  }

  /** Timer J fired for the oldest entries: every entry due by now is terminated. */
  private readonly expire = (): void => {
    this.timer = undefined;
    const now = this.clock.now();
    while (this.head < this.keys.length) {
      const deadline = this.deadlines[this.head];
      if (deadline > now) {
        this.arm(deadline);
        break;
      }
      const key = this.keys[this.head];
      this.head++;
      // A key added again later (or already ended by a transport error) is not this slot's.
      const e = this.entries.get(key);
      if (e?.deadline === deadline) this.end(key, e, 'normal');
    }
    if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.deadlines = this.deadlines.slice(this.head);
      this.head = 0;
    }
  };
}
