// The access-log parser an `apache_access` filter or `visor analyze` runs: its format options (the schema, with
// the check that compiles log_format with the config) and the parser they build.
import { checkByParsing, type OptionSchema, type OptionsOf } from '../../core/index.js';
import { AccessFormatParser, MultiFormatParser } from './access-scanner.js';
import { compileLogFormat, NAMED_FORMATS, SUPPORTED_DIRECTIVES } from './logformat.js';
import { wallClockFor } from './timezone.js';

/** Tried by `format: auto`, most common first: the first that fits the whole line wins (no two of these can
 * both fit one line exactly, so the order only decides speed), else the one that fits most of it. */
export const AUTO_FORMATS = ['combined', 'common', 'vhost_combined', 'combinedio', 'vhost_common'];

/** The nicknames `format` accepts: Apache's named formats less referer and agent, which are no access lines. */
export const ACCESS_NICKNAMES = Object.keys(NAMED_FORMATS).filter((f) => f !== 'referer' && f !== 'agent');

/** The `format` and `log_format` options. */
export const ACCESS_FORMAT_SCHEMA = {
  format: {
    enum: [...ACCESS_NICKNAMES, 'auto'],
    default: 'combined',
    description: 'A LogFormat nickname from Apache\'s default config; auto tries combined, common, vhost_combined, combinedio and vhost_common on each line and keeps the first that fits the whole line, else the one that fits most of it. A combined format also accepts common lines (the missing fields are null) and ignores extra trailing fields.',
  },
  log_format: {
    anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }],
    description: `An Apache LogFormat string (as in httpd.conf; overrides format), or a list: the first that fits the whole line wins, else the one that fits most of it. Directives: ${SUPPORTED_DIRECTIVES}.`,
    // Built with the config as the parser builds it (its %{...}t time formats too), so a directive it cannot read is a
    // located validate error, not a start failure.
    check: checkByParsing((v) => { for (const f of Array.isArray(v) ? v : [v]) if (typeof f === 'string') new AccessFormatParser(compileLogFormat(f)); }),
  },
} as const satisfies Record<string, OptionSchema>;

/** What buildAccessParser reads: `format` (a nickname of ACCESS_NICKNAMES, or auto) and `log_format` (overriding it)
 * as validated, and the name of the time zone (the plugin's `timezone` option). */
export type AccessParserOptions = OptionsOf<{ type: 'object'; properties: typeof ACCESS_FORMAT_SCHEMA }> & { timezone: string };

/** `fields`: the only fields the parsed events need (PluginContext.downstreamFields); all when undefined. */

/** Throws LogFormatError for a log_format it cannot read. */
export function buildAccessParser(options: AccessParserOptions, fields?: ReadonlySet<string>): MultiFormatParser {
  const formats = options.log_format !== undefined
    ? (Array.isArray(options.log_format) ? options.log_format : [options.log_format])
    : options.format === 'auto' ? AUTO_FORMATS : [options.format];
  const wallClock = wallClockFor(options.timezone);
  return new MultiFormatParser(formats.map((f) => new AccessFormatParser(compileLogFormat(f), wallClock, fields)));
}
