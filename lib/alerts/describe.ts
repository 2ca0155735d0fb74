// What an alert shows of the event behind it, in one of two styles. An `alert` message or sample reads best as the
// request's main fields (`203.0.113.7 GET /api 503`); a `detect` evidence line is the raw log line as Apache wrote
// it (tail's `message`), which shows what the attack sent — query string, user agent, error-log text. Both fall
// back on the same fields when the parser kept no line, and on the event as JSON when it has none of them.
import { detachString, type Event } from '../../core/index.js';

/** Longest description: a sample is shown, not archived (the event itself goes to the store). */
const MAX = 500;
const REQUEST_FIELDS = ['client_ip', 'method', 'path', 'status'];
/** Evidence without the raw line: url (path and query), user agent and error text carry the payloads. */
const EVIDENCE_FIELDS = ['client_ip', 'method', 'url', 'status', 'user_agent', 'message_text'];

export type DescribeStyle = 'short' | 'evidence';

/** The fields describeEvent reads of an event in `style`, for a component's Plugin.reads: with them a parser keeps
 * what a description shows. Only the last resort, the JSON of an event with none of them, shows any other field, and
 * of a projected event just the fields it kept. */
export function describeReads(style: DescribeStyle): string[] {
  return ['message', ...(style === 'evidence' ? EVIDENCE_FIELDS : [...REQUEST_FIELDS, 'level'])];
}

function fieldsOf(e: Event, fields: readonly string[]): string {
  return fields.map((f) => e[f]).filter((v) => typeof v === 'string' || typeof v === 'number').join(' ');
}

function asJson(e: Event): string {
  const json = JSON.stringify(e);
  return json.length > 300 ? `${json.slice(0, 297)}...` : json;
}

/** The raw line (tail's `message`) as evidence shows it, cut to the longest description, not detached; undefined
 * when the parser kept none. */
export function evidenceLine(e: Event): string | undefined {
  return typeof e.message === 'string' && e.message ? e.message.slice(0, MAX) : undefined;
}

/** A short readable description of `e` (detached from the batch it came in, so keeping it keeps no batch alive):
 * `short` for alert messages and samples, `evidence` for the raw line a detection keeps. */
export function describeEvent(e: Event, style: DescribeStyle = 'short'): string {
  const line = evidenceLine(e);
  if (style === 'evidence') return detachString(line ?? (fieldsOf(e, EVIDENCE_FIELDS).slice(0, MAX) || asJson(e)));
  if (e.path !== undefined || e.status !== undefined) {
    const fields = fieldsOf(e, REQUEST_FIELDS);
    if (fields) return detachString(fields);
  }
  if (line) return detachString((typeof e.level === 'string' ? `[${e.level}] ` : '') + line);
  return asJson(e);
}
