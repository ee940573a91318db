/**
 * AVP data formats, RFC 6733 §4.2 (basic) and §4.3 (derived). Each type has an encoder (value →
 * data bytes) and a decoder (data bytes → value) that checks the data length first and throws a
 * {@link DiameterAvpError} carrying the Result-Code an answer should report (5014
 * DIAMETER_INVALID_AVP_LENGTH for a wrong fixed length, 5004 DIAMETER_INVALID_AVP_VALUE for a
 * malformed value).
 */
import { InvalidArgumentError } from '../../common/index.js';
import { DiameterAvpError, DiameterParseError } from '../errors.js';
import { type Avp, decodeAvps, encodeAvps } from './avp.js';
import { formatIp, ipVersionOf, parseIp } from '../../ip/index.js';

/** The data formats of RFC 6733 §4.2 and §4.3 (IPFilterRule and QoSFilterRule travel as strings). */
export type DataType =
  | 'OctetString'
  | 'Integer32'
  | 'Integer64'
  | 'Unsigned32'
  | 'Unsigned64'
  | 'Float32'
  | 'Float64'
  | 'Grouped'
  | 'Address'
  | 'Time'
  | 'UTF8String'
  | 'DiameterIdentity'
  | 'DiameterURI'
  | 'Enumerated'
  | 'IPFilterRule';

/** The TypeScript value type of each data format. */
export interface DataTypeValues {
  OctetString: Uint8Array;
  Integer32: number;
  Integer64: bigint;
  Unsigned32: number;
  Unsigned64: bigint;
  Float32: number;
  Float64: number;
  Grouped: Avp[];
  /** An IPv4 or IPv6 address in text form ("10.0.0.1", "2001:db8::1"). */
  Address: string;
  Time: Date;
  UTF8String: string;
  DiameterIdentity: string;
  DiameterURI: string;
  Enumerated: number;
  IPFilterRule: string;
}

const INVALID_AVP_VALUE = 5004;
const INVALID_AVP_LENGTH = 5014;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Enc = new TextEncoder();

function fixed(data: Uint8Array, n: number, type: string): DataView {
  if (data.length !== n) throw new DiameterAvpError(`${type} needs ${n} bytes of data, got ${data.length}`, INVALID_AVP_LENGTH);
  return new DataView(data.buffer, data.byteOffset, n);
}

function intIn(v: number, lo: number, hi: number, type: string): number {
  if (!Number.isInteger(v) || v < lo || v > hi) throw new InvalidArgumentError(`${v} is not a valid ${type}`);
  return v;
}

/** RFC 6733 §4.2: Unsigned32, network byte order. */
export function encodeUnsigned32(v: number): Uint8Array {
  intIn(v, 0, 0xffffffff, 'Unsigned32');
  const out = new Uint8Array(4);
  out[0] = v >>> 24;
  out[1] = v >>> 16;
  out[2] = v >>> 8;
  out[3] = v;
  return out;
}
export function decodeUnsigned32(d: Uint8Array): number {
  if (d.length !== 4) throw new DiameterAvpError(`Unsigned32 needs 4 bytes of data, got ${d.length}`, INVALID_AVP_LENGTH);
  return ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0;
}

/** RFC 6733 §4.2: Integer32, two's complement network byte order (also §4.3.1 Enumerated). */
export function encodeInteger32(v: number): Uint8Array {
  intIn(v, -0x80000000, 0x7fffffff, 'Integer32');
  const out = new Uint8Array(4);
  out[0] = v >>> 24;
  out[1] = v >>> 16;
  out[2] = v >>> 8;
  out[3] = v;
  return out;
}
export function decodeInteger32(d: Uint8Array): number {
  if (d.length !== 4) throw new DiameterAvpError(`Integer32 needs 4 bytes of data, got ${d.length}`, INVALID_AVP_LENGTH);
  return (d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3];
}

/** RFC 6733 §4.2: Unsigned64. */
export function encodeUnsigned64(v: bigint): Uint8Array {
  if (typeof v !== 'bigint' || v < 0n || v > 0xffffffffffffffffn) throw new InvalidArgumentError(`${v} is not a valid Unsigned64`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, v);
  return out;
}
export function decodeUnsigned64(d: Uint8Array): bigint {
  return fixed(d, 8, 'Unsigned64').getBigUint64(0);
}

/** RFC 6733 §4.2: Integer64. */
export function encodeInteger64(v: bigint): Uint8Array {
  if (typeof v !== 'bigint' || v < -(2n ** 63n) || v >= 2n ** 63n) throw new InvalidArgumentError(`${v} is not a valid Integer64`);
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigInt64(0, v);
  return out;
}
export function decodeInteger64(d: Uint8Array): bigint {
  return fixed(d, 8, 'Integer64').getBigInt64(0);
}

/** RFC 6733 §4.2: Float32 (IEEE 754 single). */
export function encodeFloat32(v: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setFloat32(0, v);
  return out;
}
export function decodeFloat32(d: Uint8Array): number {
  return fixed(d, 4, 'Float32').getFloat32(0);
}

/** RFC 6733 §4.2: Float64 (IEEE 754 double). */
export function encodeFloat64(v: number): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setFloat64(0, v);
  return out;
}
export function decodeFloat64(d: Uint8Array): number {
  return fixed(d, 8, 'Float64').getFloat64(0);
}

/** Short ASCII strings (most Diameter strings) skip TextEncoder, which costs ~1 µs a call. */
function asciiBytes(v: string): Uint8Array | undefined {
  const n = v.length;
  if (n > 128) return undefined;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c > 0x7f) return undefined;
    out[i] = c;
  }
  return out;
}
/** RFC 6733 §4.3.1: UTF8String (RFC 3629). Invalid UTF-8 is DIAMETER_INVALID_AVP_VALUE. */
export function encodeUtf8(v: string): Uint8Array {
  return asciiBytes(v) ?? utf8Enc.encode(v);
}
export function decodeUtf8(d: Uint8Array): string {
  try {
    return utf8.decode(d);
  } catch {
    throw new DiameterAvpError('UTF8String is not valid UTF-8', INVALID_AVP_VALUE);
  }
}

/**
 * RFC 6733 §4.3.1: DiameterIdentity = FQDN/Realm, ASCII ("internationalized names ... MUST be
 * converted to ... A-label"). The encoder refuses empty or non-ASCII names.
 */
export function encodeIdentity(v: string): Uint8Array {
  if (v.length === 0 || !/^[\x21-\x7e]+$/.test(v)) throw new InvalidArgumentError(`DiameterIdentity must be non-empty printable ASCII: ${JSON.stringify(v.slice(0, 60))}`);
  return asciiBytes(v) ?? utf8Enc.encode(v);
}
export function decodeIdentity(d: Uint8Array): string {
  for (let i = 0; i < d.length; i++) {
    if (d[i] < 0x21 || d[i] > 0x7e) throw new DiameterAvpError('DiameterIdentity is not printable ASCII', INVALID_AVP_VALUE);
  }
  return utf8.decode(d);
}

/**
 * RFC 6733 §4.3.1 Address: a 2-byte AddressType (IANA address family: 1 IPv4, 2 IPv6) followed by
 * the address. Other families decode to an error (the raw AVP is still carried).
 */
export function encodeAddress(v: string): Uint8Array {
  if (ipVersionOf(v) === 0) throw new InvalidArgumentError(`not an IPv4 or IPv6 address: ${JSON.stringify(v)}`);
  const b = parseIp(v);
  const out = new Uint8Array(2 + b.length);
  out[1] = b.length === 4 ? 1 : 2;
  out.set(b, 2);
  return out;
}
export function decodeAddress(d: Uint8Array): string {
  if (d.length < 2) throw new DiameterAvpError(`Address needs at least 2 bytes, got ${d.length}`, INVALID_AVP_LENGTH);
  const family = (d[0] << 8) | d[1];
  if (family === 1) {
    if (d.length !== 6) throw new DiameterAvpError(`IPv4 Address needs 6 bytes, got ${d.length}`, INVALID_AVP_LENGTH);
    return formatIp(d.subarray(2));
  }
  if (family === 2) {
    if (d.length !== 18) throw new DiameterAvpError(`IPv6 Address needs 18 bytes, got ${d.length}`, INVALID_AVP_LENGTH);
    return formatIp(d.subarray(2));
  }
  throw new DiameterAvpError(`Address family ${family} is not supported (only 1 IPv4, 2 IPv6)`, INVALID_AVP_VALUE);
}

/** Seconds between the NTP epoch (1900-01-01) and the Unix epoch. */
export const NTP_UNIX_OFFSET = 2208988800;

/**
 * RFC 6733 §4.3.1 Time: the first four bytes of an NTP timestamp, seconds since 1900-01-01 UTC.
 * Per the RFC's reference to SNTP (RFC 4330 §3), values with the top bit clear are in the era
 * that begins 2036-02-07, which extends the range to 2104.
 */
export function encodeTime(v: Date): Uint8Array {
  const ms = v.getTime();
  if (!Number.isFinite(ms)) throw new InvalidArgumentError('invalid Date');
  const secs = Math.floor(ms / 1000) + NTP_UNIX_OFFSET;
  // Representable: 1968-01-20T03:14:08Z (top bit set, 1900 era) up to 2104 (top bit clear, 2036 era).
  if (secs < 0x80000000 || secs >= 0x180000000) throw new InvalidArgumentError(`Time ${v.toISOString()} is outside the NTP eras of RFC 4330 §3 (1968..2104)`);
  return encodeUnsigned32(secs % 0x100000000);
}
export function decodeTime(d: Uint8Array): Date {
  if (d.length !== 4) throw new DiameterAvpError(`Time needs 4 bytes of data, got ${d.length}`, INVALID_AVP_LENGTH);
  const raw = decodeUnsigned32(d);
  const secs = raw >= 0x80000000 ? raw : raw + 0x100000000;
  return new Date((secs - NTP_UNIX_OFFSET) * 1000);
}

/** RFC 6733 §4.4 Grouped: the data is a sequence of AVPs, each padded. */
export function encodeGrouped(v: readonly Avp[]): Uint8Array {
  return encodeAvps(v);
}
export function decodeGrouped(d: Uint8Array): Avp[] {
  try {
    return decodeAvps(d);
  } catch (e) {
    if (e instanceof DiameterParseError) throw new DiameterAvpError(`Grouped AVP: ${e.message}`, INVALID_AVP_LENGTH);
    throw e;
  }
}

/** Encodes `value` as data of format `type`. */
export function encodeValue<T extends DataType>(type: T, value: DataTypeValues[T]): Uint8Array {
  const v = value as unknown;
  switch (type) {
    case 'OctetString':
      if (!(v instanceof Uint8Array)) throw new InvalidArgumentError('OctetString value must be a Uint8Array');
      return v;
    case 'Integer32':
    case 'Enumerated':
      return encodeInteger32(v as number);
    case 'Integer64':
      return encodeInteger64(v as bigint);
    case 'Unsigned32':
      return encodeUnsigned32(v as number);
    case 'Unsigned64':
      return encodeUnsigned64(v as bigint);
    case 'Float32':
      return encodeFloat32(v as number);
    case 'Float64':
      return encodeFloat64(v as number);
    case 'Grouped':
      return encodeGrouped(v as Avp[]);
    case 'Address':
      return encodeAddress(v as string);
    case 'Time':
      return encodeTime(v as Date);
    case 'UTF8String':
    case 'DiameterURI':
    case 'IPFilterRule':
      if (typeof v !== 'string') throw new InvalidArgumentError(`${type} value must be a string`);
      return encodeUtf8(v);
    case 'DiameterIdentity':
      return encodeIdentity(v as string);
  }
  throw new InvalidArgumentError(`unknown data type ${String(type)}`);
}

/** Decodes data of format `type`. @throws DiameterAvpError (5004 or 5014). */
export function decodeValue<T extends DataType>(type: T, data: Uint8Array): DataTypeValues[T] {
  let v: unknown;
  switch (type) {
    case 'OctetString':
      v = data;
      break;
    case 'Integer32':
    case 'Enumerated':
      v = decodeInteger32(data);
      break;
    case 'Integer64':
      v = decodeInteger64(data);
      break;
    case 'Unsigned32':
      v = decodeUnsigned32(data);
      break;
    case 'Unsigned64':
      v = decodeUnsigned64(data);
      break;
    case 'Float32':
      v = decodeFloat32(data);
      break;
    case 'Float64':
      v = decodeFloat64(data);
      break;
    case 'Grouped':
      v = decodeGrouped(data);
      break;
    case 'Address':
      v = decodeAddress(data);
      break;
    case 'Time':
      v = decodeTime(data);
      break;
    case 'UTF8String':
    case 'DiameterURI':
    case 'IPFilterRule':
      v = decodeUtf8(data);
      break;
    case 'DiameterIdentity':
      v = decodeIdentity(data);
      break;
    default:
      throw new InvalidArgumentError(`unknown data type ${String(type)}`);
  }
  return v as DataTypeValues[T];
}
