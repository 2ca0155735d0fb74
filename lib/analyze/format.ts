// `visor analyze`: which parser reads a file. Every parser is the one the apache_access / apache_error plugins
// run (lib/apache's buildAccessParser, buildErrorParser); this module only chooses between them.
import type { Event } from '../../core/index.js';
import {
  ACCESS_NICKNAMES, AccessFormatParser, AUTO_FORMATS, buildAccessParser, buildErrorParser, compileLogFormat, ErrorFormatError,
  type LineParse, LogFormatError,
} from '../apache/index.js';

export type { LineParse };

export type LogKind = 'access' | 'error';

/** What the user asked for: a fixed parser, or detection per file. */
export interface FormatChoice {
  /** Fixed for every file; undefined: detect per file. */
  fixed?: { kind: LogKind; label: string; parse: LineParse };
  timezone: string;
  errorLogFormat?: string;
}

export class FormatUsageError extends Error {}

function bind(p: { parse(line: string, event: Event): string | undefined }): LineParse {
  return (line, event) => p.parse(line, event);
}

function errorParser(timezone: string, errorLogFormat: string | undefined): LineParse {
  try {
    return bind(buildErrorParser({ timezone, unescape: true, error_log_format: errorLogFormat }));
  } catch (err) {
    if (err instanceof ErrorFormatError) throw new FormatUsageError(`invalid --error-log-format: ${err.message}`);
    throw err;
  }
}

function accessParser(options: { format: string; log_format?: string }, timezone: string): LineParse {
  try {
    return bind(buildAccessParser({ ...options, timezone }));
  } catch (err) {
    if (err instanceof LogFormatError) throw new FormatUsageError(`invalid --log-format: ${err.message}`);
    throw err;
  }
}

/** Validates --format / --log-format; throws FormatUsageError (exit 78) for an unknown format. */
export function chooseFormat(opts: { format?: string; logFormat?: string; timezone: string; errorLogFormat?: string }): FormatChoice {
  const { timezone, errorLogFormat } = opts;
  // Checked up front, so a bad value fails even when no file is read with it.
  if (errorLogFormat !== undefined) errorParser(timezone, errorLogFormat);
  if (opts.logFormat !== undefined) {
    if (opts.format !== undefined && opts.format !== 'access' && opts.format !== 'auto') {
      throw new FormatUsageError('--log-format and --format cannot be combined (except --format access)');
    }
    return { timezone, errorLogFormat, fixed: { kind: 'access', label: 'access (--log-format)', parse: accessParser({ format: 'auto', log_format: opts.logFormat }, timezone) } };
  }
  const f = opts.format;
  if (f === undefined || f === 'auto') return { timezone, errorLogFormat };
  if (f === 'access') return { timezone, errorLogFormat, fixed: { kind: 'access', label: 'access (auto)', parse: accessParser({ format: 'auto' }, timezone) } };
  if (f === 'error') return { timezone, errorLogFormat, fixed: { kind: 'error', label: 'error', parse: errorParser(timezone, errorLogFormat) } };
  if (ACCESS_NICKNAMES.includes(f)) return { timezone, errorLogFormat, fixed: { kind: 'access', label: `access (${f})`, parse: accessParser({ format: f }, timezone) } };
  throw new FormatUsageError(`unknown --format "${f}": expected auto, access, error, or an access LogFormat nickname (${ACCESS_NICKNAMES.join(', ')}), or use --log-format '<LogFormat string>'`);
}

/** Non-empty lines a file's format is detected from. */
export const DETECT_LINES = 50;

export interface Detection {
  kind: LogKind;
  /** e.g. "access (combined)", "error", "access (auto; format not recognised)". */
  label: string;
  parse: LineParse;
}

/** Access (the apache_access parser with format: auto) or error (apache_error), whichever parses more of the
 * sample; a tie goes to access. The label names the access nickname most sample lines fit exactly. */
export function detectFormat(sample: string[], choice: FormatChoice): Detection {
  const access = accessParser({ format: 'auto' }, choice.timezone);
  const error = errorParser(choice.timezone, choice.errorLogFormat);
  let a = 0;
  let e = 0;
  for (const line of sample) {
    if (access(line, {}) === undefined) a++;
    if (error(line, {}) === undefined) e++;
  }
  if (e > a) return { kind: 'error', label: 'error', parse: errorParser(choice.timezone, choice.errorLogFormat) };
  if (a === 0) return { kind: 'access', label: 'access (auto; format not recognised)', parse: accessParser({ format: 'auto' }, choice.timezone) };
  // Fresh parsers: the sample run must not leave state (time caches) behind, though none would matter.
  return { kind: 'access', label: `access (${accessNickname(sample)})`, parse: accessParser({ format: 'auto' }, choice.timezone) };
}

/** The auto-format nickname the most sample lines fit exactly, or "auto" when none does. */
function accessNickname(sample: string[]): string {
  let best = 'auto';
  let bestCount = 0;
  for (const name of AUTO_FORMATS) {
    const p = new AccessFormatParser(compileLogFormat(name));
    let n = 0;
    for (const line of sample) if (p.matchLine(line) === undefined && p.exact) n++;
    if (n > bestCount) {
      best = name;
      bestCount = n;
    }
  }
  return best;
}
