/** The console's style sheet: system fonts, readable contrast, visible focus, no external resources. */
export const CONSOLE_CSS = `
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #fdfdfc; --muted: #59636e; --line: #d0d7de; --accent: #0b5cad; --ok: #116329; --warn: #8a4600; --esp: #6639ba; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9da7b3; --line: #30363d; --accent: #58a6ff; --ok: #3fb950; --warn: #d29922; --esp: #bc8cff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 1rem; padding: .6rem 1rem; border-bottom: 1px solid var(--line); }
header h1 { font-size: 1.2rem; margin: 0; }
header nav { display: flex; gap: .8rem; flex-wrap: wrap; margin-left: auto; align-items: baseline; }
main { padding: 0 1rem 2rem; }
section { margin-top: 1.2rem; }
h2 { font-size: 1.05rem; border-bottom: 1px solid var(--line); padding-bottom: .2rem; }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: .85rem; padding-bottom: .3rem; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; }
td ul { margin: 0; padding-left: 1rem; }
#ladder td { font-size: .9rem; }
code, pre, .mono, td.spi { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem; }
.empty { color: var(--muted); }
.state-active { color: var(--ok); font-weight: 600; }
.state-temporary { color: var(--warn); font-weight: 600; }
.state-old { color: var(--muted); }
.ladder-wrap { max-height: 28rem; overflow: auto; border: 1px solid var(--line); }
#ladder thead th { position: sticky; top: 0; background: var(--bg); }
#ladder tr.esp td.arrow { color: var(--esp); font-weight: 700; }
#ladder tr.diameter td.msg button { color: var(--warn); }
#ladder tr.selected { background: color-mix(in srgb, var(--accent) 15%, transparent); }
#ladder td.msg button { background: none; border: 0; padding: 0; color: var(--accent); cursor: pointer; font: inherit; text-align: left; text-decoration: underline; }
#ladder td.notes { color: var(--muted); font-size: .85rem; }
.filters { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; margin-bottom: .5rem; }
#message-detail { border: 1px solid var(--line); padding: .5rem 1rem; }
#message-text { white-space: pre-wrap; word-break: break-all; max-height: 30rem; overflow: auto; }
.stack fieldset { display: grid; grid-template-columns: minmax(10rem, max-content) minmax(16rem, 32rem); gap: .35rem .8rem; border: 1px solid var(--line); margin-top: 1rem; }
.stack legend { font-weight: 600; }
.stack .buttons { grid-column: 2; display: flex; gap: .5rem; }
input, select, textarea, button { font: inherit; color: inherit; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: .2rem .4rem; }
button { cursor: pointer; }
form.inline { display: inline; }
body.login main { max-width: 28rem; margin: 4rem auto; }
body.login form { display: flex; gap: .5rem; align-items: center; flex-wrap: wrap; }
[hidden] { display: none !important; }
`;
