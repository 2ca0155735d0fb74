// Lines from standard input, one event per line. The pipeline ends (after draining) at end of input.
import { definePlugin, LineSplitter, Wakeup, type Event, type LineSplitterOptions } from '../../core/index.js';

/** One reader for the whole process: a reload replaces the input, and the next instance continues
 * exactly where the previous one stopped, with no line read twice or lost. */
class StdinLines {
  private lines: string[] = [];
  private ended = false;
  private readonly wakeup = new Wakeup();
  private splitter: LineSplitter | undefined;
  private started = false;

  constructor(private readonly stream: NodeJS.ReadableStream) {}

  start(options: LineSplitterOptions, highWater: number): void {
    // The splitter survives reloads: it may hold the first half of a line.
    if (this.splitter) this.splitter.options = options;
    else this.splitter = new LineSplitter(options);
    if (this.started) return;
    this.started = true;
    this.stream.on('data', (chunk: Buffer) => {
      this.splitter!.push(chunk, this.lines);
      if (this.lines.length >= highWater) this.stream.pause(); // resumed when the pipeline takes them
      this.wakeup.wake();
    });
    this.stream.on('end', () => {
      this.splitter!.end(this.lines);
      this.ended = true;
      this.wakeup.wake();
    });
    this.stream.on('error', () => {
      this.ended = true;
      this.wakeup.wake();
    });
  }

  /** Up to `max` lines; [] when stopped while waiting; null at end of input. */
  async take(max: number, signal: AbortSignal): Promise<string[] | null> {
    while (this.lines.length === 0) {
      if (this.ended) return null;
      if (signal.aborted) return [];
      this.stream.resume();
      await this.wakeup.wait(signal);
    }
    const taken = this.lines.length <= max ? this.lines : this.lines.slice(0, max);
    this.lines = taken === this.lines ? [] : this.lines.slice(max);
    return taken;
  }
}

let shared: StdinLines | undefined;

export default definePlugin({
  kind: 'input',
  name: 'stdin',
  description: 'Reads lines from standard input, one event per line ({ message }). Ends the pipeline at end of input, after everything read has been delivered.',
  schema: {
    type: 'object',
    properties: {
      max_line_bytes: { size: true, default: '64KiB', description: 'Longest line accepted; longer lines are cut or skipped (and counted).' },
      long_lines: { enum: ['truncate', 'skip'], default: 'truncate', description: 'What to do with a line longer than max_line_bytes.' },
      batch_size: { type: 'integer', minimum: 1, default: 1000, description: 'Most lines per batch sent downstream.' },
    },
  },
  create(options, context) {
    const longLines = context.metrics.counter('input_long_lines_total', 'Lines longer than max_line_bytes (cut or skipped).');
    return {
      async run({ emit, signal }) {
        shared ??= new StdinLines(process.stdin);
        shared.start({
          maxLineBytes: options.max_line_bytes,
          longLines: options.long_lines,
          onLongLine: (policy) => {
            longLines.inc();
            if (policy === 'skip') context.metrics.discarded('line_too_long').inc();
          },
        }, options.batch_size * 4);
        for (;;) {
          const lines = await shared.take(options.batch_size, signal);
          if (lines === null) return; // end of input
          if (lines.length === 0) return; // stopped
          const events: Event[] = new Array(lines.length);
          let bytes = 0;
          for (let i = 0; i < lines.length; i++) {
            events[i] = { message: lines[i] };
            bytes += lines[i].length + 1;
          }
          context.metrics.receivedBytes.inc(bytes);
          await emit(events);
        }
      },
    };
  },
});
