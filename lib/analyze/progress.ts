// `visor analyze`: a one-line progress bar on a terminal (bytes done / total, lines/s, ETA), redrawn at most
// four times a second and erased at the end, so the report that follows starts on a clean line.

const REDRAW_MS = 250;

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 1 : 0)} MB`;
const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  if (seconds < 60) return `${Math.ceil(seconds)}s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m}m${String(Math.floor(seconds % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ProgressBar {
  private readonly started = Date.now();
  private lastDraw = 0;
  private drawn = false;

  /** `total`: bytes of all files as stored (compressed bytes for .gz). */
  constructor(private readonly stream: NodeJS.WriteStream, private readonly total: number) {}

  /** `done`: bytes read from storage so far; `lines`: lines read so far. Draws when due. */
  update(done: number, lines: number, file: string): void {
    const now = Date.now();
    if (now - this.lastDraw < REDRAW_MS) return;
    this.lastDraw = now;
    const secs = (now - this.started) / 1000;
    const fraction = this.total > 0 ? Math.min(1, done / this.total) : 0;
    const rate = secs > 0 ? lines / secs : 0;
    const bytesRate = secs > 0 ? done / secs : 0;
    const eta = bytesRate > 0 ? (this.total - done) / bytesRate : Infinity;
    const columns = this.stream.columns || 80;
    const text = ` ${(fraction * 100).toFixed(0).padStart(3)}% ${mb(done)}/${mb(this.total)}  ${thousands(rate)} lines/s  ETA ${duration(eta)}  ${file}`;
    const width = Math.max(10, Math.min(30, columns - text.length - 3));
    const filled = Math.round(fraction * width);
    const line = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${text}`;
    // \r and erase-to-end-of-line: the bar is redrawn in place and never wraps.
    this.stream.write(`\r${line.slice(0, columns - 1)}\x1b[K`);
    this.drawn = true;
  }

  /** Erases the bar. */
  clear(): void {
    if (this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
