/**
 * Text rendering of the demo: the message ladder (one line per message: number, sender → receiver,
 * message, ESP protection, the notes that matter for TS 33.203) and the SA tables of the UE and
 * the P-CSCF (TS 33.203 §7.1: one row per SA with its SPI, ports, transform and state). Pure
 * string building; colours (ANSI SGR) only when asked for.
 */
import type { DemoSaRow } from './demo-ue.js';
import type { LadderEntry } from './ladder.js';

export interface PrintOptions {
  /** ANSI colours (a terminal); default false. */
  color?: boolean;
}

/** ANSI SGR styles, or nothing. */
export function styles(color: boolean | undefined) {
  const s = (code: string) => (t: string) => (color ? `\x1b[${code}m${t}\x1b[0m` : t);
  return { bold: s('1'), dim: s('2'), green: s('32'), red: s('31'), cyan: s('36'), yellow: s('33'), magenta: s('35') };
}

/** `0x0000a1b2`. */
export function hexSpi(spi: number): string {
  return `0x${(spi >>> 0).toString(16).padStart(8, '0')}`;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/**
 * The ladder lines. `→` is a message in the clear, `⇒` one inside ESP (its SPI and sequence
 * number follow); Diameter lines are marked `Cx`.
 */
export function formatLadder(entries: readonly LadderEntry[], opts: PrintOptions = {}): string[] {
  if (entries.length === 0) return [];
  const st = styles(opts.color);
  const wf = Math.max(...entries.map((e) => e.from.length));
  const wt = Math.max(...entries.map((e) => e.to.length));
  const ws = Math.min(44, Math.max(...entries.map((e) => e.summary.length + (e.kind === 'diameter' ? 3 : 0))));
  return entries.map((e, i) => {
    const n = String(i + 1).padStart(3);
    const arrow = e.esp ? '⇒' : '→';
    const what = e.kind === 'diameter' ? `${e.diameter?.application ?? 'Cx'} ${e.summary}` : e.summary;
    const prot = e.esp ? st.green(`[ESP spi ${hexSpi(e.esp.spi)} seq ${e.esp.seq}]`) : e.kind === 'sip' ? st.dim('[no ESP]') : st.dim(`[Diameter/${e.proto.toUpperCase()}]`);
    const notes = e.notes.length > 0 ? ` ${st.dim(e.notes.join(' · '))}` : '';
    const shown = e.kind === 'diameter' ? st.magenta(pad(what, ws)) : e.sip?.status !== undefined ? st.yellow(pad(what, ws)) : st.cyan(pad(what, ws));
    return `  ${n}  ${pad(e.from, wf)} ${arrow} ${pad(e.to, wt)}  ${shown}  ${prot}${notes}`;
  });
}

/** TS 33.203 §7.1 flow names: which protected ports an SA joins. */
const FLOW_TEXT: Record<string, string> = {
  'uc-ps': 'UE port-c → P-CSCF port-s',
  'us-pc': 'UE port-s → P-CSCF port-c',
  'pc-us': 'P-CSCF port-c → UE port-s',
  'ps-uc': 'P-CSCF port-s → UE port-c',
};

/**
 * An SA table: one row per SA, sets in order. `impi` adds the IMPI column (the P-CSCF table holds
 * every registered UE). An empty table says so.
 */
export function formatSaTable(title: string, sas: readonly DemoSaRow[], opts: PrintOptions & { impi?: boolean } = {}): string[] {
  const st = styles(opts.color);
  if (sas.length === 0) return [`  ${st.bold(title)}: ${st.dim('no SA')}`];
  const rows = [...sas].sort((a, b) => a.setId - b.setId || a.flow.localeCompare(b.flow));
  const ep = (e: { address: string; port: number }) => `${e.address}:${e.port}`;
  const cells = rows.map((sa) => [
    String(sa.setId),
    sa.state,
    sa.direction,
    hexSpi(sa.spi),
    `${ep(sa.src)} → ${ep(sa.dst)}`,
    FLOW_TEXT[sa.flow] ?? sa.flow,
    `${sa.integrity}/${sa.encryption}`,
    ...(opts.impi ? [sa.impi] : []),
  ]);
  const head = ['set', 'state', 'dir', 'SPI', 'selector (src → dst)', 'flow', 'alg/ealg', ...(opts.impi ? ['IMPI'] : [])];
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => `    ${c.map((x, i) => pad(x, widths[i])).join('  ')}`.trimEnd();
  const sets = new Set(rows.map((r) => r.setId)).size;
  const stateColor = (s: string) => (s === 'active' ? st.green(s) : s === 'temporary' ? st.yellow(s) : st.dim(s));
  return [
    `  ${st.bold(title)}: ${rows.length} SA${rows.length === 1 ? '' : 's'} in ${sets} set${sets === 1 ? '' : 's'} (${rows[0].mode})`,
    st.dim(line(head)),
    ...cells.map((c, i) => {
      const text = line(c);
      // Colour the state cell only (after padding, so columns stay aligned).
      const state = rows[i].state;
      return opts.color ? text.replace(` ${pad(state, widths[1])} `, ` ${stateColor(pad(state, widths[1]))} `) : text;
    }),
  ];
}
