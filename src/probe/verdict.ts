/**
 * Verdicts of the probe (R-LAB-3): for each check PASS, FAIL or NOT TESTABLE with the reason,
 * the SPEC IDs and the clause it follows, and its packet evidence (frame numbers of the pcap).
 */
export type Verdict = 'PASS' | 'FAIL' | 'NOT TESTABLE';

export interface EvidenceItem {
  /** Frame number in the run's pcap (1-based); 0 when the datagram was not recorded. */
  frame: number;
  note: string;
}

export interface CheckResult {
  id: string;
  title: string;
  spec: string[];
  clause: string;
  verdict: Verdict;
  reason: string;
  evidence: EvidenceItem[];
  ms: number;
}

export interface ProbeReport {
  target: string;
  datapath: 'userspace' | 'xfrm';
  subscriber: string;
  startedAt: string;
  results: CheckResult[];
  bounds: Record<string, number>;
  frames: number;
  datagramsSent: number;
}

/** Exit status of a run: 1 when any check failed, else 0 (NOT TESTABLE is not a failure). */
export function exitStatus(r: ProbeReport): number {
  return r.results.some((c) => c.verdict === 'FAIL') ? 1 : 0;
}

export function tally(r: ProbeReport): Record<Verdict, number> {
  const t: Record<Verdict, number> = { PASS: 0, FAIL: 0, 'NOT TESTABLE': 0 };
  for (const c of r.results) t[c.verdict]++;
  return t;
}
