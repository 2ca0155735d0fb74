// Error-log lines in Apache's built-in layouts:
//   2.4  [Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 2817:tid 140245782365952] [client 203.0.113.7:52114] AH00128: File does not exist: /var/www/html/x
//   2.2  [Wed Oct 11 14:32:52 2000] [error] [client 203.0.113.7] File does not exist: /var/www/html/x
// from message templates (syntax in defaults.ts). Times are the server's wall clock in the configured zone,
// written without an offset, as Apache does.
import type { CheckProblem } from '../../../../core/index.js';
import type { LineMaker, Random } from '../contracts.js';
import type { ContentOptions } from '../options.js';
import { weightedPicker, type WeightedPicker, zipfSampler, type ZipfSampler } from '../random.js';
import { ClientPool } from './clients.js';
import { DEFAULT_DOCROOT } from './defaults.js';
import { escapeLogItem } from './escape.js';
import { ctimeParts, pad6 } from './timefmt.js';
import type { TimeZone } from './timezone.js';

export type ErrorStyle = '2.2' | '2.4';

export const ERROR_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug',
  'trace1', 'trace2', 'trace3', 'trace4', 'trace5', 'trace6', 'trace7', 'trace8'];

/** What the last line said, as generated: for tests, and for callers that want the fields without parsing. */
export interface ErrorLineInfo {
  level: string;
  /** Null in 2.2 lines (which name no module). */
  module: string | null;
  pid: number | null;
  tid: number | null;
  clientIp: string | null;
  clientPort: number | null;
  errno: number | null;
  errnoText: string | null;
  /** `AH00128`; null when the message has none (and always in 2.2). */
  errorCode: string | null;
  /** The message as written in the line (Apache's escapes included). */
  message: string;
  referer: string | null;
  sourceFile: string | null;
  sourceLine: number | null;
}

export interface ErrorLineMaker extends LineMaker {
  /** `level`: the line's level; without it one is drawn from `content.levels`. */
  make(timestampMs: number, level?: string): string;
  readonly clients: readonly string[];
  readonly last: ErrorLineInfo;
}

type Piece = string | (() => string);

interface Template {
  source: string;
  module: string | null;
  levels: string[];
  client: boolean;
  errno: number | null;
  errnoText: string | null;
  sourceFile: string | null;
  sourceLine: number | null;
  code: string | null;
  message: Piece[];
  /** The message without placeholders, when it has none. */
  fixed: string | null;
}

const BACKENDS = ['127.0.0.1:8080', '127.0.0.1:9000', 'localhost:3000', '10.0.0.12:8080'];

/** Apache's escaping minus the quote (error messages keep `"` as is). */
function escapeText(s: string): string {
  return escapeLogItem(s).replace(/\\"/g, '"');
}

export class TemplateError extends Error {}

/** The placeholders a message template may use (see DEFAULT_ERROR_MESSAGES). */
const PLACEHOLDERS = ['docroot', 'path', 'vhost', 'host', 'backend', 'user', 'client', 'n'] as const;
type Placeholders = Record<(typeof PLACEHOLDERS)[number], () => string>;

/** Levels drawn by weight (those of weight 0 never are), or null when none has a weight; throws (RangeError) for
 * a level Apache does not have. */
function levelPicker(levels: Record<string, number> | undefined): WeightedPicker<string> | null {
  const entries = Object.entries(levels ?? {}).filter(([, w]) => w > 0);
  for (const [level] of entries) if (!ERROR_LEVELS.includes(level)) throw new RangeError(`content.levels: "${level}" is no Apache level (${ERROR_LEVELS.join(', ')})`);
  return entries.length ? weightedPicker(entries) : null;
}

/** What an error log cannot be written with in `content` (defaults applied), at the key concerned: checked with
 * the config (the generator schema's check), as the line maker reads it. */
export function errorContentProblems(content: ContentOptions): CheckProblem[] {
  const problems: CheckProblem[] = [];
  try {
    levelPicker(content.levels);
  } catch (err) {
    problems.push({ at: ['content', 'levels'], message: (err as Error).message });
  }
  const placeholders = Object.fromEntries(PLACEHOLDERS.map((name) => [name, () => ''])) as Placeholders;
  content.error_messages.forEach((m, i) => {
    try {
      parseTemplate(m, placeholders);
    } catch (err) {
      problems.push({ at: ['content', 'error_messages', i], message: (err as Error).message });
    }
  });
  return problems;
}

/** Parses one template (see DEFAULT_ERROR_MESSAGES for the syntax). */
export function parseTemplate(source: string, placeholders: Record<string, () => string>): Template {
  let rest = source;
  const t: Template = { source, module: null, levels: [], client: true, errno: null, errnoText: null, sourceFile: null, sourceLine: null, code: null, message: [], fixed: null };
  const tags = /^\[([^\]]*)\]\s*/.exec(rest);
  if (tags) {
    rest = rest.slice(tags[0].length);
    for (const raw of tags[1].split(',')) {
      const tag = raw.trim();
      if (tag === '') continue;
      if (tag === 'noclient') t.client = false;
      else if (ERROR_LEVELS.includes(tag)) t.levels.push(tag);
      else if (/^[A-Za-z0-9_]+$/.test(tag)) t.module ??= tag;
      else throw new TemplateError(`error message template "${source}": tag "${tag}" is no level, module name or noclient`);
    }
  }
  for (let progress = true; progress;) {
    progress = false;
    const errno = t.errno === null ? /^\((\d+)\)([^:()]*): /.exec(rest) : null;
    if (errno) {
      t.errno = Number(errno[1]);
      t.errnoText = errno[2];
      rest = rest.slice(errno[0].length);
      progress = true;
    }
    const location = t.sourceFile === null ? /^([\w.-]+\.c)\((\d+)\): /.exec(rest) : null;
    if (location) {
      t.sourceFile = location[1];
      t.sourceLine = Number(location[2]);
      rest = rest.slice(location[0].length);
      progress = true;
    }
    const code = t.code === null ? /^(AH\d{5}): /.exec(rest) : null;
    if (code) {
      t.code = code[1];
      rest = rest.slice(code[0].length);
      progress = true;
    }
  }
  if (rest.includes(', referer: ')) throw new TemplateError(`error message template "${source}": ", referer: " is what Apache appends for the referer; it cannot be part of a message`);
  for (const part of rest.split(/(\{\{|\}\}|\{[a-z_]+\})/)) {
    if (part === '') continue;
    if (part === '{{' || part === '}}') {
      t.message.push(part[0]);
      continue;
    }
    const name = /^\{([a-z_]+)\}$/.exec(part)?.[1];
    if (name === undefined) t.message.push(part);
    else if (placeholders[name]) t.message.push(placeholders[name]);
    else throw new TemplateError(`error message template "${source}": unknown placeholder {${name}}; known: ${Object.keys(placeholders).map((k) => `{${k}}`).join(' ')}`);
  }
  if (t.message.every((p) => typeof p === 'string')) t.fixed = t.message.join('');
  return t;
}

class ErrorMaker implements ErrorLineMaker {
  readonly clients: readonly string[];
  readonly last: ErrorLineInfo = {
    level: 'error', module: null, pid: null, tid: null, clientIp: null, clientPort: null, errno: null, errnoText: null,
    errorCode: null, message: '', referer: null, sourceFile: null, sourceLine: null,
  };

  private readonly v24: boolean;
  private readonly pool: ClientPool;
  private readonly levels: WeightedPicker<string> | null;
  private readonly templates: Template[];
  private readonly byLevel = new Map<string, Template[]>();
  private readonly modules: string[];
  private readonly paths: string[];
  private readonly pathRank: ZipfSampler;
  private readonly referers: string[];
  private readonly pids: number[];
  private readonly tids: number[][];

  private lineNo = 0;
  private second = NaN;
  private timeHead = '';
  private timeTail = '';

  constructor(style: ErrorStyle, private readonly content: ContentOptions, private readonly random: Random, private readonly tz: TimeZone) {
    if (style !== '2.2' && style !== '2.4') throw new RangeError(`error log style must be 2.2 or 2.4, got ${String(style)}`);
    this.v24 = style === '2.4';
    this.pool = new ClientPool(content.clients, random);
    this.clients = this.pool.addresses;
    this.levels = levelPicker(content.levels);
    if (!content.modules?.length) throw new RangeError('content.modules must not be empty');
    if (!content.error_messages?.length) throw new RangeError('content.error_messages must not be empty');
    for (const key of ['paths', 'vhosts'] as const) if (!content[key]?.length) throw new RangeError(`content.${key} must not be empty`);
    this.modules = content.modules;
    this.paths = content.paths.map(escapeText);
    this.pathRank = zipfSampler(this.paths.length, content.zipf_s);
    this.referers = content.referers.filter((r) => r !== '-').map(escapeText);
    // A few worker processes with a few threads each, as mpm_event runs them.
    this.pids = Array.from({ length: 4 }, () => 1000 + random.int(60000));
    this.tids = this.pids.map(() => Array.from({ length: 6 }, () => 0x7f0000000000 + random.int(0x1000000) * 0x1000 + 0x700));

    const docroot = escapeText(content.docroot ?? DEFAULT_DOCROOT);
    const vhosts = content.vhosts.map(escapeText);
    const users = (content.users.length ? content.users : ['guest']).map(escapeText);
    const r = random;
    // {path}, {user} and {client} name one thing per line, however often the message shows it.
    const perLine = (draw: () => string): (() => string) => {
      let line = -1;
      let value = '';
      return () => {
        if (line !== this.lineNo) { line = this.lineNo; value = draw(); }
        return value;
      };
    };
    const placeholders: Placeholders = {
      docroot: () => docroot,
      path: perLine(() => this.paths[this.pathRank.sample(r)]),
      vhost: () => vhosts[r.int(vhosts.length)],
      host: () => vhosts[r.int(vhosts.length)],
      backend: () => BACKENDS[r.int(BACKENDS.length)],
      user: perLine(() => users[r.int(users.length)]),
      client: perLine(() => this.clients[this.pool.pick(r)]),
      n: () => '' + (1 + r.int(999)),
    };
    this.templates = content.error_messages.map((m) => parseTemplate(m, placeholders));
  }

  private candidates(level: string): Template[] {
    let list = this.byLevel.get(level);
    if (!list) {
      list = this.templates.filter((t) => t.levels.includes(level));
      if (!list.length) list = this.templates.filter((t) => t.levels.length === 0);
      if (!list.length) list = this.templates;
      this.byLevel.set(level, list);
    }
    return list;
  }

  make(ts: number, level?: string): string {
    const r = this.random;
    const last = this.last;
    const sec = Math.floor(ts / 1000);
    if (sec !== this.second) {
      this.second = sec;
      [this.timeHead, this.timeTail] = ctimeParts(ts, this.tz.offsetMinutes(ts));
    }
    this.lineNo++;
    const lvl = level ?? (this.levels ? this.levels.sample(r) : 'error');
    const list = this.candidates(lvl);
    const t = list.length === 1 ? list[0] : list[r.int(list.length)];
    last.level = lvl;

    let message: string;
    if (t.fixed !== null) message = t.fixed;
    else {
      message = '';
      for (const p of t.message) message += typeof p === 'string' ? p : p();
    }
    last.message = message;

    let clientIp: string | null = null;
    let clientPort: number | null = null;
    let referer: string | null = null;
    if (t.client) {
      clientIp = this.clients[this.pool.pick(r)];
      if (this.v24) clientPort = 1024 + r.int(64512);
      if (this.referers.length && r.next() < 0.2) referer = this.referers[r.int(this.referers.length)];
    }
    last.clientIp = clientIp;
    last.clientPort = clientPort;
    last.referer = referer;
    last.errno = t.errno;
    last.errnoText = t.errnoText;

    // Apache writes the source location at debug and trace levels only.
    const debug = lvl.charCodeAt(0) === 100 /* d */ || lvl.charCodeAt(0) === 116 /* t */;
    let location = '';
    last.sourceFile = last.sourceLine = null;
    if (debug) {
      last.sourceFile = t.sourceFile ?? (t.module === 'core' ? 'core.c' : `mod_${t.module ?? 'core'}.c`);
      last.sourceLine = t.sourceLine ?? 100 + r.int(3000);
      location = last.sourceFile + '(' + last.sourceLine + '): ';
    }
    const errno = t.errno === null ? '' : '(' + t.errno + ')' + t.errnoText + ': ';
    const tail = message + (referer === null ? '' : ', referer: ' + referer);

    if (this.v24) {
      const module = t.module ?? this.modules[r.int(this.modules.length)];
      const p = r.int(this.pids.length);
      const pid = this.pids[p];
      const tids = this.tids[p];
      const tid = tids[r.int(tids.length)];
      last.module = module;
      last.pid = pid;
      last.tid = tid;
      last.errorCode = t.code;
      return '[' + this.timeHead + '.' + pad6(Math.floor(ts * 1000) % 1000000) + this.timeTail + '] [' + module + ':' + lvl
        + '] [pid ' + pid + ':tid ' + tid + '] ' + location + errno
        + (clientIp === null ? '' : '[client ' + clientIp + ':' + clientPort + '] ')
        + (t.code === null ? '' : t.code + ': ') + tail;
    }
    last.module = last.pid = last.tid = last.errorCode = null;
    return '[' + this.timeHead + this.timeTail + '] [' + lvl + '] ' + location
      + (clientIp === null ? '' : '[client ' + clientIp + '] ') + errno + tail;
  }
}

/** Lines of an Apache 2.2 or 2.4 error log; `make(ts, level?)` takes the level of the line, or draws one
 * from `content.levels`. Throws (RangeError, TemplateError) on content it cannot write. */
export function createErrorLineMaker(style: ErrorStyle, content: ContentOptions, random: Random, tz: TimeZone): ErrorLineMaker {
  return new ErrorMaker(style, content, random, tz);
}
