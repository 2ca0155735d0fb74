// The dashboard's error-log panels (lines per level, per module, top message templates with a sample each) and
// their level filter. Loaded before app.js, which builds them with its DOM helpers and renders them with each state
// (state.error_log and state.top.error_messages: lib/dashboard/model.ts). Plain browser JavaScript, no modules.
(function () {
  'use strict';

  // Apache's levels, most severe first (lib/apache's LEVELS); the filter shows "<level> and worse".
  var LEVELS = ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug',
    'trace1', 'trace2', 'trace3', 'trace4', 'trace5', 'trace6', 'trace7', 'trace8'];
  var FILTER_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug', 'trace8'];
  function rank(level) { return LEVELS.indexOf(level); }
  /** A level Apache does not write is always shown (error-log.ts's atOrAbove). */
  function atOrAbove(level, threshold) { var r = rank(level); return r < 0 || r <= rank(threshold); }

  function create(ui) {
    var h = ui.h;
    var chosen = null; // the viewer's choice; until then the configured message_level
    var last;
    var lastKey = '';
    var opened = {}; // level + template -> sample shown: kept open across the live updates
    var select = h('select', { 'data-test': 'level-filter', 'aria-label': 'error-log level' }, FILTER_LEVELS.map(function (l) {
      return h('option', { value: l, text: l === 'trace8' ? 'all levels' : l === 'emerg' ? 'emerg only' : l + ' and worse' });
    }));
    select.addEventListener('change', function () { chosen = select.value; if (last) render(last); });

    function table(id, columns) {
      return h('table', { class: 'top-table el-table', 'data-test': 'table-' + id }, [
        h('thead', null, [h('tr', null, columns.map(function (c) { return h('th', { class: c[1] || '', text: c[0] }); }))]),
        h('tbody', { id: 'rows-' + id }),
      ]);
    }
    function card(id, title, extra, body) {
      return h('div', { class: 'card table-card el-card el-' + id }, [
        h('div', { class: 'card-title' }, [h('span', { text: title }), h('span', { class: 'card-note' }, extra)]),
        body,
        h('div', { class: 'bound', id: 'bound-' + id }),
      ]);
    }
    var element = h('section', { class: 'error-log', 'data-test': 'error-log' }, [
      card('error_levels', 'Error-log levels', [h('span', { 'data-test': 'window-error_levels' })],
        table('error_levels', [['level'], ['lines', 'num'], ['share', 'share']])),
      card('error_modules', 'Error-log modules', [h('span', { 'data-test': 'window-error_modules' })],
        table('error_modules', [['module'], ['lines', 'num'], ['share', 'share']])),
      card('error_messages', 'Top error messages', [h('label', { class: 'level-filter' }, [h('span', { text: 'level ' }), select]), h('span', { 'data-test': 'window-error_messages' })],
        table('error_messages', [['#', 'rank'], ['level', 'lvl'], ['message template', ''], ['count', 'num'], ['share', 'share']])),
    ]);

    function empty(body, cols) {
      body.appendChild(h('tr', { class: 'empty' }, [h('td', { colspan: String(cols), text: 'Nothing in this window' })]));
    }
    function share(n, of) { return of > 0 ? ((n / of) * 100).toFixed(1) + '%' : ''; }

    function render(state) {
      last = state;
      var log = state.error_log;
      // Absent from a history view of window rows; a static report of access logs only has no error-log panels
      // (the live page keeps them: lines may arrive).
      var shown = log && (ui.live || Object.keys(log.levels || {}).length > 0);
      element.style.display = shown ? '' : 'none';
      if (!shown) return;
      var threshold = chosen || log.message_level || 'warn';
      if (select.value !== threshold) select.value = threshold;
      var windowText = ui.rangeText(state);
      ['error_levels', 'error_modules', 'error_messages'].forEach(function (id) { document.querySelector('[data-test="window-' + id + '"]').textContent = ' · ' + windowText; });

      // Levels: every level, the filtered ones marked.
      var levels = Object.keys(log.levels || {});
      var all = 0;
      var atLeast = 0;
      levels.forEach(function (l) { all += log.levels[l]; if (atOrAbove(l, threshold)) atLeast += log.levels[l]; });
      // Rebuilt only when something shown changed (the live page renders every second).
      var key = JSON.stringify([threshold, log, state.top.error_messages]);
      if (key === lastKey) return;
      lastKey = key;
      var body = document.getElementById('rows-error_levels');
      body.textContent = '';
      if (!levels.length) empty(body, 3);
      levels.forEach(function (l) {
        var n = log.levels[l];
        body.appendChild(h('tr', { 'data-test': 'row-error_levels', 'data-value': l, 'data-count': String(n), class: 'lvl-' + l.replace(/[^a-z0-9]/g, '') + (atOrAbove(l, threshold) ? '' : ' below') }, [
          h('td', { class: 'value', text: l }), h('td', { class: 'num', text: ui.fmtInt(n) }), h('td', { class: 'share', text: share(n, all) }),
        ]));
      });

      // Modules of the lines at or above the filter.
      var modules = {};
      (log.modules || []).forEach(function (m) { if (atOrAbove(m[0], threshold)) modules[m[1]] = (modules[m[1]] || 0) + m[2]; });
      var mods = Object.keys(modules).map(function (k) { return { value: k, count: modules[k] }; });
      mods.sort(function (a, b) { return b.count - a.count || (a.value < b.value ? -1 : 1); });
      body = document.getElementById('rows-error_modules');
      body.textContent = '';
      if (!mods.length) empty(body, 3);
      mods.slice(0, log.top_n || 10).forEach(function (m) {
        body.appendChild(h('tr', { 'data-test': 'row-error_modules', 'data-value': m.value, 'data-count': String(m.count) }, [
          h('td', { class: 'value', text: m.value }), h('td', { class: 'num', text: ui.fmtInt(m.count) }), h('td', { class: 'share', text: share(m.count, atLeast) }),
        ]));
      });

      // Templates of the levels at or above the filter: each level's top n share no template with another level's,
      // so the top n of their union is exact.
      var items = (state.top.error_messages || []).filter(function (m) { return atOrAbove(m.level, threshold); });
      items.sort(function (a, b) { return b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : rank(a.level) - rank(b.level)); });
      items = items.slice(0, log.top_n || 10);
      var bound = 0;
      Object.keys(log.message_bounds || {}).forEach(function (l) { if (atOrAbove(l, threshold)) bound += log.message_bounds[l]; });
      body = document.getElementById('rows-error_messages');
      body.textContent = '';
      if (!items.length) empty(body, 5);
      var max = items.length ? items[0].count : 1;
      items.forEach(function (m, i) {
        var bar = h('div', { class: 'bar' });
        bar.style.width = Math.max(1, Math.round((m.count / max) * 100)) + '%';
        var valueCell = [h('div', { class: 'value-text template', title: m.value, text: m.value })];
        if (m.sample !== undefined) {
          var id = m.level + '\u0000' + m.value;
          var sample = h('pre', { class: 'sample', 'data-test': 'sample', text: m.sample });
          sample.hidden = !opened[id];
          var toggle = h('button', { type: 'button', class: 'btn sample-toggle', 'data-test': 'sample-toggle', 'aria-expanded': String(!!opened[id]), text: 'sample' });
          toggle.addEventListener('click', function () {
            sample.hidden = !sample.hidden;
            if (sample.hidden) delete opened[id]; else opened[id] = true;
            toggle.setAttribute('aria-expanded', String(!sample.hidden));
          });
          valueCell.push(toggle, sample);
        }
        valueCell.push(h('div', { class: 'bar-track' }, [bar]));
        body.appendChild(h('tr', { 'data-test': 'row-error_messages', 'data-value': m.value, 'data-count': String(m.count), 'data-level': m.level }, [
          h('td', { class: 'rank', text: String(i + 1) }),
          h('td', { class: 'lvl lvl-' + String(m.level).replace(/[^a-z0-9]/g, ''), text: m.level }),
          h('td', { class: 'value' }, valueCell),
          h('td', { class: 'num', 'data-test': 'count', text: ui.fmtInt(m.count) }),
          h('td', { class: 'share', text: share(m.count, atLeast) }),
        ]));
      });
      document.getElementById('bound-error_messages').textContent = bound > 0 ? 'approximate: counts may exceed the true ones by at most ' + ui.fmtInt(bound) : '';
    }

    return { element: element, render: render };
  }

  window.visorErrorLog = { create: create };
})();
