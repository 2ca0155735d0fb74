// The traffic panels of the dashboard page (state.panels, lib/stats/panels): summary tiles, one table per list
// (sortable by any column, paginated, a humans / bots / all view, long values shown whole on a click), the hourly
// and daily distribution and response-time percentiles. Loaded after app.js, which calls visorPanels.render(state)
// on every state; plain browser JavaScript, nothing loaded from the network (flags are emoji from the ISO codes).
(function () {
  'use strict';

  var PAGE = 10;
  var intFmt = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
  function fmtInt(n) { return n === null || n === undefined ? '–' : intFmt.format(n); }
  function fmtMs(v) { return v === null || v === undefined ? '–' : v < 10 ? v.toFixed(2) + ' ms' : intFmt.format(v) + ' ms'; }
  function fmtBytes(n) {
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? n.toFixed(0) : n.toFixed(n >= 100 ? 0 : 1)) + ' ' + units[i];
  }
  function pct(n, of) { return of > 0 ? ((n / of) * 100).toFixed(1) + '%' : ''; }
  function flag(code) {
    if (!/^[A-Za-z]{2}$/.test(code)) return '';
    var u = code.toUpperCase();
    return String.fromCodePoint(0x1f1e6 + u.charCodeAt(0) - 65, 0x1f1e6 + u.charCodeAt(1) - 65);
  }
  var h = window.visorDashboard.h; // app.js's element builder (app.js is loaded first)

  // Per list: sort column and direction, page, view (all | humans | bots); kept across states.
  var ui = {};
  var section;
  var last = {};
  var current;

  function listUi(id) {
    return ui[id] || (ui[id] = { sort: 'count', desc: true, page: 0, view: 'all' });
  }

  function ensureSection() {
    if (section && document.body.contains(section)) return section;
    var main = document.querySelector('main.grid');
    if (!main) return undefined;
    section = h('section', { class: 'panels', 'data-test': 'panels' }, [
      h('div', { class: 'panels-head' }, [h('h2', { text: 'Traffic' }), h('span', { class: 'card-note', 'data-test': 'panels-note' })]),
      h('div', { class: 'panel-tiles', 'data-test': 'panel-tiles' }),
      h('div', { class: 'panel-grid', 'data-test': 'panel-grid' }),
    ]);
    var health = document.getElementById('health-card');
    main.insertBefore(section, health || null);
    return section;
  }

  function tile(id, label, value, hint) {
    return h('div', { class: 'kpi', 'data-tile': id }, [
      h('div', { class: 'kpi-label', text: label }),
      h('div', { class: 'kpi-value', 'data-test': 'tile-' + id, text: value }),
      h('div', { class: 'kpi-hint', text: hint || '' }),
    ]);
  }

  function renderTiles(p) {
    var box = section.querySelector('[data-test="panel-tiles"]');
    box.textContent = '';
    var v = p.visitors;
    var rt = p.response_time_ms;
    box.appendChild(tile('visitors', 'Unique visitors', fmtInt(v.total), (v.exact ? 'address + date + agent' : 'estimated ±1.6%') + (v.bots === null ? '' : ' · ' + fmtInt(v.bots) + ' bots')));
    box.appendChild(tile('humans', 'Human requests', p.human_requests === null ? 'needs ' + (p.split_needs || 'the bot filter') : fmtInt(p.human_requests), p.human_requests === null ? '' : pct(p.human_requests, p.requests)));
    box.appendChild(tile('bots', 'Bot requests', p.bot_requests === null ? 'needs ' + (p.split_needs || 'the bot filter') : fmtInt(p.bot_requests), p.bot_requests === null ? '' : pct(p.bot_requests, p.requests)));
    box.appendChild(tile('p50', 'Response time p50', rt.needs ? '–' : fmtMs(rt.p50), rt.needs ? 'needs ' + rt.needs : 'p90 ' + fmtMs(rt.p90)));
    box.appendChild(tile('p95', 'Response time p95', rt.needs ? '–' : fmtMs(rt.p95), rt.needs ? '' : 'p99 ' + fmtMs(rt.p99) + ' · ' + fmtInt(rt.count) + ' timed'));
  }

  function viewCount(item, view) {
    if (view === 'bots') return item.bots || 0;
    if (view === 'humans') return item.count - (item.bots || 0);
    return item.count;
  }

  function sortedRows(list, u) {
    var rows = list.items.map(function (it) { return { value: it.value, count: viewCount(it, u.view), bots: it.bots, all: it.count }; })
      .filter(function (r) { return u.view === 'all' || r.count > 0; });
    var key = u.sort;
    rows.sort(function (a, b) {
      var x = a[key], y = b[key];
      var c = key === 'value' ? (x < y ? -1 : x > y ? 1 : 0) : (x || 0) - (y || 0);
      if (c === 0) c = b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : 0);
      else if (u.desc) c = -c;
      return c;
    });
    return rows;
  }

  function shownValue(list, value) {
    if (list.id === 'countries') { var f = flag(value); return f ? f + ' ' + value : value; }
    return value;
  }

  function listCard(list, split) {
    var u = listUi(list.id);
    var card = h('div', { class: 'card panel-card', 'data-test': 'panel-' + list.id, 'data-panel': list.id });
    var note = list.distinct === null ? 'top ' + list.items.length + ' (more than the capacity: approximate)'
      : list.items.length < list.distinct ? 'top ' + list.items.length + ' of ' + fmtInt(list.distinct) + ' distinct' : fmtInt(list.distinct) + ' distinct';
    card.appendChild(h('div', { class: 'card-title' }, [h('span', { text: list.title }), h('span', { class: 'card-note', text: list.needs ? '' : fmtInt(list.total) + ' requests · ' + note })]));
    if (list.needs) {
      card.appendChild(h('div', { class: 'needs', 'data-test': 'needs', text: 'needs ' + list.needs }));
      return card;
    }
    if (split) {
      var views = h('div', { class: 'views', role: 'group', 'aria-label': 'humans or bots' }, ['all', 'humans', 'bots'].map(function (v) {
        var b = h('button', { type: 'button', class: 'btn view' + (u.view === v ? ' on' : ''), 'data-view': v, text: v });
        b.addEventListener('click', function () { u.view = v; u.page = 0; redraw(); });
        return b;
      }));
      card.appendChild(views);
    }
    var rows = sortedRows(list, u);
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    if (u.page >= pages) u.page = pages - 1;
    var of = u.view === 'all' ? list.total : rows.reduce(function (n, r) { return n + r.count; }, 0);
    var cols = [{ id: 'value', label: list.column, cls: '' }, { id: 'count', label: 'requests', cls: 'num' }];
    if (split) cols.push({ id: 'bots', label: 'bots', cls: 'num' });
    var head = h('tr', null, [h('th', { class: 'rank', text: '#' })].concat(cols.map(function (c) {
      var th = h('th', { class: c.cls + ' sortable', 'data-sort': c.id, tabindex: '0', 'aria-sort': u.sort === c.id ? (u.desc ? 'descending' : 'ascending') : 'none', text: c.label + (u.sort === c.id ? (u.desc ? ' ▾' : ' ▴') : '') });
      var go = function () { if (u.sort === c.id) u.desc = !u.desc; else { u.sort = c.id; u.desc = c.id !== 'value'; } redraw(); };
      th.addEventListener('click', go);
      th.addEventListener('keydown', function (ev) { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); go(); } });
      return th;
    })).concat([h('th', { class: 'share', text: 'share' })]));
    var body = h('tbody');
    if (!rows.length) body.appendChild(h('tr', { class: 'empty' }, [h('td', { colspan: String(cols.length + 2), text: 'Nothing here' })]));
    rows.slice(u.page * PAGE, (u.page + 1) * PAGE).forEach(function (r, i) {
      var text = shownValue(list, r.value);
      var valueCell = h('div', { class: 'value-text', title: r.value, tabindex: '0', 'data-test': 'value', text: text });
      // A long value is cut to the column; a click (or Enter) shows it whole, wrapped, and a second one cuts it again.
      var toggle = function () { valueCell.classList.toggle('whole'); };
      valueCell.addEventListener('click', toggle);
      valueCell.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') toggle(); });
      var cells = [h('td', { class: 'rank', text: String(u.page * PAGE + i + 1) }), h('td', { class: 'value' }, [valueCell]), h('td', { class: 'num', 'data-test': 'count', text: fmtInt(r.count) })];
      if (split) cells.push(h('td', { class: 'num', 'data-test': 'bots', text: fmtInt(r.bots) }));
      cells.push(h('td', { class: 'share', text: pct(r.count, of) }));
      body.appendChild(h('tr', { 'data-test': 'row', 'data-value': r.value, 'data-count': String(r.count), 'data-bots': r.bots === null ? '' : String(r.bots) }, cells));
    });
    card.appendChild(h('div', { class: 'table-scroll' }, [h('table', { class: 'top-table panel-table' }, [h('thead', null, [head]), body])]));
    if (pages > 1) {
      var prev = h('button', { type: 'button', class: 'btn', 'data-test': 'prev', text: '‹ prev' });
      var next = h('button', { type: 'button', class: 'btn', 'data-test': 'next', text: 'next ›' });
      if (u.page === 0) prev.setAttribute('disabled', '');
      if (u.page >= pages - 1) next.setAttribute('disabled', '');
      prev.addEventListener('click', function () { u.page--; redraw(); });
      next.addEventListener('click', function () { u.page++; redraw(); });
      card.appendChild(h('div', { class: 'pager' }, [prev, h('span', { class: 'card-note', 'data-test': 'page', text: 'page ' + (u.page + 1) + ' of ' + pages }), next]));
    }
    if (list.bound > 0) card.appendChild(h('div', { class: 'bound', text: 'approximate: counts may exceed the true ones by at most ' + fmtInt(list.bound) }));
    return card;
  }

  function barRow(label, n, max, extra, attrs) {
    var bar = h('div', { class: 'bar' });
    bar.style.width = max > 0 ? Math.max(n > 0 ? 1 : 0, Math.round((n / max) * 100)) + '%' : '0';
    return h('tr', attrs, [h('td', { class: 'rank', text: label }), h('td', { class: 'value' }, [h('div', { class: 'bar-track' }, [bar])]), h('td', { class: 'num', 'data-test': 'count', text: fmtInt(n) })].concat(extra));
  }

  function hourlyCard(p, split) {
    var max = Math.max.apply(null, p.hourly.map(function (x) { return x.hits; }));
    var body = h('tbody', null, p.hourly.map(function (x) {
      return barRow((x.hour < 10 ? '0' : '') + x.hour + ':00', x.hits, max, split ? [h('td', { class: 'num', text: fmtInt(x.bots) })] : [], { 'data-test': 'hour', 'data-hour': String(x.hour), 'data-count': String(x.hits) });
    }));
    return h('div', { class: 'card panel-card', 'data-test': 'panel-hourly' }, [
      h('div', { class: 'card-title' }, [h('span', { text: 'Hourly distribution' }), h('span', { class: 'card-note', text: 'local time of the server' })]),
      h('div', { class: 'table-scroll' }, [h('table', { class: 'top-table panel-table' }, [h('thead', null, [h('tr', null, [h('th', { text: 'hour' }), h('th', { text: '' }), h('th', { class: 'num', text: 'requests' })].concat(split ? [h('th', { class: 'num', text: 'bots' })] : []))]), body])]),
    ]);
  }

  function dailyCard(p, split) {
    var max = Math.max.apply(null, p.daily.map(function (x) { return x.hits; }).concat([0]));
    var body = h('tbody', null, p.daily.map(function (x) {
      var d = new Date(x.date).toISOString().slice(0, 10);
      return barRow(d, x.hits, max, [h('td', { class: 'num', 'data-test': 'visitors', text: fmtInt(x.visitors) }), h('td', { class: 'num', text: fmtBytes(x.bytes) })].concat(split ? [h('td', { class: 'num', text: fmtInt(x.bots) })] : []), { 'data-test': 'day', 'data-date': d, 'data-count': String(x.hits), 'data-visitors': String(x.visitors) });
    }));
    if (!p.daily.length) body.appendChild(h('tr', { class: 'empty' }, [h('td', { colspan: '5', text: 'Nothing here' })]));
    return h('div', { class: 'card panel-card', 'data-test': 'panel-daily' }, [
      h('div', { class: 'card-title' }, [h('span', { text: 'Daily distribution' }), h('span', { class: 'card-note', text: p.earlier_days ? p.earlier_days + ' earlier days in the totals only' : '' })]),
      h('div', { class: 'table-scroll' }, [h('table', { class: 'top-table panel-table' }, [h('thead', null, [h('tr', null, [h('th', { text: 'date' }), h('th', { text: '' }), h('th', { class: 'num', text: 'requests' }), h('th', { class: 'num', text: 'visitors' }), h('th', { class: 'num', text: 'bytes' })].concat(split ? [h('th', { class: 'num', text: 'bots' })] : []))]), body])]),
    ]);
  }

  function redraw() {
    if (!current || !ensureSection()) return;
    var p = current;
    var split = p.bot_requests !== null;
    renderTiles(p);
    var grid = section.querySelector('[data-test="panel-grid"]');
    grid.textContent = '';
    p.lists.forEach(function (l) { grid.appendChild(listCard(l, split)); });
    grid.appendChild(hourlyCard(p, split));
    grid.appendChild(dailyCard(p, split));
    section.querySelector('[data-test="panels-note"]').textContent = fmtInt(p.requests) + ' requests';
  }

  function render(state) {
    if (!state || !state.panels) {
      if (section) section.style.display = 'none';
      return;
    }
    var key = JSON.stringify(state.panels);
    if (last.key === key && section && document.body.contains(section)) return;
    last.key = key;
    current = state.panels;
    redraw();
    section.style.display = '';
  }

  window.visorPanels = { render: render };
  render(window.visorDashboard.current());
})();
