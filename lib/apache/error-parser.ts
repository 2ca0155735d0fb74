// The error-log parser an `apache_error` filter or `visor analyze` runs: the error_log_format option (the schema,
// with the check that compiles it with the config) and the parser the options build.
import { checkByParsing, type OptionSchema, type OptionsOf } from '../../core/index.js';
import { compileErrorFormat, SUPPORTED_ERROR_DIRECTIVES } from './error-format.js';
import { FormatErrorScanner } from './error-format-scanner.js';
import { DefaultErrorScanner } from './error-scanner.js';
import { wallClockFor } from './timezone.js';

/** The `error_log_format` option. */
export const ERROR_FORMAT_SCHEMA = {
  error_log_format: {
    type: 'string',
    minLength: 1,
    description: `The server's ErrorLogFormat, when it sets one (as in its config, e.g. "[%{u}t] [%-m:%l] [pid %P:tid %T] %7F: %E: [client\\ %a] %M% ,\\ referer\\ %{Referer}i"). Without it, Apache's built-in 2.2 and 2.4 layouts are recognised on each line. Directives: ${SUPPORTED_ERROR_DIRECTIVES}.`,
    // Compiled with the config, so a directive it cannot read is a located validate error, not a start failure.
    check: checkByParsing((v) => { if (typeof v === 'string') compileErrorFormat(v); }),
  },
} as const satisfies Record<string, OptionSchema>;

/** What buildErrorParser reads: `error_log_format` as validated (without it, Apache's built-in 2.2 and 2.4 layouts),
 * the name of the time zone, and whether to undo Apache's escaping in message_text and referer (the plugin's
 * `timezone` and `unescape` options). */
export type ErrorParserOptions = OptionsOf<{ type: 'object'; properties: typeof ERROR_FORMAT_SCHEMA }> & { timezone: string; unescape: boolean };

/** Throws ErrorFormatError for an error_log_format it cannot read. */
export function buildErrorParser(options: ErrorParserOptions): DefaultErrorScanner | FormatErrorScanner {
  const wallClock = wallClockFor(options.timezone);
  if (options.error_log_format === undefined) return new DefaultErrorScanner(wallClock, options.unescape);
  return new FormatErrorScanner(compileErrorFormat(options.error_log_format), wallClock, options.unescape);
}
