/**
 * The console's two HTML pages. Plain, accessible HTML (landmarks, labelled controls, tables with
 * header cells, a live region for status): no inline script or style, so the Content-Security-
 * Policy can forbid both (guard.ts). Everything dynamic is filled in by console.js with
 * textContent, never innerHTML, because message texts come from the network.
 */

export const LOGIN_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imsec console: sign in</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/login.js" defer></script>
</head>
<body class="login">
<main>
<h1>imsec console</h1>
<p>Give the token the core printed at start (<code>"token"</code> in its ready line), or the one in its <code>--token-file</code>.</p>
<form method="post" action="/login" id="login-form">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="off" required>
<button type="submit">Sign in</button>
</form>
<p id="login-error" role="alert" hidden>That token is not the right one.</p>
</main>
</body>
</html>
`;

export const CONSOLE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>imsec console</title>
<link rel="stylesheet" href="/assets/console.css">
<script src="/assets/console.js" defer></script>
</head>
<body>
<header>
<h1>imsec console</h1>
<p id="status" role="status" aria-live="polite">connecting…</p>
<nav aria-label="Downloads">
<a href="/capture.pcap" download id="pcap-link">capture (pcap)</a>
<a href="/capture.lua" download>tshark ESP helper (lua)</a>
<a href="/capture.keys" download id="keys-link">ESP keys (esp_sa)</a>
<a href="/metrics">metrics</a>
<form method="post" action="/logout" class="inline"><button type="submit">Sign out</button></form>
</nav>
</header>
<main>
<section aria-labelledby="reg-title">
<h2 id="reg-title">Registrations</h2>
<table id="registrations">
<caption>Registered users at the S-CSCF, with their implicit registration sets and the P-CSCF's SA set</caption>
<thead><tr><th scope="col">IMPI</th><th scope="col">Implicit set</th><th scope="col">Contact</th><th scope="col">Expires in</th><th scope="col">P-CSCF SA set</th></tr></thead>
<tbody></tbody>
</table>
<p id="registrations-empty" class="empty">No registration.</p>
</section>

<section aria-labelledby="sa-title">
<h2 id="sa-title">SA tables</h2>
<div id="sa-tables"></div>
<p id="sa-empty" class="empty">No SA.</p>
</section>

<section aria-labelledby="ladder-title">
<h2 id="ladder-title">Message ladder</h2>
<form id="ladder-filters" class="filters">
<label for="filter-user">User</label>
<select id="filter-user"><option value="">all users</option></select>
<label for="filter-leg">Leg</label>
<select id="filter-leg"><option value="">all legs</option></select>
<label for="filter-kind">Protocol</label>
<select id="filter-kind"><option value="">all</option><option value="sip">SIP</option><option value="esp">SIP in ESP</option><option value="diameter">Diameter</option></select>
<span id="ladder-count" aria-live="polite"></span>
</form>
<div class="ladder-wrap">
<table id="ladder">
<caption>Every SIP and Diameter message decoded from the wire; ⇒ marks SIP inside ESP. Choose a message to read it whole.</caption>
<thead><tr><th scope="col">#</th><th scope="col">Time</th><th scope="col">From</th><th scope="col"></th><th scope="col">To</th><th scope="col">Message</th><th scope="col">ESP SPI / seq</th><th scope="col">Notes</th></tr></thead>
<tbody></tbody>
</table>
</div>
<section id="message-detail" aria-labelledby="detail-title" hidden>
<h3 id="detail-title">Message</h3>
<pre id="message-text" tabindex="0"></pre>
<button type="button" id="detail-close">Close</button>
</section>
</section>

<section aria-labelledby="subs-title" id="subscribers-section">
<h2 id="subs-title">Subscribers</h2>
<p>Provisioned through the HSS REST API. K, OP and OPc are write-only: they are never shown, and left empty they are kept.</p>
<table id="subscribers">
<caption>Subscribers of the HSS</caption>
<thead><tr><th scope="col">IMPI</th><th scope="col">IMPUs (state)</th><th scope="col">AMF</th><th scope="col">SEQ</th><th scope="col">Actions</th></tr></thead>
<tbody></tbody>
</table>
<form id="subscriber-form" class="stack">
<fieldset>
<legend id="subscriber-legend">Add a subscriber</legend>
<label for="sub-impi">IMPI</label>
<input id="sub-impi" name="impi" required placeholder="carol@ims.lab" autocomplete="off">
<label for="sub-impus">IMPUs (one per line, default first)</label>
<textarea id="sub-impus" name="impus" rows="2" required placeholder="sip:carol@ims.lab"></textarea>
<label for="sub-k">K (32 hex digits)</label>
<input id="sub-k" name="k" type="password" autocomplete="off" pattern="[0-9a-fA-F]{32}">
<label for="sub-opc">OPc (32 hex digits)</label>
<input id="sub-opc" name="opc" type="password" autocomplete="off" pattern="[0-9a-fA-F]{32}">
<label for="sub-op">or OP (32 hex digits; turned into OPc, never stored)</label>
<input id="sub-op" name="op" type="password" autocomplete="off" pattern="[0-9a-fA-F]{32}">
<label for="sub-amf">AMF (4 hex digits)</label>
<input id="sub-amf" name="amf" placeholder="8000" pattern="[0-9a-fA-F]{4}">
<div class="buttons">
<button type="submit" id="subscriber-submit">Add</button>
<button type="button" id="subscriber-cancel" hidden>Cancel</button>
</div>
</fieldset>
</form>
<form id="import-form" class="stack">
<fieldset>
<legend>Import</legend>
<label for="import-file">A CSV or JSON file of subscribers, as <code>imsec hss import</code> reads it (every row checked, all or none)</label>
<input id="import-file" type="file" accept="application/json,.json">
<button type="submit">Import</button>
</fieldset>
</form>
<p id="subscriber-result" role="status" aria-live="polite"></p>
</section>
</main>
</body>
</html>
`;
