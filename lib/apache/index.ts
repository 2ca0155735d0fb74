// Apache's log formats as a library: the LogFormat and ErrorLogFormat compilers, the line scanners, the named
// formats, and the format options' schemas with their checks. Used by the apache_access and apache_error
// filters, the generator (which writes what these parse) and `visor analyze`.
export { AUTO_FORMATS, ACCESS_NICKNAMES, ACCESS_FORMAT_SCHEMA, buildAccessParser, type AccessParserOptions } from './access-parser.js';
export { ERROR_FORMAT_SCHEMA, buildErrorParser, type ErrorParserOptions } from './error-parser.js';
export {
  compileLogFormat, LogFormatError, NAMED_FORMATS, SUPPORTED_DIRECTIVES,
  type CompiledFormat, type FieldKind, type FieldSpec,
} from './logformat.js';
export { AccessFormatParser, MultiFormatParser, type ParseFailure } from './access-scanner.js';
export { compileErrorFormat, ErrorFormatError, SUPPORTED_ERROR_DIRECTIVES, type CompiledErrorFormat } from './error-format.js';
export { DefaultErrorScanner, type ErrorParseFailure } from './error-scanner.js';
export { LEVELS, type Level } from './error-fields.js';
export { FormatErrorScanner } from './error-format-scanner.js';
export { lineParserProcess, SOURCE_FIELD_SCHEMA, UNPARSED_OUTPUT, type LineParse } from './shared.js';
export { compileStrftime, utcWallClock, type WallClockToEpoch } from './strftime.js';
export { wallClockFor } from './timezone.js';
