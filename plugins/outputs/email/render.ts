// Rendering of one event as an e-mail: subject (from a template), plain text and an HTML table. The text part
// reads as a short message first (what, where, since when, how many, samples, the dashboard link), the fields
// follow; times are the server's local time with its offset, never epoch milliseconds.
import { compileTemplate, fieldText, formatLocalTime, templateSchema, type Event, type Template, type TemplateOptions } from '../../../core/index.js';

/** Who sends: `service.name` (in every subject and body) and `service.public_url` (the dashboard link). */
export interface MailSite {
  name: string;
  url?: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** Header-safe single line. */
function oneLine(s: string, max = 200): string {
  const line = s.replace(/[\r\n\t]+/g, ' ').replace(/\s{2,}/g, ' ').trim();
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}

/** Subjects are core templates (`{{field}}`, `{{a.b}}`; missing fields render empty; no code is evaluated)
 * without strftime: a `%` in a subject ("5xx above 5%") is text, and the time is in the message. */
const SUBJECT_TEMPLATE: TemplateOptions = { strftime: false };

/** Schema of the `subject` option: compiled at validation, so a bad template is a located error. */
export const subjectSchema = (description: string) => templateSchema(description, SUBJECT_TEMPLATE);

export function compileSubject(source: string): Template {
  return compileTemplate(source, SUBJECT_TEMPLATE);
}

/** The subject line from a template (compiled, or its text), made header-safe. */
export function renderTemplate(template: Template | string, event: Event): string {
  const compiled = typeof template === 'string' ? compileSubject(template) : template;
  return oneLine(compiled.render(event), 300);
}

/** `[visor web01]`: the tag every default subject starts with (`[visor]` without a site). */
export const subjectTag = (site?: MailSite) => (site ? `[visor ${oneLine(site.name, 100)}]` : '[visor]');

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

/** Whom an alert is about, when it names a client (detect's alerts): ` 198.51.100.7 on www.example.com`. One
 * mail per attacking client would otherwise carry the same subject, so the inbox could not tell them apart. */
function aboutClient(event: Event): string {
  if (typeof event.client_ip !== 'string' || !event.client_ip) return '';
  return ` ${event.client_ip}${typeof event.vhost === 'string' && event.vhost ? ` on ${event.vhost}` : ''}`;
}

/** The subject when no template is configured: alerts (naming the client when they have one, saying when it is a
 * digest, resolved or stopped), reports and any other event. */
export function defaultSubject(event: Event, site?: MailSite): string {
  const s = (k: string) => fieldText(event[k]);
  const tag = subjectTag(site);
  if (event.name !== undefined && event.severity !== undefined) {
    const what = `${tag} ${s('severity')} ${s('name')}${aboutClient(event)}`;
    const count = typeof event.count === 'number' ? event.count : undefined;
    switch (event.state) {
      case 'digest': return oneLine(`${what}: ${count === undefined ? 'more matches' : `${formatCount(count)} more`}${event.cooldown !== undefined ? ` in ${s('cooldown')}` : ''}`);
      case 'resolved': return oneLine(`${what} resolved${event.duration !== undefined ? ` after ${s('duration')}` : ''}`);
      case 'stopped': return oneLine(`${what} stopped: the agent stopped while it was firing`);
      default: return oneLine(what);
    }
  }
  if (event.report !== undefined) return oneLine(`${tag} report ${s('report')}`);
  if (event.name !== undefined) return oneLine(`${tag} ${s('name')}`);
  if (typeof event.message === 'string' && event.message) return oneLine(`${tag} ${event.message}`, 120);
  return oneLine(`${tag} event ${JSON.stringify(event)}`, 120);
}

/** Fields that carry an instant (epoch milliseconds, as the alert and report aggregates emit them). */
const TIME_FIELDS = new Set(['time', 'since', 'window_start', 'window_end', 'timestamp', '@timestamp', 'first_seen', 'last_seen', 'first', 'last', 'quiet_until']);
/** 2000-01-01 to 2100-01-01 in epoch ms: a number outside is not taken for a time (a count, seconds). */
const isEpochMs = (v: unknown): v is number => typeof v === 'number' && v >= 946_684_800_000 && v < 4_102_444_800_000;

/** A top-level field's value as shown: instants as local time with zone, everything else as it is. */
function shown(key: string, v: unknown): unknown {
  return TIME_FIELDS.has(key) && isEpochMs(v) ? formatLocalTime(v) : v;
}

const timeOf = (v: unknown): string | undefined => (isEpochMs(v) ? formatLocalTime(v) : typeof v === 'string' && v ? v : undefined);

/** Samples shown in the short message; the field table lists them all. */
const SUMMARY_SAMPLES = 5;

/** The short message before the fields: what happened, where, since when, how many, a few samples, the link. */
export function summaryLines(event: Event, site?: MailSite): string[] {
  const s = (k: string) => fieldText(event[k]);
  const isAlert = event.name !== undefined && event.severity !== undefined;
  const lines: string[] = [];
  if (typeof event.message === 'string' && event.message) lines.push(oneLine(event.message, 1000));
  else if (isAlert) lines.push(oneLine(`[${s('severity')}] ${s('name')}`, 1000));
  if (site) lines.push(`host: ${oneLine(site.name, 100)}`);
  if (isAlert) {
    const since = timeOf(event.since);
    const at = timeOf(event.time);
    const count = typeof event.count === 'number' ? event.count : undefined;
    switch (event.state) {
      case 'firing':
        if (since) lines.push(`firing since ${since}`);
        break;
      case 'digest': {
        // detect's digests carry the last match's own time (event time); alert's end when they are emitted.
        const until = timeOf(event.last) ?? at;
        lines.push(`${count === undefined ? 'more matches' : plural(count, 'more match', 'more matches')}${event.cooldown !== undefined ? ` in ${s('cooldown')}` : ''}`
          + `${since ? ` from ${since}` : ''}${until ? ` to ${until}` : ''}`);
        break;
      }
      case 'resolved':
        lines.push(`resolved${at ? ` at ${at}` : ''}${event.duration !== undefined ? ` after ${s('duration')}` : ''}${since ? ` (firing since ${since})` : ''}`);
        break;
      case 'stopped':
        lines.push(`the agent stopped${at ? ` at ${at}` : ''} while the alert was firing${since ? ` since ${since}` : ''}: its resolution will not be reported`);
        break;
      default:
        if (since) lines.push(`since ${since}`);
    }
  } else if (timeOf(event.time)) lines.push(`at ${timeOf(event.time)}`);
  const samples = Array.isArray(event.samples) ? event.samples : [];
  if (samples.length) {
    lines.push('samples:');
    for (const x of samples.slice(0, SUMMARY_SAMPLES)) lines.push(`  ${oneLine(fieldText(x), 300)}`);
    if (samples.length > SUMMARY_SAMPLES) lines.push(`  … ${formatCount(samples.length - SUMMARY_SAMPLES)} more in the fields below`);
  }
  if (site?.url) lines.push(`dashboard: ${site.url}`);
  return lines;
}

/** The short message as HTML paragraphs (the dashboard as a link). */
function summaryHtml(lines: string[], site?: MailSite): string {
  const body = lines.map((l) => (site?.url && l === `dashboard: ${site.url}` ? `dashboard: <a href="${escapeHtml(site.url)}">${escapeHtml(site.url)}</a>` : escapeHtml(l))).join('<br>');
  return body ? `<p style="font-family:sans-serif">${body}</p>` : '';
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

function textValue(v: unknown, indent: string): string {
  if (Array.isArray(v) && v.length && v.every(isPlainObject)) {
    return '\n' + v.map((row, i) => `${indent}  ${i + 1}. ${Object.entries(row).map(([k, x]) => `${k}=${fieldText(x)}`).join(', ')}`).join('\n');
  }
  if (isPlainObject(v)) {
    return '\n' + Object.entries(v).map(([k, x]) => `${indent}  ${k}: ${textValue(x, indent + '  ')}`).join('\n');
  }
  if (Array.isArray(v)) return v.map((x) => fieldText(x)).join(', ');
  return fieldText(v);
}

/** Notes shown after a field's value (what a size cut left out), by top-level field name. */
export type FieldNotes = ReadonlyMap<string, string>;

/** The text part: the short message, then every field (`key: value`, one per line). */
export function renderText(event: Event, notes?: FieldNotes, site?: MailSite): string {
  const summary = summaryLines(event, site);
  return (summary.length ? `${summary.join('\n')}\n\nfields:\n` : '') + Object.entries(event).map(([k, v]) => {
    const note = notes?.get(k);
    return `${k}: ${textValue(shown(k, v), '')}${note ? `\n  ${note}` : ''}`;
  }).join('\n') + '\n';
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
  if (Array.isArray(v)) return escapeHtml(v.map((x) => fieldText(x)).join(', '));
  return escapeHtml(fieldText(v));
}

function htmlTable(obj: Record<string, unknown>, notes?: FieldNotes): string {
  const rows = Object.entries(obj).map(([k, v]) => {
    const note = notes?.get(k);
    return `<tr><th align="left">${escapeHtml(k)}</th><td>${htmlValue(shown(k, v))}${note ? `<p><i>${escapeHtml(note)}</i></p>` : ''}</td></tr>`;
  }).join('');
  return `<table ${TABLE}>${rows}</table>`;
}

export function renderHtml(subject: string, event: Event, notes?: FieldNotes, preface?: string, site?: MailSite): string {
  return `<!doctype html><html><body><h3 style="font-family:sans-serif">${escapeHtml(subject)}</h3>`
    + (preface ? `<p style="font-family:sans-serif"><i>${escapeHtml(preface)}</i></p>` : '')
    + summaryHtml(summaryLines(event, site), site)
    + `${htmlTable(event, notes)}</body></html>`;
}

export function renderSubject(event: Event, subjectTemplate: Template | undefined, site?: MailSite): string {
  return subjectTemplate ? renderTemplate(subjectTemplate, event) : defaultSubject(event, site);
}

/** Whether an aggregate rendered the event itself (report: `message` text and prerendered, escaped `html`). */
export function isSelfRendered(event: Event): boolean {
  return typeof event.html === 'string' && typeof event.message === 'string';
}

export function renderEvent(event: Event, subjectTemplate: Template | undefined, site?: MailSite): RenderedMail {
  const subject = renderSubject(event, subjectTemplate, site);
  // Aggregates that render themselves (report) carry `message` text and prerendered, escaped `html`: sent as they
  // are, after the host and the dashboard link.
  if (isSelfRendered(event)) {
    const message = event.message as string;
    const head = [site ? `host: ${oneLine(site.name, 100)}` : '', site?.url ? `dashboard: ${site.url}` : ''].filter(Boolean);
    return {
      subject,
      text: (head.length ? `${head.join('\n')}\n\n` : '') + (message.endsWith('\n') ? message : `${message}\n`),
      html: head.length ? summaryHtml(head, site) + (event.html as string) : (event.html as string),
    };
  }
  return { subject, text: renderText(event, undefined, site), html: renderHtml(subject, event, undefined, undefined, site) };
}

/** 4213 -> "4,213" (notes on what was left out). */
export const formatCount = (n: number) => n.toLocaleString('en-US');

/** How much of a digest to show: the first `entries` messages, the first `subjects` lines of the tally. */
export interface DigestCut {
  entries: number;
  subjects: number;
}

/** Messages per subject, most frequent first (ties by subject): accounts for every merged message. */
function subjectTally(mails: RenderedMail[]): Array<[string, number]> {
  const tally = new Map<string, number>();
  for (const m of mails) tally.set(m.subject, (tally.get(m.subject) ?? 0) + 1);
  return [...tally.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

/** One message for the messages beyond the rate limit: their count, a tally per subject, and each one's
 * subject and first line. With `cut`, only the first entries / tally lines are listed and a note says how
 * many were left out (the counts still cover every merged message). */
export function renderDigest(mails: RenderedMail[], limit: number, cut?: DigestCut, site?: MailSite): RenderedMail {
  const subject = `${subjectTag(site)} digest: ${mails.length} more message${mails.length === 1 ? '' : 's'} (limit ${limit}/min)`;
  const firstLine = (m: RenderedMail) => oneLine(m.text.split('\n', 1)[0] ?? '', 200);
  const intro = `${mails.length} messages exceeded the limit of ${limit} per minute and were merged`;
  const head = [site ? `host: ${oneLine(site.name, 100)}` : '', site?.url ? `dashboard: ${site.url}` : ''].filter(Boolean);
  const tally = subjectTally(mails);
  // The tally says something only when subjects repeat (e.g. many matches of one alert rule).
  const showTally = tally.length < mails.length;
  const shownTally = cut ? tally.slice(0, cut.subjects) : tally;
  const hiddenTally = tally.slice(shownTally.length);
  const tallyNote = hiddenTally.length
    ? `… ${formatCount(hiddenTally.length)} more subject${hiddenTally.length === 1 ? '' : 's'} (${formatCount(hiddenTally.reduce((n, [, c]) => n + c, 0))} messages) not shown`
    : '';
  const shown = cut ? mails.slice(0, cut.entries) : mails;
  const hidden = mails.length - shown.length;
  const entriesNote = hidden ? `… ${formatCount(hidden)} more message${hidden === 1 ? '' : 's'} not shown (the message size limit)` : '';
  const text = `${intro}:\n\n`
    + (showTally ? 'by subject:\n' + shownTally.map(([s, n]) => `  ${formatCount(n)} × ${s}`).join('\n') + (tallyNote ? `${shownTally.length ? '\n' : ''}  ${tallyNote}` : '') + '\n\n' : '')
    + shown.map((m, i) => `${i + 1}. ${m.subject}\n   ${firstLine(m)}`).join('\n')
    + (entriesNote ? `${shown.length ? '\n' : ''}${entriesNote}` : '') + '\n'
    + (head.length ? `\n${head.join('\n')}\n` : '');
  const html = `<!doctype html><html><body><h3 style="font-family:sans-serif">${escapeHtml(subject)}</h3>`
    + `<p style="font-family:sans-serif">${intro}:</p>`
    + (showTally
      ? `<table ${TABLE}><tr><th>messages</th><th>subject</th></tr>`
        + shownTally.map(([s, n]) => `<tr><td align="right">${formatCount(n)}</td><td>${escapeHtml(s)}</td></tr>`).join('')
        + (tallyNote ? `<tr><td colspan="2"><i>${escapeHtml(tallyNote)}</i></td></tr>` : '') + '</table><br>'
      : '')
    + `<table ${TABLE}><tr><th>#</th><th>subject</th><th>first line</th></tr>`
    + shown.map((m, i) => `<tr><td>${i + 1}</td><td>${escapeHtml(m.subject)}</td><td>${escapeHtml(firstLine(m))}</td></tr>`).join('')
    + (entriesNote ? `<tr><td colspan="3"><i>${escapeHtml(entriesNote)}</i></td></tr>` : '')
    + '</table>' + summaryHtml(head, site) + '</body></html>';
  return { subject, text, html };
}
