// Parses Apache access-log lines (any LogFormat) into flat fields; lines that do not fit go to `_unparsed`.
import { checkByParsing, definePlugin, timezoneSchema } from '../../core/index.js';
import { AccessFormatParser, MultiFormatParser } from './apache/access-scanner.js';
import { compileLogFormat, LogFormatError, NAMED_FORMATS, SUPPORTED_DIRECTIVES } from './apache/logformat.js';
import { lineParserProcess, SOURCE_FIELD_SCHEMA, UNPARSED_OUTPUT } from './apache/shared.js';
import { wallClockFor } from './apache/timezone.js';

interface AccessOptions {
  field: string;
  format: string;
  log_format?: string | string[];
  timezone: string;
}

/** Tried by `format: auto`, most common first: the first that fits the whole line wins (no two of these can
 * both fit one line exactly, so the order only decides speed), else the one that fits most of it. */
export const AUTO_FORMATS = ['combined', 'common', 'vhost_combined', 'combinedio', 'vhost_common'];

export function buildAccessParser(options: Pick<AccessOptions, 'format' | 'log_format' | 'timezone'>): MultiFormatParser {
  const formats = options.log_format !== undefined
    ? (Array.isArray(options.log_format) ? options.log_format : [options.log_format])
    : options.format === 'auto' ? AUTO_FORMATS : [options.format];
  const wallClock = wallClockFor(options.timezone);
  return new MultiFormatParser(formats.map((f) => new AccessFormatParser(compileLogFormat(f), wallClock)));
}

export default definePlugin<AccessOptions, 'filter'>({
  kind: 'filter',
  name: 'apache_access',
  description: 'Parses Apache access log lines (common, combined, vhost_combined, combinedio or any LogFormat) into fields: client_ip, ident, user, timestamp (epoch ms), method, url, path, query, protocol, status, bytes, referer, user_agent, ... Lines that do not fit go to ID._unparsed with parse_error.',
  sideOutputs: { [UNPARSED_OUTPUT]: 'lines it cannot parse' },
  schema: {
    type: 'object',
    properties: {
      ...SOURCE_FIELD_SCHEMA,
      format: {
        enum: [...Object.keys(NAMED_FORMATS).filter((f) => f !== 'referer' && f !== 'agent'), 'auto'],
        default: 'combined',
        description: 'A LogFormat nickname from Apache\'s default config; auto tries combined, common, vhost_combined, combinedio and vhost_common on each line and keeps the first that fits the whole line, else the one that fits most of it. A combined format also accepts common lines (the missing fields are null) and ignores extra trailing fields.',
      },
      log_format: {
        anyOf: [{ type: 'string', minLength: 1 }, { type: 'array', items: { type: 'string', minLength: 1 }, minItems: 1 }],
        description: `An Apache LogFormat string (as in httpd.conf; overrides format), or a list: the first that fits the whole line wins, else the one that fits most of it. Directives: ${SUPPORTED_DIRECTIVES}.`,
        // Compiled with the config, so a directive it cannot read is a located validate error, not a start failure.
        check: checkByParsing((v) => { for (const f of Array.isArray(v) ? v : [v]) if (typeof f === 'string') compileLogFormat(f); }),
      },
      timezone: timezoneSchema('local', 'Time zone of %{format}t times written without %z (%t always carries its offset)'),
    },
  },
  create(options, context) {
    let parser: MultiFormatParser;
    try {
      parser = buildAccessParser(options);
    } catch (err) {
      if (err instanceof LogFormatError) throw new Error(`invalid log_format: ${err.message}`);
      throw err;
    }
    return { process: lineParserProcess(context, options.field, (line, event) => parser.parse(line, event)) };
  },
});
