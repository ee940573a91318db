/**
 * `imsec analyze CAPTURE… [--keys FILE] [--export-keys FILE] [--json] [--html FILE]
 * [--fail-on SEVERITY] [--stall-seconds N]` (SPEC R-LAB-2): reads pcap/pcapng captures frame by
 * frame, finds the keys in them (Cx MAA, the S-CSCF's 401) or in the keys file, opens every ESP
 * packet, rebuilds every registration and checks SPEC.md's rules. Exit 0 when no finding is at or
 * above --fail-on (default error), 1 otherwise, 2 for bad arguments. A capture that cannot be
 * read gives one line naming the frame.
 */
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { Analyzer, formatReport, parseKeysFile, reportHtml, reportJson, severityRank, SEVERITIES, type AnalysisReport, type Severity } from '../analyze/index.js';
import { readCaptureFile } from '../capture/index.js';
import { InvalidArgumentError } from '../common/index.js';
import { CliFailure } from './errors.js';

export interface AnalyzeFlags {
  keys?: string;
  exportKeys?: string;
  json?: boolean;
  html?: string;
  failOn?: string;
  stallSeconds?: string;
  ladder?: boolean;
  color?: boolean;
}

/** Runs the analysis of `files`; returns the report and the exit code. */
export function runAnalyze(files: string[], o: AnalyzeFlags, out: NodeJS.WritableStream = process.stdout): { report: AnalysisReport; exitCode: number } {
  const failOn = (o.failOn ?? 'error') as Severity;
  if (!SEVERITIES.includes(failOn)) throw new InvalidArgumentError(`--fail-on must be one of ${SEVERITIES.join(', ')}`, 'fail-on');
  const stall = o.stallSeconds === undefined ? 30 : Number(o.stallSeconds);
  if (!Number.isFinite(stall) || stall <= 0) throw new InvalidArgumentError('--stall-seconds must be a positive number', 'stall-seconds');
  let keys;
  if (o.keys !== undefined) {
    let text: string;
    try {
      text = readFileSync(o.keys, 'utf8');
    } catch (e) {
      throw new CliFailure(`cannot read keys file ${o.keys}: ${(e as NodeJS.ErrnoException).code ?? 'error'}`, 2);
    }
    keys = parseKeysFile(text);
  }
  const a = new Analyzer({ ...(keys ? { keys } : {}), stallMs: stall * 1000 });
  for (const f of files) {
    let got;
    try {
      got = readCaptureFile(f, (frame) => a.frame(frame));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') throw new CliFailure(`cannot read ${f}: ${code}`, 2);
      throw new CliFailure(`${f}: ${(e as Error).message}`, 1);
    }
    a.capture(f, got.frames, got.bytes);
  }
  const report = a.finish();
  if (o.exportKeys !== undefined) {
    // Secret: owner-only, also when the file was there before (mode applies only to new files).
    writeFileSync(o.exportKeys, '', { mode: 0o600 });
    chmodSync(o.exportKeys, 0o600);
    writeFileSync(o.exportKeys, a.exportLines().map((l) => `${l}\n`).join(''));
  }
  if (o.html !== undefined) writeFileSync(o.html, reportHtml(report));
  const tty = (out as NodeJS.WriteStream).isTTY === true;
  out.write(o.json ? `${JSON.stringify(reportJson(report), null, 2)}\n` : formatReport(report, { color: o.color !== false && tty && process.env.NO_COLOR === undefined, ladder: o.ladder !== false }));
  const failing = report.findings.some((f) => severityRank(f.severity) >= severityRank(failOn));
  return { report, exitCode: failing ? 1 : 0 };
}

/** Adds `imsec analyze`. */
export function registerAnalyze(program: Command): void {
  program
    .command('analyze')
    .description('read IMS captures (pcap/pcapng), decrypt ESP with keys found in them, rebuild registrations and check every TS 33.203 rule')
    .argument('<capture...>', 'pcap or pcapng files, read in order as one capture')
    .option('--keys <file>', 'Wireshark esp_sa records or ip xfrm state lines with ESP keys')
    .option('--export-keys <file>', 'write the esp_sa records derived from the capture (mode 0600; secret)')
    .option('--json', 'print the report as JSON (schema imsec-analyze/1, docs/analyze-json.md)')
    .option('--html <file>', 'write a self-contained HTML report')
    .option('--fail-on <severity>', 'exit 1 when a finding is at or above: info, warning, error', 'error')
    .option('--stall-seconds <n>', 'diagnose a registration with no protected REGISTER this long after the 401', '30')
    .option('--no-ladder', 'leave the ladder out of the terminal report')
    .option('--no-color', 'no ANSI colours')
    .action((files: string[], o: AnalyzeFlags) => {
      const { exitCode } = runAnalyze(files, o);
      if (exitCode !== 0) throw new CliFailure('findings at or above --fail-on', exitCode);
    });
}
