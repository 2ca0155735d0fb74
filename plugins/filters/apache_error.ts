// Parses Apache error-log lines (2.0/2.2 and 2.4 layouts, detected per line, or any ErrorLogFormat) into
// flat fields, and Apache's start-up records without time (`AH00558: ...`, lib/apache/error-startup.ts); lines
// that are no error-log lines (CGI stderr, stack traces, apache2ctl's own messages) go to `_unparsed`.
import { definePlugin, timezoneSchema } from '../../core/index.js';
import {
  buildErrorParser, type DefaultErrorScanner, ERROR_FORMAT_SCHEMA, ErrorFormatError, type FormatErrorScanner, lineParserProcess,
  SOURCE_FIELD_SCHEMA, UNPARSED_OUTPUT,
} from '../../lib/apache/index.js';

export default definePlugin({
  kind: 'filter',
  name: 'apache_error',
  // Each line is parsed on its own: worker threads may parse batches (service.threads).
  parallel: true,
  description: 'Parses Apache error log lines (2.2 and 2.4 layouts, told apart per line, or a custom ErrorLogFormat) into fields: timestamp (epoch ms), level, module, pid, tid, client_ip, client_port, errno, errno_text, error_code (AHnnnnn), message_text, referer. Lines that are no error-log lines go to ID._unparsed with parse_error.',
  sideOutputs: { [UNPARSED_OUTPUT]: { description: 'lines that are no error-log lines', carries: 'input' } },
  schema: {
    type: 'object',
    properties: {
      ...SOURCE_FIELD_SCHEMA,
      timezone: timezoneSchema('local', 'Time zone of the server that wrote the log (error-log times carry none, unless ErrorLogFormat adds it)'),
      ...ERROR_FORMAT_SCHEMA,
      unescape: {
        type: 'boolean',
        default: true,
        description: 'Undo the escaping Apache applies to logged text (\\\\ \\xhh \\n ...) in message_text and referer; bytes that are not UTF-8 become U+FFFD. The raw line is always kept.',
      },
    },
  },
  create(options, context) {
    let parser: DefaultErrorScanner | FormatErrorScanner;
    try {
      parser = buildErrorParser(options);
    } catch (err) {
      if (err instanceof ErrorFormatError) throw new Error(`invalid error_log_format: ${err.message}`);
      throw err;
    }
    return { process: lineParserProcess(context, options.field, (line, event) => parser.parse(line, event)) };
  },
});
