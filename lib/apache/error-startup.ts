// Apache's start-up records: what httpd (or apache2ctl) writes to the error log before the log is set up,
// with no time, level or module, only the message code:
//   AH00558: apache2: Could not reliably determine the server's fully qualified domain name, using 127.0.1.1. ...
//   (98)Address already in use: AH00072: make_sock: could not bind to address [::]:80
// Both error-log parsers fall back to this for lines that are not of their layout, so it costs nothing on
// the usual lines. Lines without an AH code (`no listening sockets available, shutting down`, apache2ctl's
// `Action 'start' failed.`) stay unparsed: nothing tells them from any other program's stderr.
import { type ErrorFields, errnoAt, type Level } from './error-fields.js';

/** Codes whose text reads like a failure but which Apache writes as a warning (the server still starts). */
const WARNING_CODES = new Set(['AH00111', 'AH00557', 'AH00558']);
/** Words that say a start-up record reports a failure (the server, or the config check, stops). */
const FAILURE = /fail|error|unable|cannot|can't|could not|invalid|\bbad\b|no listening sockets/i;

/** The level a start-up record is given, since Apache writes none: `warn` for the codes above and for
 * messages starting with "Warning"; `error` when an APR error prefix or the text reports a failure;
 * else `notice`. */
export function startupLevel(code: string, message: string, hasErrno: boolean): Level {
  if (WARNING_CODES.has(code) || /^warning\b/i.test(message)) return 'warn';
  if (hasErrno || FAILURE.test(message)) return 'error';
  return 'notice';
}

/** `AHnnnnn:` at `pos`, followed by a space or the end: returns where the message starts, or -1. */
function codeAt(line: string, pos: number, end: number): number {
  if (line.charCodeAt(pos) !== 65 || line.charCodeAt(pos + 1) !== 72 || line.charCodeAt(pos + 7) !== 58 || pos + 8 > end) return -1;
  for (let i = pos + 2; i < pos + 7; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  if (pos + 8 === end) return end;
  return line.charCodeAt(pos + 8) === 32 ? pos + 9 : -1;
}

/**
 * Reads a start-up record in line[0, end) into `f` (already reset): `error_code`, `message_text` (through
 * `text`, which undoes the escaping as the parser is configured to), `errno`/`errno_text` for an APR error
 * prefix, and the level from `startupLevel`. Time, module, pid and client stay null. Returns false (with
 * `f` possibly half-filled: reset it) when the line is no such record.
 */
export function readStartupRecord(line: string, end: number, f: ErrorFields, text: (start: number, end: number) => string): boolean {
  const first = line.charCodeAt(0);
  if (first !== 65 /* A */ && first !== 40 /* ( */) return false;
  let pos = 0;
  if (first === 40) {
    pos = errnoAt(line, 0, end, f.errno);
    if (pos < 0) return false;
  }
  const messageStart = codeAt(line, pos, end);
  if (messageStart < 0) return false;
  f.errorCode = line.slice(pos, pos + 7);
  f.messageText = messageStart < end ? text(messageStart, end) : '';
  f.level = startupLevel(f.errorCode, f.messageText, pos > 0);
  return true;
}
