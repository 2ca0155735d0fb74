// The attacks section of a report (text and HTML), from its `attacks` field (attacks.ts's AttacksJSON).
import { formatLocalTime, type Event } from '../../core/index.js';
import type { AttacksJSON } from './attacks.js';

const when = (ms: number) => (Number.isFinite(ms) ? formatLocalTime(ms) : '');
const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ');

function attacksOf(r: Event): AttacksJSON | undefined {
  const a = r.attacks as unknown as AttacksJSON | undefined;
  return a && typeof a === 'object' && a.alerts > 0 ? a : undefined;
}

/** The section's lines; none when the interval saw no detect alerts. */
export function renderAttacksText(r: Event): string[] {
  const a = attacksOf(r);
  if (!a) return [];
  return [
    `attacks: ${a.alerts} alerts`,
    `attack rules: ${a.rules.map((x) => `${oneLine(x.rule)} [${oneLine(x.severity)}] (${x.alerts})`).join(', ')}`,
    `attacking clients: ${a.clients.map((c) => `${oneLine(c.client)} (${c.alerts}: ${c.rules.map(oneLine).join(' ')}; last ${when(c.last)})`).join(', ')}`,
    ...(a.error_bound > 0 ? [`attacks: counts may exceed the true ones by at most ${a.error_bound}`] : []),
  ];
}

/** The section's HTML (every value escaped through `h`); empty when the interval saw no detect alerts. */
export function renderAttacksHtml(r: Event, table: string, h: (v: unknown) => string): string {
  const a = attacksOf(r);
  if (!a) return '';
  const head = (cols: string[]) => `<tr>${cols.map((c) => `<th>${h(c)}</th>`).join('')}</tr>`;
  const rules = a.rules.map((x) => `<tr><td>${h(x.rule)}</td><td>${h(x.severity)}</td><td align="right">${h(x.alerts)}</td><td>${h(when(x.last))}</td></tr>`).join('');
  const clients = a.clients.map((c) => `<tr><td>${h(c.client)}</td><td align="right">${h(c.alerts)}</td><td>${h(c.rules.join(', '))}</td><td>${h(when(c.last))}</td>`
    + `<td><pre style="margin:0;white-space:pre-wrap">${h(c.evidence.join('\n'))}</pre></td></tr>`).join('');
  return `<h4 style="font-family:sans-serif">attacks (${h(a.alerts)} alerts)</h4>`
    + `<table ${table}>${head(['rule', 'severity', 'alerts', 'last'])}${rules}</table>`
    + `<h4 style="font-family:sans-serif">attacking clients</h4>`
    + `<table ${table}>${head(['client', 'alerts', 'rules', 'last', 'evidence'])}${clients}</table>`
    + (a.error_bound > 0 ? `<p style="font-family:sans-serif">counts may exceed the true ones by at most ${h(a.error_bound)}</p>` : '');
}
