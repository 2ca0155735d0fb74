// Error-log timestamps: `Wed Oct 11 14:32:52 2000` (%t, Apache 2.0/2.2), with microseconds
// `Wed Oct 11 14:32:52.123456 2000` (%{u}t, 2.4's default), compact ISO `2000-10-11 14:32:52[.123456]`
// (%{c}t, %{cu}t), each optionally followed by a UTC offset ` +0200` (%{...z}t, 2.4.55+).
// Without an offset the time is the server's wall clock, converted with the configured time zone.
import { cachedTimeParser, digits2, monthIndex } from './shared.js';
import type { WallClockToEpoch } from './strftime.js';

/** 10 ** n without Math.pow, which is slow for a variable exponent. */
const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9];
const SPACE = 32;
const COLON = 58;
const DOT = 46;
const DASH = 45;
const PLUS = 43;

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function digitAt(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
}

function isLetter(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  return month === 1 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : DAYS_IN_MONTH[month];
}

/** Where the parts of one timestamp sit in its text, once `read` has accepted it. */
class TimeLayout {
  iso = false;
  /** Start of the seconds digits; the fraction (if any) follows right after them. */
  seconds = 0;
  fractionDigits = 0;
  year = 0;
  /** Start of `+hhmm` / `-hhmm`, or -1. */
  offset = -1;
  length = 0;

  /** Reads the separators of a timestamp starting at `pos` (values are checked when parsing); false if there is none. */
  read(s: string, pos: number): boolean {
    let i: number;
    if (isDigit(s.charCodeAt(pos))) {
      // yyyy-mm-dd hh:mm:ss
      if (s.charCodeAt(pos + 4) !== DASH || s.charCodeAt(pos + 7) !== DASH || s.charCodeAt(pos + 10) !== SPACE
        || s.charCodeAt(pos + 13) !== COLON || s.charCodeAt(pos + 16) !== COLON) return false;
      this.iso = true;
      this.year = pos;
    } else {
      // Www Mmm dd hh:mm:ss (the day may be space-padded, as C's asctime writes it)
      if (!isLetter(s.charCodeAt(pos)) || s.charCodeAt(pos + 3) !== SPACE || !isLetter(s.charCodeAt(pos + 4)) || s.charCodeAt(pos + 7) !== SPACE
        || s.charCodeAt(pos + 10) !== SPACE || s.charCodeAt(pos + 13) !== COLON || s.charCodeAt(pos + 16) !== COLON) return false;
      this.iso = false;
    }
    this.seconds = pos + 17;
    i = pos + 19;
    let digits = 0;
    if (s.charCodeAt(i) === DOT) {
      while (digits < 9 && isDigit(s.charCodeAt(i + 1 + digits))) digits++;
      if (digits === 0) return false;
      i += 1 + digits;
    }
    this.fractionDigits = digits;
    if (!this.iso) {
      if (s.charCodeAt(i) !== SPACE || !isDigit(s.charCodeAt(i + 1)) || !isDigit(s.charCodeAt(i + 4))) return false;
      this.year = i + 1;
      i += 5;
    }
    this.offset = -1;
    const sign = s.charCodeAt(i + 1);
    if (s.charCodeAt(i) === SPACE && (sign === PLUS || sign === DASH) && isDigit(s.charCodeAt(i + 2)) && isDigit(s.charCodeAt(i + 5))) {
      this.offset = i + 1;
      i += 6;
    }
    this.length = i - pos;
    return true;
  }
}

const scratch = new TimeLayout();

/** Length of the timestamp text at `pos` in `line`, or -1: for formats where no closing bracket delimits it. */
export function errorTimeLength(line: string, pos: number): number {
  return scratch.read(line, pos) ? scratch.length : -1;
}

/** True when `text` has the shape of an error-log timestamp (whatever its values): tells `bad_timestamp` from `no_timestamp`. */
export function looksLikeErrorTime(text: string): boolean {
  return errorTimeLength(text, 0) === text.length;
}

/** Turns timestamp texts into epoch ms; the date and zone work is done once per minute. */
class ErrorTimeParser {
  private readonly layout = new TimeLayout();
  /** The last minute converted: its key (date, hour, minute and offset as one number) and its start. */
  private minuteKey = NaN;
  private minuteStart = NaN;
  /** The last month name seen, as char codes, and its index: month names repeat on every line. */
  private monthChars = -1;
  private month = -1;

  constructor(private readonly wallClock: WallClockToEpoch) {}

  /** The timestamp written in s[pos, end), or NaN. */
  parse(s: string, pos: number, end: number): number {
    const layout = this.layout;
    if (!layout.read(s, pos) || layout.length !== end - pos) return NaN;
    const year = digits2(s, layout.year) * 100 + digits2(s, layout.year + 2);
    let month: number, day: number;
    if (layout.iso) {
      month = digits2(s, pos + 5) - 1;
      day = digits2(s, pos + 8);
    } else {
      month = this.monthAt(s, pos + 4);
      day = s.charCodeAt(pos + 8) === SPACE ? digitAt(s, pos + 9) : digits2(s, pos + 8);
    }
    const hour = digits2(s, pos + 11);
    const minute = digits2(s, pos + 14);
    // -1 stands for "no offset": the zone option applies. Negative offsets count from 2000 (the key needs one sign).
    let offset = -1;
    if (layout.offset >= 0) {
      const hours = digits2(s, layout.offset + 1);
      const minutes = digits2(s, layout.offset + 3);
      if (!(hours <= 23 && minutes <= 59)) return NaN;
      offset = (s.charCodeAt(layout.offset) === DASH ? 2000 : 0) + hours * 60 + minutes;
    }
    const key = ((((year * 12 + month) * 32 + day) * 24 + hour) * 60 + minute) * 4096 + offset + 1;
    if (key !== this.minuteKey) {
      this.minuteKey = key;
      this.minuteStart = this.startOfMinute(year, month, day, hour, minute, offset);
    }
    const seconds = digits2(s, layout.seconds);
    // NaN fails every comparison, so malformed digits are caught here too.
    if (!(seconds <= 60) || this.minuteStart !== this.minuteStart) return NaN;
    let fractionMs = 0;
    if (layout.fractionDigits) {
      let v = 0;
      const from = layout.seconds + 3;
      for (let i = 0; i < layout.fractionDigits; i++) v = v * 10 + s.charCodeAt(from + i) - 48;
      fractionMs = (v * 1000) / POWERS_OF_TEN[layout.fractionDigits]; // exact integers: one correctly rounded division
    }
    return this.minuteStart + seconds * 1000 + fractionMs;
  }

  private monthAt(s: string, i: number): number {
    const chars = (s.charCodeAt(i) << 16) | (s.charCodeAt(i + 1) << 8) | s.charCodeAt(i + 2);
    if (chars !== this.monthChars) {
      this.monthChars = chars;
      this.month = monthIndex(s.slice(i, i + 3));
    }
    return this.month;
  }

  private startOfMinute(year: number, month: number, day: number, hour: number, minute: number, offset: number): number {
    if (!(month >= 0 && month <= 11 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && year >= 1000)) return NaN;
    if (offset < 0) return this.wallClock(year, month, day, hour, minute, 0);
    const offsetMinutes = offset >= 2000 ? -(offset - 2000) : offset;
    return Date.UTC(year, month, day, hour, minute, 0) - offsetMinutes * 60000;
  }
}

/** Parses the timestamp written in line[start, end) (between the brackets) to epoch ms, or NaN. */
export type ErrorTimeParse = (line: string, start: number, end: number) => number;

/**
 * Timestamps to epoch ms, microseconds kept as the fraction of the millisecond. Second-resolution texts
 * (2.2) repeat on consecutive lines: they go through the one-entry cache of `cachedTimeParser`. Texts with
 * microseconds never repeat, so they are read in place, without a copy; they share the last line's minute.
 */
export function errorTimeParser(wallClock: WallClockToEpoch): ErrorTimeParse {
  const parser = new ErrorTimeParser(wallClock);
  const cached = cachedTimeParser((text) => parser.parse(text, 0, text.length));
  return (line, start, end) => (line.charCodeAt(start + 19) === DOT ? parser.parse(line, start, end) : cached(line.slice(start, end)));
}
