/**
 * The data model of capture analysis (SPEC R-LAB-2): what was decoded from the frames (SIP,
 * Diameter, ESP), the registrations and SA sets rebuilt from it, and the findings of the checks.
 * Nothing here holds a key: keys live only in the key ring (key-ring.ts).
 */
import type { DiameterMessage } from '../diameter/index.js';
import type { SipMessage } from '../sip/index.js';

export type Severity = 'info' | 'warning' | 'error';
export const SEVERITIES: readonly Severity[] = ['info', 'warning', 'error'];

export function severityRank(s: Severity): number {
  return SEVERITIES.indexOf(s);
}

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

/** One result of a check: what, where (frames), which rule (SPEC ID and clause), how bad. */
export interface Finding {
  /** `F1`, `F2`, … in the order found. */
  id: string;
  /** Stable rule name, e.g. `port.clear-on-protected` (docs/analyze-json.md lists them). */
  rule: string;
  severity: Severity;
  /** SPEC.md requirement ID, e.g. `R-SA-5`. */
  spec: string;
  /** The standard's clause the rule follows, e.g. `TS 33.203 §7.1`. */
  clause: string;
  /** Frame numbers (1-based, as Wireshark counts), first the one that shows it best. */
  frames: number[];
  message: string;
  /** The registration it belongs to (index into the report's registrations). */
  registration?: number;
}

/** ESP protection of a message: the packet's SPI and sequence number. */
export interface Protection {
  readonly spi: number;
  readonly seq: number;
  /** ESP directly in IP (transport mode) or in UDP (RFC 3948). */
  readonly encapsulation: 'ip' | 'udp';
  /** The SA set it was opened with, when that set was rebuilt from the capture. */
  readonly setId?: number;
}

/** A SIP message with where it was seen. `frames` grows when capture duplicates are found. */
export interface SipEvent {
  readonly frames: number[];
  readonly at: number;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly transport: 'udp' | 'tcp';
  readonly protection?: Protection;
  readonly message: SipMessage;
}

export interface DiameterEvent {
  readonly frames: number[];
  readonly at: number;
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly transport: 'tcp' | 'sctp';
  readonly message: DiameterMessage;
}

/** What happened to one ESP packet. */
export type EspOutcome = 'ok' | 'icv' | 'replay' | 'too-old' | 'malformed' | 'no-sa';

export interface EspEvent {
  readonly frames: number[];
  readonly at: number;
  readonly src: string;
  readonly dst: string;
  /** UDP ports for ESP in UDP. */
  readonly ports?: { src: number; dst: number };
  readonly spi: number;
  readonly seq: number;
  readonly outcome: EspOutcome;
  readonly setId?: number;
}

/** A frame the analyser could not read (it goes on with the next one). */
export interface FrameProblem {
  readonly frame: number;
  readonly reason: string;
}
