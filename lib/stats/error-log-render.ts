// The error-log part of a report event (error-log.ts's figures) as text lines and as HTML tables, for the report's
// `message` and `html` and for `visor analyze`'s text output.
import type { Event } from '../../core/index.js';
import type { MessageItem } from './error-log.js';

interface Counted { value: string; count: number }

const oneLine = (s: string) => s.replace(/[\r\n\t]+/g, ' ');
const levelsOf = (r: Event) => Object.entries((r.error_log_levels ?? {}) as Record<string, number>);
const list = <T>(v: unknown): T[] => (Array.isArray(v) ? (v as T[]) : []);
/** "warn and worse": the level the message lists start at. */
const atLeast = (r: Event) => `${typeof r.error_message_level === 'string' ? r.error_message_level : 'warn'} and worse`;

/** Text lines: lines per level, modules and templates at or above the report's message level (one per line). */
export function renderErrorLogText(r: Event): string[] {
  const levels = levelsOf(r);
  const modules = list<Counted>(r.error_log_modules);
  const messages = list<MessageItem>(r.top_error_messages);
  return [
    `error log lines: ${r.error_log_lines}${levels.length ? ` (${levels.map(([l, n]) => `${l} ${n}`).join(', ')})` : ''}`,
    `error log modules (${atLeast(r)}): ${modules.length ? modules.map((m) => `${m.value} ${m.count}`).join(', ') : '-'}`,
    `top error messages (${atLeast(r)}):${messages.length ? '' : ' -'}`,
    ...messages.map((m) => `  ${String(m.count).padStart(6)}  ${m.level.padEnd(6)} ${oneLine(m.value)}`),
  ];
}

/** HTML tables (every value escaped with `h`); a sample message is shown whole under its template. */
export function renderErrorLogHtml(r: Event, table: string, h: (v: unknown) => string): string {
  const levels = levelsOf(r);
  const modules = list<Counted>(r.error_log_modules);
  const messages = list<MessageItem>(r.top_error_messages);
  const none = (cols: number) => `<tr><td colspan="${cols}">none</td></tr>`;
  const heading = (text: string) => `<h4 style="font-family:sans-serif">${h(text)}</h4>`;
  return heading('error log levels') + `<table ${table}><tr><th>level</th><th>lines</th></tr>`
    + (levels.length ? levels.map(([l, n]) => `<tr><td>${h(l)}</td><td align="right">${h(n)}</td></tr>`).join('') : none(2)) + '</table>'
    + heading(`error log modules (${atLeast(r)})`) + `<table ${table}><tr><th>module</th><th>lines</th></tr>`
    + (modules.length ? modules.map((m) => `<tr><td>${h(m.value)}</td><td align="right">${h(m.count)}</td></tr>`).join('') : none(2)) + '</table>'
    + heading(`top error messages (${atLeast(r)})`) + `<table ${table}><tr><th>#</th><th>level</th><th>message template</th><th>count</th></tr>`
    + (messages.length
      ? messages.map((m, i) => `<tr><td>${i + 1}</td><td>${h(m.level)}</td><td><code style="white-space:pre-wrap">${h(m.value)}</code>`
        + (m.sample !== undefined ? `<details><summary>sample</summary><pre style="white-space:pre-wrap">${h(m.sample)}</pre></details>` : '')
        + `</td><td align="right">${h(m.count)}</td></tr>`).join('')
      : none(4))
    + '</table>';
}
