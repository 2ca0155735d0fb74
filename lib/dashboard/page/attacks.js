// The dashboard's attacks panel (state.attacks: lib/stats/attacks.ts, and state.series.attacks_*): a chart of alerts
// per minute stacked by severity class (drawn by app.js's chart code, as the other charts), alerts per rule with
// severity, the top offending clients (alerts, rules, last seen, the newest alert's evidence whole on a click). Shown
// once a detect alert has arrived (live), or when the range holds one (history). Loaded after app.js, which calls
// visorAttacks.render(state) on every state; plain browser JavaScript, no modules.
/* global uPlot */
(function () {
  'use strict';

  var dash = window.visorDashboard; // app.js (loaded first): its element builder and chart code
  var h = dash.h;
  /** The timeline's layers, top of the stack first: state.series keys, labels, colours (app.js's). */
  var LAYERS = [
    { key: 'attacks_critical', label: 'critical', color: dash.COLORS.s5 },
    { key: 'attacks_warning', label: 'warning', color: dash.COLORS.s4 },
    { key: 'attacks_info', label: 'info', color: dash.COLORS.requests },
  ];
  var chart; // the uPlot instance, made once the section is in the document
  var binMs = 0;
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
      h('div', { class: 'card chart-card attack-timeline' }, [
        h('div', { class: 'card-title', 'data-test': 'attack-timeline-title', text: 'Alerts per minute, by severity' }),
        h('div', { class: 'chart', id: 'chart-attacks', 'data-test': 'chart-attacks' }),
      ]),
      h('div', { class: 'panel-grid' }, [
        card('attack_rules', 'Rules fired', table('attack_rules', [['rule'], ['severity'], ['alerts', 'num'], ['last seen']])),
        card('attack_clients', 'Top offending clients', table('attack_clients', [['client'], ['alerts', 'num'], ['rules'], ['last seen']])),
      ]),
    ]);
    var health = document.getElementById('health-card');
    main.insertBefore(section, health || null);
    return section;
  }

  /** The chart buckets (state.series) summed into bins of a minute, or of the buckets when they are coarser (a
   * history range of days): live buckets are seconds, and alerts are few; a bar per second would be a hairline. */
  function bins(state) {
    var s = state.series;
    var width = Math.max(60000, state.bucket_ms);
    var x = [];
    var own = LAYERS.map(function () { return []; });
    for (var i = 0; i < s.t.length; i++) {
      var b = Math.floor(s.t[i] / width) * width / 1000;
      if (x[x.length - 1] !== b) { x.push(b); own.forEach(function (l) { l.push(0); }); }
      for (var k = 0; k < LAYERS.length; k++) own[k][x.length - 1] += (s[LAYERS[k].key] || [])[i] || 0;
    }
    return { width: width, x: x, own: own };
  }
  function drawTimeline(state) {
    var b = bins(state);
    binMs = b.width;
    if (!chart) {
      var value = dash.stackedValue('attacks', fmtInt);
      // Bars from each bin's start to its end (align 1); the x range ends with the last bin's end.
      var bars = uPlot.paths.bars({ align: 1, size: [0.9, Infinity] });
      chart = dash.makeChart('attacks', LAYERS.map(function (l) {
        // No stroke: an empty bin (0) draws nothing.
        return { label: l.label, stroke: l.color, width: 0, fill: dash.fill(l.color, 0.75), paths: bars, value: value };
      }), function (v) { return v % 1 ? '' : fmtInt(v); }, function (u, min, max) { return [0, Math.max(1, Math.ceil((max || 0) * 1.1))]; }, undefined,
      // Whole minutes need no seconds: ticks far enough apart for minutes (a label is ~40 px).
      { range: function (u, min, max) { return [min, max + binMs / 1000]; }, space: 60, bins: true });
    }
    section.querySelector('[data-test="attack-timeline-title"]').textContent = 'Alerts per ' + (b.width === 60000 ? 'minute' : dash.fmtDuration(b.width)) + ', by severity';
    dash.setStacked('attacks', b.x, b.own);
    dash.syncLegends();
    // uPlot commits a new chart's first draw asynchronously: sync again once it has.
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(dash.syncLegends);
  }

  function redraw(state) {
    var a = state.attacks;
    section.querySelector('[data-test="attacks-note"]').textContent = fmtInt(a.alerts) + (state.history ? ' alerts in the range' : ' alerts since start')
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
    drawTimeline(state);
  }

  function render(state) {
    if (!state || !state.attacks || !(state.attacks.alerts > 0)) {
      if (section) section.style.display = 'none';
      return;
    }
    if (!ensureSection()) return;
    var key = JSON.stringify([state.attacks, state.series.t[0], state.bucket_ms].concat(LAYERS.map(function (l) { return state.series[l.key]; })));
    section.style.display = ''; // before drawing: the chart takes its width from the card
    if (key !== lastKey) {
      lastKey = key;
      redraw(state);
    }
  }

  window.visorAttacks = { render: render };
  render(window.visorDashboard.current());
})();
