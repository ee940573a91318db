/**
 * The terminal report: summary, the ladder in the demo's style (nodes/demo/print.ts, `→` clear,
 * `⇒` inside ESP), the SA sets and the findings with their frames, SPEC IDs and clauses.
 */
import { formatLadder, hexSpi, styles, type LadderEntry } from '../nodes/demo/index.js';
import type { AnalysisReport, LadderLine } from './analyzer.js';

function toEntry(l: LadderLine): LadderEntry {
  // The demo's ladder knows UDP and TCP; SCTP is shown in its Diameter tag all the same.
  return { seq: l.n, at: l.at, from: l.from, to: l.to, kind: l.kind, proto: l.transport as 'udp' | 'tcp', summary: l.summary, notes: l.notes, ...(l.esp ? { esp: { spi: l.esp.spi, seq: l.esp.seq } } : {}), ...(l.sip ? { sip: l.sip } : {}), ...(l.diameter ? { diameter: l.diameter } : {}) };
}

export function formatReport(r: AnalysisReport, opts: { color?: boolean; ladder?: boolean } = {}): string {
  const st = styles(opts.color);
  const s = r.summary;
  const out: string[] = [];
  for (const c of r.captures) out.push(st.bold(`capture ${c.file}`) + `: ${c.frames} frames, ${c.bytes} bytes`);
  out.push(`  ${s.sip} SIP, ${s.diameter} Diameter, ${s.esp.packets} ESP (${s.esp.verified} verified, ${s.esp.icvFailed} bad ICV, ${s.esp.replayed} replayed, ${s.esp.noKeys} without keys)`);
  out.push(`  keys: ${r.keys.akaVectors} MAA(s) with AKA vectors, ${r.keys.sasDerived} SAs derived by TS 33.203 Annex I, ${r.keys.sasGiven} given`);
  if (opts.ladder !== false && r.ladder.length > 0) {
    out.push('', st.bold('ladder') + st.dim(' (→ in the clear, ⇒ inside ESP; [frames])'));
    const lines = formatLadder(r.ladder.map(toEntry), { color: opts.color });
    lines.forEach((l, i) => out.push(`${l} ${st.dim(`[${r.ladder[i].frames.slice(0, 4).join(',')}${r.ladder[i].frames.length > 4 ? ',…' : ''}]`)}`));
    if (r.ladderOmitted > 0) out.push(st.dim(`  … ${r.ladderOmitted} more messages not shown`));
  }
  if (r.registrations.length > 0) {
    out.push('', st.bold('registrations'));
    for (const g of r.registrations) {
      const steps = g.steps.map((x) => `${x.kind}${x.protected ? '⇒' : '→'}${x.outcome ?? '…'}`).join(', ');
      const digest = g.digest.verified + g.digest.failed > 0 ? `, digest ${g.digest.failed ? st.red(`${g.digest.failed} failed`) : st.green(`${g.digest.verified} verified against XRES`)}` : '';
      const nonce = g.nonceMatchesMaa === undefined ? '' : g.nonceMatchesMaa ? ', nonce = MAA RAND‖AUTN' : st.red(', nonce ≠ MAA');
      out.push(`  #${g.index} ${g.impi} UE ${g.ue} via P-CSCF ${g.pcscf}: ${g.state}; ${steps}${digest}${nonce}`);
    }
  }
  if (r.saSets.length > 0) {
    out.push('', st.bold('SA sets') + st.dim(' (UE ports uc/us, P-CSCF ports pc/ps; SPIs inbound at each)'));
    for (const x of r.saSets.slice(0, 200)) {
      out.push(
        `  set ${x.id} ${x.impi} ${x.alg}/${x.ealg} ${x.mode} ${x.state}${x.keyed ? ` keyed from ${x.keySource === 'maa' ? 'the MAA' : x.keySource === 'file' ? 'the keys file' : "the S-CSCF's 401"}` : ' no keys'}: ` +
          `UE ${x.ue} uc ${x.uc} (${hexSpi(x.spiUc)}) us ${x.us} (${hexSpi(x.spiUs)}), P-CSCF ${x.pcscf} pc ${x.pc} (${hexSpi(x.spiPc)}) ps ${x.ps} (${hexSpi(x.spiPs)}); ESP ${x.esp.ok} ok, ${x.esp.icv} bad ICV, ${x.esp.replay} replayed`,
      );
    }
  }
  out.push('', st.bold(`findings: ${r.findings.length}`) + ` (${s.findings.error} error, ${s.findings.warning} warning, ${s.findings.info} info)`);
  const paint = { error: st.red, warning: st.yellow, info: st.cyan };
  for (const f of r.findings) {
    out.push(`  ${f.id} ${paint[f.severity](f.severity.padEnd(7))} ${f.spec} ${f.rule}  frames ${f.frames.slice(0, 12).join(', ')}${f.frames.length > 12 ? ', …' : ''}`);
    out.push(`     ${f.message}`);
    out.push(st.dim(`     ${f.clause}`));
  }
  if (r.findingsOmitted > 0) out.push(st.dim(`  … ${r.findingsOmitted} more findings not kept`));
  if (s.problems > 0) {
    out.push('', st.bold(`unreadable: ${s.problems} frame(s)`));
    for (const p of r.problems.slice(0, 10)) out.push(`  frame ${p.frame}: ${p.reason}`);
  }
  return out.join('\n') + '\n';
}
