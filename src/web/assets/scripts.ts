/**
 * The console's scripts, served as /assets/console.js and /assets/login.js (no build step, no
 * external code). Written in plain ES2017 without template literals so they can live in these
 * strings; every value from the server is put in the page with textContent, never as HTML.
 */

/** The console page's script: server-sent events, tables, filters, provisioning forms. */
export const CONSOLE_JS = String.raw`'use strict';
(function () {
  var $ = function (id) { return document.getElementById(id); };
  var el = function (tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  var state = { now: Date.now(), registrations: [], saSets: [] };
  var skew = 0;
  var entries = [];
  var users = new Set();
  var legs = new Set();
  var selected = null;
  var editing = null;
  var MAX_ROWS = 5000;

  function hexSpi(n) { return '0x' + (n >>> 0).toString(16).padStart(8, '0'); }
  function left(at) {
    var ms = at - (Date.now() + skew);
    if (ms <= 0) return 'expired';
    var s = Math.floor(ms / 1000);
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h > 0 ? h + 'h ' : '') + (h > 0 || m > 0 ? m + 'm ' : '') + r + 's';
  }
  function countdown(at) { var c = el('span', left(at), 'countdown mono'); c.dataset.at = String(at); return c; }
  function setStatus(t) { $('status').textContent = t; }

  // --- registrations and SA tables -------------------------------------------------------------
  // Replaces the rows of a table: one per item, keyed and headed by its IMPI.
  function fillByImpi(tableId, items, fill) {
    var body = $(tableId).tBodies[0];
    body.replaceChildren();
    items.forEach(function (item) {
      var tr = el('tr');
      tr.dataset.impi = item.impi;
      tr.append(el('td', item.impi, 'mono'));
      fill(tr, item);
      body.append(tr);
    });
  }

  function renderRegistrations() {
    fillByImpi('registrations', state.registrations, function (tr, r) {
      var set = el('td');
      var ul = el('ul');
      r.impus.forEach(function (u) { ul.append(el('li', u, 'mono')); });
      set.append(ul);
      tr.append(set);
      var c = el('td');
      r.contacts.forEach(function (b) { c.append(el('div', b.uri, 'mono')); });
      tr.append(c);
      var exp = el('td');
      r.contacts.forEach(function (b) { exp.append(countdown(b.expiresAt)); });
      tr.append(exp);
      tr.append(el('td', r.pcscf ? 'set ' + r.pcscf.setId + (r.pcscf.ending ? ' (ending: ' + r.pcscf.ending + ')' : '') : '—'));
    });
    $('registrations-empty').hidden = state.registrations.length > 0;
  }

  function renderSas() {
    var box = $('sa-tables');
    box.replaceChildren();
    var owners = [];
    state.saSets.forEach(function (s) { if (owners.indexOf(s.owner) < 0) owners.push(s.owner); });
    owners.forEach(function (owner) {
      var t = el('table', null, 'sa-table');
      t.dataset.owner = owner;
      var sets = state.saSets.filter(function (s) { return s.owner === owner; });
      var n = sets.reduce(function (a, s) { return a + s.sas.length; }, 0);
      t.append(el('caption', owner + ': ' + n + ' SA' + (n === 1 ? '' : 's') + ' in ' + sets.length + ' set' + (sets.length === 1 ? '' : 's')));
      var head = el('tr');
      ['Set', 'State', 'IMPI', 'SPI', 'Dir', 'Flow', 'Selector (src → dst)', 'alg/ealg', 'Lifetime left'].forEach(function (h) { var th = el('th', h); th.scope = 'col'; head.append(th); });
      var thead = el('thead'); thead.append(head); t.append(thead);
      var tb = el('tbody');
      sets.forEach(function (s) {
        s.sas.forEach(function (sa) {
          var tr = el('tr');
          tr.dataset.spi = String(sa.spi);
          tr.append(el('td', s.setId), el('td', s.state, 'state-' + s.state), el('td', s.impi, 'mono'), el('td', hexSpi(sa.spi), 'spi'), el('td', sa.direction), el('td', sa.flow, 'mono'), el('td', sa.src + ' → ' + sa.dst, 'mono'), el('td', sa.alg, 'mono'));
          var life = el('td'); life.append(countdown(s.expiresAt)); tr.append(life);
          tb.append(tr);
        });
      });
      t.append(tb);
      box.append(t);
    });
    $('sa-empty').hidden = state.saSets.length > 0;
  }

  function applyState(s) {
    skew = s.now - Date.now();
    state = s;
    renderRegistrations();
    renderSas();
  }

  setInterval(function () {
    document.querySelectorAll('.countdown').forEach(function (c) { c.textContent = left(Number(c.dataset.at)); });
  }, 1000);

  // --- ladder ------------------------------------------------------------------------------------
  function optionsFor(select, values, first) {
    var cur = select.value;
    select.replaceChildren(el('option', first));
    select.options[0].value = '';
    Array.from(values).sort().forEach(function (v) { var o = el('option', v); o.value = v; select.append(o); });
    select.value = cur;
  }
  function kindOf(e) { return e.esp ? 'esp' : e.kind; }
  function visible(e) {
    var u = $('filter-user').value, l = $('filter-leg').value, k = $('filter-kind').value;
    return (!u || e.users.indexOf(u) >= 0) && (!l || e.leg === l) && (!k || kindOf(e) === k);
  }
  function row(e) {
    var tr = el('tr', null, kindOf(e));
    tr.dataset.id = String(e.id);
    tr.dataset.leg = e.leg;
    var t = new Date(e.at);
    tr.append(el('td', e.id), el('td', t.toLocaleTimeString() + '.' + String(t.getMilliseconds()).padStart(3, '0'), 'mono'), el('td', e.from), el('td', e.esp ? '⇒' : '→', 'arrow'), el('td', e.to));
    var m = el('td', null, 'msg');
    var b = el('button', e.summary);
    b.type = 'button';
    b.setAttribute('aria-label', 'show ' + e.summary + ' from ' + e.from + ' to ' + e.to);
    b.addEventListener('click', function () { show(e, tr); });
    m.append(b);
    tr.append(m);
    tr.append(el('td', e.esp ? hexSpi(e.esp.spi) + ' / ' + e.esp.seq : '', 'spi'));
    tr.append(el('td', e.notes.join('; '), 'notes'));
    tr.hidden = !visible(e);
    return tr;
  }
  function count() {
    var shown = entries.filter(visible).length;
    $('ladder-count').textContent = shown + ' of ' + entries.length + ' messages';
  }
  function addEntry(e) {
    if (entries.length && e.id <= entries[entries.length - 1].id) return; // replayed on reconnect
    entries.push(e);
    var changed = false;
    e.users.forEach(function (u) { if (!users.has(u)) { users.add(u); changed = true; } });
    if (!legs.has(e.leg)) { legs.add(e.leg); optionsFor($('filter-leg'), legs, 'all legs'); }
    if (changed) optionsFor($('filter-user'), users, 'all users');
    var body = $('ladder').tBodies[0];
    body.append(row(e));
    while (entries.length > MAX_ROWS) { entries.shift(); body.firstElementChild.remove(); }
  }
  function refilter() {
    var rows = $('ladder').tBodies[0].rows;
    for (var i = 0; i < rows.length; i++) rows[i].hidden = !visible(entries[i]);
    count();
  }
  ['filter-user', 'filter-leg', 'filter-kind'].forEach(function (id) { $(id).addEventListener('change', refilter); });

  function show(e, tr) {
    if (selected) selected.classList.remove('selected');
    selected = tr;
    tr.classList.add('selected');
    $('detail-title').textContent = '#' + e.id + ' ' + e.summary + ' — ' + e.from + (e.esp ? ' ⇒ ' : ' → ') + e.to + (e.esp ? ' (ESP spi ' + hexSpi(e.esp.spi) + ', seq ' + e.esp.seq + ')' : '');
    $('message-text').textContent = 'loading…';
    $('message-detail').hidden = false;
    api('GET', '/api/messages/' + e.id).then(function (r) { $('message-text').textContent = r.text; $('message-text').focus(); }, function (err) { $('message-text').textContent = String(err.message || err); });
  }
  $('detail-close').addEventListener('click', function () { $('message-detail').hidden = true; if (selected) selected.querySelector('button').focus(); });

  // --- server ------------------------------------------------------------------------------------
  function api(method, url, body) {
    var init = { method: method, headers: { accept: 'application/json' }, credentials: 'same-origin' };
    if (body !== undefined) { init.headers['content-type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(url, init).then(function (res) {
      if (res.status === 401) { location.href = '/login'; throw new Error('signed out'); }
      if (res.status === 204) return null;
      return res.json().then(function (j) {
        if (!res.ok) throw new Error(j.message || ('HTTP ' + res.status));
        return j;
      });
    });
  }

  function connect() {
    var es = new EventSource('/api/events');
    es.addEventListener('open', function () { setStatus('live'); });
    es.addEventListener('state', function (m) { applyState(JSON.parse(m.data)); refreshSubscribersSoon(); });
    es.addEventListener('message', function (m) { addEntry(JSON.parse(m.data)); count(); });
    es.addEventListener('error', function () { setStatus('reconnecting…'); });
  }

  // --- subscribers -------------------------------------------------------------------------------
  var subTimer = null;
  function refreshSubscribersSoon() {
    if (subTimer === null) subTimer = setTimeout(function () { subTimer = null; loadSubscribers(); }, 1000);
  }
  function subResult(t) { $('subscriber-result').textContent = t; }
  function loadSubscribers() {
    return api('GET', '/api/hss/subscribers?limit=1000').then(function (r) {
      fillByImpi('subscribers', r.subscribers, function (tr, s) {
        var td = el('td');
        s.impus.forEach(function (u) { td.append(el('div', u.impu + ' (' + u.state.toLowerCase().replace(/_/g, ' ') + ')', 'mono')); });
        tr.append(td, el('td', s.amf, 'mono'), el('td', s.seqHe));
        var acts = el('td');
        var ed = el('button', 'Edit'); ed.type = 'button'; ed.setAttribute('aria-label', 'edit ' + s.impi);
        ed.addEventListener('click', function () { edit(s); });
        var del = el('button', 'Delete'); del.type = 'button'; del.setAttribute('aria-label', 'delete ' + s.impi);
        del.addEventListener('click', function () {
          if (!confirm('Delete ' + s.impi + '? A registered user is de-registered first.')) return;
          api('DELETE', '/api/hss/subscribers/' + encodeURIComponent(s.impi)).then(function () { subResult('deleted ' + s.impi); loadSubscribers(); }, function (e) { subResult(e.message); });
        });
        acts.append(ed, ' ', del);
        tr.append(acts);
      });
    }, function (e) { subResult(e.message); });
  }
  function resetForm() {
    editing = null;
    $('subscriber-form').reset();
    $('sub-impi').disabled = false;
    $('subscriber-legend').textContent = 'Add a subscriber';
    $('subscriber-submit').textContent = 'Add';
    $('subscriber-cancel').hidden = true;
  }
  function edit(s) {
    editing = s.impi;
    $('subscriber-form').reset();
    $('sub-impi').value = s.impi;
    $('sub-impi').disabled = true;
    $('sub-impus').value = s.impus.map(function (u) { return u.impu; }).join('\n');
    $('sub-amf').value = s.amf;
    $('subscriber-legend').textContent = 'Change ' + s.impi + ' (leave K, OPc and OP empty to keep them)';
    $('subscriber-submit').textContent = 'Save';
    $('subscriber-cancel').hidden = false;
    $('sub-impus').focus();
  }
  $('subscriber-cancel').addEventListener('click', resetForm);
  $('subscriber-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var body = {};
    var impus = $('sub-impus').value.split(/\s+/).filter(Boolean);
    if (impus.length) body.impus = impus;
    ['k', 'opc', 'op', 'amf'].forEach(function (f) { var v = $('sub-' + f).value.trim(); if (v) body[f] = v; });
    var done = function (verb) { return function (s) { subResult(verb + ' ' + s.impi); resetForm(); loadSubscribers(); }; };
    var fail = function (e) { subResult(e.message); };
    if (editing) api('PATCH', '/api/hss/subscribers/' + encodeURIComponent(editing), body).then(done('changed'), fail);
    else {
      body.impi = $('sub-impi').value.trim();
      api('POST', '/api/hss/subscribers', body).then(done('added'), fail);
    }
  });
  $('import-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var f = $('import-file').files[0];
    if (!f) { subResult('choose a file first'); return; }
    f.text().then(function (text) {
      var format = /\.csv$/i.test(f.name) || !/^\s*\[/.test(text) ? 'csv' : 'json';
      return api('POST', '/api/hss/subscribers/import', { format: format, text: text });
    }).then(function (r) { subResult('imported ' + r.imported + ' subscribers'); $('import-form').reset(); loadSubscribers(); }, function (e) { subResult(e.message); });
  });

  api('GET', '/api/session').then(function (s) { if (!s.keys) { $('keys-link').hidden = true; $('pcap-link').hidden = true; } }, function () {});
  connect();
  loadSubscribers().then(function () {}, function () { $('subscribers-section').hidden = true; });
  setInterval(loadSubscribers, 15000);
})();
`;

/** The login page's script. */
export const LOGIN_JS = String.raw`'use strict';
// A login link of the form /login#token=… (printed by the core) fills the form and signs in; the
// fragment never reaches the server or its logs, and is removed from the address bar at once.
(function () {
  function go() {
    var m = /^#token=([^&]+)$/.exec(location.hash);
    if (!m) return;
    history.replaceState(null, '', location.pathname);
    document.getElementById('token').value = decodeURIComponent(m[1]);
    document.getElementById('login-form').submit();
  }
  window.addEventListener('hashchange', go);
  go();
})();
`;
