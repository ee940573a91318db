/**
 * Typed errors of the ESP layer. Note that {@link open} never throws for packet bytes: a bad
 * packet is a returned, counted drop (RFC 4303 §3.4). These errors are for callers that
 * configure an SA wrongly or exhaust its sequence space.
 */
import { ImsError } from '../../common/index.js';

/** An invalid SA configuration: unknown or disallowed algorithm combination, wrong key length. */
export class EspConfigError extends ImsError {
  constructor(message: string) {
    super('ESP_CONFIG', message);
  }
}

/** Bytes that are not an ESP packet where one was required (e.g. {@link decodeEspHeader}). */
export class EspParseError extends ImsError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('ESP_PARSE', message);
  }
}

/**
 * RFC 4303 §3.3.3: the sender's counter must not cycle. Once 2^32 - 1 packets were sealed on
 * an SA (no ESN in TS 33.203), a new SA must be established.
 */
export class EspSequenceExhaustedError extends ImsError {
  constructor(readonly spi: number) {
    super('ESP_SEQ_EXHAUSTED', `ESP sequence number space of SPI 0x${spi.toString(16).padStart(8, '0')} exhausted; re-key`);
  }
}
