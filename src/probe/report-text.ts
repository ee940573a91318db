/** The probe's report for the terminal and as JSON (R-LAB-3). Keys never appear here. */
import { tally, type CheckResult, type ProbeReport } from './verdict.js';

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** One line per check, then its reason, SPEC IDs, clause and frames. */
export function formatResult(r: CheckResult): string {
  const frames = r.evidence.map((e) => `#${e.frame} ${e.note}`);
  return [
    `${pad(r.verdict, 12)} ${pad(r.id, 30)} ${r.title}`,
    `             ${r.reason}`,
    `             ${r.spec.join(' ')} · ${r.clause}`,
    ...(frames.length ? [`             frames: ${frames.join('; ')}`] : []),
  ].join('\n');
}

export function formatReport(rep: ProbeReport, files: { pcap?: string; keys?: string } = {}): string {
  const t = tally(rep);
  const b = rep.bounds;
  return [
    `imsec probe: P-CSCF ${rep.target}, datapath ${rep.datapath}, subscriber ${rep.subscriber}, ${rep.startedAt}`,
    `bounds: at most ${b.rate} datagrams/s; ${b.flood} half-open registrations; ${b.wrongRes} wrong-RES REGISTERs; ${b.saSets} SA sets; answer wait ${b.answerMs} ms; drop = ${b.quietMs} ms silence; reg-await-auth wait ${b.awaitAuthMs} ms`,
    '',
    ...rep.results.map(formatResult),
    '',
    `${t.PASS} PASS, ${t.FAIL} FAIL, ${t['NOT TESTABLE']} NOT TESTABLE; ${rep.datagramsSent} datagrams sent, ${rep.frames} frames${files.pcap ? ` in ${files.pcap}` : ''}${files.keys ? `, ESP keys (Wireshark esp_sa) in ${files.keys}` : ''}`,
  ].join('\n');
}

export function reportJson(rep: ProbeReport): string {
  return JSON.stringify({ ...rep, tally: tally(rep) }, null, 2);
}
