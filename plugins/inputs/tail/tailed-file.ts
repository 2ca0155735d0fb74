// One file being followed: its identity, where reading stands, and the split of its bytes into lines.
// Reading always restarts at the first byte of a line not yet emitted, so a partial last line needs no
// buffer of its own: it is read again once its newline has arrived.
import { isAscii, isUtf8 } from 'node:buffer';
import { open, type FileHandle } from 'node:fs/promises';
import { AckedOffsets } from '../../../core/index.js';
import { EMPTY_FINGERPRINT, FINGERPRINT_BYTES, contentId, fingerprintOf, matches, readHead, type Fingerprint } from './fingerprint.js';

export interface LineOptions {
  maxLineBytes: number;
  longLines: 'truncate' | 'skip';
  encoding: 'utf8' | 'latin1';
  batchSize: number;
  /** Record where each line starts (ReadResult.starts), for the position_field option. */
  positions?: boolean;
  /** Leave the lines as bytes (ReadResult.undecoded) when they need no check: latin1, or UTF-8 that is valid
   * (one isUtf8 over the batch's bytes; a batch with an invalid byte is decoded line by line, which counts them). */
  undecoded?: boolean;
}

export interface ReadResult {
  /** The lines, decoded unless they are in `undecoded`. */
  lines: string[];
  count: number;
  /** With LineOptions.undecoded: the lines' bytes, a view of the read buffer (valid until the next read), with a
   * start and an end offset in it per line. */
  undecoded?: { bytes: Uint8Array; bounds: Uint32Array };
  /** Offset just after the last byte consumed (the end of the last line taken, or of a skipped part). */
  end: number;
  /** Where a checkpoint may point after this batch: `end`, or inside an over-long line, that line's start
   * (a restart must not take the rest of a long line for a line of its own). */
  commitEnd: number;
  bytes: number;
  longLines: number;
  skippedLines: number;
  invalidLines: number;
  /** With LineOptions.positions: the byte offset where each of `lines` starts. */
  starts?: number[];
}

export function identityKey(dev: number, ino: number): string {
  return `${dev}:${ino}`;
}

export class TailedFile {
  fd: FileHandle | undefined;
  /** Next byte to read: the start of the first line not emitted yet. */
  readPos: number;
  /** Size and modification time at the last stat. */
  size = 0;
  mtimeMs = 0;
  /** Size seen by the lag sampler, which runs while reading may be blocked by backpressure. */
  observedSize = 0;
  /** Reading is inside a line longer than maxLineBytes whose start was already emitted or skipped. */
  private skipping = false;
  /** Offset where the over-long line being skipped started. */
  private longLineStart = 0;
  fingerprint: Fingerprint = EMPTY_FINGERPRINT;
  /** The first bytes the fingerprint was taken from (up to FINGERPRINT_BYTES), to recognise copies of this
   * file still being written, which a hash cannot. */
  head: Buffer = Buffer.alloc(0);
  /** Set while this file is a copy of another followed file (copytruncate's copy, before the original is
   * truncated): the key of that original. A copy is not read: its lines are the original's. */
  copyOf: string | undefined;
  /** Known not to be a copy of another followed file (or placed by a checkpoint): may be read from 0. */
  identityChecked = false;
  acked: AckedOffsets;
  /** The mark of the bytes before readPos (see MARK_BYTES), from the last read. */
  readMark: Fingerprint = EMPTY_FINGERPRINT;
  /** Marks of the ends of batches in flight, and of the position acknowledged last. */
  private marks = new Map<number, Fingerprint>();
  private committedMark: { offset: number; mark: Fingerprint } | undefined;
  /** When the file stopped being at a path the globs match (rotated away or deleted). */
  detachedAt: number | undefined;
  lastGrowth = Date.now();
  lastRead = 0;
  atEof = false;
  /** Changed on disk since the last stat: check for truncation before reading. */
  needsInspect = false;
  /** The content identity of this generation of the file (see contentId), taken when first needed. */
  private id: string | undefined;

  constructor(public path: string, readonly key: string, start: number) {
    this.readPos = start;
    this.acked = new AckedOffsets(start);
  }

  get lag(): number {
    if (this.copyOf) return 0;
    return Math.max(0, Math.max(this.size, this.observedSize) - this.readPos);
  }

  /** Open (again) by path; a path that now holds another file is an error (the file moved away). */
  async ensureOpen(): Promise<FileHandle> {
    if (this.fd) return this.fd;
    const fd = await open(this.path, 'r');
    const st = await fd.stat();
    if (identityKey(st.dev, st.ino) !== this.key) {
      await fd.close();
      throw new Error(`${this.path} now holds another file`);
    }
    this.fd = fd;
    return fd;
  }

  async close(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    await fd?.close().catch(() => undefined);
  }

  /** Take (or extend) the fingerprint from the file's first bytes; false when they no longer match it. */
  async checkFingerprint(): Promise<boolean> {
    if (this.fingerprint.len >= FINGERPRINT_BYTES && this.size >= this.fingerprint.len && this.fingerprint.len > 0) {
      // Full fingerprint already: re-hash only what it covers.
      const head = await readHead(this.fd!, this.fingerprint.len);
      return matches(this.fingerprint, head);
    }
    const head = await readHead(this.fd!, this.size);
    if (!matches(this.fingerprint, head)) return false;
    if (head.length > this.fingerprint.len) {
      this.fingerprint = fingerprintOf(head);
      this.head = head;
    }
    return true;
  }

  /** The identity of the file's content, the same under every name and inode it has (rotated, copied):
   * see contentId. Its first line is complete by the time any line of it is read. */
  async contentId(): Promise<string> {
    return (this.id ??= contentId(await readHead(this.fd!, FINGERPRINT_BYTES)));
  }

  /** Just read up to `end`; `mark` covers the bytes before it. */
  markRead(end: number, mark: Fingerprint): void {
    this.readMark = mark;
    this.marks.set(end, mark);
  }

  /** Resumed at `offset` whose bytes before it a checkpoint marked. */
  resumeMark(offset: number, mark: Fingerprint | undefined): void {
    if (mark) this.committedMark = { offset, mark };
    if (mark) this.readMark = mark;
  }

  /** The mark of an acknowledged position, for the checkpoint (undefined when not known). */
  markAt(offset: number): Fingerprint | undefined {
    const m = this.marks.get(offset);
    if (m) {
      this.committedMark = { offset, mark: m };
      for (const k of this.marks.keys()) if (k <= offset) this.marks.delete(k);
    }
    return this.committedMark?.offset === offset ? this.committedMark.mark : undefined;
  }

  /** Content replaced under us (truncation, copytruncate): start again at 0 with a fresh fingerprint. */
  restart(): void {
    this.readPos = 0;
    this.size = 0; // the size seen before belonged to the old content (a later shrink check must not use it)
    this.skipping = false;
    this.fingerprint = EMPTY_FINGERPRINT;
    this.head = Buffer.alloc(0);
    this.id = undefined; // new content: a new identity
    this.acked = new AckedOffsets(0);
    this.atEof = false;
    this.observedSize = 0;
    this.identityChecked = true; // its own new content, whatever other files hold
    this.readMark = EMPTY_FINGERPRINT;
    this.marks = new Map();
    this.committedMark = undefined;
  }

  /** This file holds the content `from` was being read from (its copy, or the file under a new name):
   * reading continues here where it stood there, and acknowledgements of batches still in flight advance
   * this file's checkpoint. A copy that ends before that position has nothing unread: it is finished. */
  continueFrom(from: TailedFile): void {
    this.copyOf = undefined;
    this.identityChecked = true;
    this.fingerprint = from.fingerprint;
    this.head = from.head;
    this.id = from.id;
    this.atEof = false;
    if (from.readPos <= this.size) {
      this.readPos = from.readPos;
      this.skipping = from.skipping;
      this.longLineStart = from.longLineStart;
      this.acked = from.acked;
      this.readMark = from.readMark;
      this.marks = from.marks;
      this.committedMark = from.committedMark;
    } else {
      this.readPos = this.size;
      this.acked = new AckedOffsets(this.size);
    }
  }

  /** Read from readPos into `buf` and cut whole lines, up to batchSize. */
  async read(buf: Buffer, opts: LineOptions, final = false): Promise<ReadResult | undefined> {
    const { bytesRead } = await this.fd!.read(buf, 0, buf.length, this.readPos);
    if (bytesRead === 0) return undefined;
    const result: ReadResult = { lines: [], count: 0, end: this.readPos, commitEnd: this.readPos, bytes: 0, longLines: 0, skippedLines: 0, invalidLines: 0 };
    if (opts.positions) result.starts = [];
    let start = 0;
    if (this.skipping) {
      const nl = buf.indexOf(10, 0);
      if (nl < 0 || nl >= bytesRead) {
        result.end = this.readPos + bytesRead; // still inside the long line: drop what we read
        result.commitEnd = this.longLineStart;
        result.bytes = bytesRead;
        return result;
      }
      this.skipping = false;
      start = nl + 1;
    }
    const { maxLineBytes, batchSize } = opts;
    const bounds = opts.undecoded && !opts.positions ? [] as number[] : undefined;
    // ASCII is the same text in latin1, whose decoding copies the bytes: UTF-8's decoder and the U+FFFD check per
    // line cost more (~98 against ~67 ns a line, 256 KiB of the bench corpus decoded line by line; callgrind, P1 on
    // 200k lines: -260 instructions a line). One isAscii over the read (SIMD) decides for all its lines (lines left
    // as bytes need none).
    this.decodeAs = opts.encoding === 'latin1' || (!bounds && isAscii(buf.subarray(0, bytesRead))) ? 'latin1' : 'utf8';
    while (result.count < batchSize) {
      const nl = buf.indexOf(10, start);
      if (nl < 0 || nl >= bytesRead) break;
      this.takeLine(buf, start, nl, result, opts, bounds);
      start = nl + 1;
    }
    if (start === 0 && !this.skipping && result.count === 0 && bytesRead === buf.length) {
      // No newline in a whole buffer (which is longer than maxLineBytes): an over-long line.
      result.longLines++;
      if (opts.longLines === 'truncate') {
        this.keep(buf, 0, charBoundary(buf, maxLineBytes, opts.encoding), result, opts, bounds);
      }
      else result.skippedLines++;
      this.skipping = true;
      this.longLineStart = this.readPos;
      start = bytesRead;
    } else if (final && start < bytesRead && bytesRead < buf.length && result.count < batchSize) {
      // End of input for good (exit_on_eof): the last line has no newline and will get none.
      this.takeLine(buf, start, bytesRead, result, opts, bounds);
      start = bytesRead;
    }
    if (bounds?.length) this.leaveUndecoded(buf, bounds, result, opts);
    result.end = this.readPos + start;
    result.commitEnd = this.skipping ? this.longLineStart : result.end;
    result.bytes = start;
    return result;
  }

  private takeLine(buf: Buffer, start: number, nl: number, result: ReadResult, opts: LineOptions, bounds: number[] | undefined): void {
    let end = nl;
    if (end > start && buf[end - 1] === 13) end--;
    if (end - start > opts.maxLineBytes) {
      result.longLines++;
      if (opts.longLines === 'skip') {
        result.skippedLines++;
        return;
      }
      end = charBoundary(buf, start + opts.maxLineBytes, opts.encoding);
    }
    this.keep(buf, start, end, result, opts, bounds);
  }

  /** One line taken: decoded, or its bounds noted (decided for the whole batch in leaveUndecoded). */
  private keep(buf: Buffer, start: number, end: number, result: ReadResult, opts: LineOptions, bounds: number[] | undefined): void {
    result.count++;
    if (bounds) bounds.push(start, end);
    else result.lines.push(this.decode(buf, start, end, result, opts));
    result.starts?.push(this.readPos + start);
  }

  /** The batch's lines as bytes, or decoded now when an invalid UTF-8 byte is among them (counted per line). */
  private leaveUndecoded(buf: Buffer, bounds: number[], result: ReadResult, opts: LineOptions): void {
    const from = bounds[0];
    const to = bounds[bounds.length - 1];
    if (opts.encoding === 'utf8' && !isUtf8(buf.subarray(from, to))) {
      for (let i = 0; i < bounds.length; i += 2) result.lines.push(this.decode(buf, bounds[i], bounds[i + 1], result, opts));
      return;
    }
    const relative = new Uint32Array(bounds.length);
    for (let i = 0; i < bounds.length; i++) relative[i] = bounds[i] - from;
    result.undecoded = { bytes: buf.subarray(from, to), bounds: relative };
  }

  /** decode()'s encoding for the lines of the last read: latin1 when they were latin1, or UTF-8 that is all ASCII. */
  private decodeAs: 'utf8' | 'latin1' = 'utf8';

  private decode(buf: Buffer, start: number, end: number, result: ReadResult, opts: LineOptions): string {
    const line = buf.toString(this.decodeAs, start, end);
    // U+FFFD in the text is either a real one or a replaced invalid byte: only then check the bytes.
    if (this.decodeAs === 'utf8' && line.indexOf('\uFFFD') >= 0 && !isUtf8(buf.subarray(start, end))) result.invalidLines++;
    return line;
  }
}

/** Move a cut back so it does not split a UTF-8 character. */
function charBoundary(buf: Buffer, end: number, encoding: LineOptions['encoding']): number {
  if (encoding !== 'utf8') return end;
  let e = end;
  while (e > end - 3 && e > 0 && (buf[e] & 0xc0) === 0x80) e--;
  return e;
}
