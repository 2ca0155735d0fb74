// The Visor dashboard page: renders a DashboardState (lib/dashboard/model.ts) into the document.
// One script for both modes: `live` (served by the dashboard output; states arrive over Server-Sent Events)
// and `static` (the self-contained HTML of `visor analyze --html`; the state is embedded as JSON).
// Plain browser JavaScript, no modules and no network beyond the SSE stream, so it can be inlined as is.
/* global uPlot */
(function () {
  'use strict';

  var config = readJson('visor-config') || { mode: 'static' };
  var live = config.mode === 'live';
  // With a store (config.history): a time-range picker and drill-down filters, answered by GET api/history with a
  // state of the same shape as the live one (plus `history`: its source and resolution).
  var historyUrl = live ? config.history : undefined;

  // ---------- formatting ----------
  var intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  function fmtInt(n) { return intFmt.format(n); }
  function fmtRate(n) {
    if (!isFinite(n)) return '–';
    if (n >= 1000) return fmtCompact(n);
    return n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2);
  }
  function fmtCompact(n) {
    var units = ['', 'k', 'M', 'G', 'T'];
    var i = 0;
    while (Math.abs(n) >= 1000 && i < units.length - 1) { n /= 1000; i++; }
    return (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2)) + units[i];
  }
  function fmtBytes(n, decimals) {
    if (!isFinite(n)) return '–';
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    var d = decimals === undefined ? 2 : decimals;
    return (i === 0 ? n.toFixed(0) : n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(Math.min(1, d)) : n.toFixed(d)) + ' ' + units[i];
  }
  function fmtPct(r) { return r === null || r === undefined || !isFinite(r) ? '–' : (r * 100).toFixed(2) + '%'; }
  function fmtDuration(ms) {
    if (ms === null || ms === undefined) return 'all data';
    var s = Math.round(ms / 1000);
    if (s % 3600 === 0) return s / 3600 + ' h';
    if (s % 60 === 0) return s / 60 + ' min';
    return s + ' s';
  }
  function fmtTime(ms) {
    var d = new Date(ms);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function fmtDateTime(ms) {
    var d = new Date(ms);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + fmtTime(ms);
  }
  function pad(n) { return n < 10 ? '0' + n : String(n); }

  // ---------- DOM helpers ----------
  function readJson(id) {
    var el = document.getElementById(id);
    if (!el) return undefined;
    try { return JSON.parse(el.textContent || ''); } catch (e) { return undefined; }
  }
  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (attrs[k] === undefined || attrs[k] === null) continue;
      if (k === 'text') el.textContent = attrs[k];
      else if (k === 'class') el.className = attrs[k];
      else el.setAttribute(k, attrs[k]);
    }
    if (children) for (var i = 0; i < children.length; i++) if (children[i]) el.appendChild(children[i]);
    return el;
  }
  function $(sel) { return document.querySelector(sel); }

  // ---------- layout (built once) ----------
  var KPIS = [
    { id: 'rps', label: 'Requests / s', hint: live ? 'last 5 s' : 'average' },
    { id: 'errors-per-s', label: '5xx / s', hint: live ? 'last 5 s' : 'average', tone: 'bad' },
    { id: 'error-rate', label: 'Error rate (5xx)', hint: '', tone: 'bad' },
    { id: 'bytes-per-s', label: 'Bytes / s', hint: live ? 'last 5 s' : 'average' },
    { id: 'requests', label: 'Requests', hint: '' },
    { id: 'error-log-lines', label: 'Error-log lines', hint: '' },
  ];
  var TABLES = [
    { id: 'clients', title: 'Top client IPs', column: 'client', of: 'requests' },
    { id: 'paths', title: 'Top URLs', column: 'path', of: 'requests' },
    { id: 'error_clients', title: 'Top 5xx client IPs', column: 'client', of: 'errors' },
  ];
  var CHARTS = [
    { id: 'traffic', title: 'Requests and 5xx errors per second' },
    { id: 'error-rate', title: 'Error rate (5xx share of requests)' },
    { id: 'status', title: 'Status classes per second (stacked)' },
    { id: 'bytes', title: 'Bytes per second' },
  ];

  function buildLayout() {
    var root = document.getElementById('app');
    root.textContent = '';
    var statusPill = h('span', { class: 'pill', 'data-test': 'status', 'data-state': live ? 'connecting' : 'static', text: live ? 'connecting…' : 'snapshot' });
    var controls = [statusPill, h('span', { class: 'updated', 'data-test': 'updated', text: '' })];
    if (live) {
      var pause = h('button', { type: 'button', class: 'btn', 'data-test': 'pause', text: 'Pause' });
      pause.addEventListener('click', togglePause);
      controls.push(pause);
    }
    root.appendChild(h('header', { class: 'top' }, [
      h('div', { class: 'brand' }, [
        h('span', { class: 'logo', 'aria-hidden': 'true' }),
        h('div', null, [
          h('h1', { 'data-test': 'title', text: 'Visor' }),
          h('div', { class: 'subtitle', 'data-test': 'subtitle', text: live ? 'Apache traffic, live' : 'Apache log analysis' }),
        ]),
      ]),
      h('div', { class: 'controls' }, controls),
    ]));

    if (historyUrl) root.appendChild(buildPicker());

    var kpis = h('section', { class: 'kpis' }, KPIS.map(function (k) {
      return h('div', { class: 'kpi' + (k.tone ? ' tone-' + k.tone : ''), 'data-kpi': k.id }, [
        h('div', { class: 'kpi-label', text: k.label }),
        h('div', { class: 'kpi-value', 'data-test': 'kpi-' + k.id, text: '–' }),
        h('div', { class: 'kpi-hint', 'data-test': 'kpi-' + k.id + '-hint', text: k.hint }),
      ]);
    }));

    var charts = h('section', { class: 'charts' }, CHARTS.map(function (c) {
      return h('div', { class: 'card chart-card' }, [
        h('div', { class: 'card-title', text: c.title }),
        h('div', { class: 'chart', id: 'chart-' + c.id, 'data-test': 'chart-' + c.id }),
      ]);
    }));

    var alertsCard = h('div', { class: 'card alerts-card' }, [
      h('div', { class: 'card-title' }, [h('span', { text: 'Recent alerts' }), h('span', { class: 'card-note', 'data-test': 'alerts-count', text: '' })]),
      h('ul', { class: 'alerts', id: 'alerts', 'data-test': 'alerts' }),
    ]);
    // A static report (`visor analyze --html`) runs no alert rules: no alerts panel.
    var overview = h('section', { class: 'overview' + (live ? '' : ' no-alerts') }, live ? [charts, alertsCard] : [charts]);

    var tables = h('section', { class: 'tables' }, TABLES.map(function (t) {
      return h('div', { class: 'card table-card' }, [
        h('div', { class: 'card-title' }, [h('span', { text: t.title }), h('span', { class: 'card-note', 'data-test': 'window-' + t.id, text: '' })]),
        h('table', { class: 'top-table', 'data-test': 'table-' + t.id }, [
          h('thead', null, [h('tr', null, [
            h('th', { class: 'rank', text: '#' }), h('th', { text: t.column }), h('th', { class: 'num', text: 'count' }), h('th', { class: 'share', text: 'share' }),
          ])]),
          h('tbody', { id: 'rows-' + t.id }),
        ]),
        h('div', { class: 'bound', id: 'bound-' + t.id }),
      ]);
    }));

    var health = h('section', { class: 'card health-card', id: 'health-card' }, [
      h('div', { class: 'card-title' }, [h('span', { text: 'Pipeline health' }), h('span', { class: 'card-note', 'data-test': 'pipeline-state', text: '' })]),
      h('table', { class: 'health-table', 'data-test': 'health' }, [
        h('thead', null, [h('tr', null, ['component', 'type', 'status', 'in/s', 'out/s', 'buffer', 'unparsed', 'dropped', 'errors', 'lag'].map(function (c, i) {
          return h('th', { class: i >= 3 && i !== 5 ? 'num' : '', text: c });
        }))]),
        h('tbody', { id: 'health-rows' }),
      ]),
    ]);

    errorLog = window.visorErrorLog.create({ h: h, fmtInt: fmtInt, rangeText: rangeText, live: live });
    root.appendChild(h('main', { class: 'grid' }, [kpis, overview, tables, errorLog.element, health]));
    root.appendChild(h('footer', { class: 'foot', 'data-test': 'footer' }));
  }

  // ---------- history: range picker and filters ----------
  var RANGES = [
    { id: '15m', label: 'Live 15 min', ms: 15 * 60000 },
    { id: '1h', label: '1 h', ms: 3600000 },
    { id: '24h', label: '24 h', ms: 86400000 },
    { id: '7d', label: '7 d', ms: 7 * 86400000 },
    { id: 'custom', label: 'Custom' },
  ];
  var FILTERS = [
    { id: 'vhost', label: 'vhost', placeholder: 'any' },
    { id: 'status_class', label: 'status class', options: ['', '2xx', '3xx', '4xx', '5xx'] },
    { id: 'status', label: 'status', placeholder: 'e.g. 503' },
    { id: 'client', label: 'client', placeholder: 'IP' },
    { id: 'path', label: 'path', placeholder: '/…' },
  ];
  var view = { range: '15m', from: null, to: null, filters: {} };
  var historySeq = 0;
  var historyTimer;
  function localInput(ms) {
    var d = new Date(ms);
    return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
  }
  function buildPicker() {
    var ranges = RANGES.map(function (r) {
      var b = h('button', { type: 'button', class: 'btn range' + (r.id === view.range ? ' on' : ''), 'data-test': 'range-' + r.id, 'data-range': r.id, text: r.label });
      b.addEventListener('click', function () { setRange(r.id); });
      return b;
    });
    var from = h('input', { type: 'datetime-local', 'data-test': 'custom-from', 'aria-label': 'from' });
    var to = h('input', { type: 'datetime-local', 'data-test': 'custom-to', 'aria-label': 'to' });
    var apply = h('button', { type: 'button', class: 'btn', 'data-test': 'custom-apply', text: 'Show' });
    apply.addEventListener('click', function () {
      var f = Date.parse(from.value), t = Date.parse(to.value);
      if (!isFinite(f) || !isFinite(t) || t <= f) { showHistoryNote('error', 'custom range: give a start before the end'); return; }
      view.from = f; view.to = t; setRange('custom');
    });
    var custom = h('span', { class: 'custom', id: 'custom-range' }, [from, h('span', { text: '–' }), to, apply]);
    custom.style.display = 'none';
    var fields = FILTERS.map(function (f) {
      var input = f.options
        ? h('select', { 'data-test': 'filter-' + f.id, 'aria-label': f.label }, f.options.map(function (o) { return h('option', { value: o, text: o || 'any' }); }))
        : h('input', { type: 'text', 'data-test': 'filter-' + f.id, 'aria-label': f.label, placeholder: f.placeholder, size: f.id === 'status' ? '5' : '12' });
      input.addEventListener('change', applyFilters);
      return h('label', { class: 'filter' }, [h('span', { text: f.label }), input]);
    });
    var clear = h('button', { type: 'button', class: 'btn', 'data-test': 'filters-clear', text: 'Clear filters' });
    clear.addEventListener('click', function () {
      FILTERS.forEach(function (f) { $('[data-test="filter-' + f.id + '"]').value = ''; });
      applyFilters();
    });
    return h('section', { class: 'picker', 'data-test': 'picker' }, [
      h('div', { class: 'ranges' }, ranges.concat([custom])),
      h('div', { class: 'filters' }, fields.concat([clear])),
      h('div', { class: 'history-note', 'data-test': 'history-source', text: 'live, from memory' }),
      h('div', { class: 'history-unavailable', 'data-test': 'history-unavailable' }),
    ]);
  }
  function setRange(id) {
    view.range = id;
    Array.prototype.forEach.call(document.querySelectorAll('.range'), function (b) { b.classList.toggle('on', b.getAttribute('data-range') === id); });
    var custom = document.getElementById('custom-range');
    custom.style.display = id === 'custom' ? '' : 'none';
    if (id === 'custom' && view.from === null) {
      var now = Date.now();
      $('[data-test="custom-from"]').value = localInput(now - 3600000);
      $('[data-test="custom-to"]').value = localInput(now);
      return;
    }
    refreshView();
  }
  function applyFilters() {
    var f = {};
    FILTERS.forEach(function (d) {
      var v = $('[data-test="filter-' + d.id + '"]').value.trim();
      if (v) f[d.id] = v;
    });
    view.filters = f;
    refreshView();
  }
  function hasFilters() { for (var k in view.filters) return true; return false; }
  /** The live 15 min view comes from memory over the stream; every other view (or any filter) from api/history. */
  function inHistory() { return !!historyUrl && (view.range !== '15m' || hasFilters()); }
  function refreshView() {
    if (historyTimer) { clearTimeout(historyTimer); historyTimer = undefined; }
    if (!inHistory()) {
      historySeq++;
      showHistoryNote('', '');
      $('[data-test="history-source"]').textContent = 'live, from memory (1 s buckets)';
      document.body.setAttribute('data-view', 'live');
      if (current && !current.history) render(current);
      else if (lastLive) render(lastLive);
      return;
    }
    loadHistory();
  }
  function showHistoryNote(kind, text) {
    var el = $('[data-test="history-unavailable"]');
    el.textContent = text;
    el.setAttribute('data-kind', kind);
    el.style.display = text ? '' : 'none';
  }
  function describeSource(info) {
    if (info.source === 'none') return 'no data source';
    var text = info.source === 'windows'
      ? 'from window rows of "' + info.aggregate + '" at ' + info.resolution
      : 'from stored events, ' + info.resolution + ' buckets';
    text += ' · ' + fmtDateTime(info.from) + ' – ' + fmtDateTime(info.to);
    if (info.missing && info.missing.length) text += ' · not in this source: ' + info.missing.join('; ');
    return text;
  }
  function loadHistory() {
    var seq = ++historySeq;
    var now = Date.now();
    var range = RANGES.filter(function (r) { return r.id === view.range; })[0];
    var from = view.range === 'custom' ? view.from : now - range.ms;
    var to = view.range === 'custom' ? view.to : now;
    var params = ['from=' + Math.floor(from), 'to=' + Math.ceil(to)];
    for (var k in view.filters) params.push(k + '=' + encodeURIComponent(view.filters[k]));
    var url = historyUrl + (historyUrl.indexOf('?') >= 0 ? '&' : '?') + params.join('&');
    document.body.setAttribute('data-view', 'loading');
    fetch(url, { cache: 'no-store' }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (seq !== historySeq) return;
      if (!res.ok) {
        showHistoryNote('error', res.body && res.body.error ? res.body.error : 'history unavailable');
        document.body.setAttribute('data-view', 'error');
      } else {
        var info = res.body.history;
        showHistoryNote(info.unavailable ? 'unavailable' : '', info.unavailable ? 'Not shown: ' + info.unavailable : '');
        $('[data-test="history-source"]').textContent = describeSource(info);
        render(res.body);
        document.body.setAttribute('data-view', 'history');
        document.body.setAttribute('data-history', String(seq));
      }
      // A range that ends now moves with time: read it again every 10 s.
      if (view.range !== 'custom') historyTimer = setTimeout(function () { if (seq === historySeq) loadHistory(); }, 10000);
    }, function (err) {
      if (seq !== historySeq) return;
      showHistoryNote('error', 'history request failed: ' + err.message);
      document.body.setAttribute('data-view', 'error');
    });
  }

  // ---------- charts ----------
  var charts = {};
  var COLORS = {
    requests: '#60a5fa', errors: '#f87171', rate: '#fbbf24', bytes: '#a78bfa',
    s2: '#34d399', s3: '#38bdf8', s4: '#fbbf24', s5: '#f87171',
    axis: '#94a3b8', grid: 'rgba(148,163,184,0.14)',
  };
  function fill(color, alpha) {
    var r = parseInt(color.slice(1, 3), 16), g = parseInt(color.slice(3, 5), 16), b = parseInt(color.slice(5, 7), 16);
    return 'rgba(' + r + ',' + g + ',' + b + ',' + alpha + ')';
  }
  // One line per tick: seconds when the ticks need them, the date only when the chart spans days.
  function timeTicks(u, splits) {
    var span = splits.length > 1 ? splits[splits.length - 1] - splits[0] : 0;
    var seconds = splits.some(function (s) { return s % 60 !== 0; });
    return splits.map(function (s) {
      var d = new Date(s * 1000);
      var hm = pad(d.getHours()) + ':' + pad(d.getMinutes());
      if (span > 86400) return pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' + hm;
      return seconds ? hm + ':' + pad(d.getSeconds()) : hm;
    });
  }
  function axes(yFormat, ySize, xSpace) {
    var x = { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid }, values: timeTicks };
    if (xSpace) x.space = xSpace;
    return [
      x,
      { stroke: COLORS.axis, grid: { stroke: COLORS.grid, width: 1 }, ticks: { stroke: COLORS.grid }, size: ySize || 56, values: function (u, vals) { return vals.map(function (v) { return v === 0 ? '0' : yFormat(v); }); } },
    ];
  }
  function chartSize(el) {
    var w = Math.max(200, Math.floor(el.clientWidth || el.parentNode.clientWidth || 400));
    return { width: w, height: 170 };
  }
  // A stacked chart draws each layer as the running sum of it and the layers below (the largest first, so the
  // smaller fills lie on top); its legend shows the layer's own value, kept here per chart.
  var layers = {};
  /** Layer values, top layer first, of a stacked chart: drawn as running sums from the bottom layer up. */
  function setStacked(id, x, own) {
    layers[id] = own;
    var sums = new Array(own.length);
    for (var k = own.length - 1; k >= 0; k--) {
      sums[k] = own[k].map(function (v, i) { return k === own.length - 1 ? v : sums[k + 1][i] + v; });
    }
    charts[id].setData([x].concat(sums));
  }
  function stackedValue(id, format) {
    return function (u, v, si, i) { var r = layers[id] && layers[id][si - 1]; return r && i !== null && r[i] !== undefined ? format(r[i]) : '–'; };
  }
  var resizer = typeof ResizeObserver === 'function' ? new ResizeObserver(function () {
    for (var id in charts) {
      var size = chartSize(document.getElementById('chart-' + id));
      if (size.width !== charts[id].width) charts[id].setSize(size);
    }
  }) : undefined;
  // Points only where a value stands alone between gaps (a line needs two), so a single busy bucket still shows.
  function isolatedPoints(u, si) {
    var d = u.data[si];
    var out = [];
    for (var i = 0; i < d.length; i++) {
      if (d[i] === null || d[i] === undefined) continue;
      if ((i === 0 || d[i - 1] === null || d[i - 1] === undefined) && (i === d.length - 1 || d[i + 1] === null || d[i + 1] === undefined)) out.push(i);
    }
    return out;
  }
  /** A chart in the element chart-ID (in the document already). x: { range: the x scale's (default: the data's),
   * space: least pixels between time ticks, bins: each x value starts a bin that lasts until the next (bars
   * aligned to their start): the cursor reads the bin it is over, not the nearest start }. */
  function makeChart(id, series, yFormat, yRange, ySize, x) {
    var el = document.getElementById('chart-' + id);
    var size = chartSize(el);
    var opts = {
      width: size.width,
      height: size.height,
      cursor: { drag: { x: false, y: false } },
      legend: { show: true, live: true },
      scales: { x: x && x.range ? { time: true, range: x.range } : { time: true }, y: yRange ? { range: yRange } : { range: function (u, min, max) { return [0, max > 0 ? max * 1.1 : 1]; } } },
      axes: axes(yFormat, ySize, x && x.space),
      series: [{ value: function (u, v) { return v === null || v === undefined ? '–' : fmtDateTime(v * 1000); } }].concat(series),
    };
    var empty = [[]];
    for (var i = 0; i < series.length; i++) {
      empty.push([]);
      series[i].points = { show: true, size: 5, filter: isolatedPoints };
    }
    if (x && x.bins) opts.cursor.dataIdx = function (u, si, i, at) { var d = u.data[0]; while (i > 0 && d[i] > at) i--; return i; };
    var u = new uPlot(opts, empty, el);
    charts[id] = u;
    if (resizer) resizer.observe(el);
    return u;
  }
  function buildCharts() {
    var rateVal = function (u, v) { return v === null || v === undefined ? '–' : fmtRate(v); };
    makeChart('traffic', [
      { label: 'requests/s', stroke: COLORS.requests, width: 2, fill: fill(COLORS.requests, 0.12), value: rateVal },
      { label: '5xx/s', stroke: COLORS.errors, width: 2, fill: fill(COLORS.errors, 0.12), value: rateVal },
    ], fmtRate);
    makeChart('error-rate', [
      { label: 'error rate', stroke: COLORS.rate, width: 2, fill: fill(COLORS.rate, 0.10), spanGaps: false, value: function (u, v) { return v === null || v === undefined ? '–' : (v * 100).toFixed(2) + '%'; } },
    ], function (v) { return (v * 100).toFixed(v < 0.1 ? 1 : 0) + '%'; }, function (u, min, max) { return [0, Math.max(0.01, (max || 0) * 1.15)]; });
    var statusVal = stackedValue('status', fmtRate);
    makeChart('status', [
      { label: '5xx', stroke: COLORS.s5, width: 1, fill: fill(COLORS.s5, 0.55), value: statusVal },
      { label: '4xx', stroke: COLORS.s4, width: 1, fill: fill(COLORS.s4, 0.55), value: statusVal },
      { label: '3xx', stroke: COLORS.s3, width: 1, fill: fill(COLORS.s3, 0.55), value: statusVal },
      { label: '2xx', stroke: COLORS.s2, width: 1, fill: fill(COLORS.s2, 0.55), value: statusVal },
    ], fmtRate);
    makeChart('bytes', [
      { label: 'bytes/s', stroke: COLORS.bytes, width: 2, fill: fill(COLORS.bytes, 0.14), value: function (u, v) { return v === null || v === undefined ? '–' : fmtBytes(v) + '/s'; } },
    ], function (v) { return fmtBytes(v, 1); }, undefined, 74);
  }
  function updateCharts(state) {
    var s = state.series;
    var per = 1000 / state.bucket_ms; // bucket counts -> per second
    var x = s.t.map(function (t) { return t / 1000; });
    var ps = function (arr) { return arr.map(function (v) { return v * per; }); };
    charts.traffic.setData([x, ps(s.requests), ps(s.errors)]);
    charts['error-rate'].setData([x, s.error_rate]);
    setStacked('status', x, [ps(s.status_5xx), ps(s.status_4xx), ps(s.status_3xx), ps(s.status_2xx)]);
    charts.bytes.setData([x, ps(s.bytes)]);
    syncLegends();
    // uPlot commits a new chart's first draw asynchronously: sync again once it has.
    if (typeof requestAnimationFrame === 'function') requestAnimationFrame(syncLegends);
  }
  // Without the cursor on a chart, its legend shows the latest values.
  function syncLegends() {
    for (var id in charts) {
      var u = charts[id];
      var n = u.data && u.data[0] ? u.data[0].length : 0;
      if (!(u.cursor.left >= 0) && n) u.setLegend({ idx: n - 1 });
    }
  }

  // ---------- rendering ----------
  var lastTables = {};
  function setKpi(id, value, text, hint) {
    var el = $('[data-test="kpi-' + id + '"]');
    el.textContent = text;
    el.setAttribute('data-value', value === null ? '' : String(value));
    if (hint !== undefined) $('[data-test="kpi-' + id + '-hint"]').textContent = hint;
  }
  function recent(arr, n) {
    // Sum of the last n buckets (the series ends with the last complete bucket).
    var sum = 0;
    for (var i = Math.max(0, arr.length - n); i < arr.length; i++) sum += arr[i];
    return sum;
  }
  function renderKpis(state) {
    var t = state.totals;
    var windowText = rangeText(state);
    var rps, eps, bps;
    if (live && !state.history) {
      var n = Math.min(5, state.series.t.length);
      var secs = n * state.bucket_ms / 1000;
      rps = secs > 0 ? recent(state.series.requests, n) / secs : 0;
      eps = secs > 0 ? recent(state.series.errors, n) / secs : 0;
      bps = secs > 0 ? recent(state.series.bytes, n) / secs : 0;
    } else {
      var span = Math.max(1, (t.end - t.start) / 1000);
      rps = t.requests / span;
      eps = t.errors / span;
      bps = t.bytes / span;
    }
    // Live: the last 5 s; a history range or a static report: the average over it.
    var rateHint = live && !state.history ? 'last 5 s' : 'average';
    setKpi('rps', rps, fmtRate(rps), rateHint);
    setKpi('errors-per-s', eps, fmtRate(eps), rateHint);
    setKpi('error-rate', t.error_rate, fmtPct(t.error_rate), fmtInt(t.errors) + ' of ' + fmtInt(t.requests) + ' · ' + windowText);
    setKpi('bytes-per-s', bps, fmtBytes(bps) + '/s', rateHint);
    setKpi('requests', t.requests, fmtInt(t.requests), windowText);
    setKpi('error-log-lines', t.error_log_lines, fmtInt(t.error_log_lines), windowText);
    var rateTile = $('[data-kpi="error-rate"]');
    rateTile.classList.toggle('alarm', t.error_rate !== null && t.error_rate >= 0.05);
  }
  function rangeText(state) {
    if (state.history && view.range === 'custom') return fmtDateTime(state.history.from) + ' – ' + fmtDateTime(state.history.to);
    return state.top_window_ms === null ? 'all data' : 'last ' + fmtDuration(state.top_window_ms);
  }
  function renderTables(state) {
    var totals = state.totals;
    var windowText = rangeText(state);
    TABLES.forEach(function (def) {
      var items = state.top[def.id] || [];
      var bound = (state.top.error_bounds || {})[def.id] || 0;
      var of = totals[def.of] || 0;
      var key = JSON.stringify([items, bound, of]);
      $('[data-test="window-' + def.id + '"]').textContent = windowText;
      if (lastTables[def.id] === key) return;
      lastTables[def.id] = key;
      var body = document.getElementById('rows-' + def.id);
      body.textContent = '';
      if (!items.length) {
        body.appendChild(h('tr', { class: 'empty' }, [h('td', { colspan: '4', text: 'Nothing in this window' })]));
      }
      var max = items.length ? items[0].count : 1;
      items.forEach(function (item, i) {
        var bar = h('div', { class: 'bar' });
        bar.style.width = Math.max(1, Math.round((item.count / max) * 100)) + '%';
        body.appendChild(h('tr', { 'data-test': 'row-' + def.id, 'data-value': item.value, 'data-count': String(item.count) }, [
          h('td', { class: 'rank', text: String(i + 1) }),
          h('td', { class: 'value' }, [h('div', { class: 'value-text', title: item.value, text: item.value }), h('div', { class: 'bar-track' }, [bar])]),
          h('td', { class: 'num', 'data-test': 'count', text: fmtInt(item.count) }),
          h('td', { class: 'share', text: of > 0 ? ((item.count / of) * 100).toFixed(1) + '%' : '' }),
        ]));
      });
      document.getElementById('bound-' + def.id).textContent = bound > 0 ? 'approximate: counts may exceed the true ones by at most ' + fmtInt(bound) : '';
    });
  }
  var errorLog;
  var lastAlerts = '';
  function renderAlerts(state) {
    if (!live) return;
    var alerts = state.alerts || [];
    var key = JSON.stringify(alerts);
    if (key === lastAlerts) return;
    lastAlerts = key;
    var list = document.getElementById('alerts');
    list.textContent = '';
    $('[data-test="alerts-count"]').textContent = alerts.length ? alerts.length + ' shown' : '';
    if (!alerts.length) {
      list.appendChild(h('li', { class: 'empty', text: 'No alerts' }));
      return;
    }
    alerts.forEach(function (a) {
      var sev = String(a.severity || 'info').toLowerCase().replace(/[^a-z0-9_-]/g, '');
      list.appendChild(h('li', { class: 'alert sev-' + sev + ' state-' + String(a.state).replace(/[^a-z0-9_-]/gi, ''), 'data-test': 'alert', 'data-severity': sev, 'data-state': a.state, 'data-name': a.name }, [
        h('div', { class: 'alert-head' }, [
          h('span', { class: 'sev', text: a.severity }),
          h('span', { class: 'alert-name', text: a.name }),
          h('span', { class: 'alert-state', text: a.state + (a.count > 1 ? ' ×' + a.count : '') }),
          h('span', { class: 'alert-time', title: fmtDateTime(a.time), text: live && Date.now() - a.time < 86400000 ? fmtTime(a.time) : fmtDateTime(a.time) }),
        ]),
        h('div', { class: 'alert-msg', title: a.message, text: a.message }),
      ]));
    });
  }
  function renderHealth(state) {
    if (state.history) return; // the live stream keeps the health card current
    var card = document.getElementById('health-card');
    if (!state.health) { card.style.display = 'none'; return; }
    card.style.display = '';
    $('[data-test="pipeline-state"]').textContent = state.pipeline_state ? 'pipeline ' + state.pipeline_state : '';
    var body = document.getElementById('health-rows');
    body.textContent = '';
    state.health.forEach(function (r) {
      var fillBar = h('div', { class: 'fill' + (r.buffer_fill >= 0.8 ? ' hot' : '') });
      fillBar.style.width = Math.round(r.buffer_fill * 100) + '%';
      body.appendChild(h('tr', { 'data-test': 'health-row', 'data-id': r.id, 'data-healthy': String(r.healthy), class: r.healthy ? '' : 'unhealthy' }, [
        h('td', { class: 'cid', text: r.id }),
        h('td', { class: 'ctype', text: r.type + ' · ' + r.kind }),
        h('td', { class: 'cstatus', title: r.reason || '' }, [h('span', { class: 'dot ' + (r.healthy ? 'ok' : 'bad') }), h('span', { text: r.healthy ? 'ok' : (r.reason || 'unhealthy') })]),
        h('td', { class: 'num', text: r.kind === 'input' ? '–' : fmtRate(r.in_per_s) }),
        h('td', { class: 'num', text: fmtRate(r.out_per_s) }),
        h('td', { class: 'buffer', title: r.buffer_events + ' / ' + r.buffer_max_events }, r.kind === 'input' ? [h('span', { class: 'muted', text: '–' })] : [h('div', { class: 'fill-track' }, [fillBar]), h('span', { class: 'fill-text', text: Math.round(r.buffer_fill * 100) + '%' })]),
        h('td', { class: 'num' + (r.unparsed ? ' warn' : ''), text: fmtInt(r.unparsed) }),
        h('td', { class: 'num' + (r.dropped ? ' warn' : ''), text: fmtInt(r.dropped) }),
        h('td', { class: 'num' + (r.errors ? ' bad' : ''), text: fmtInt(r.errors) }),
        h('td', { class: 'num', text: r.lag === undefined ? '–' : r.lag_unit === 'bytes' ? fmtBytes(r.lag) : fmtInt(r.lag) + (r.lag_unit ? ' ' + r.lag_unit : '') }),
      ]));
    });
  }
  var current;
  function render(state) {
    current = state;
    document.title = state.title + (live ? ' · live' : ' · report');
    $('[data-test="title"]').textContent = state.title;
    $('[data-test="updated"]').textContent = live ? 'updated ' + fmtTime(state.generated_at) : 'generated ' + fmtDateTime(state.generated_at);
    $('[data-test="updated"]').setAttribute('data-value', String(state.generated_at));
    renderKpis(state);
    updateCharts(state);
    renderTables(state);
    errorLog.render(state);
    renderAlerts(state);
    renderHealth(state);
    if (window.visorPanels) window.visorPanels.render(state); // panels.js, loaded after this script
    if (window.visorAttacks) window.visorAttacks.render(state); // attacks.js, likewise
    var s = state.series;
    $('[data-test="footer"]').textContent = 'Charts: ' + (s.t.length ? fmtDateTime(s.t[0]) + ' – ' + fmtDateTime(s.t[s.t.length - 1] + state.bucket_ms) : 'no data') +
      ' in ' + fmtDuration(state.bucket_ms) + ' buckets · tables and totals: ' +
      rangeText(state) +
      (state.ignored ? ' · ' + fmtInt(state.ignored) + ' other events not shown' : '') + ' · Visor';
    document.body.setAttribute('data-rendered', String((Number(document.body.getAttribute('data-rendered')) || 0) + 1));
  }

  // ---------- live mode ----------
  var paused = false;
  var lastLive;
  var pending;
  var connection = 'connecting';
  function setStatus(state, text) {
    connection = state;
    var pill = $('[data-test="status"]');
    var shown = paused && state === 'live' ? 'paused' : state;
    pill.setAttribute('data-state', shown);
    pill.textContent = text || (shown === 'paused' ? 'paused' : shown === 'live' ? 'live' : shown === 'disconnected' ? 'disconnected — retrying' : shown);
  }
  function togglePause() {
    paused = !paused;
    $('[data-test="pause"]').textContent = paused ? 'Resume' : 'Pause';
    setStatus(connection);
    if (!paused && pending) { render(pending); pending = undefined; }
  }
  function connect() {
    var es = new EventSource(config.events);
    es.addEventListener('open', function () { setStatus('live'); });
    es.addEventListener('state', function (ev) {
      var state;
      try { state = JSON.parse(ev.data); } catch (e) { return; }
      if (connection !== 'live') setStatus('live');
      lastLive = state;
      if (inHistory()) { renderHealth(state); return; }
      if (paused) { pending = state; return; }
      render(state);
    });
    es.addEventListener('error', function () {
      // EventSource reconnects by itself (after the server's retry delay); say so meanwhile.
      setStatus(es.readyState === EventSource.CLOSED ? 'closed' : 'disconnected');
      if (es.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    });
  }

  buildLayout();
  buildCharts();
  if (live) {
    var initial = readJson('visor-state');
    if (initial) render(initial);
    connect();
  } else {
    var embedded = readJson('visor-state');
    if (embedded) render(embedded);
  }
  // For panels.js and attacks.js: the element builder, the charts (uPlot instances by id) and how to make one.
  window.visorDashboard = {
    render: render, current: function () { return current; }, h: h,
    charts: charts, makeChart: makeChart, setStacked: setStacked, stackedValue: stackedValue, syncLegends: syncLegends,
    COLORS: COLORS, fill: fill, fmtDuration: fmtDuration,
  };
})();
