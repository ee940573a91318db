/**
 * Typed SIP errors (STYLE §4). A malformed message throws {@link SipParseError}
 * (code `SIP_PARSE`); a message over a configured bound throws {@link SipLimitError}
 * (code `SIP_LIMIT`). Messages name the problem and the header, never a header value, so
 * credentials (Authorization, keys in a 401) cannot leak into logs.
 */
import { ImsError } from '../../common/index.js';
import type { SipLimits } from './limits.js';
import type { SipMessage } from './message.js';

/** A SIP message, or a header value, that does not follow RFC 3261 §25. */
export class SipParseError extends ImsError {
  /**
   * @param reason short name of the problem, e.g. `bad Content-Length`
   * @param offset byte offset in the message (or character offset in a header value when
   *   `header` is set) where the problem was found
   */
  constructor(
    readonly reason: string,
    readonly offset: number,
    readonly details: {
      /** Header whose value failed to parse (typed codecs). */
      header?: string;
      /**
       * The message as far as it could be framed, when only the body framing failed
       * (Content-Length larger than the datagram, conflicting Content-Length values). A UDP
       * server can still answer it with 400 (RFC 4475 §3.1.2.2, §3.3.9).
       */
      partial?: SipMessage;
    } = {},
  ) {
    super('SIP_PARSE', `${details.header ? `${details.header}: ` : ''}${reason} (offset ${offset})`);
  }

  get header(): string | undefined {
    return this.details.header;
  }
  get partial(): SipMessage | undefined {
    return this.details.partial;
  }
}

/** A message over one of the {@link SipLimits}; a server may answer 513 (RFC 3261 §21.5.12). */
export class SipLimitError extends ImsError {
  constructor(
    readonly limit: keyof SipLimits,
    readonly max: number,
    readonly offset: number,
  ) {
    super('SIP_LIMIT', `${limit} exceeded (limit ${max}, offset ${offset})`);
  }
}
