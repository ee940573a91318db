/** Typed errors of the IP/UDP/TCP codecs. */
import { ImsError } from '../common/index.js';

/** Bytes that are not a valid IPv4/IPv6/UDP/TCP packet (bad version, length, checksum, ...). */
export class IpParseError extends ImsError {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super('IP_PARSE', message);
  }
}
