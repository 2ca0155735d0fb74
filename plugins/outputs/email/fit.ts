// Bounding the size of a message (max_message_bytes). A message that does not fit is rendered again with its
// largest parts cut, deterministically, each cut saying how much it left out:
// - an event rendered as a table: the largest fields first (water-filling: every field whose JSON is longer
//   than a threshold is cut down to it; the largest threshold that fits is kept). Lists (alert samples, top
//   lists) keep their first items, strings their first characters, objects their first entries;
// - a digest: its list of merged messages keeps its first entries, then the tally per subject its first lines
//   (the counts in the subject and the first line still cover every merged message);
// - anything else (a prerendered report, a message spooled by an older version, an event whose field names
//   alone are too large): the HTML part is replaced by the text in <pre>, long lines are cut, then lines.
// `fits` decides, so what is counted is up to the caller (the email output: the whole encoded message).
import type { Event, Template } from '../../../core/index.js';
import { escapeHtml, formatCount, isSelfRendered, renderDigest, renderEvent, renderHtml, renderSubject, renderText, type MailSite, type RenderedMail } from './render.js';

export type Fits = (mail: RenderedMail) => Promise<boolean>;

/** A mail and whether something was cut to make it fit. */
export interface Fitted {
  mail: RenderedMail;
  cut: boolean;
}

/** Lines are not cut shorter than this before whole lines are dropped. */
const MIN_LINE = 80;

const preface = (limit: number) => `[shortened to fit the message size limit of ${formatCount(limit)} bytes]`;

/** The largest x in [lo, hi] with ok(x), assuming ok is monotone (true up to some x); lo - 1 if none. */
async function largest(lo: number, hi: number, ok: (x: number) => Promise<boolean>): Promise<number> {
  if (hi < lo || !(await ok(lo))) return lo - 1;
  let good = lo;
  let bad = hi + 1;
  if (await ok(hi)) return hi;
  bad = hi;
  while (bad - good > 1) {
    const mid = good + Math.floor((bad - good) / 2);
    if (await ok(mid)) good = mid;
    else bad = mid;
  }
  return good;
}

const jsonLength = (v: unknown): number => {
  try {
    return JSON.stringify(v)?.length ?? 0;
  } catch {
    return 0;
  }
};

/** The first n UTF-16 units of s, not splitting a surrogate pair. */
function head(s: string, n: number): string {
  if (n <= 0) return '';
  let cut = s.slice(0, n);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}

const plural = (n: number, one: string, many = `${one}s`) => `${formatCount(n)} ${n === 1 ? one : many}`;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date);
}

/** The event with every top-level field longer than `t` (JSON characters) cut down to about `t`, and a note per cut field. */
function cutEvent(event: Event, t: number, sizes: Map<string, number>): { event: Event; notes: Map<string, string> } {
  const out: Event = {};
  const notes = new Map<string, string>();
  for (const [k, v] of Object.entries(event)) {
    if ((sizes.get(k) ?? 0) <= t) {
      out[k] = v;
      continue;
    }
    if (typeof v === 'string') {
      const kept = head(v, t);
      out[k] = kept ? `${kept}…` : '';
      notes.set(k, `… ${plural(v.length - kept.length, 'more character')} not shown`);
    } else if (Array.isArray(v)) {
      const kept: unknown[] = [];
      let budget = t;
      for (const item of v) {
        const size = jsonLength(item) + 1;
        if (size <= budget) {
          kept.push(item);
          budget -= size;
          continue;
        }
        // One long string item (a sample): its beginning, when there is room for a useful part of it.
        if (typeof item === 'string' && budget >= 40) kept.push(`${head(item, budget - 20)}… (${plural(item.length - head(item, budget - 20).length, 'more character')})`);
        break;
      }
      out[k] = kept;
      notes.set(k, `… ${formatCount(v.length - kept.length)} more ${k} not shown`);
    } else if (isPlainObject(v)) {
      const kept: Record<string, unknown> = {};
      let budget = t;
      let n = 0;
      const entries = Object.entries(v);
      for (const [ek, ev] of entries) {
        const size = jsonLength(ek) + jsonLength(ev) + 2;
        if (size > budget) break;
        kept[ek] = ev;
        budget -= size;
        n++;
      }
      out[k] = kept;
      notes.set(k, `… ${plural(entries.length - n, 'more entry', 'more entries')} of ${k} not shown`);
    } else {
      out[k] = v;
    }
  }
  return { event: out, notes };
}

/** The mail for one event, within the limit `fits` sets. */
export async function fitEvent(event: Event, subjectTemplate: Template | undefined, limit: number, fits: Fits, site?: MailSite): Promise<Fitted> {
  const mail = renderEvent(event, subjectTemplate, site);
  if (await fits(mail)) return { mail, cut: false };
  if (!isSelfRendered(event)) {
    const subject = renderSubject(event, subjectTemplate, site);
    const sizes = new Map(Object.entries(event).map(([k, v]) => [k, jsonLength(v)]));
    const note = preface(limit);
    const render = (t: number): RenderedMail => {
      const cut = cutEvent(event, t, sizes);
      return { subject, text: `${note}\n${renderText(cut.event, cut.notes, site)}`, html: renderHtml(subject, cut.event, cut.notes, note, site) };
    };
    let max = 0;
    for (const size of sizes.values()) if (size > max) max = size;
    const t = await largest(0, max, (x) => fits(render(x)));
    if (t >= 0) return { mail: render(t), cut: true };
  }
  return { mail: await fitText(mail, limit, fits), cut: true };
}

/** The digest of `mails`, within the limit: first fewer listed messages, then fewer tally lines. */
export async function fitDigest(mails: RenderedMail[], perMinute: number, limit: number, fits: Fits, site?: MailSite): Promise<Fitted> {
  const full = renderDigest(mails, perMinute, undefined, site);
  if (await fits(full)) return { mail: full, cut: false };
  const all = Number.MAX_SAFE_INTEGER;
  const entries = await largest(0, mails.length - 1, (e) => fits(renderDigest(mails, perMinute, { entries: e, subjects: all }, site)));
  if (entries >= 0) return { mail: renderDigest(mails, perMinute, { entries, subjects: all }, site), cut: true };
  const subjects = new Set(mails.map((m) => m.subject)).size;
  const tally = await largest(0, subjects - 1, (s) => fits(renderDigest(mails, perMinute, { entries: 0, subjects: s }, site)));
  if (tally >= 0) return { mail: renderDigest(mails, perMinute, { entries: 0, subjects: tally }, site), cut: true };
  return { mail: await fitText(renderDigest(mails, perMinute, { entries: 0, subjects: 0 }, site), limit, fits), cut: true };
}

/** Any mail within the limit: the HTML part becomes the text in <pre>; long lines are cut, then lines dropped.
 * When not even the subject and a note fit, the note alone (the caller's check is the last word). */
export async function fitText(mail: RenderedMail, limit: number, fits: Fits): Promise<RenderedMail> {
  const lines = mail.text.replace(/\n$/, '').split('\n');
  const htmlBytes = Buffer.byteLength(mail.html);
  const note = `${preface(limit)}${htmlBytes ? ` (the HTML part, ${formatCount(htmlBytes)} bytes, is replaced by the text)` : ''}`;
  const render = (t: number, l: number): RenderedMail => {
    const kept = lines.slice(0, l).map((line) => (line.length > t ? `${head(line, t)} … (${plural(line.length - head(line, t).length, 'more character')} not shown)` : line));
    if (l < lines.length) kept.push(`… ${plural(lines.length - l, 'more line')} not shown`);
    const text = `${note}\n${kept.join('\n')}\n`;
    const html = `<!doctype html><html><body><h3 style="font-family:sans-serif">${escapeHtml(mail.subject)}</h3>`
      + `<p style="font-family:sans-serif"><i>${escapeHtml(note)}</i></p><pre>${escapeHtml(kept.join('\n'))}</pre></body></html>`;
    return { subject: mail.subject, text, html };
  };
  const longest = lines.reduce((m, line) => Math.max(m, line.length), 0);
  const t = await largest(Math.min(MIN_LINE, longest), longest, (x) => fits(render(x, lines.length)));
  if (t >= Math.min(MIN_LINE, longest)) return render(t, lines.length);
  const l = await largest(0, lines.length - 1, (x) => fits(render(MIN_LINE, x)));
  return render(MIN_LINE, Math.max(0, l));
}
