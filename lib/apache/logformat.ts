// Compiles an Apache LogFormat string (mod_log_config) into a list of fields, each with the literal
// text that follows it: the input of the line scanner in access-scanner.ts.

/** How a field's text becomes a value. */
export type FieldKind =
  | 'str' // '-' means absent (null); Apache's escapes are undone
  | 'raw' // written as is, '-' included (e.g. %X, where '-' is a real value)
  | 'int' // '-' means absent
  | 'clf_time' // [10/Oct/2000:13:55:36 -0700]
  | 'strftime' // %{format}t
  | 'epoch_s' | 'epoch_ms' | 'epoch_us' // %{sec}t %{msec}t %{usec}t
  | 'frac_ms' | 'frac_us' // %{msec_frac}t %{usec_frac}t: added to the timestamp
  | 'zone' // %{%z}t alone: the UTC offset of the other %{format}t fields (Apache's own example splits the time so)
  | 'query' // %q: '?a=b' -> 'a=b'
  | 'request' // %r: sets method, url, path, query, protocol
  | 'path_query' // %U%q written together: sets path and query
  | 'method' // %m: a method token, else null
  | 'protocol' // %H: HTTP/n.n, else null
  | 'path'; // %U: a path starting with '/', else null (`*` of OPTIONS *)

export interface FieldSpec {
  /** The directive as written, e.g. `%{User-Agent}i`, for messages. */
  directive: string;
  name: string;
  kind: FieldKind;
  /** For strftime fields: the time format. */
  param?: string;
  /** The literal that follows the field in the format ('' when the field ends the format). */
  after: string;
  /** True when the field sits between double quotes: Apache escapes `"` inside it as `\"`. */
  quoted: boolean;
  /** How many times `after` appears inside a value of this field (a strftime format with spaces). */
  innerTerminators: number;
  /** A host, address or server name: never contains a space, whatever literal follows it (`%v:%p`). */
  noSpace: boolean;
}

export interface CompiledFormat {
  source: string;
  /** Literal text before the first field. */
  lead: string;
  fields: FieldSpec[];
}

export class LogFormatError extends Error {}

/** The nicknames Apache's default configuration defines. */
export const NAMED_FORMATS: Record<string, string> = {
  common: '%h %l %u %t "%r" %>s %b',
  combined: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i"',
  vhost_combined: '%v:%p %h %l %u %t "%r" %>s %O "%{Referer}i" "%{User-Agent}i"',
  combinedio: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %I %O',
  vhost_common: '%v %h %l %u %t "%r" %>s %b',
  referer: '%{Referer}i -> %U',
  agent: '%{User-agent}i',
};

const SIMPLE: Record<string, [string, FieldKind]> = {
  a: ['client_ip', 'str'], A: ['local_ip', 'str'], b: ['bytes', 'int'], B: ['bytes', 'int'],
  D: ['duration_us', 'int'], f: ['filename', 'str'], h: ['client_ip', 'str'], H: ['protocol', 'protocol'],
  I: ['bytes_received', 'int'], k: ['keepalive_requests', 'int'], l: ['ident', 'str'], L: ['log_id', 'str'],
  m: ['method', 'method'], O: ['bytes_sent', 'int'], p: ['port', 'int'], P: ['pid', 'int'], q: ['query', 'query'],
  r: ['request', 'request'], R: ['handler', 'str'], s: ['status', 'int'], S: ['bytes_transferred', 'int'],
  t: ['timestamp', 'clf_time'], T: ['duration_s', 'int'], u: ['user', 'str'], U: ['path', 'path'],
  v: ['vhost', 'str'], V: ['server_name', 'str'], X: ['connection_status', 'raw'],
};

const WITH_PARAM: Record<string, Record<string, [string, FieldKind]>> = {
  a: { c: ['peer_ip', 'str'] },
  h: { c: ['peer_host', 'str'] },
  p: { canonical: ['port', 'int'], local: ['local_port', 'int'], remote: ['client_port', 'int'] },
  P: { pid: ['pid', 'int'], tid: ['tid', 'int'], hextid: ['tid', 'str'] },
  T: { s: ['duration_s', 'int'], ms: ['duration_ms', 'int'], us: ['duration_us', 'int'] },
};

const HEADER_PREFIX: Record<string, string> = { i: 'http_', o: 'sent_http_', e: 'env_', n: 'note_', C: 'cookie_' };
const WELL_KNOWN_HEADERS: Record<string, string> = { referer: 'referer', 'user-agent': 'user_agent' };

export const SUPPORTED_DIRECTIVES = '%a %A %b %B %D %f %h %H %I %k %l %L %m %O %p %P %q %r %R %s %>s %<s %S %t %{...}t %T %{ms}T %u %U %v %V %X %{Name}i %{Name}o %{Name}e %{Name}n %{Name}C %{c}a %{c}h %{remote}p %{local}p %{pid}P %{tid}P';

function snake(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
}

/** Undo the escapes Apache applies to a LogFormat string in its config (`\"`, `\t`, `\n`, `\\`). */
function unescapeFormat(s: string): string {
  return s.replace(/\\(["\\tn])/g, (_, c: string) => (c === 't' ? '\t' : c === 'n' ? '\n' : c));
}

interface RawDirective { text: string; letter: string; param?: string; modifier: '' | '<' | '>' }

export function compileLogFormat(format: string): CompiledFormat {
  const source = NAMED_FORMATS[format] ?? format;
  const text = unescapeFormat(source);
  const parts: Array<string | RawDirective> = [];
  let literal = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c !== '%') {
      literal += c;
      continue;
    }
    const m = /^%([<>]?)(!?[0-9,]*)([<>]?)(?:\{([^}]*)\})?([<>]?)([a-zA-Z%])/.exec(text.slice(i));
    if (!m) throw new LogFormatError(`invalid directive at column ${i + 1} of "${source}"`);
    i += m[0].length - 1;
    if (m[6] === '%') {
      literal += '%';
      continue;
    }
    parts.push(literal);
    literal = '';
    parts.push({ text: m[0], letter: m[6], param: m[4], modifier: (m[1] || m[3] || m[5]) as RawDirective['modifier'] });
  }
  parts.push(literal);

  const directives = parts.filter((p): p is RawDirective => typeof p !== 'string');
  if (directives.length === 0) throw new LogFormatError(`"${source}" has no % directive`);
  const has = (letter: string, pred: (d: RawDirective) => boolean = () => true) => directives.some((d) => d.letter === letter && pred(d));
  const taken = new Map<string, number>();
  const fields: FieldSpec[] = [];
  for (let k = 1; k < parts.length; k += 2) {
    const d = parts[k] as RawDirective;
    const before = parts[k - 1] as string;
    let after = parts[k + 1] as string;
    let [baseName, kind, param] = describe(d, has);
    const next = parts[k + 2] as RawDirective | undefined;
    if (after === '' && next) {
      // Nothing between two directives: only %U%q can be told apart (the query starts with '?').
      if (d.letter !== 'U' || next.letter !== 'q' || d.param !== undefined || next.param !== undefined) {
        throw new LogFormatError(`${d.text}${next.text} in "${source}": two directives with nothing between them cannot be told apart; put a separator between them`);
      }
      kind = 'path_query';
      after = parts[k + 3] as string;
      k += 2;
    }
    const quoted = before.endsWith('"') && after.startsWith('"');
    // Fields that are no value of their own (a fraction, a zone) complete the timestamp and are not counted.
    const counted = kind !== 'zone' && kind !== 'frac_ms' && kind !== 'frac_us';
    const seen = counted ? taken.get(baseName) ?? 0 : 0;
    if (counted) taken.set(baseName, seen + 1);
    fields.push({
      directive: d.text, name: seen ? `${baseName}_${seen + 1}` : baseName, kind, param, after, quoted,
      innerTerminators: kind === 'strftime' && after ? countOccurrences(strftimeSample(param!), after)
        // An unquoted %r followed by a space holds two spaces itself: METHOD SP target SP protocol.
        : kind === 'request' && !quoted && after.startsWith(' ') ? 2 : 0,
      noSpace: d.param === undefined && 'hav'.includes(d.letter.toLowerCase()),
    });
  }
  return { source, lead: parts[0] as string, fields };
}

function describe(d: RawDirective, has: (letter: string, pred?: (d: RawDirective) => boolean) => boolean): [string, FieldKind, string?] {
  const { letter, param, modifier } = d;
  if (letter === 't' && param !== undefined) {
    const p = param.replace(/^(begin|end):/, '');
    const special: Record<string, FieldKind> = { sec: 'epoch_s', msec: 'epoch_ms', usec: 'epoch_us', msec_frac: 'frac_ms', usec_frac: 'frac_us' };
    if (special[p]) return [special[p].startsWith('frac') ? 'timestamp_fraction' : 'timestamp', special[p]];
    if (/^(?:[^%]|%%)*%z(?:[^%]|%%|%Z)*$/.test(p)) return ['timestamp_zone', 'zone', p];
    return ['timestamp', 'strftime', p];
  }
  if (param !== undefined && HEADER_PREFIX[letter]) {
    const known = letter === 'i' ? WELL_KNOWN_HEADERS[param.toLowerCase()] : undefined;
    return [known ?? HEADER_PREFIX[letter] + snake(param), 'str'];
  }
  if (param !== undefined) {
    const spec = WITH_PARAM[letter]?.[param];
    if (!spec) throw new LogFormatError(`unsupported directive ${d.text}; supported: ${SUPPORTED_DIRECTIVES}`);
    return spec;
  }
  const spec = SIMPLE[letter];
  if (!spec) throw new LogFormatError(`unsupported directive ${d.text}; supported: ${SUPPORTED_DIRECTIVES}`);
  // Names that depend on what else the format logs.
  if (letter === 'h' && has('a', (x) => x.param === undefined)) return ['remote_host', 'str'];
  if (letter === 'O' && !has('b') && !has('B')) return ['bytes', 'int'];
  if (letter === 'V' && !has('v')) return ['vhost', 'str'];
  if (letter === 's' && (modifier === '<' || (modifier === '' && has('s', (x) => x.modifier === '>')))) return ['original_status', 'int'];
  return spec;
}

function countOccurrences(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

/** A rendering of a strftime format with the right literal characters, to count separators in it. */
function strftimeSample(format: string): string {
  const sample: Record<string, string> = { T: '00:00:00', D: '01/01/00', F: '2000-01-01', R: '00:00', c: 'Mon Jan  1 00:00:00 2000', r: '12:00:00 AM', n: '\n', t: '\t', '%': '%' };
  return format.replace(/%([a-zA-Z%])/g, (_, c: string) => sample[c] ?? 'X');
}
