// Scans access-log lines against a compiled LogFormat: no regex, one pass of indexOf in the usual case,
// bounded backtracking where real logs are ambiguous (unescaped quotes, IPv6 vhost:port).
import type { Event } from '../../core/index.js';
import type { CompiledFormat, FieldKind, FieldSpec } from './logformat.js';
import { cachedTimeParser, ClfTimeReader, CONTROL, escapeControls, unescapeApache } from './shared.js';
import { compileStrftime, utcWallClock, type WallClockToEpoch } from './strftime.js';

/** Candidate ends tried per field before the line is declared not to match. */
const MAX_CANDIDATES = 8;
const SPACE = 32;
const BACKSLASH = 92;

const KIND_CODE: Record<FieldKind, number> = {
  str: 0, raw: 1, int: 2, clf_time: 3, strftime: 4, epoch_s: 5, epoch_ms: 6, epoch_us: 7, frac_ms: 8, frac_us: 9, query: 10, request: 11, zone: 12, path_query: 13,
  method: 14, protocol: 15, path: 16,
};

export type ParseFailure = 'format_mismatch' | 'bad_timestamp';

type Write = (event: Event, value: unknown) => void;

/** Writers of the fields Apache's directives name (logformat.ts), each storing one name. `event[name] = v` with the
 * names of a format in one statement made V8's store there megamorphic (a stub-cache probe per store: P1's status
 * and bytes, ~410 instructions a line in Builtins_KeyedStoreIC_Megamorphic under callgrind). Parsing the corpus's
 * first 200k lines with P1's fields, same process, alternating: 0.61-0.63 against 0.63-0.65 µs a line. */
const NAMED_WRITERS: Readonly<Record<string, Write>> = Object.freeze({
  client_ip: (e, v) => { e.client_ip = v; }, ident: (e, v) => { e.ident = v; }, user: (e, v) => { e.user = v; },
  timestamp: (e, v) => { e.timestamp = v; }, status: (e, v) => { e.status = v; }, bytes: (e, v) => { e.bytes = v; },
  referer: (e, v) => { e.referer = v; }, user_agent: (e, v) => { e.user_agent = v; }, vhost: (e, v) => { e.vhost = v; },
  port: (e, v) => { e.port = v; }, duration_us: (e, v) => { e.duration_us = v; }, duration_ms: (e, v) => { e.duration_ms = v; },
  duration_s: (e, v) => { e.duration_s = v; }, bytes_received: (e, v) => { e.bytes_received = v; }, bytes_sent: (e, v) => { e.bytes_sent = v; },
  local_ip: (e, v) => { e.local_ip = v; }, server_name: (e, v) => { e.server_name = v; }, query: (e, v) => { e.query = v; },
  method: (e, v) => { e.method = v; }, protocol: (e, v) => { e.protocol = v; }, path: (e, v) => { e.path = v; },
});

/** A field's writer: a named one, else a store by the name the format gives. */
const writerOf = (name: string): Write => (Object.hasOwn(NAMED_WRITERS, name) ? NAMED_WRITERS[name] : (e, v) => { e[name] = v; });

/** The fields a request line (%r) gives, as bits of assignRequest's mask: a parser assigns only those read downstream. */
const REQUEST_METHOD = 1;
const REQUEST_URL = 2;
const REQUEST_PATH = 4;
const REQUEST_QUERY = 8;
const REQUEST_PROTOCOL = 16;
const REQUEST_ALL = 31;
const REQUEST_FIELDS: Array<[string, number]> = [['method', REQUEST_METHOD], ['url', REQUEST_URL], ['path', REQUEST_PATH], ['query', REQUEST_QUERY], ['protocol', REQUEST_PROTOCOL]];

export class AccessFormatParser {
  private readonly fields: FieldSpec[];
  private readonly kinds: Uint8Array;
  private readonly names: string[];
  private readonly writers: Write[];
  private readonly noSpace: boolean[];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  /** Times parsed while matching (strftime fields are validated by parsing them). */
  private readonly times: Float64Array;
  private readonly strftime: Array<((s: string) => number) | undefined>;
  private readonly clfTime = new ClfTimeReader();
  private readonly lead: string;
  private line = '';
  private lineEnd = 0;
  /** Fields from this index on are absent: the line ended early at a field boundary. */
  private present = 0;
  /** Set when a line fit the format but for an impossible timestamp. */
  private badTime = false;
  /** A line may end early only after the fields every line carries (time, request, status). */
  private readonly earliestEnd: number;
  /** Where the text the format matched ends; anything after it is extra trailing fields. */
  private consumed = 0;
  /** Set when the last field, a quoted one, ran to the end of the line without its closing quote. */
  private truncated = false;
  /** Strftime fields whose wall-clock time takes the offset of a separate `%{%z}t` field. */
  private readonly zoned: boolean[];

  /** Per field: nobody downstream reads it, so `assign` leaves it out (see PluginContext.downstreamFields). */
  private readonly unread: boolean[];
  /** The fields of a request line (%r) read downstream (REQUEST_* bits). */
  private readonly requestWant: number;

  /** `wanted`: the fields to assign (all when undefined); matching checks the whole line either way. */
  constructor(readonly format: CompiledFormat, wallClock?: WallClockToEpoch, wanted?: ReadonlySet<string>) {
    this.fields = format.fields;
    this.lead = format.lead;
    const n = this.fields.length;
    this.kinds = Uint8Array.from(this.fields.map((f) => KIND_CODE[f.kind]));
    this.names = this.fields.map((f) => f.name);
    this.writers = this.names.map(writerOf);
    // A request line gives five fields (only those read are assigned), a %U%q path and query: skipped only when
    // none of them is read. Times are numbers that also complete one another (a fraction, a zone): always assigned.
    const read = (names: string[]) => wanted === undefined || names.some((n) => wanted.has(n));
    this.requestWant = REQUEST_FIELDS.reduce((mask, [name, bit]) => (read([name]) ? mask | bit : mask), 0);
    this.unread = this.fields.map((f) => {
      const k = KIND_CODE[f.kind];
      if (k === 11) return this.requestWant === 0;
      if (k === 13) return !read(['path', 'query']);
      return (k <= 2 || k === 10 || k >= 14) && !read([f.name]);
    });
    this.noSpace = this.fields.map((f) => f.noSpace);
    this.starts = new Int32Array(n);
    this.ends = new Int32Array(n);
    this.times = new Float64Array(n);
    let lastEssential = n - 1;
    for (let k = n - 1; k >= 0; k--) {
      const f = this.fields[k];
      if (f.kind === 'request' || f.kind === 'clf_time' || f.kind === 'strftime' || f.name === 'status') {
        lastEssential = k;
        break;
      }
    }
    this.earliestEnd = lastEssential;
    // `%{%d/%b/%Y %T}t.%{msec_frac}t %{%z}t` (the mod_log_config example): the zone field gives the offset.
    const hasZone = this.fields.some((f) => f.kind === 'zone');
    this.zoned = this.fields.map((f) => hasZone && f.kind === 'strftime' && !/%[zs]/.test(f.param!));
    this.strftime = this.fields.map((f, k) => (f.kind === 'strftime' || f.kind === 'zone'
      ? cachedTimeParser(compileStrftime(f.param!, this.zoned[k] || f.kind === 'zone' ? utcWallClock : wallClock))
      : undefined));
  }

  /** True when the last successful `match` took the whole line with every field present. */
  get exact(): boolean {
    return this.present === this.fields.length && !this.truncated && this.consumed === this.lineEnd;
  }

  /** How much of the line the last successful `match` explained, to rank partial matches. */
  get matchedLength(): number {
    return this.consumed;
  }

  get presentFields(): number {
    return this.present;
  }

  /** True when no quoted value of the last match holds an unescaped `"`: Apache escapes them, so a value
   * that does was stretched over a field boundary (or comes from a server that does not escape). */
  get clean(): boolean {
    for (let i = 0; i < this.present; i++) {
      if (this.fields[i].quoted && hasUnescapedQuote(this.line, this.starts[i], this.ends[i])) return false;
    }
    return true;
  }

  /** Assigns the fields to `event` and returns undefined, or returns why the line does not fit. */
  parse(line: string, event: Event): ParseFailure | undefined {
    const failure = this.matchLine(line);
    if (failure === undefined) this.assign(event);
    return failure;
  }

  /** Matches without assigning anything; `assign` then writes the fields of the line matched last. */
  matchLine(line: string): ParseFailure | undefined {
    let end = line.length;
    if (end > 0 && line.charCodeAt(end - 1) === 13) end--;
    this.line = line;
    this.lineEnd = end;
    this.present = this.fields.length;
    this.badTime = false;
    this.truncated = false;
    if (!line.startsWith(this.lead) || !this.match(0, this.lead.length)) return this.badTime ? 'bad_timestamp' : 'format_mismatch';
    return undefined;
  }

  private match(i: number, pos: number): boolean {
    if (i === this.fields.length) { // anything after the format (extra fields) is ignored
      this.consumed = pos;
      return true;
    }
    const f = this.fields[i];
    const line = this.line;
    const end = this.lineEnd;
    this.starts[i] = pos;
    const after = f.after;

    if (this.kinds[i] === 3) { // [dd/Mon/yyyy:hh:mm:ss zone]: the brackets are part of Apache's %t
      if (line.charCodeAt(pos) !== 91) return false;
      const close = line.indexOf(']', pos);
      if (close < 0 || close >= end) return false;
      const t = this.clfTime.read(line, pos + 1, close);
      if (t !== t) {
        this.badTime = true;
        return false;
      }
      this.times[i] = t;
      this.ends[i] = close + 1;
      if (after === '') {
        this.consumed = close + 1;
        return true;
      }
      if (line.startsWith(after, close + 1) && close + 1 + after.length <= end) return this.match(i + 1, close + 1 + after.length);
      return this.endsEarly(i, close + 1);
    }

    if (after === '') {
      // The last field: unquoted, so it ends at a space (extra trailing fields) or at the end of the line.
      let valueEnd = line.indexOf(' ', pos);
      if (valueEnd < 0 || valueEnd > end) valueEnd = end;
      if (!this.valid(i, pos, valueEnd)) return false;
      this.ends[i] = valueEnd;
      this.consumed = valueEnd;
      return true;
    }

    let from = pos;
    for (let skip = f.innerTerminators; skip > 0; skip--) {
      const at = indexOfText(line, after, from);
      if (at < 0) return false;
      from = at + after.length;
    }
    for (let attempt = 0; attempt < MAX_CANDIDATES; attempt++) {
      let at = indexOfText(line, after, from);
      if (f.quoted) while (at >= 0 && isEscaped(line, at)) at = indexOfText(line, after, at + 1);
      if (at < 0 || at + after.length > end) break;
      // The closing quote of the last field is the one followed by the end of the line or a space.
      const next = at + after.length;
      const closesLine = i + 1 < this.fields.length || !f.quoted || next === end || line.charCodeAt(next) === SPACE;
      // The first space after pos ends a value followed by ' ': no space inside it (what valid() would look for).
      if (closesLine && this.valid(i, pos, at, from === pos && after === ' ')) {
        this.ends[i] = at;
        if (this.match(i + 1, at + after.length)) return true;
      } else if (!f.quoted && this.kinds[i] !== 4 && at > pos) {
        break; // an unquoted value only grows by taking more text: it will not become valid (unless empty: `::1:80`)
      }
      from = at + 1;
    }
    return this.endsEarly(i, -1);
  }

  /** A line may stop at a field boundary (a `combined` format reading a `common` line): where the rest
   * of the line is the start of the field's trailing literal up to a space, the remaining fields are absent. */
  private endsEarly(i: number, valueEnd: number): boolean {
    if (i < this.earliestEnd) return false;
    const f = this.fields[i];
    const after = f.after;
    const end = this.lineEnd;
    const k = after.indexOf(' ');
    if (k < 0) {
      // A line cut short inside its last field, a quoted one (a truncated user agent): keep what is there.
      if (valueEnd >= 0 || !f.quoted || i !== this.fields.length - 1 || after !== '"' || hasUnescapedQuote(this.line, this.starts[i], end)) return false;
      this.ends[i] = end;
      this.consumed = end;
      this.truncated = true;
      return true;
    }
    const prefix = after.slice(0, k);
    const at = end - prefix.length;
    if (valueEnd >= 0 && valueEnd !== at) return false;
    if (at < this.starts[i] || !this.line.startsWith(prefix, at)) return false;
    if (valueEnd < 0 && !this.valid(i, this.starts[i], at)) return false;
    // A quoted value ends at its first unescaped quote: one inside means the line has more fields than
    // this format (a combined line read as combinedio), not fewer.
    if (valueEnd < 0 && f.quoted && hasUnescapedQuote(this.line, this.starts[i], at)) return false;
    this.ends[i] = at;
    this.present = i + 1;
    this.consumed = end;
    return true;
  }

  /** `spaceFree`: line[start, end) is known to hold no space. */
  private valid(i: number, start: number, end: number, spaceFree = false): boolean {
    const line = this.line;
    switch (this.kinds[i]) {
      case 2: case 5: case 6: case 7: case 8: case 9: { // numbers: digits, or '-'
        if (end - start === 1 && line.charCodeAt(start) === 45) return this.kinds[i] === 2;
        if (end === start || end - start > 20) return false;
        for (let k = start; k < end; k++) {
          const c = line.charCodeAt(k);
          if (c < 48 || c > 57) return false;
        }
        return true;
      }
      case 4: case 12: {
        const t = this.strftime[i]!(line.slice(start, end));
        this.times[i] = t;
        return t === t;
      }
      case 11:
        return this.fields[i].quoted || end > start; // a request line holds spaces, quoted or not
      default:
        if (this.fields[i].quoted) return true;
        if (end === start) return false;
        // Unquoted text between space separators cannot itself contain a space; nor can a host name.
        if (spaceFree || (!this.noSpace[i] && this.fields[i].after.charCodeAt(0) !== SPACE)) return true;
        const space = line.indexOf(' ', start);
        return space < 0 || space >= end;
    }
  }

  /** Writes the fields of the line matched last (by `matchLine`) to `event`. */
  assign(event: Event): void {
    const line = this.line;
    const n = this.fields.length;
    let fraction = 0;
    let zoneOffset = 0;
    // A fraction or a separate zone completes the first time field (`%{...}t.%{msec_frac}t %{%z}t`).
    let timestampField = '';
    for (let i = 0; i < n; i++) {
      if (this.unread[i]) continue;
      const name = this.names[i];
      const write = this.writers[i];
      const kind = this.kinds[i];
      if (i >= this.present) {
        if (kind === 11) assignRequest(event, undefined, this.requestWant);
        else if (kind < 8 || kind === 10 || kind >= 14) write(event, null); // fractions and zones are no fields of their own
        continue;
      }
      const s = this.starts[i];
      const e = this.ends[i];
      switch (kind) {
        case 0: {
          const v = line.slice(s, e);
          write(event, v === '-' ? null : v.indexOf('\\') >= 0 ? unescapeApache(v, true) : v);
          break;
        }
        case 1: write(event, line.slice(s, e)); break;
        case 2: write(event, e - s === 1 && line.charCodeAt(s) === 45 ? null : toInt(line, s, e)); break;
        case 3: write(event, this.times[i]); timestampField ||= name; break;
        case 4: write(event, this.times[i]); timestampField ||= name; break;
        case 5: write(event, toInt(line, s, e) * 1000); timestampField ||= name; break;
        case 6: write(event, toInt(line, s, e)); timestampField ||= name; break;
        case 7: write(event, toInt(line, s, e) / 1000); timestampField ||= name; break;
        case 8: fraction = toInt(line, s, e); break;
        case 9: fraction = toInt(line, s, e) / 1000; break;
        case 12: zoneOffset = this.times[i]; break; // the zone parsed alone: minus the offset, in ms
        case 10: {
          const v = line.slice(s, e);
          write(event, v === '' || v === '-' ? null : v.charCodeAt(0) === 63 ? v.slice(1) : v);
          break;
        }
        case 11: assignRequest(event, line.slice(s, e), this.requestWant); break;
        case 13: {
          const v = line.slice(s, e);
          const q = v.indexOf('?');
          event.path = v.charCodeAt(0) !== 47 ? null : q < 0 ? v : v.slice(0, q);
          event.query = q < 0 || q === v.length - 1 ? null : v.slice(q + 1);
          break;
        }
        // %m, %H, %U logged alone: only a method token, an HTTP version and a path (Apache percent-escapes %U)
        // are kept; the rest (a junk request's `\x16\x03\x01` method, `*` or `-` for the path) is null.
        case 14: write(event, methodToken(line, s, e)); break;
        case 15: write(event, protocolAt(line, s, e) ? line.slice(s, e) : null); break;
        case 16: write(event, line.charCodeAt(s) === 47 ? line.slice(s, e) : null); break;
      }
    }
    if (timestampField && (fraction || zoneOffset)) {
      // The zone applies to wall-clock times only (strftime without %z); epoch and %t times carry theirs.
      const k = this.names.indexOf(timestampField);
      const offset = this.zoned[k] ? zoneOffset : 0;
      event[timestampField] = (event[timestampField] as number) + fraction + offset;
    }
  }
}

/** line.indexOf(text, from), for the short literals between fields (`" `, ` "`, `" "`). V8 searches for one
 * character in a builtin but leaves a longer pattern to the runtime, a call that cost more than the search: the
 * first character found, then startsWith, took a profiled match of a combined line from ~480 to ~400 ns. */
function indexOfText(line: string, text: string, from: number): number {
  if (text.length === 1) return line.indexOf(text, from);
  const first = text[0];
  for (let at = line.indexOf(first, from); at >= 0; at = line.indexOf(first, at + 1)) {
    if (line.startsWith(text, at)) return at;
  }
  return -1;
}

/** An unescaped `"` in line[start, end). */
function hasUnescapedQuote(line: string, start: number, end: number): boolean {
  for (let at = line.indexOf('"', start); at >= 0 && at < end; at = line.indexOf('"', at + 1)) {
    if (!isEscaped(line, at)) return true;
  }
  return false;
}

function isEscaped(line: string, at: number): boolean {
  let k = at - 1;
  while (k >= 0 && line.charCodeAt(k) === BACKSLASH) k--;
  return (at - 1 - k) % 2 === 1;
}

function toInt(s: string, start: number, end: number): number {
  let v = 0;
  for (let k = start; k < end; k++) v = v * 10 + (s.charCodeAt(k) - 48);
  return v;
}

/**
 * `GET /a?b=c HTTP/1.1` -> method, url, path, query, protocol. A request line is `METHOD target` or
 * `METHOD target HTTP/n.n` (runs of spaces between the parts are accepted, as Apache 2.2 did): the method
 * an upper-case token, the target origin-form (`/a?b`), absolute-form (`http://h/a?b`), `*` (OPTIONS only)
 * or, for CONNECT, an authority (`host:443`); the target holds no control character, raw or escaped
 * (`\n`, `\t`, `\x16`). Anything else (a 408's `-`, TLS bytes, `RFB 003.003\n`, a target with a space or a
 * tab in it) is malformed: its text as logged, escapes and all, goes to `url`, the other four are null.
 * `want`: the fields to assign (REQUEST_* bits); the line is checked whole either way, so which of the two
 * outcomes a line has does not depend on it.
 */
export function assignRequest(event: Event, raw: string | undefined, want = REQUEST_ALL): void {
  if (raw !== undefined && raw !== '-' && splitRequest(event, raw, want)) return;
  if (want & REQUEST_METHOD) event.method = null;
  if (want & REQUEST_URL) event.url = raw === undefined || raw === '-' ? null : CONTROL.test(raw) ? escapeControls(raw) : raw; // Apache escapes them; other writers may not
  if (want & REQUEST_PATH) event.path = null;
  if (want & REQUEST_QUERY) event.query = null;
  if (want & REQUEST_PROTOCOL) event.protocol = null;
}

const SCHEME = /[a-zA-Z][a-zA-Z0-9+.-]*:\/\//y;

/** Assigns the wanted fields of a well-formed request line and returns true, or returns false (nothing assigned).
 * The target is read in place, raw[t0, t1), unless it holds an escape: then in its unescaped copy. Only the
 * fields assigned are cut out (P1 reads `path` alone: method, url and protocol were three strings a line). */
function splitRequest(event: Event, raw: string, want: number): boolean {
  const n = raw.length;
  const sp1 = raw.indexOf(' ');
  if (sp1 <= 0 || !isMethod(raw, sp1)) return false;
  let t0 = sp1 + 1;
  while (raw.charCodeAt(t0) === SPACE) t0++;
  if (t0 >= n) return false;
  let t1 = raw.indexOf(' ', t0);
  let p0 = n; // where the protocol starts (n: none, HTTP/0.9)
  if (t1 < 0) t1 = n;
  else {
    p0 = t1 + 1;
    while (raw.charCodeAt(p0) === SPACE) p0++;
    if (p0 < n && !protocolAt(raw, p0, n)) return false;
  }
  const first = raw.charCodeAt(t0);
  // The target: src[a, b). A backslash can only be in it (the method and the protocol hold none).
  let src = raw;
  let a = t0;
  let b = t1;
  if (raw.indexOf('\\', t0) >= 0) { // Apache escapes control characters: a raw one is not looked for
    src = unescapeApache(raw.slice(t0, t1));
    if (CONTROL.test(src)) return false;
    a = 0;
    b = src.length;
  }
  let q = src.indexOf('?', a);
  if (q >= b) q = -1;
  let pathStart = a; // the path is src[pathStart, pathEnd), or null (pathStart < 0), or '/' (pathStart === b + 1)
  const pathEnd = q < 0 ? b : q;
  if (sp1 === 7 && raw.startsWith('CONNECT')) {
    pathStart = -1; // authority form (host:port): no path
  } else if (first === 47 /* / */) {
    // origin form: the path is the target up to its query
  } else if (first === 42 /* * */) {
    if (b - a !== 1 || sp1 !== 7 || !raw.startsWith('OPTIONS')) return false; // the server itself: no path
    pathStart = -1;
  } else {
    SCHEME.lastIndex = a;
    if (!SCHEME.test(src)) return false;
    // http://host:80/a/b?c -> /a/b; the authority ends at the first / ? or #.
    let p = SCHEME.lastIndex;
    while (p < b) {
      const c = src.charCodeAt(p);
      if (c === 47 || c === 63 || c === 35) break;
      p++;
    }
    pathStart = src.charCodeAt(p) === 47 && p < pathEnd ? p : b + 1;
  }
  if (want & REQUEST_METHOD) event.method = raw.slice(0, sp1);
  if (want & REQUEST_URL) event.url = src.slice(a, b);
  if (want & REQUEST_PATH) event.path = pathStart < 0 ? null : pathStart > b ? '/' : src.slice(pathStart, pathEnd);
  if (want & REQUEST_QUERY) event.query = q < 0 ? null : src.slice(q + 1, b);
  if (want & REQUEST_PROTOCOL) event.protocol = p0 < n ? raw.slice(p0, n) : null;
  return true;
}

/** Request methods are upper-case tokens starting with a letter (GET, PROPFIND, M-SEARCH; not `-`). */
function isMethod(s: string, end: number): boolean {
  if (end > 32) return false;
  const first = s.charCodeAt(0);
  if (first < 65 || first > 90) return false;
  for (let k = 0; k < end; k++) {
    const c = s.charCodeAt(k);
    if (!((c >= 65 && c <= 90) || c === 45 || c === 95)) return false;
  }
  return true;
}

/** %m alone: s[start, end) when it is a method token, else null. */
function methodToken(s: string, start: number, end: number): string | null {
  const v = s.slice(start, end);
  return isMethod(v, v.length) ? v : null;
}

/** `HTTP/` and a version filling s[start, end): `1.1`, `2.0`, also what 1990s clients sent (`HTTP/V1.0`,
 * served as HTTP/1.0): up to 16 characters, none a space, a backslash (an escape) or a control character. */
function protocolAt(s: string, start: number, end: number): boolean {
  if (end - start < 6 || end - start > 21) return false;
  // H T T P /, by code: a startsWith per line showed in the profile.
  if (s.charCodeAt(start) !== 72 || s.charCodeAt(start + 1) !== 84 || s.charCodeAt(start + 2) !== 84 || s.charCodeAt(start + 3) !== 80 || s.charCodeAt(start + 4) !== 47) return false;
  for (let i = start + 5; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c <= SPACE || c === BACKSLASH || c >= 127) return false;
  }
  return true;
}

/** Several formats tried in order: the first that explains the whole line cleanly wins. Otherwise matches are
 * ranked: first by how regular they are (a partial match, with extra trailing fields, missing last fields
 * or a truncated last field, and one with an unescaped quote inside a quoted value, each cost one step),
 * then by how much of the line they explain, then by how many fields they found, then by order. The
 * result never depends on the lines before. */
export class MultiFormatParser {
  constructor(private readonly parsers: AccessFormatParser[]) {}

  parse(line: string, event: Event): ParseFailure | undefined {
    const parsers = this.parsers;
    if (parsers.length === 1) return parsers[0].parse(line, event);
    let best: AccessFormatParser | undefined;
    let bestTier = 0;
    let failure: ParseFailure = 'format_mismatch';
    for (let k = 0; k < parsers.length; k++) {
      const p = parsers[k];
      const r = p.matchLine(line);
      if (r !== undefined) {
        if (r === 'bad_timestamp') failure = r;
        continue;
      }
      const tier = (p.exact ? 0 : 1) + (p.clean ? 0 : 1);
      if (tier === 0) {
        p.assign(event);
        return undefined;
      }
      if (!best || tier < bestTier || (tier === bestTier && (p.matchedLength > best.matchedLength
        || (p.matchedLength === best.matchedLength && p.presentFields > best.presentFields)))) {
        best = p;
        bestTier = tier;
      }
    }
    if (!best) return failure;
    best.assign(event);
    return undefined;
  }
}

