// The fields of a parsed error-log line and the small scanners both error-log parsers share: levels,
// module names, client addresses, errno prefixes, thread ids, and the escaping Apache applies to messages.
import type { Event } from '../../core/index.js';
import { unescapeApache } from './shared.js';

/** Apache's levels, as written in the log. */
export const LEVELS = ['emerg', 'alert', 'crit', 'error', 'warn', 'notice', 'info', 'debug',
  'trace1', 'trace2', 'trace3', 'trace4', 'trace5', 'trace6', 'trace7', 'trace8'] as const;
export type Level = (typeof LEVELS)[number];

/** The level written in line[start, end), as the shared constant string (no allocation), or undefined. */
export function levelAt(line: string, start: number, end: number): Level | undefined {
  const n = end - start;
  for (let k = 0; k < LEVELS.length; k++) {
    const level = LEVELS[k];
    if (level.length === n && line.startsWith(level, start)) return level;
  }
  return undefined;
}

/** debug and trace1-8: the levels at which Apache 2.4 writes the source file and line. */
export function isDebugLevel(level: Level): boolean {
  return level.charCodeAt(0) === 100 /* d */ || level.charCodeAt(0) === 116 /* t */;
}

/** Module names repeat on every line: reuse the strings already seen instead of slicing new ones. */
export class ModuleNames {
  private readonly seen: string[] = [];

  at(line: string, start: number, end: number): string {
    const n = end - start;
    for (let k = 0; k < this.seen.length; k++) {
      const m = this.seen[k];
      if (m.length === n && line.startsWith(m, start)) return m;
    }
    const name = line.slice(start, end);
    if (this.seen.length < 64) this.seen.push(name);
    return name;
  }
}

/** Digits in line[start, end) as a number; NaN if empty or not all digits. */
export function intAt(line: string, start: number, end: number): number {
  if (end <= start) return NaN;
  let v = 0;
  for (let i = start; i < end; i++) {
    const d = line.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return NaN;
    v = v * 10 + d;
  }
  return v;
}

/** End of the run of digits starting at `i`. */
export function digitsEnd(line: string, i: number, end: number): number {
  while (i < end) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) break;
    i++;
  }
  return i;
}

/** A thread id as logged: a number, or the digits as a string when beyond 2^53 (64-bit pthread ids are). */
export function threadIdAt(line: string, start: number, end: number): number | string {
  const v = intAt(line, start, end);
  return end - start <= 15 || v <= Number.MAX_SAFE_INTEGER ? v : line.slice(start, end);
}

/** An address with an optional port, as Apache writes it. */
export interface Address { ip: string | null; port: number | null }

/**
 * Splits `1.2.3.4:5678`, `[2001:db8::1]:443`, `::1:58412` (2.4 writes IPv6 without brackets) or a bare
 * address. `portExpected` says whether the writer appends a port (Apache 2.4 does, 2.2 never does); it
 * decides what the last `:digits` of an unbracketed IPv6 address is.
 */
export function splitAddress(line: string, start: number, end: number, portExpected: boolean, out: Address): void {
  out.port = null;
  if (line.charCodeAt(start) === 91 /* [ */) {
    const close = line.indexOf(']', start);
    if (close > start && close < end) {
      out.ip = line.slice(start + 1, close);
      if (line.charCodeAt(close + 1) === 58) out.port = portAt(line, close + 2, end);
      return;
    }
  }
  const colon = line.lastIndexOf(':', end - 1);
  if (colon < start) {
    out.ip = end > start ? line.slice(start, end) : null;
    return;
  }
  const port = portAt(line, colon + 1, end);
  const single = line.lastIndexOf(':', colon - 1) < start;
  if (port !== null && (single || (portExpected && isIpv6(line, start, colon)))) {
    out.ip = line.slice(start, colon);
    out.port = port;
  } else {
    out.ip = line.slice(start, end);
  }
}

function portAt(line: string, start: number, end: number): number | null {
  const v = end - start <= 5 ? intAt(line, start, end) : NaN;
  return v <= 65535 ? v : null;
}

/** Enough of an IPv6 check to tell `::1` (an address) from `fe80:` (an address cut before its last group). */
function isIpv6(line: string, start: number, end: number): boolean {
  let colons = 0;
  let doubleColon = false;
  for (let i = start; i < end; i++) {
    if (line.charCodeAt(i) === 58) {
      colons++;
      if (line.charCodeAt(i + 1) === 58 && i + 1 < end) doubleColon = true;
    }
  }
  if (line.charCodeAt(end - 1) === 58 && !doubleColon) return false;
  return doubleColon ? colons <= 7 : colons === 7;
}

/** An APR status prefix `(70007)The timeout specified has expired: ` (also `(OS 10060)`, `(EAI 2)`). */
export interface Errno { code: number | string | null; text: string | null }

/**
 * Reads an errno prefix at `pos`; returns where the text after its `: ` starts, or -1 when there is none.
 * Apache writes `(status)description: ` before the message whenever a call failed with a status.
 */
export function errnoAt(line: string, pos: number, end: number, out: Errno): number {
  if (line.charCodeAt(pos) !== 40 /* ( */) return -1;
  const close = line.indexOf(')', pos + 1);
  if (close < 0 || close > pos + 24 || close >= end) return -1;
  const sep = line.indexOf(': ', close + 1);
  if (sep < 0 || sep >= end) return -1;
  const numeric = intAt(line, pos + 1, close);
  if (numeric === numeric) out.code = numeric;
  else if (line.startsWith('OS ', pos + 1) || line.startsWith('EAI ', pos + 1) || line.startsWith('os 0x', pos + 1)) out.code = line.slice(pos + 1, close);
  else return -1;
  out.text = line.slice(close + 1, sep);
  return sep + 2;
}

/** `mod_rewrite.c(470)` at `pos`: the source file and line 2.4 writes at debug and trace levels. Returns the end, or -1. */
export function sourceLocationAt(line: string, pos: number, end: number): number {
  const open = line.indexOf('(', pos);
  if (open <= pos || open >= end) return -1;
  for (let i = pos; i < open; i++) if (line.charCodeAt(i) === 32) return -1;
  const close = digitsEnd(line, open + 1, end);
  return close > open + 1 && line.charCodeAt(close) === 41 /* ) */ ? close + 1 : -1;
}

/** `AH00124: ` at `pos` (the APLOGNO prefix of 2.4 messages): returns the position after it, or -1. */
export function errorCodeAt(line: string, pos: number): number {
  if (line.charCodeAt(pos) !== 65 || line.charCodeAt(pos + 1) !== 72 || line.charCodeAt(pos + 7) !== 58 || line.charCodeAt(pos + 8) !== 32) return -1;
  for (let i = pos + 2; i < pos + 7; i++) {
    const c = line.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
  }
  return pos + 9;
}

/**
 * Undoes Apache's escaping of logged text (`\\` `\"` `\xhh` `\n` `\r` `\t` `\b` `\v`). Text with a backslash
 * that is none of these (`C:\Apache24`, not written through Apache's logger) was not escaped: it is kept as is.
 */
export function unescapeLogged(s: string): string {
  for (let i = s.indexOf('\\'); i >= 0; i = s.indexOf('\\', i + 2)) {
    const n = s.charCodeAt(i + 1);
    const escape = n === 92 || n === 34 || n === 110 || n === 116 || n === 114 || n === 98 || n === 118
      || (n === 120 && isHex(s.charCodeAt(i + 2)) && isHex(s.charCodeAt(i + 3)));
    if (!escape) return s;
  }
  return unescapeApache(s);
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}

/** What one line yields; written to the event in a fixed order, so parsed events share one shape. */
export class ErrorFields {
  timestamp: number | null = null;
  level: Level | null = null;
  module: string | null = null;
  pid: number | null = null;
  tid: number | string | null = null;
  readonly client: Address = { ip: null, port: null };
  readonly errno: Errno = { code: null, text: null };
  errorCode: string | null = null;
  messageText = '';
  referer: string | null = null;
  /** Set only when the line has them: a proxy's backend (`[remote ...]`) and the source location. */
  readonly remote: Address = { ip: null, port: null };
  sourceFile: string | null = null;
  sourceLine: number | null = null;

  reset(): void {
    this.timestamp = null;
    this.level = null;
    this.module = null;
    this.pid = null;
    this.tid = null;
    this.client.ip = null;
    this.client.port = null;
    this.errno.code = null;
    this.errno.text = null;
    this.errorCode = null;
    this.messageText = '';
    this.referer = null;
    this.remote.ip = null;
    this.remote.port = null;
    this.sourceFile = null;
    this.sourceLine = null;
  }

  writeTo(event: Event): void {
    event.timestamp = this.timestamp;
    event.level = this.level;
    event.module = this.module;
    event.pid = this.pid;
    event.tid = this.tid;
    event.client_ip = this.client.ip;
    event.client_port = this.client.port;
    event.errno = this.errno.code;
    event.errno_text = this.errno.text;
    event.error_code = this.errorCode;
    event.message_text = this.messageText;
    event.referer = this.referer;
    if (this.remote.ip !== null) {
      event.remote_ip = this.remote.ip;
      event.remote_port = this.remote.port;
    }
    if (this.sourceFile !== null) {
      event.source_file = this.sourceFile;
      event.source_line = this.sourceLine;
    }
  }
}
