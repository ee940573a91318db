/**
 * GTP-U (3GPP TS 29.281 §5): the user-plane tunnel of LTE/5G, as seen in captures taken on the
 * core side (S1-U, S5/S8, N3), UDP port 2152. Only G-PDUs (message type 255) carry a user packet.
 * ```
 * | Ver(3)=1 | PT(1)=1 | *(1) | E(1) | S(1) | PN(1) |  Message Type  |     Length (2)      |
 * |                       TEID (4)                                                        |
 * | Sequence Number (2) [if E|S|PN] | N-PDU Number (1) | Next Extension Header Type (1)  |
 * | extension headers: Length(1, in 4-octet units) | contents | Next Extension Type(1)    |
 * ```
 * Length counts the bytes after the first 8. Pure; throws {@link GtpuError} for malformed input.
 */
import { ImsError } from '../common/index.js';

export const GTPU_PORT = 2152;
const G_PDU = 255;

export class GtpuError extends ImsError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('PCAP', message);
  }
}

export interface GtpuPacket {
  teid: number;
  messageType: number;
  /** The user packet (T-PDU) of a G-PDU (a view); undefined for signalling messages. */
  payload?: Uint8Array;
}

/** Decodes a GTPv1-U datagram (the UDP payload). */
export function decodeGtpu(b: Uint8Array): GtpuPacket {
  if (b.length < 8) throw new GtpuError(`GTP-U datagram of ${b.length} byte(s) is shorter than 8`, 0);
  const flags = b[0];
  if (flags >>> 5 !== 1 || (flags & 0x10) === 0) throw new GtpuError(`not GTPv1-U (flags 0x${flags.toString(16)})`, 0);
  const type = b[1];
  const length = (b[2] << 8) | b[3];
  const end = 8 + length;
  if (end > b.length) throw new GtpuError(`GTP-U length ${length} exceeds the ${b.length - 8} bytes`, 2);
  const teid = ((b[4] << 24) | (b[5] << 16) | (b[6] << 8) | b[7]) >>> 0;
  let at = 8;
  if (flags & 0x07) {
    if (at + 4 > end) throw new GtpuError('GTP-U optional fields truncated', at);
    let next = b[at + 3];
    at += 4;
    for (let n = 0; next !== 0; n++) {
      if (n > 16) throw new GtpuError('too many GTP-U extension headers', at);
      if (at + 1 > end) throw new GtpuError('GTP-U extension header truncated', at);
      const len = b[at] * 4;
      if (len === 0 || at + len > end) throw new GtpuError(`GTP-U extension header of ${len} bytes does not fit`, at);
      next = b[at + len - 1];
      at += len;
    }
  }
  return type === G_PDU ? { teid, messageType: type, payload: b.subarray(at, end) } : { teid, messageType: type };
}
