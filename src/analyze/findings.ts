/**
 * The finding sink: numbers findings, merges repeats of the same rule on the same subject into one
 * finding with more frames, and bounds memory (a capture with a million broken packets yields a
 * bounded report: {@link MAX_FINDINGS} findings, {@link MAX_FRAMES_PER_FINDING} frames each).
 */
import type { Finding } from './types.js';

export const MAX_FINDINGS = 5000;
export const MAX_FRAMES_PER_FINDING = 200;

/** What a check reports; `subject` groups repeats (same rule + subject → one finding). */
export type FindingInput = Omit<Finding, 'id'> & { subject?: string };

export class FindingSink {
  readonly list: Finding[] = [];
  private readonly bySubject = new Map<string, Finding>();
  /** The frame lists of the events behind each finding (they grow while capture duplicates arrive). */
  private readonly sources = new Map<Finding, number[][]>();
  /** Findings not kept because of {@link MAX_FINDINGS}. */
  dropped = 0;

  add(f: FindingInput): Finding | undefined {
    if (f.subject !== undefined) {
      const k = `${f.rule}|${f.subject}`;
      const seen = this.bySubject.get(k);
      if (seen) {
        const src = this.sources.get(seen)!;
        if (src.length < MAX_FRAMES_PER_FINDING) src.push(f.frames);
        return seen;
      }
      const made = this.make(f);
      if (made) this.bySubject.set(k, made);
      return made;
    }
    return this.make(f);
  }

  private make(f: FindingInput): Finding | undefined {
    if (this.list.length >= MAX_FINDINGS) {
      this.dropped++;
      return undefined;
    }
    const out: Finding = { id: `F${this.list.length + 1}`, rule: f.rule, severity: f.severity, spec: f.spec, clause: f.clause, frames: [], message: f.message };
    if (f.registration !== undefined) out.registration = f.registration;
    this.list.push(out);
    this.sources.set(out, [f.frames]);
    return out;
  }

  /** The findings with their frames gathered (sorted, at most {@link MAX_FRAMES_PER_FINDING}). */
  finish(): Finding[] {
    for (const f of this.list) {
      const all = new Set<number>();
      for (const fr of this.sources.get(f) ?? []) for (const n of fr) all.add(n);
      f.frames = [...all].sort((a, b) => a - b).slice(0, MAX_FRAMES_PER_FINDING);
    }
    return this.list;
  }
}
