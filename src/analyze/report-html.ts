/**
 * `--html FILE`: one self-contained page (inline CSS, no script, no external resource) with the
 * summary, the findings linked to their frames, the ladder with frame anchors and the SA sets
 * over time. Every text from the capture is HTML-escaped.
 */
import type { AnalysisReport } from './analyzer.js';

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const iso = (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '');
const spi = (n: number) => `0x${(n >>> 0).toString(16).padStart(8, '0')}`;

export function reportHtml(r: AnalysisReport): string {
  const e = escapeHtml;
  const frameOf = new Map<number, number>();
  r.ladder.forEach((l) => l.frames.forEach((f) => frameOf.set(f, l.n)));
  const frameLink = (f: number) => (frameOf.has(f) ? `<a href="#m${frameOf.get(f)}">${f}</a>` : `${f}`);
  const s = r.summary;
  const findings = r.findings
    .map((f) => `<tr class="${f.severity}"><td id="${e(f.id)}">${e(f.id)}</td><td>${e(f.severity)}</td><td>${e(f.spec)}</td><td><code>${e(f.rule)}</code></td><td>${f.frames.map(frameLink).join(', ')}</td><td>${e(f.message)}<br><small>${e(f.clause)}</small></td></tr>`)
    .join('\n');
  const byFrame = new Map<number, string[]>();
  for (const f of r.findings) for (const n of f.frames) byFrame.set(n, [...(byFrame.get(n) ?? []), f.id]);
  const ladder = r.ladder
    .map((l) => {
      const refs = [...new Set(l.frames.flatMap((f) => byFrame.get(f) ?? []))].map((id) => `<a href="#${e(id)}">${e(id)}</a>`).join(' ');
      const prot = l.esp ? `<span class="esp">ESP ${spi(l.esp.spi)} seq ${l.esp.seq}</span>` : l.kind === 'sip' ? '<span class="clear">clear</span>' : `Diameter/${e(l.transport.toUpperCase())}`;
      return `<tr id="m${l.n}"><td>${l.n}</td><td>${l.frames.join(', ')}</td><td>${e(iso(l.at))}</td><td>${e(l.from)}</td><td>${l.esp ? '⇒' : '→'}</td><td>${e(l.to)}</td><td>${e(l.summary)}</td><td>${prot}</td><td>${e(l.notes.join(' · '))}</td><td>${refs}</td></tr>`;
    })
    .join('\n');
  const sets = r.saSets
    .map((x) => `<tr><td>${x.id}</td><td>${e(x.impi)}</td><td>${e(`${x.alg}/${x.ealg} ${x.mode}`)}</td><td>${e(`${x.ue} uc ${x.uc} (${spi(x.spiUc)}) us ${x.us} (${spi(x.spiUs)})`)}</td><td>${e(`${x.pcscf} pc ${x.pc} (${spi(x.spiPc)}) ps ${x.ps} (${spi(x.spiPs)})`)}</td><td>${x.keyed ? 'yes' : 'no'}</td><td>${x.history.map((h) => `${e(iso(h.at))} ${e(h.state)} (frame ${h.frames.map(frameLink).join(', ')})`).join('<br>')}</td><td>${x.esp.ok} ok, ${x.esp.icv} bad ICV, ${x.esp.replay} replayed</td></tr>`)
    .join('\n');
  const regs = r.registrations.map((g) => `<li>${e(g.impi)} (UE ${e(g.ue)}): ${e(g.state)}; ${g.steps.map((x) => e(`${x.kind} ${x.protected ? '⇒' : '→'} ${x.outcome ?? '…'}`)).join(', ')}; digest verified ${g.digest.verified}, failed ${g.digest.failed}</li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>imsec analyze</title>
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<style>body{font:14px system-ui,sans-serif;margin:1.5em}table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:2px 6px;vertical-align:top;text-align:left}
tr.error td{background:#fde8e8}tr.warning td{background:#fff6dd}tr.info td{background:#eef5ff}.esp{color:#070}.clear{color:#888}code{font-size:12px}tr:target td{outline:2px solid #36c}</style></head><body>
<h1>imsec analyze</h1>
<p>${r.captures.map((c) => `${e(c.file)}: ${c.frames} frames, ${c.bytes} bytes`).join('<br>')}</p>
<p>${s.sip} SIP, ${s.diameter} Diameter, ${s.esp.packets} ESP (${s.esp.verified} verified, ${s.esp.icvFailed} bad ICV, ${s.esp.replayed} replayed, ${s.esp.noKeys} without keys). Findings: ${s.findings.error} error, ${s.findings.warning} warning, ${s.findings.info} info.</p>
<h2>Findings</h2><table><tr><th>id</th><th>severity</th><th>SPEC</th><th>rule</th><th>frames</th><th>message</th></tr>
${findings}</table>
<h2>Registrations</h2><ul>${regs}</ul>
<h2>SA sets over time</h2><table><tr><th>set</th><th>IMPI</th><th>transform</th><th>UE</th><th>P-CSCF</th><th>keys</th><th>history</th><th>ESP</th></tr>
${sets}</table>
<h2>Ladder</h2><table><tr><th>#</th><th>frames</th><th>time</th><th>from</th><th></th><th>to</th><th>message</th><th>protection</th><th>notes</th><th>findings</th></tr>
${ladder}</table>
</body></html>
`;
}
