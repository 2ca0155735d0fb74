// Rendering of one event as an e-mail: subject (from a template), plain text and an HTML table.
import type { Event } from '../../../core/index.js';

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Value at a dotted path (`a.b.0.c`), or undefined. */
export function lookup(event: Event, path: string): unknown {
  let cur: unknown = event;
  for (const part of path.split('.')) {
    // Own properties only: `{{constructor}}` or `{{__proto__}}` must not reach the prototype chain.
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function scalar(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

/** Header-safe single line. */
function oneLine(s: string, max = 200): string {
  const line = s.replace(/[\r\n\t]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}

/** `{{field}}` / `{{a.b}}` placeholders; missing fields render as empty. No code is evaluated. */
export function renderTemplate(template: string, event: Event): string {
  return oneLine(template.replace(/\{\{\s*([A-Za-z0-9_.@-]+)\s*\}\}/g, (_m, path: string) => scalar(lookup(event, path))), 300);
}

/** The subject when no template is configured: alerts, reports and any other event. */
export function defaultSubject(event: Event): string {
  const s = (k: string) => scalar(event[k]);
  if (event.name !== undefined && event.severity !== undefined) return oneLine(`[visor] ${s('severity')} ${s('name')}`);
  if (event.report !== undefined) return oneLine(`[visor] report ${s('report')}`);
  if (event.name !== undefined) return oneLine(`[visor] ${s('name')}`);
  if (typeof event.message === 'string' && event.message) return oneLine(`[visor] ${event.message}`, 120);
  return oneLine(`[visor] event ${JSON.stringify(event)}`, 120);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

function textValue(v: unknown, indent: string): string {
  if (Array.isArray(v) && v.length && v.every(isPlainObject)) {
    return '\n' + v.map((row, i) => `${indent}  ${i + 1}. ${Object.entries(row).map(([k, x]) => `${k}=${scalar(x)}`).join(', ')}`).join('\n');
  }
  if (isPlainObject(v)) {
    return '\n' + Object.entries(v).map(([k, x]) => `${indent}  ${k}: ${textValue(x, indent + '  ')}`).join('\n');
  }
  if (Array.isArray(v)) return v.map(scalar).join(', ');
  return scalar(v);
}

export function renderText(event: Event): string {
  return Object.entries(event).map(([k, v]) => `${k}: ${textValue(v, '')}`).join('\n') + '\n';
}

const TABLE = 'border="1" cellpadding="4" cellspacing="0" style="border-collapse:collapse;font-family:sans-serif;font-size:13px"';

function htmlValue(v: unknown): string {
  if (Array.isArray(v) && v.length && v.every(isPlainObject)) {
    const cols: string[] = [];
    for (const row of v) for (const k of Object.keys(row)) if (!cols.includes(k)) cols.push(k);
    const head = '<tr>' + cols.map((c) => `<th>${escapeHtml(c)}</th>`).join('') + '</tr>';
    const body = v.map((row) => '<tr>' + cols.map((c) => `<td>${htmlValue(row[c])}</td>`).join('') + '</tr>').join('');
    return `<table ${TABLE}>${head}${body}</table>`;
  }
  if (isPlainObject(v)) return htmlTable(v);
  if (Array.isArray(v)) return escapeHtml(v.map(scalar).join(', '));
  return escapeHtml(scalar(v));
}

function htmlTable(obj: Record<string, unknown>): string {
  const rows = Object.entries(obj).map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${htmlValue(v)}</td></tr>`).join('');
  return `<table ${TABLE}>${rows}</table>`;
}

export function renderHtml(subject: string, event: Event): string {
  return `<!doctype html><html><body><h3 style="font-family:sans-serif">${escapeHtml(subject)}</h3>${htmlTable(event)}</body></html>`;
}

export function renderEvent(event: Event, subjectTemplate: string | undefined): RenderedMail {
  const subject = subjectTemplate ? renderTemplate(subjectTemplate, event) : defaultSubject(event);
  // Aggregates that render themselves (report) carry `message` text and prerendered, escaped `html`.
  if (typeof event.html === 'string' && typeof event.message === 'string') {
    return { subject, text: event.message.endsWith('\n') ? event.message : `${event.message}\n`, html: event.html };
  }
  return { subject, text: renderText(event), html: renderHtml(subject, event) };
}

export function renderDigest(mails: RenderedMail[], limit: number): RenderedMail {
  const subject = `[visor] digest: ${mails.length} more message${mails.length === 1 ? '' : 's'} (limit ${limit}/min)`;
  const firstLine = (m: RenderedMail) => oneLine(m.text.split('\n', 1)[0] ?? '', 200);
  const text = `${mails.length} messages exceeded the limit of ${limit} per minute and were merged:\n\n`
    + mails.map((m, i) => `${i + 1}. ${m.subject}\n   ${firstLine(m)}`).join('\n') + '\n';
  const html = `<!doctype html><html><body><h3 style="font-family:sans-serif">${escapeHtml(subject)}</h3>`
    + `<p style="font-family:sans-serif">${mails.length} messages exceeded the limit of ${limit} per minute and were merged:</p>`
    + `<table ${TABLE}><tr><th>#</th><th>subject</th><th>first line</th></tr>`
    + mails.map((m, i) => `<tr><td>${i + 1}</td><td>${escapeHtml(m.subject)}</td><td>${escapeHtml(firstLine(m))}</td></tr>`).join('')
    + '</table></body></html>';
  return { subject, text, html };
}
