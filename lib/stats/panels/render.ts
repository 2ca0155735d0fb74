// Text and HTML renderings of the traffic panels (report events' message and html, `visor analyze`'s text).
import type { PanelItem, PanelList, Panels } from './accumulator.js';

/** The emoji flag of an ISO 3166-1 alpha-2 code (two regional indicator symbols; no image, no network); '' for
 * anything else ("private", unknown). */
export function flag(code: string): string {
  if (!/^[A-Za-z]{2}$/.test(code)) return '';
  const u = code.toUpperCase();
  return String.fromCodePoint(0x1f1e6 + u.charCodeAt(0) - 65, 0x1f1e6 + u.charCodeAt(1) - 65);
}

const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ');
const pctOf = (n: number, of: number) => (of > 0 ? `${((n / of) * 100).toFixed(1)}%` : '-');
const botsText = (i: PanelItem) => (i.bots === null || i.bots === 0 ? '' : `, ${i.bots} bots`);
const shown = (list: PanelList, v: string) => (list.id === 'countries' && flag(v) ? `${flag(v)} ${v}` : v);

function listLine(list: PanelList, n: number): string {
  if (list.needs) return `${list.title.toLowerCase()}: needs ${list.needs}`;
  const items = list.items.slice(0, n);
  const body = items.length ? items.map((i) => `${oneLine(shown(list, i.value))} (${i.count}${botsText(i)})`).join(', ') : '-';
  const distinct = list.distinct === null ? '' : ` [${list.distinct} distinct]`;
  return `${list.title.toLowerCase()}${distinct}: ${body}${list.bound ? ` (counts may exceed the true ones by ${list.bound})` : ''}`;
}

/** Lines for a terminal or a mail: one per panel, `n` entries each. */
export function renderPanelsText(p: Panels, n: number): string[] {
  const split = p.bot_requests === null ? `human/bot split: needs ${p.split_needs ?? 'the bot filter'}` : `humans ${p.human_requests} (${pctOf(p.human_requests!, p.requests)}), bots ${p.bot_requests} (${pctOf(p.bot_requests, p.requests)})`;
  const v = p.visitors;
  const out = [
    `requests ${p.requests}: ${split}`,
    `unique visitors (address + date + user agent): ${v.total}${v.exact ? '' : ' (estimated, ±1.6%)'}${v.bots === null ? '' : ` (humans ${v.humans}, bots ${v.bots})`}`,
    ...p.lists.map((l) => listLine(l, n)),
  ];
  const busiest = p.hourly.filter((h) => h.hits > 0).sort((a, b) => b.hits - a.hits || a.hour - b.hour).slice(0, 3);
  out.push(`busiest hours: ${busiest.length ? busiest.map((h) => `${String(h.hour).padStart(2, '0')}:00 (${h.hits})`).join(', ') : '-'}`);
  if (p.daily.length) out.push(`days: ${p.daily.map((d) => `${new Date(d.date).toISOString().slice(0, 10)} ${d.hits} hits ${d.visitors} visitors`).join(', ')}`);
  const rt = p.response_time_ms;
  out.push(rt.needs ? `response time: needs ${rt.needs}` : rt.count ? `response time ms: p50 ${fmtMs(rt.p50)}  p90 ${fmtMs(rt.p90)}  p95 ${fmtMs(rt.p95)}  p99 ${fmtMs(rt.p99)} (${rt.count} requests)` : 'response time: -');
  return out;
}

const fmtMs = (v: number | null) => (v === null ? '-' : v < 10 ? v.toFixed(2) : v.toFixed(0));

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** HTML tables (inline styles: mail clients drop style sheets) of the panels, `n` rows per list. */
export function renderPanelsHtml(p: Panels, n: number, table: string): string {
  const head = (t: string) => `<h4 style="font-family:sans-serif">${esc(t)}</h4>`;
  const parts = [head('traffic panels'), `<p style="font-family:sans-serif;font-size:13px">${esc(renderPanelsText(p, 0).slice(0, 2).join(' · '))}</p>`];
  for (const l of p.lists) {
    parts.push(head(l.title));
    if (l.needs) {
      parts.push(`<p style="font-family:sans-serif;font-size:13px">needs ${esc(l.needs)}</p>`);
      continue;
    }
    const rows = l.items.slice(0, n).map((i, k) => `<tr><td>${k + 1}</td><td>${esc(shown(l, i.value))}</td><td align="right">${i.count}</td><td align="right">${i.bots ?? ''}</td></tr>`).join('');
    parts.push(`<table ${table}><tr><th>#</th><th>${esc(l.column)}</th><th>requests</th><th>bots</th></tr>${rows || '<tr><td colspan="4">none</td></tr>'}</table>`);
  }
  return parts.join('');
}
