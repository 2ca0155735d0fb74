// Access-log lines for any LogFormat our parser reads: the format is compiled with the parser's own compiler
// (compileLogFormat), each field gets a value generator, and the literals between fields are copied. A line
// draws its request once (client, method, path, query, status, sizes, ...) so fields that show the same thing
// (%r and %U, %b and %O, %h and %{c}a) agree. Everything that can be is built once: the client pool, escaped
// texts, alias and CDF tables, and the time texts (once per second).
import type { CheckProblem } from '../../../../core/index.js';
import { compileLogFormat, type CompiledFormat, type FieldSpec } from '../../../../lib/apache/index.js';
import type { LineMaker, Random } from '../contracts.js';
import type { ContentOptions } from '../options.js';
import { logNormal, type LogNormalSampler, weightedPicker, type WeightedPicker, zipfSampler, type ZipfSampler } from '../random.js';
import { ClientPool, ipv4Address } from './clients.js';
import { DEFAULT_DOCROOT, DEFAULT_RESPONSE_TIME } from './defaults.js';
import { escapeLogItem } from './escape.js';
import { clfTime, compileStrftimeRenderer, pad6 } from './timefmt.js';
import type { TimeZone } from './timezone.js';

export type AccessFormatName = 'common' | 'combined' | 'vhost_combined' | 'combinedio';

/** What the last line said, as generated (before escaping): for tests, and for callers that want fields
 * without parsing the line. Updated in place by every `make`; only the parts the format uses are current. */
export interface AccessLineInfo {
  /** Index into `clients`. */
  client: number;
  method: string;
  path: string;
  query: string | null;
  status: number;
  /** Body bytes; null when the response has none (304, 204, HEAD): %b writes `-`. */
  bytes: number | null;
  /** Response headers + body (%O). */
  bytesSent: number;
  bytesReceived: number;
  durationUs: number;
  referer: string;
  userAgent: string;
  user: string | null;
  vhost: string;
  port: number;
}

export interface AccessLineMaker extends LineMaker {
  /** The client address pool (index -> address as written). */
  readonly clients: readonly string[];
  readonly last: AccessLineInfo;
}

const PROTOCOL = 'HTTP/1.1';
const SERVER_IP = '10.0.0.5';
const NO_BODY_STATUSES = new Set([204, 304]);

type Gen = () => string;
type TimeRenderer = (ts: number, offsetMinutes: number) => string;

/** A format as the generator writes it: compiled by the parser's compiler, with a renderer for each %{...}t time
 * format. Throws (LogFormatError, Error) for a format it cannot write: the schema checks log_format with this. */
export function compileAccessFormat(format: AccessFormatName | string): { compiled: CompiledFormat; times: Map<FieldSpec, TimeRenderer> } {
  const compiled = compileLogFormat(format);
  const times = new Map<FieldSpec, TimeRenderer>();
  for (const f of compiled.fields) if (f.kind === 'strftime' || f.kind === 'zone') times.set(f, compileStrftimeRenderer(f.param!));
  return { compiled, times };
}

/** Parses the letter and `{param}` of a directive as written (`%>s`, `%{User-Agent}i`, `%!200,304{Referer}i`). */
function directiveParts(spec: FieldSpec): { letter: string; param: string | undefined } {
  const m = /(?:\{([^}]*)\})?[<>]?([a-zA-Z])$/.exec(spec.directive);
  return { letter: m ? m[2] : '', param: m?.[1] };
}

const CONTENT_TYPES: Array<[RegExp, string]> = [
  [/\.css$/, 'text/css'], [/\.js$/, 'text/javascript'], [/\.(png|ico)$/, 'image/png'], [/\.jpe?g$/, 'image/jpeg'],
  [/\.webp$/, 'image/webp'], [/\.woff2$/, 'font/woff2'], [/\.pdf$/, 'application/pdf'], [/\.mp4$/, 'video/mp4'],
  [/\.(xml)$/, 'application/xml'], [/\.txt$/, 'text/plain'], [/^\/api\//, 'application/json'],
];

const ACCEPT_LANGUAGES = ['en-US,en;q=0.9', 'en-GB,en;q=0.9', 'de-DE,de;q=0.9,en;q=0.8', 'fr-FR,fr;q=0.9,en-US;q=0.8', 'es-ES,es;q=0.9', '-'];

class AccessMaker implements AccessLineMaker {
  readonly clients: readonly string[];
  readonly last: AccessLineInfo = {
    client: 0, method: 'GET', path: '/', query: null, status: 200, bytes: null, bytesSent: 0, bytesReceived: 0,
    durationUs: 0, referer: '-', userAgent: '-', user: null, vhost: '', port: 80,
  };

  private readonly lead: string;
  private readonly gens: Gen[];
  private readonly afters: string[];

  // Tables built once.
  private readonly pool: ClientPool;
  private readonly agentOf: Int32Array;
  private readonly methods: WeightedPicker<string>;
  private readonly pathRank: ZipfSampler;
  private readonly statuses: WeightedPicker<number>;
  private readonly bytesDist: LogNormalSampler;
  private readonly durationDist: LogNormalSampler;
  private readonly refererRank: ZipfSampler;
  private readonly paths: string[];
  private readonly queries: string[];
  private readonly docroot: string;

  // What the format needs drawn for each line.
  private readonly need = { client: false, method: false, path: false, query: false, status: false, bytes: false, referer: false, user: false, vhost: false, port: false, duration: false };

  // The current line.
  private ts = 0;
  private client = 0;
  private methodIdx = 0;
  private pathIdx = 0;
  private queryIdx = -1;
  private status = 200;
  private bytes = -1; // -1: none
  private bytesSent = 0;
  private bytesReceived = 0;
  private durationUs = 0;
  private refererIdx = 0;
  private userIdx = -1;
  private vhostIdx = 0;
  private portIdx = 0;

  // The time texts of the current second.
  private second = NaN;
  private offset = 0;
  private readonly perSecond: Array<() => void> = [];
  private readonly times: Map<FieldSpec, TimeRenderer>;

  constructor(format: string, private readonly content: ContentOptions, private readonly random: Random, private readonly tz: TimeZone) {
    const { compiled, times } = compileAccessFormat(format);
    this.times = times;
    checkContent(content);
    this.lead = compiled.lead;
    this.docroot = content.docroot ?? DEFAULT_DOCROOT;
    this.pool = new ClientPool(content.clients, random);
    this.clients = this.pool.addresses;
    const agentRank = zipfSampler(content.user_agents.length, 1);
    this.agentOf = Int32Array.from(this.clients, () => agentRank.sample(random));
    this.methods = methodPicker(content.methods);
    this.paths = content.paths;
    this.pathRank = zipfSampler(content.paths.length, content.zipf_s);
    this.queries = content.queries;
    this.statuses = statusPicker(content.statuses);
    this.bytesDist = logNormal(content.bytes.median, content.bytes.sigma);
    const rt = content.response_time ?? DEFAULT_RESPONSE_TIME;
    this.durationDist = logNormal(rt.median * 1000, rt.sigma);
    this.refererRank = zipfSampler(content.referers.length, 1);
    this.gens = compiled.fields.map((f) => this.generator(f));
    this.afters = compiled.fields.map((f) => f.after);
    if (this.need.bytes) this.need.status = this.need.method = true;
  }

  make(ts: number): string {
    const sec = Math.floor(ts / 1000);
    if (sec !== this.second) {
      this.second = sec;
      this.offset = this.tz.offsetMinutes(ts);
      this.ts = ts;
      for (const f of this.perSecond) f();
    }
    this.ts = ts;
    this.draw();
    const gens = this.gens;
    const afters = this.afters;
    let line = this.lead;
    for (let i = 0; i < gens.length; i++) line += gens[i]() + afters[i];
    return line;
  }

  /** Draws the request of the line: only what the format shows, always in the same order. */
  private draw(): void {
    const r = this.random;
    const need = this.need;
    const last = this.last;
    if (need.client) last.client = this.client = this.pool.pick(r);
    if (need.method) last.method = this.methods.values[(this.methodIdx = this.methods.sampleIndex(r))];
    if (need.path) last.path = this.paths[(this.pathIdx = this.pathRank.sample(r))];
    if (need.query) {
      this.queryIdx = r.next() < this.content.query_ratio ? r.int(this.queries.length) : -1;
      last.query = this.queryIdx < 0 ? null : this.queries[this.queryIdx];
    }
    if (need.status) last.status = this.status = this.statuses.sample(r);
    if (need.bytes) {
      const none = NO_BODY_STATUSES.has(this.status) || last.method === 'HEAD';
      this.bytes = none ? -1 : Math.max(1, Math.round(this.bytesDist.sample(r)));
      last.bytes = none ? null : this.bytes;
      // Status line and headers: 150-500 bytes; the request: headers, and a body for POST/PUT.
      last.bytesSent = this.bytesSent = 150 + r.int(350) + (none ? 0 : this.bytes);
      const m = last.method;
      last.bytesReceived = this.bytesReceived = 180 + r.int(600) + (m === 'POST' || m === 'PUT' ? 20 + r.int(4000) : 0);
    }
    if (need.referer) last.referer = this.content.referers[(this.refererIdx = this.refererRank.sample(r))];
    if (need.user) {
      const users = this.content.users;
      this.userIdx = users.length && r.next() < this.content.user_ratio ? r.int(users.length) : -1;
      last.user = this.userIdx < 0 ? null : users[this.userIdx];
    }
    if (need.vhost) last.vhost = this.content.vhosts[(this.vhostIdx = r.int(this.content.vhosts.length))];
    if (need.port) last.port = this.content.ports[(this.portIdx = r.int(this.content.ports.length))];
    if (need.duration) last.durationUs = this.durationUs = Math.max(1, Math.round(this.durationDist.sample(r)));
    if (need.client) last.userAgent = this.content.user_agents[this.agentOf[this.client]];
  }

  /** Texts of a list as written in this field: escaped as Apache does; an unquoted field whose end is a
   * space cannot hold one (no reader could find its end), so spaces become `+` there. */
  private texts(list: readonly string[], f: FieldSpec): string[] {
    const spaceFree = !f.quoted && (f.after === '' || f.after.charCodeAt(0) === 32);
    return list.map((s) => {
      const e = escapeLogItem(s);
      return spaceFree ? e.replace(/ /g, '+') : e;
    });
  }

  /** A per-second cached text. */
  private cached(render: (ts: number, offset: number) => string): Gen {
    let text = '';
    this.perSecond.push(() => { text = render(this.ts, this.offset); });
    return () => text;
  }

  private generator(f: FieldSpec): Gen {
    const { letter, param } = directiveParts(f);
    const need = this.need;
    const r = this.random;
    switch (f.kind) {
      case 'clf_time': return this.cached((ts, off) => '[' + clfTime(ts, off) + ']');
      case 'strftime': case 'zone': return this.cached(this.times.get(f)!);
      case 'epoch_s': return () => '' + Math.floor(this.ts / 1000);
      case 'epoch_ms': return () => '' + Math.floor(this.ts);
      case 'epoch_us': return () => '' + Math.floor(this.ts * 1000);
      case 'frac_ms': return () => { const ms = Math.floor(this.ts) % 1000; return ms < 10 ? '00' + ms : ms < 100 ? '0' + ms : '' + ms; };
      case 'frac_us': return () => pad6(Math.floor(this.ts * 1000) % 1000000);
      case 'request': {
        need.method = need.path = need.query = true;
        const methods = this.texts(this.methods.values, { ...f, after: '"', quoted: true });
        const paths = this.texts(this.paths, { ...f, after: '"', quoted: true });
        const queries = this.texts(this.queries, { ...f, after: '"', quoted: true }).map((q) => '?' + q);
        const tail = ' ' + PROTOCOL;
        return () => methods[this.methodIdx] + ' ' + paths[this.pathIdx] + (this.queryIdx < 0 ? '' : queries[this.queryIdx]) + tail;
      }
      case 'query': {
        need.query = true;
        const queries = this.texts(this.queries, f).map((q) => '?' + q);
        return () => (this.queryIdx < 0 ? '' : queries[this.queryIdx]);
      }
      default: break;
    }
    switch (letter) {
      case 'h': case 'a': {
        if (param !== undefined && param !== 'c') break;
        need.client = true;
        return () => this.clients[this.client];
      }
      case 'A': return () => SERVER_IP;
      case 'l': return () => '-';
      case 'u': {
        need.user = true;
        const users = this.texts(this.content.users, f);
        return () => (this.userIdx < 0 ? '-' : users[this.userIdx]);
      }
      case 'm': {
        need.method = true;
        const methods = this.texts(this.methods.values, f);
        return () => methods[this.methodIdx];
      }
      case 'U': {
        need.path = true;
        const paths = this.texts(this.paths, f);
        return () => paths[this.pathIdx];
      }
      case 'f': {
        need.path = true;
        const files = this.texts(this.paths.map((p) => this.docroot + p), f);
        return () => files[this.pathIdx];
      }
      case 'H': return () => PROTOCOL;
      case 's': need.status = true; return () => '' + this.status;
      case 'b': need.bytes = true; return () => (this.bytes < 0 ? '-' : '' + this.bytes);
      case 'B': need.bytes = true; return () => (this.bytes < 0 ? '0' : '' + this.bytes);
      case 'O': need.bytes = true; return () => '' + this.bytesSent;
      case 'I': need.bytes = true; return () => '' + this.bytesReceived;
      case 'S': need.bytes = true; return () => '' + (this.bytesSent + this.bytesReceived);
      case 'D': need.duration = true; return () => '' + this.durationUs;
      case 'T': {
        need.duration = true;
        if (param === 'ms') return () => '' + Math.floor(this.durationUs / 1000);
        if (param === 'us') return () => '' + this.durationUs;
        return () => '' + Math.floor(this.durationUs / 1000000);
      }
      case 'v': case 'V': {
        need.vhost = true;
        const vhosts = this.texts(this.content.vhosts, f);
        return () => vhosts[this.vhostIdx];
      }
      case 'p': {
        if (param === 'remote') return () => '' + (1024 + r.int(64512));
        need.port = true;
        return () => '' + this.content.ports[this.portIdx];
      }
      case 'P': {
        const pids = [2817, 2818, 2819, 3120, 3121, 4410];
        if (param === 'tid' || param === 'hextid') {
          const tids = [140245782365952, 140245773973248, 140245765580544, 140245757187840, 140245748795136];
          return param === 'tid' ? () => '' + tids[r.int(tids.length)] : () => tids[r.int(tids.length)].toString(16);
        }
        return () => '' + pids[r.int(pids.length)];
      }
      case 'k': return () => '' + r.int(6);
      case 'L': case 'R': return () => '-';
      case 'X': return () => { const u = r.next(); return u < 0.9 ? '+' : u < 0.98 ? '-' : 'X'; };
      case 'i': return this.requestHeader((param ?? '').toLowerCase(), f);
      case 'o': return this.responseHeader((param ?? '').toLowerCase(), f);
      default: break; // %{...}e %{...}n %{...}C and the rest: not set
    }
    return () => '-';
  }

  private requestHeader(name: string, f: FieldSpec): Gen {
    const r = this.random;
    const need = this.need;
    switch (name) {
      case 'referer': {
        need.referer = true;
        const referers = this.texts(this.content.referers, f);
        return () => referers[this.refererIdx];
      }
      case 'user-agent': {
        need.client = true;
        const agents = this.texts(this.content.user_agents, f);
        return () => agents[this.agentOf[this.client]];
      }
      case 'host': {
        need.vhost = true;
        const vhosts = this.texts(this.content.vhosts, f);
        return () => vhosts[this.vhostIdx];
      }
      case 'x-forwarded-for': {
        // Behind a proxy or CDN a third of the time: the original client, sometimes through a second hop.
        const spaceFree = !f.quoted && (f.after === '' || f.after.charCodeAt(0) === 32);
        return () => {
          if (r.next() >= 0.35) return '-';
          const first = ipv4Address(r);
          return !spaceFree && r.next() < 0.3 ? first + ', ' + ipv4Address(r) : first;
        };
      }
      case 'accept-language': {
        const langs = this.texts(ACCEPT_LANGUAGES, f);
        return () => langs[r.int(langs.length)];
      }
      default: return () => '-';
    }
  }

  private responseHeader(name: string, f: FieldSpec): Gen {
    const need = this.need;
    switch (name) {
      case 'content-type': {
        need.path = true;
        const types = this.texts(this.paths.map((p) => CONTENT_TYPES.find(([re]) => re.test(p))?.[1] ?? 'text/html; charset=UTF-8'), f);
        return () => types[this.pathIdx];
      }
      case 'location': {
        need.status = need.vhost = need.path = true;
        const vhosts = this.texts(this.content.vhosts, f);
        const paths = this.texts(this.paths, f);
        return () => (this.status === 301 || this.status === 302 ? 'https://' + vhosts[this.vhostIdx] + paths[this.pathIdx] : '-');
      }
      default: return () => '-';
    }
  }
}

function statusCode(code: string): number {
  const n = Number(code);
  if (!Number.isInteger(n) || n < 100 || n > 999) throw new RangeError(`content.statuses: "${code}" is no HTTP status code`);
  return n;
}

/** Statuses drawn by weight; throws (RangeError) for a key that is no status code, or no positive weight. */
function statusPicker(statuses: Record<string, number>): WeightedPicker<number> {
  return weightedPicker(Object.entries(statuses).map(([code, w]) => [statusCode(code), w]));
}

/** Methods drawn by weight; throws (RangeError) without a positive weight. */
function methodPicker(methods: Record<string, number>): WeightedPicker<string> {
  return weightedPicker(Object.entries(methods));
}

/** What an access log cannot be written with in `content` (defaults applied), at the key concerned: checked with
 * the config (the generator schema's check), with the tables the line maker builds. */
export function accessContentProblems(content: ContentOptions): CheckProblem[] {
  const problems: CheckProblem[] = [];
  const build = (key: 'statuses' | 'methods', make: () => unknown) => {
    try {
      make();
    } catch (err) {
      const message = (err as Error).message;
      problems.push({ at: ['content', key], message: message.startsWith(`content.${key}`) ? message : `content.${key}: ${message}` });
    }
  };
  build('statuses', () => statusPicker(content.statuses));
  build('methods', () => methodPicker(content.methods));
  return problems;
}

function checkContent(c: ContentOptions): void {
  for (const key of ['paths', 'queries', 'referers', 'user_agents', 'vhosts', 'ports'] as const) {
    if (!Array.isArray(c[key]) || c[key].length === 0) throw new RangeError(`content.${key} must not be empty`);
  }
  if (!(c.query_ratio >= 0 && c.query_ratio <= 1)) throw new RangeError(`content.query_ratio must be in [0, 1], got ${c.query_ratio}`);
  if (!(c.user_ratio >= 0 && c.user_ratio <= 1)) throw new RangeError(`content.user_ratio must be in [0, 1], got ${c.user_ratio}`);
}

/**
 * Lines of an access log written with `format`: a nickname (common, combined, vhost_combined, combinedio,
 * vhost_common) or any LogFormat string the apache_access parser reads. `tz` gives the offset %t carries and
 * the wall clock %{format}t shows. Throws (LogFormatError, RangeError) on a format or content it cannot write.
 */
export function createAccessLineMaker(format: AccessFormatName | string, content: ContentOptions, random: Random, tz: TimeZone): AccessLineMaker {
  return new AccessMaker(format, content, random, tz);
}
