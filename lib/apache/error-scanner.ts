// Scans error-log lines written with Apache's built-in layouts, telling them apart per line:
//   2.0/2.2  [Wed Oct 11 14:32:52 2000] [error] [client 127.0.0.1] (13)Permission denied: msg, referer: r
//   2.4      [Wed Oct 11 14:32:52.123456 2000] [core:error] [pid 1:tid 2] file.c(9): (70007)Timeout: [client 1.2.3.4:5678] AH00124: msg, referer: r
// One pass of indexOf/charCodeAt; no regex. The parts between the level and the message are optional and,
// between versions, in different orders (2.2 writes the errno after the client, 2.4 before), so they are
// recognised by their first characters rather than by position.
import type { Event } from '../../core/index.js';
import { digitsEnd, errnoAt, errorCodeAt, ErrorFields, intAt, isDebugLevel, levelAt, ModuleNames, sourceLocationAt, splitAddress, threadIdAt, unescapeLogged } from './error-fields.js';
import { readStartupRecord } from './error-startup.js';
import { type ErrorTimeParse, errorTimeParser, looksLikeErrorTime } from './error-time.js';
import type { WallClockToEpoch } from './strftime.js';

export type ErrorParseFailure = 'no_timestamp' | 'bad_timestamp' | 'no_level' | 'format_mismatch';

const OPEN = 91; // [
const SPACE = 32;
const REFERER_SUFFIX = ', referer: ';

export class DefaultErrorScanner {
  private readonly time: ErrorTimeParse;
  private readonly modules = new ModuleNames();
  private readonly fields = new ErrorFields();

  constructor(wallClock: WallClockToEpoch, private readonly unescape: boolean) {
    this.time = errorTimeParser(wallClock);
  }

  /** Assigns the fields to `event` and returns undefined, or returns why the line is no error-log line. */
  parse(line: string, event: Event): ErrorParseFailure | undefined {
    let end = line.length;
    if (end > 0 && line.charCodeAt(end - 1) === 13) end--;
    const f = this.fields;
    f.reset();

    // [timestamp]; a line without one may be a start-up record (`AH00558: ...`), which has no time at all
    if (line.charCodeAt(0) !== OPEN) return this.startup(line, end, event);
    const timeEnd = line.indexOf(']', 1);
    if (timeEnd < 0 || timeEnd >= end) return 'no_timestamp';
    f.timestamp = this.time(line, 1, timeEnd);
    if (f.timestamp !== f.timestamp) return looksLikeErrorTime(line.slice(1, timeEnd)) ? 'bad_timestamp' : 'no_timestamp';

    // [level] (2.2) or [module:level] (2.4; the module may be empty: [:error])
    const levelOpen = timeEnd + 2;
    if (line.charCodeAt(timeEnd + 1) !== SPACE || line.charCodeAt(levelOpen) !== OPEN) return 'no_level';
    const levelClose = line.indexOf(']', levelOpen + 1);
    if (levelClose < 0 || levelClose >= end) return 'no_level';
    const colon = line.indexOf(':', levelOpen + 1);
    const v24 = colon > 0 && colon < levelClose;
    const level = levelAt(line, v24 ? colon + 1 : levelOpen + 1, levelClose);
    if (level === undefined) return 'no_level';
    f.level = level;
    // `-` is what an ErrorLogFormat with `%-m` writes for "no module".
    const dash = colon === levelOpen + 2 && line.charCodeAt(levelOpen + 1) === 45;
    if (v24 && colon > levelOpen + 1 && !dash) f.module = this.modules.at(line, levelOpen + 1, colon);

    let pos = levelClose + 1;
    if (line.charCodeAt(pos) === SPACE) pos++;
    pos = this.pidPart(line, pos, end);
    pos = this.prefixParts(line, pos, end, v24, isDebugLevel(level));

    const codeEnd = errorCodeAt(line, pos);
    if (codeEnd > 0) {
      f.errorCode = line.slice(pos, codeEnd - 2);
      pos = codeEnd;
    }
    // Apache appends the referer of the request being served, so only lines about a request can have one.
    let messageEnd = end;
    if (f.client.ip !== null || f.remote.ip !== null) {
      const r = lastIndexIn(line, REFERER_SUFFIX, pos, end);
      if (r >= 0) {
        f.referer = this.text(line, r + REFERER_SUFFIX.length, end);
        messageEnd = r;
      }
    }
    f.messageText = pos < messageEnd ? this.text(line, pos, messageEnd) : '';
    f.writeTo(event);
    return undefined;
  }

  /** A start-up record (error-startup.ts), written with the same shape as every other event; else no_timestamp. */
  private startup(line: string, end: number, event: Event): ErrorParseFailure | undefined {
    const f = this.fields;
    if (!readStartupRecord(line, end, f, (s, e) => this.text(line, s, e))) return 'no_timestamp';
    f.writeTo(event);
    return undefined;
  }

  /** `[pid 123]` or `[pid 123:tid 456]`; returns where the next part starts (unchanged if there is none). */
  private pidPart(line: string, pos: number, end: number): number {
    if (!line.startsWith('[pid ', pos)) return pos;
    const pidEnd = digitsEnd(line, pos + 5, end);
    if (pidEnd === pos + 5) return pos;
    let close = pidEnd;
    let tid: number | string | null = null;
    if (line.startsWith(':tid ', pidEnd)) {
      close = digitsEnd(line, pidEnd + 5, end);
      if (close === pidEnd + 5) return pos;
      tid = threadIdAt(line, pidEnd + 5, close);
    }
    if (line.charCodeAt(close) !== 93 /* ] */) return pos;
    this.fields.pid = intAt(line, pos + 5, pidEnd);
    this.fields.tid = tid;
    return line.charCodeAt(close + 1) === SPACE ? close + 2 : close + 1;
  }

  /** The optional parts before the message: source location, errno, `[client ...]` / `[remote ...]`, each at most once. */
  private prefixParts(line: string, pos: number, end: number, v24: boolean, debug: boolean): number {
    const f = this.fields;
    let client = false;
    let errno = false;
    if (debug) {
      const at = sourceLocationAt(line, pos, end);
      if (at > 0 && line.charCodeAt(at) === 58 && line.charCodeAt(at + 1) === SPACE) {
        const open = line.lastIndexOf('(', at);
        f.sourceFile = line.slice(pos, open);
        f.sourceLine = intAt(line, open + 1, at - 1);
        pos = at + 2;
      }
    }
    for (;;) {
      const c = line.charCodeAt(pos);
      if (c === OPEN && !client && (line.startsWith('[client ', pos) || line.startsWith('[remote ', pos))) {
        // A bracketed IPv6 address has a `]` of its own: `[client [::1]:5678]`.
        const from = line.charCodeAt(pos + 8) === OPEN ? line.indexOf(']', pos + 9) + 1 : pos + 8;
        const close = from > pos ? line.indexOf(']', from) : -1;
        if (close < 0 || close >= end) break;
        splitAddress(line, pos + 8, close, v24, line.charCodeAt(pos + 1) === 99 /* c */ ? f.client : f.remote);
        client = true;
        pos = line.charCodeAt(close + 1) === SPACE ? close + 2 : close + 1;
      } else if (c === 40 /* ( */ && !errno && !(v24 && client)) { // 2.4 writes the errno before the client, 2.2 after
        const after = errnoAt(line, pos, end, f.errno);
        if (after < 0) break;
        errno = true;
        pos = after;
      } else {
        break;
      }
    }
    return pos;
  }

  private text(line: string, start: number, end: number): string {
    const s = line.slice(start, end);
    return this.unescape && s.indexOf('\\') >= 0 ? unescapeLogged(s) : s;
  }
}

/** The last occurrence of `needle` wholly inside line[from, end), or -1. Searches forward: V8's indexOf skips
 * ahead (Boyer-Moore-Horspool) where lastIndexOf compares at every position. */
function lastIndexIn(line: string, needle: string, from: number, end: number): number {
  let found = -1;
  for (let i = line.indexOf(needle, from); i >= 0 && i + needle.length <= end; i = line.indexOf(needle, i + 1)) found = i;
  return found;
}
