// Splitting a byte stream into lines: shared by every input that reads newline-delimited text.
import { StringDecoder } from 'node:string_decoder';

export type LongLinePolicy = 'truncate' | 'skip';

export interface LineSplitterOptions {
  maxLineBytes: number;
  longLines: LongLinePolicy;
  /** Called for every line longer than maxLineBytes (after it was cut or skipped). */
  onLongLine?: (policy: LongLinePolicy) => void;
}

/** Feeds chunks, returns whole lines (without \n or \r\n). A partial last line waits for its newline. */
export class LineSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  /** True while we are discarding the rest of an over-long line. */
  private overflowing = false;

  constructor(public options: LineSplitterOptions) {}

  push(chunk: Buffer | string, out: string[] = []): string[] {
    const text = typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    let start = 0;
    for (;;) {
      const nl = text.indexOf('\n', start);
      if (nl < 0) break;
      this.line(text.slice(start, nl), out);
      start = nl + 1;
    }
    this.append(text.slice(start));
    return out;
  }

  /** At end of stream: the partial last line, if any, counts as a line. */
  end(out: string[] = []): string[] {
    const rest = this.decoder.end();
    if (rest) this.append(rest);
    if (this.partial || this.overflowing) this.line('', out);
    return out;
  }

  private append(text: string): void {
    if (this.overflowing || !text) return;
    this.partial += text;
    if (Buffer.byteLength(this.partial) > this.options.maxLineBytes) {
      this.overflowing = true; // decided when the newline arrives; keep only what may be emitted
      this.partial = this.options.longLines === 'truncate' ? cutToBytes(this.partial, this.options.maxLineBytes) : '';
    }
  }

  private line(tail: string, out: string[]): void {
    let line = this.partial ? this.partial + tail : tail;
    this.partial = '';
    let long = this.overflowing;
    this.overflowing = false;
    if (!long && line.length * 3 > this.options.maxLineBytes && Buffer.byteLength(line) > this.options.maxLineBytes) long = true;
    if (long) {
      this.options.onLongLine?.(this.options.longLines);
      if (this.options.longLines === 'skip') return;
      line = cutToBytes(line, this.options.maxLineBytes);
    }
    if (line.charCodeAt(line.length - 1) === 13) line = line.slice(0, -1);
    out.push(line);
  }
}

/** The longest prefix of `s` that fits in `max` UTF-8 bytes, never splitting a character. */
export function cutToBytes(s: string, max: number): string {
  if (Buffer.byteLength(s) <= max) return s;
  const buf = Buffer.from(s);
  let end = max;
  while (end > 0 && (buf[end] & 0xc0) === 0x80) end--;
  return buf.toString('utf8', 0, end);
}
