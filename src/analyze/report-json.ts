/**
 * The `--json` document (schema `imsec-analyze/1`, documented in docs/analyze-json.md): plain
 * data, times as ISO 8601 strings, SPIs as numbers, no key material ever.
 */
import type { AnalysisReport } from './analyzer.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function reportJson(r: AnalysisReport): unknown {
  return {
    schema: r.schema,
    captures: r.captures,
    summary: r.summary,
    keys: r.keys,
    findings: r.findings,
    findingsOmitted: r.findingsOmitted,
    registrations: r.registrations.map((g) => ({
      index: g.index,
      impi: g.impi,
      ue: g.ue,
      pcscf: g.pcscf,
      state: g.state,
      impus: [...g.impus],
      steps: g.steps.map((s) => ({ kind: s.kind, time: iso(s.at), frames: s.frames, protected: s.protected, ...(s.outcome !== undefined ? { outcome: s.outcome } : {}), ...(s.setId !== undefined ? { set: s.setId } : {}) })),
      sets: g.sets,
      digest: g.digest,
      ...(g.nonceMatchesMaa !== undefined ? { nonceMatchesMaa: g.nonceMatchesMaa } : {}),
    })),
    saSets: r.saSets.map((s) => ({
      id: s.id,
      registration: s.registration,
      impi: s.impi,
      ue: s.ue,
      pcscf: s.pcscf,
      ports: { uc: s.uc, us: s.us, pc: s.pc, ps: s.ps },
      spis: { uc: s.spiUc, us: s.spiUs, pc: s.spiPc, ps: s.spiPs },
      alg: s.alg,
      ealg: s.ealg,
      mode: s.mode,
      keyed: s.keyed,
      ...(s.keySource ? { keySource: s.keySource } : {}),
      state: s.state,
      history: s.history.map((h) => ({ time: iso(h.at), state: h.state, frames: h.frames })),
      ...(s.expiresAt !== undefined ? { expires: iso(s.expiresAt) } : {}),
      esp: s.esp,
    })),
    ladder: r.ladder.map((l) => ({ ...l, at: undefined, time: iso(l.at) })),
    ladderOmitted: r.ladderOmitted,
    problems: r.problems,
    problemsOmitted: r.problemsOmitted,
  };
}
