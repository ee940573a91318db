/**
 * Bounds on what the parser and the stream framer accept, so a peer cannot make us hold or
 * scan unbounded input. Every limit is configurable per call.
 */
import { InvalidArgumentError } from '../../common/index.js';

export interface SipLimits {
  /** Largest message, start line to end of body, in bytes. */
  maxMessageBytes: number;
  /** Most header fields (after unfolding) in one message. */
  maxHeaders: number;
  /**
   * Longest physical line (start line or header line, without CRLF): bytes for the stream
   * framer, characters after UTF-8 decoding for the parser (the same for ASCII lines).
   */
  maxLineLength: number;
}

/** 64 KiB messages (the largest UDP datagram), 256 header fields, 8 KiB lines. */
export const DEFAULT_SIP_LIMITS: Readonly<SipLimits> = Object.freeze({
  maxMessageBytes: 65536,
  maxHeaders: 256,
  maxLineLength: 8192,
});

/** Fills unset limits with the defaults and checks the values. */
export function resolveLimits(limits?: Partial<SipLimits>): SipLimits {
  if (!limits) return DEFAULT_SIP_LIMITS;
  const r: SipLimits = {
    maxMessageBytes: limits.maxMessageBytes ?? DEFAULT_SIP_LIMITS.maxMessageBytes,
    maxHeaders: limits.maxHeaders ?? DEFAULT_SIP_LIMITS.maxHeaders,
    maxLineLength: limits.maxLineLength ?? DEFAULT_SIP_LIMITS.maxLineLength,
  };
  for (const k of Object.keys(r) as (keyof SipLimits)[]) {
    if (!Number.isSafeInteger(r[k]) || r[k] < 1) throw new InvalidArgumentError(`SIP limit ${k} must be a positive integer`, k);
  }
  return r;
}
