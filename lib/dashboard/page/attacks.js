// The dashboard's attacks panel (state.attacks: lib/stats/attacks.ts, and state.series.attacks): alerts per rule with
// severity, the top offending clients (alerts, rules, last seen, the newest alert's evidence whole on a click) and a
// timeline of alerts per chart bucket. Shown once a detect alert has arrived. Loaded after app.js, which calls
// visorAttacks.render(state) on every state; plain browser JavaScript, no modules.
(function () {
  'use strict';

  var h = window.visorDashboard.h; // app.js's element builder (app.js is loaded first)
  var intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  function fmtInt(n) { return intFmt.format(n); }
  function pad(n) { return n < 10 ? '0' + n : String(n); }
  function fmtTime(ms) {
    var d = new Date(ms);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  var section;
  var lastKey = '';
  var opened = {}; // client -> evidence shown: kept open across the live updates

  function table(id, columns) {
    return h('table', { class: 'top-table', 'data-test': 'table-' + id }, [
      h('thead', null, [h('tr', null, columns.map(function (c) { return h('th', { class: c[1] || '', text: c[0] }); }))]),
      h('tbody', { id: 'rows-' + id }),
    ]);
  }
  function card(id, title, body) {
    return h('div', { class: 'card table-card' }, [
      h('div', { class: 'card-title' }, [h('span', { text: title })]),
      body,
    ]);
  }

  function ensureSection() {
    if (section && document.body.contains(section)) return section;
    var main = document.querySelector('main.grid');
    if (!main) return undefined;
    section = h('section', { class: 'panels attacks', 'data-test': 'attacks' }, [
      h('div', { class: 'panels-head' }, [h('h2', { text: 'Attacks' }), h('span', { class: 'card-note', 'data-test': 'attacks-note' })]),
      h('div', { class: 'panel-grid' }, [
        card('attack_rules', 'Rules fired', table('attack_rules', [['rule'], ['severity'], ['alerts', 'num'], ['last seen']])),
        card('attack_clients', 'Top offending clients', table('attack_clients', [['client'], ['alerts', 'num'], ['rules'], ['last seen']])),
        card('attack_timeline', 'Alerts per bucket', h('div', { 'data-test': 'attack-timeline', class: 'attack-timeline' })),
      ]),
    ]);
    var health = document.getElementById('health-card');
    main.insertBefore(section, health || null);
    return section;
  }

  function redraw(state) {
    var a = state.attacks;
    section.querySelector('[data-test="attacks-note"]').textContent = fmtInt(a.alerts) + ' alerts since start'
      + (a.error_bound > 0 ? ' · counts may exceed the true ones by at most ' + fmtInt(a.error_bound) : '');
    var body = document.getElementById('rows-attack_rules');
    body.textContent = '';
    a.rules.forEach(function (r) {
      body.appendChild(h('tr', { 'data-test': 'row-attack_rules', 'data-value': r.rule, 'data-count': String(r.alerts) }, [
        h('td', { class: 'value', text: r.rule }),
        h('td', { class: 'sev sev-' + String(r.severity).replace(/[^a-z0-9]/g, ''), text: r.severity }),
        h('td', { class: 'num', text: fmtInt(r.alerts) }),
        h('td', { text: fmtTime(r.last) }),
      ]));
    });
    body = document.getElementById('rows-attack_clients');
    body.textContent = '';
    a.clients.forEach(function (c) {
      var evidence = h('pre', { class: 'sample', 'data-test': 'evidence', text: c.evidence.join('\n') });
      // On a row of its own, the table's width (log lines are long), hidden until asked for.
      var evidenceRow = h('tr', { 'data-test': 'evidence-row', 'data-value': c.client }, [h('td', { colspan: '4' }, [evidence])]);
      evidenceRow.hidden = !opened[c.client];
      var toggle = h('button', { type: 'button', class: 'btn sample-toggle', 'data-test': 'evidence-toggle', 'aria-expanded': String(!!opened[c.client]), text: 'evidence' });
      toggle.addEventListener('click', function () {
        evidenceRow.hidden = !evidenceRow.hidden;
        if (evidenceRow.hidden) delete opened[c.client]; else opened[c.client] = true;
        toggle.setAttribute('aria-expanded', String(!evidenceRow.hidden));
      });
      body.appendChild(h('tr', { 'data-test': 'row-attack_clients', 'data-value': c.client, 'data-count': String(c.alerts) }, [
        h('td', { class: 'value' }, [h('div', { class: 'value-text', text: c.client }), toggle]),
        h('td', { class: 'num', text: fmtInt(c.alerts) }),
        h('td', { 'data-test': 'client-rules', text: c.rules.join(', ') }),
        h('td', { text: fmtTime(c.last) }),
      ]));
      body.appendChild(evidenceRow);
    });
    // The timeline: the chart buckets that saw alerts, as bars (the charts' buckets: state.series.t).
    var box = section.querySelector('[data-test="attack-timeline"]');
    box.textContent = '';
    var s = state.series || { t: [], attacks: [] };
    var counts = s.attacks || [];
    var max = 0;
    counts.forEach(function (n) { if (n > max) max = n; });
    counts.forEach(function (n, i) {
      if (!(n > 0)) return;
      var bar = h('div', { class: 'bar' });
      bar.style.width = Math.max(1, Math.round((n / max) * 100)) + '%';
      box.appendChild(h('div', { 'data-test': 'row-attack_timeline', 'data-time': String(s.t[i]), 'data-count': String(n) }, [
        h('span', { text: fmtTime(s.t[i]) + '  ' + fmtInt(n) }), h('div', { class: 'bar-track' }, [bar]),
      ]));
    });
    if (!box.childNodes.length) box.appendChild(h('div', { class: 'empty', text: 'No alerts in the charted history' }));
  }

  function render(state) {
    if (!state || !state.attacks || !(state.attacks.alerts > 0)) {
      if (section) section.style.display = 'none';
      return;
    }
    if (!ensureSection()) return;
    var key = JSON.stringify([state.attacks, state.series && state.series.attacks]);
    if (key !== lastKey) {
      lastKey = key;
      redraw(state);
    }
    section.style.display = '';
  }

  window.visorAttacks = { render: render };
  render(window.visorDashboard.current());
})();
