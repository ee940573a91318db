/** Shared parsing of CLI option values: every failure is an InvalidArgumentError (exit 2). */
import { fromHex, InvalidArgumentError } from '../common/index.js';
import { computeOpc, Milenage, SQN_MAX } from '../auth/index.js';

export function hexArg(value: string | undefined, bytes: number, flag: string): Uint8Array {
  if (value === undefined) throw new InvalidArgumentError(`missing ${flag}`, flag);
  return fromHex(value, bytes, flag);
}

export function intArg(value: string | undefined, flag: string, min: number, max: number): number {
  if (value === undefined) throw new InvalidArgumentError(`missing ${flag}`, flag);
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${flag} must be a decimal integer, got ${JSON.stringify(value)}`, flag);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be between ${min} and ${max}, got ${value}`, flag);
  return n;
}

export function sqnArg(value: string | undefined, flag = '--sqn'): number {
  return intArg(value, flag, 0, SQN_MAX);
}

export function amfArg(value: string | undefined): number {
  const b = hexArg(value, 2, '--amf');
  return (b[0] << 8) | b[1];
}

export interface KeyOptions {
  k?: string;
  op?: string;
  opc?: string;
}

/** K with exactly one of OP or OPc → a Milenage instance (OP is turned into OPc). */
export function milenageFromOptions(o: KeyOptions): Milenage {
  const k = hexArg(o.k, 16, '--k');
  if (o.op !== undefined && o.opc !== undefined) throw new InvalidArgumentError('give either --op or --opc, not both', '--op');
  if (o.op === undefined && o.opc === undefined) throw new InvalidArgumentError('missing --op or --opc', '--opc');
  const opc = o.opc !== undefined ? hexArg(o.opc, 16, '--opc') : computeOpc(k, hexArg(o.op, 16, '--op'));
  return new Milenage(k, opc);
}
