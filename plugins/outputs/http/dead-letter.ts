// Events a server refused for good (a 4xx other than 408 and 429), one JSON line each, appended durably to
// `rejected.jsonl` in the component's data directory: never silently dropped, counted, and logged (at most every
// LOG_INTERVAL, saying how many since the last time). Nothing else is in a line: no URL path, no headers (secrets).
import { appendDurable, type Counter, type Event, type Logger } from '../../../core/index.js';

const LOG_INTERVAL = 10_000;

export class DeadLetter {
  private sinceLog = 0;
  private lastLog = 0;

  constructor(readonly file: string, private readonly counter: Counter, private readonly logger: Logger) {}

  async add(events: Event[], reason: string, origin: string): Promise<void> {
    const time = new Date().toISOString();
    let lines = '';
    for (const event of events) lines += JSON.stringify({ time, origin, error: reason, event }) + '\n';
    // Thrown when the file cannot be written: the write fails and the core retries, so the events stay in the pipeline.
    await appendDurable(this.file, lines);
    this.counter.inc(events.length);
    this.sinceLog += events.length;
    const now = Date.now();
    if (now - this.lastLog < LOG_INTERVAL) return;
    this.logger.warn(`the server refused ${this.sinceLog} events; they are in ${this.file}`, { origin, error: reason });
    this.lastLog = now;
    this.sinceLog = 0;
  }
}
