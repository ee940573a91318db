/**
 * The clear part of an ESP header (RFC 4303 §2.1-§2.2), read without any SA: a receiver uses the
 * SPI to find the SA (§3.4.2) before it can do anything else with the packet.
 */
import { EspParseError } from './errors.js';

export interface EspHeader {
  /** Security Parameters Index (32 bits). */
  spi: number;
  /** Sequence Number (low 32 bits; no ESN in TS 33.203). */
  seq: number;
}

/** Minimum bytes of any ESP packet: SPI and sequence number. */
export const ESP_HEADER_LENGTH = 8;

/** Reads SPI and sequence number; throws {@link EspParseError} (ESP_PARSE) below 8 bytes. */
export function decodeEspHeader(packet: Uint8Array): EspHeader {
  if (packet.length < ESP_HEADER_LENGTH) throw new EspParseError(`ESP packet of ${packet.length} byte(s) is shorter than its 8-byte header`, packet.length);
  const spi = ((packet[0] << 24) | (packet[1] << 16) | (packet[2] << 8) | packet[3]) >>> 0;
  const seq = ((packet[4] << 24) | (packet[5] << 16) | (packet[6] << 8) | packet[7]) >>> 0;
  return { spi, seq };
}

/**
 * RFC 3948 §2.2: on UDP port 4500 a datagram whose first four bytes are zero is IKE (Non-ESP
 * Marker), and a single 0xff byte is a NAT-keepalive; anything else is ESP.
 */
export function isUdpEncapsulatedEsp(datagram: Uint8Array): boolean {
  if (datagram.length === 1 && datagram[0] === 0xff) return false;
  if (datagram.length < ESP_HEADER_LENGTH) return false;
  return (datagram[0] | datagram[1] | datagram[2] | datagram[3]) !== 0;
}
