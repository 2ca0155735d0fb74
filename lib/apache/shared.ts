// What the Apache parsers share: reading the raw line, accounting (parsed + unparsed = lines in),
// routing unparsed lines with a reason, and Apache's timestamp and escape conventions.
import type { Counter, Emit, Event, FilterInstance, OptionSchema, PluginContext } from '../../core/index.js';

/** Options both parsers take. */
export const SOURCE_FIELD_SCHEMA = {
  field: { type: 'string', default: 'message', description: 'Field holding the raw line. It is kept as it is.' },
} as const satisfies Record<string, OptionSchema>;

export const UNPARSED_OUTPUT = '_unparsed';

/** Counts every line once, as parsed or as unparsed with a low-cardinality reason, and routes the latter. */
export class ParseAccounting {
  readonly parsed: Counter;
  private readonly unparsedTotal: Counter;
  private readonly byReason = new Map<string, Counter>();
  private pending: Event[] = [];

  constructor(private readonly context: PluginContext) {
    this.parsed = context.metrics.counter('parser_parsed_lines_total', 'Lines parsed into fields.');
    this.unparsedTotal = context.metrics.counter('parser_unparsed_lines_total', 'Lines sent to the _unparsed output.');
  }

  /** Keep the event (raw line untouched) for the unparsed output, with the reason in `parse_error`. */
  unparsed(event: Event, reason: string): void {
    event.parse_error = reason;
    this.pending.push(event);
    let c = this.byReason.get(reason);
    if (!c) this.byReason.set(reason, (c = this.context.metrics.counter(`parser_unparsed_${reason}_total`, `Lines unparsed because: ${reason}.`)));
    c.inc();
  }

  /** Send this batch's unparsed events on; call once at the end of `process`. */
  flush(emit: Emit, parsedCount: number): void {
    this.parsed.inc(parsedCount);
    if (this.pending.length === 0) return;
    this.unparsedTotal.inc(this.pending.length);
    emit(this.pending, UNPARSED_OUTPUT);
    this.pending = [];
  }
}

/** Parses `line` into fields on `event`; returns undefined when parsed, else a low-cardinality reason. */
export type LineParse = (line: string, event: Event) => string | undefined;

/** The `process` of a line parser: each event is parsed (main output) or sent to `_unparsed` with a reason
 * (not a string, blank, the parser's reason, or a parser bug, counted and logged once): never lost, never thrown.
 * A heartbeat (`heartbeat: true`, e.g. the generator's, a bare message in an access log) that does not parse goes on
 * as it came: it is a liveness marker, not a bad line, and every aggregate leaves it out of the figures; sent to
 * `_unparsed`, it made the demo's health table flag its own heartbeats, and an absence rule on `heartbeat == true`
 * downstream of the parser never saw one. */
export function lineParserProcess(context: PluginContext, field: string, parse: LineParse): FilterInstance['process'] {
  const accounting = new ParseAccounting(context);
  const heartbeats = context.metrics.counter('parser_heartbeats_total', 'Heartbeat events passed on unparsed (heartbeat: true, not a log line).');
  const parserErrors = context.metrics.errors('parser_error');
  let loggedError = false;
  return (events, { emit }) => {
    const parsed: Event[] = [];
    for (let i = 0; i < events.length; i++) {
      const event = events[i];
      const line = event[field];
      let failure: string | undefined;
      if (typeof line !== 'string') failure = 'not_a_string';
      else if (isBlank(line)) failure = 'empty_line';
      else {
        try {
          failure = parse(line, event);
        } catch (err) {
          // A bug must not fail the batch (and so hold up the input): count it and keep the line.
          failure = 'parser_error';
          parserErrors.inc();
          if (!loggedError) context.logger.error(`${context.id} could not parse a line`, { error: (err as Error).message, line });
          loggedError = true;
        }
      }
      if (failure === undefined) parsed.push(event);
      else if (event.heartbeat === true) {
        heartbeats.inc();
        parsed.push(event);
      } else accounting.unparsed(event, failure);
    }
    accounting.flush(emit, parsed.length);
    return parsed;
  };
}

/** Empty or whitespace only (a CRLF file's empty lines keep their CR). */
function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 13) return false;
  }
  return true;
}

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

export function monthIndex(name: string): number {
  const m = MONTHS[name];
  return m === undefined ? -1 : m;
}

/** Two ASCII digits at `i` as a number, or NaN. */
export function digits2(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : NaN;
}

function digitsN(s: string, i: number, n: number): number {
  let v = 0;
  for (let k = 0; k < n; k++) {
    const d = s.charCodeAt(i + k) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/** `10/Oct/2000:13:55:36 -0700` (Apache's %t, without brackets) -> epoch ms, or NaN. */
export function parseClfTime(s: string): number {
  if (s.length !== 26 || s.charCodeAt(2) !== 47 || s.charCodeAt(6) !== 47 || s.charCodeAt(11) !== 58 || s.charCodeAt(20) !== 32) return NaN;
  const day = digits2(s, 0);
  const month = monthIndex(s.slice(3, 6));
  const year = digitsN(s, 7, 4);
  const h = digits2(s, 12);
  const m = digits2(s, 15);
  const sec = digits2(s, 18);
  const sign = s.charCodeAt(21) === 45 ? -1 : s.charCodeAt(21) === 43 ? 1 : 0;
  const tzh = digits2(s, 22);
  const tzm = digits2(s, 24);
  if (month < 0 || sign === 0 || day !== day || year !== year || h !== h || m !== m || sec !== sec || tzh !== tzh || tzm !== tzm) return NaN;
  if (day < 1 || day > 31 || h > 23 || m > 59 || sec > 60) return NaN;
  return Date.UTC(year, month, day, h, m, sec) - sign * (tzh * 60 + tzm) * 60000;
}

/** Apache's %t read in place: the text between its brackets, `10/Oct/2000:13:55:36 -0700`, at line[start, end) ->
 * epoch ms, or NaN; the same value parseClfTime gives. The start of the day (in its zone) is kept: lines of one day
 * differ in the time of day, read as three numbers, so neither a substring nor a Date.UTC is made per line. A
 * whole-text cache missed on most lines of the 1M-line corpus (3 days: a new second every ~4 lines). */
export class ClfTimeReader {
  /** The cached day's text by character code: `dd/Mon/yyyy` (0-10) and ` zone` (20-25) of its %t; -1: none yet. */
  private readonly day = new Int32Array(26).fill(-1);
  private dayStart = NaN;

  read(line: string, start: number, end: number): number {
    if (end - start !== 26 || line.charCodeAt(start + 11) !== 58 || line.charCodeAt(start + 14) !== 58 || line.charCodeAt(start + 17) !== 58) return NaN;
    const h = digits2(line, start + 12);
    const m = digits2(line, start + 15);
    const sec = digits2(line, start + 18);
    if (h !== h || m !== m || sec !== sec || h > 23 || m > 59 || sec > 60) return NaN;
    if (!this.sameDay(line, start)) {
      const midnight = parseClfTime(`${line.slice(start, start + 12)}00:00:00${line.slice(start + 20, end)}`);
      if (midnight !== midnight) return NaN;
      for (let k = 0; k < 26; k++) this.day[k] = k < 11 || k >= 20 ? line.charCodeAt(start + k) : -1;
      this.dayStart = midnight;
    }
    return this.dayStart + ((h * 60 + m) * 60 + sec) * 1000;
  }

  /** Character codes compared with the cached day's: startsWith with a position, or a second string's charCodeAt,
   * cost ~100 ns a line in the profile; this loop a fraction. */
  private sameDay(line: string, start: number): boolean {
    const day = this.day;
    for (let k = 0; k < 11; k++) if (line.charCodeAt(start + k) !== day[k]) return false;
    for (let k = 20; k < 26; k++) if (line.charCodeAt(start + k) !== day[k]) return false;
    return true;
  }
}

/** A one-entry cache: consecutive lines mostly share their timestamp text. */
export function cachedTimeParser(parse: (s: string) => number): (s: string) => number {
  let lastText = '';
  let lastValue = NaN;
  return (s) => {
    if (s === lastText) return lastValue;
    lastText = s;
    return (lastValue = parse(s));
  };
}

/** Escapes Apache writes besides \xhh (ap_escape_logitem). */
const SIMPLE_ESCAPES: Record<string, number> = { '"': 34, '\\': 92, n: 10, t: 9, r: 13, b: 8, v: 11 };

/** Control characters, C0, DEL and C1, and the Unicode line and paragraph separators: what must not reach a
 * field of the access parser raw (they would break lines, or terminals and viewers, downstream). */
export const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/;
const CONTROL_ALL = /[\x00-\x1f\x7f-\x9f\u2028\u2029]/g;

/** Undo Apache's escaping in logged strings: \" \\ \n \t \r \b \v and \xhh (bytes, decoded as UTF-8).
 * `keepControls`: control characters stay written as escapes (`\n`, `\x16`; a C1 or U+2028/U+2029 character
 * decoded from UTF-8 bytes as its `\xhh` bytes), so the result never holds one; the rest is decoded. */
export function unescapeApache(s: string, keepControls = false): string {
  if (s.indexOf('\\') < 0) return s;
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 && i + 1 < s.length) {
      const hex = s.slice(i + 2, i + 4);
      if (s[i + 1] === 'x' && /^[0-9a-fA-F]{2}$/.test(hex)) {
        const b = parseInt(hex, 16);
        if (keepControls && (b < 32 || b === 127)) bytes.push(92, 120, hex.charCodeAt(0), hex.charCodeAt(1));
        else bytes.push(b);
        i += 3;
        continue;
      }
      const simple = SIMPLE_ESCAPES[s[i + 1]];
      if (simple !== undefined) {
        if (keepControls && simple !== 34 && simple !== 92) bytes.push(92, s.charCodeAt(i + 1));
        else bytes.push(simple);
        i++;
        continue;
      }
    }
    if (c < 128) {
      bytes.push(c);
      continue;
    }
    // Whole code points, so characters outside the BMP (surrogate pairs) survive.
    const cp = s.codePointAt(i)!;
    for (const b of Buffer.from(String.fromCodePoint(cp))) bytes.push(b);
    if (cp > 0xffff) i++;
  }
  const text = Buffer.from(bytes).toString('utf8');
  return keepControls && CONTROL.test(text) ? escapeControls(text) : text;
}

/** Control characters as Apache writes them (`\n`, `\x16`; a character beyond ASCII as its UTF-8 bytes). */
export function escapeControls(s: string): string {
  return s.replace(CONTROL_ALL, (ch) => {
    const simple = ch === '\n' ? 'n' : ch === '\t' ? 't' : ch === '\r' ? 'r' : ch === '\b' ? 'b' : ch === '\v' ? 'v' : '';
    if (simple) return `\\${simple}`;
    let out = '';
    for (const b of Buffer.from(ch)) out += `\\x${b.toString(16).padStart(2, '0')}`;
    return out;
  });
}
