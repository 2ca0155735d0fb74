// Matches error-log lines against a compiled ErrorLogFormat. Each item's text ends where its kind says
// (digits, an address, the literal after it); optional fields are tried present, then absent, and the
// message, which may contain anything, ends at the last place where the rest of the format fits.
import type { Event } from '../../core/index.js';
import type { CompiledErrorFormat, FormatItem } from './error-format.js';
import { type Address, digitsEnd, ErrorFields, errorCodeAt, intAt, levelAt, ModuleNames, sourceLocationAt, splitAddress, threadIdAt, unescapeLogged } from './error-fields.js';
import type { ErrorParseFailure } from './error-scanner.js';
import { readStartupRecord } from './error-startup.js';
import { type ErrorTimeParse, errorTimeLength, errorTimeParser } from './error-time.js';
import type { WallClockToEpoch } from './strftime.js';

/** Bound on match attempts per line, so no line can make the scanner backtrack for long. */
const MAX_STEPS = 2000;
/** Candidate ends tried for the message, from the last one back. */
const MAX_MESSAGE_ENDS = 8;

const KIND_CODE = { literal: 0, time: 1, module: 2, level: 3, pid: 4, tid: 5, source: 6, errno: 7, client: 8, address: 9, message: 10, string: 11, int: 12 } as const;

export class FormatErrorScanner {
  private readonly items: FormatItem[];
  private readonly kinds: Uint8Array;
  /** For each item: the literal right after it in its field ('' if none). */
  private readonly nextLiteral: string[];
  private readonly isFieldStart: Uint8Array;
  /** For the first item of each field: whether the field may be absent, and where the next field starts. */
  private readonly optional: Uint8Array;
  private readonly nextField: Int32Array;
  /** Literals where the message may end (the text that follows it). */
  private readonly messageAnchors: string[];
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;
  private readonly time: ErrorTimeParse;
  private readonly modules = new ModuleNames();
  private readonly fields = new ErrorFields();
  private readonly address: Address = { ip: null, port: null };
  /** For items filling extra fields: the index of (the first of) their field(s) in format.extraFields. */
  private readonly extraIndex: Int32Array;
  private readonly extraValues: unknown[];
  private line = '';
  private end = 0;
  private steps = 0;

  constructor(readonly format: CompiledErrorFormat, wallClock: WallClockToEpoch, private readonly unescape: boolean) {
    this.items = format.fields.flatMap((f) => f.items);
    const n = this.items.length;
    this.kinds = Uint8Array.from(this.items.map((it) => KIND_CODE[it.kind]));
    this.nextLiteral = [];
    this.isFieldStart = new Uint8Array(n);
    this.optional = new Uint8Array(n);
    this.nextField = new Int32Array(n);
    let k = 0;
    for (const field of format.fields) {
      const first = k;
      this.isFieldStart[first] = 1;
      this.optional[first] = field.optional ? 1 : 0;
      for (let j = 0; j < field.items.length; j++, k++) {
        const after = field.items[j + 1];
        this.nextLiteral.push(after?.kind === 'literal' ? after.text : '');
      }
      this.nextField[first] = k;
    }
    this.messageAnchors = this.anchorsAfterMessage();
    this.extraIndex = Int32Array.from(this.items.map((it) => format.extraFields.indexOf(it.kind === 'address' ? `${it.name}_ip` : it.name)));
    this.extraValues = format.extraFields.map(() => null);
    this.starts = new Int32Array(n);
    this.ends = new Int32Array(n);
    this.time = errorTimeParser(wallClock);
  }

  parse(line: string, event: Event): ErrorParseFailure | undefined {
    let end = line.length;
    if (end > 0 && line.charCodeAt(end - 1) === 13) end--;
    this.line = line;
    this.end = end;
    this.steps = 0;
    this.starts.fill(-1);
    if (!this.matchFrom(0, 0)) return this.startup(event);
    return this.assign(event);
  }

  /** Start-up records are written before the ErrorLogFormat applies (error-startup.ts): read them with the
   * format's own fields null, so they have the shape of the format's other events; else format_mismatch. */
  private startup(event: Event): ErrorParseFailure | undefined {
    const f = this.fields;
    f.reset();
    if (!readStartupRecord(this.line, this.end, f, (s, e) => this.text(s, e))) return 'format_mismatch';
    f.writeTo(event);
    const names = this.format.extraFields;
    for (let x = 0; x < names.length; x++) event[names[x]] = null;
    return undefined;
  }

  private matchFrom(k: number, pos: number): boolean {
    if (k === this.items.length) return pos === this.end;
    if (++this.steps > MAX_STEPS) return false;
    if (!this.isFieldStart[k]) return this.matchItem(k, pos);
    if (this.matchItem(k, pos)) return true;
    if (!this.optional[k]) return false;
    const next = this.nextField[k];
    for (let j = k; j < next; j++) this.starts[j] = -1;
    return this.matchFrom(next, pos);
  }

  private matchItem(k: number, pos: number): boolean {
    const kind = this.kinds[k];
    if (kind === KIND_CODE.literal) {
      const text = this.items[k].text;
      return this.line.startsWith(text, pos) && this.matchFrom(k + 1, pos + text.length);
    }
    if (kind === KIND_CODE.message) return this.matchMessage(k, pos);
    const e = this.scan(k, pos);
    if (e < 0) return false;
    this.starts[k] = pos;
    this.ends[k] = e;
    return this.matchFrom(k + 1, e);
  }

  /** Tries the message's possible ends from the last one back (the message is greedy): the rest of the
   * format must fit after it. The end of the line comes last: it means every field after %M is absent. */
  private matchMessage(k: number, pos: number): boolean {
    const line = this.line;
    const ends: number[] = [];
    for (const anchor of this.messageAnchors) {
      let from = this.end - anchor.length;
      for (let tries = 0; tries < MAX_MESSAGE_ENDS && from >= pos; tries++) {
        const q = line.lastIndexOf(anchor, from);
        if (q < pos) break;
        ends.push(q);
        from = q - 1;
      }
    }
    if (this.messageAnchors.length > 1) ends.sort((a, b) => b - a);
    ends.push(this.end);
    this.starts[k] = pos;
    for (const q of ends) {
      this.ends[k] = q;
      if (this.matchFrom(k + 1, q)) return true;
    }
    return false;
  }

  /** Where the item's text starting at `pos` ends, or -1 when it cannot start there. */
  private scan(k: number, pos: number): number {
    const line = this.line;
    const end = this.end;
    const item = this.items[k];
    const next = this.nextLiteral[k];
    if (item.hyphen && line.charCodeAt(pos) === 45 /* - */ && (next === '' || line.startsWith(next, pos + 1))) return pos + 1;
    switch (this.kinds[k]) {
      case KIND_CODE.time: {
        const n = errorTimeLength(line, pos);
        return n < 0 ? -1 : pos + n;
      }
      case KIND_CODE.level: {
        let e = pos;
        while (e < end && isWordChar(line.charCodeAt(e))) e++;
        return levelAt(line, pos, e) === undefined ? -1 : e;
      }
      case KIND_CODE.module: {
        let e = pos;
        while (e < end && isWordChar(line.charCodeAt(e))) e++;
        return e > pos ? e : -1;
      }
      case KIND_CODE.pid: case KIND_CODE.tid: case KIND_CODE.int: {
        const e = digitsEnd(line, pos, end);
        return e > pos ? e : -1;
      }
      case KIND_CODE.source:
        return sourceLocationAt(line, pos, end);
      case KIND_CODE.errno: {
        const close = line.charCodeAt(pos) === 40 ? line.indexOf(')', pos) : -1;
        if (close < 0 || close >= end) return -1;
        return this.until(close + 1, next, true);
      }
      case KIND_CODE.client: case KIND_CODE.address: {
        // A bracketed IPv6 address may hold the literal that follows (`]`): look past it.
        const from = line.charCodeAt(pos) === 91 ? line.indexOf(']', pos) + 1 : pos;
        if (from <= 0) return -1;
        const e = this.until(from, next, false);
        return e > pos && line.lastIndexOf(' ', e - 1) < pos ? e : -1;
      }
      default: // string
        if (next === '' && k === this.items.length - 1) return end;
        return this.until(pos, next, next !== '');
    }
  }

  /** The position of `literal` from `pos` (or of the next space when there is no literal), or -1. */
  private until(pos: number, literal: string, mayBeEmpty: boolean): number {
    const e = literal === '' ? this.line.indexOf(' ', pos) : this.line.indexOf(literal, pos);
    const at = e < 0 || e > this.end ? (literal === '' ? this.end : -1) : e;
    return at < 0 || (!mayBeEmpty && at === pos) ? -1 : at;
  }

  private anchorsAfterMessage(): string[] {
    const k = this.items.findIndex((it) => it.kind === 'message');
    if (k < 0) return [];
    if (this.nextLiteral[k] !== '') return [this.nextLiteral[k]];
    const anchors: string[] = [];
    for (let j = k + 1; j < this.items.length; j = this.nextField[j]) {
      anchors.push(this.items[j].text);
      if (!this.optional[j]) break;
    }
    return anchors;
  }

  private assign(event: Event): ErrorParseFailure | undefined {
    const f = this.fields;
    f.reset();
    const line = this.line;
    const extras = this.extraValues;
    extras.fill(null);
    for (let k = 0; k < this.items.length; k++) {
      const s = this.starts[k];
      const kind = this.kinds[k];
      if (s < 0 || kind === KIND_CODE.literal) continue;
      const e = this.ends[k];
      const item = this.items[k];
      if (item.hyphen && e === s + 1 && line.charCodeAt(s) === 45) continue; // `-`: nothing logged
      switch (kind) {
        case KIND_CODE.time:
          f.timestamp = this.time(line, s, e);
          if (f.timestamp !== f.timestamp) return 'bad_timestamp';
          break;
        case KIND_CODE.level: f.level = levelAt(line, s, e) ?? null; break;
        case KIND_CODE.module: f.module = this.modules.at(line, s, e); break;
        case KIND_CODE.pid: f.pid = intAt(line, s, e); break;
        case KIND_CODE.tid: f.tid = threadIdAt(line, s, e); break;
        case KIND_CODE.source: {
          const open = line.lastIndexOf('(', e);
          f.sourceFile = line.slice(s, open);
          f.sourceLine = intAt(line, open + 1, e - 1);
          break;
        }
        case KIND_CODE.errno: {
          const close = line.indexOf(')', s);
          const code = intAt(line, s + 1, close);
          f.errno.code = code === code ? code : line.slice(s + 1, close);
          f.errno.text = line.slice(close + 1, e);
          break;
        }
        case KIND_CODE.client: splitAddress(line, s, e, true, f.client); break;
        case KIND_CODE.address:
          splitAddress(line, s, e, true, this.address);
          extras[this.extraIndex[k]] = this.address.ip;
          extras[this.extraIndex[k] + 1] = this.address.port;
          break;
        case KIND_CODE.message: {
          const codeEnd = errorCodeAt(line, s);
          if (codeEnd > 0 && codeEnd <= e) f.errorCode = line.slice(s, codeEnd - 2);
          f.messageText = this.text(codeEnd > 0 && codeEnd <= e ? codeEnd : s, e);
          break;
        }
        case KIND_CODE.int: extras[this.extraIndex[k]] = intAt(line, s, e); break;
        default:
          if (item.name === 'referer') f.referer = this.text(s, e);
          else extras[this.extraIndex[k]] = this.text(s, e);
      }
    }
    // The standard fields first, then the format's own, in its order: every event of a format has one shape.
    f.writeTo(event);
    const names = this.format.extraFields;
    for (let x = 0; x < names.length; x++) event[names[x]] = extras[x];
    return undefined;
  }

  private text(start: number, end: number): string {
    const s = this.line.slice(start, end);
    return this.unescape && s.indexOf('\\') >= 0 ? unescapeLogged(s) : s;
  }
}

function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || c === 95;
}
