// The error-log figures of a report, the dashboard and `visor analyze`: lines per level, per level and module, and
// the most frequent message templates (error-template.ts) per level with a sample message each. The "top error
// messages" are those at or above a level (default warn, see MESSAGE_LEVEL_DEFAULT): Apache writes notice lines
// whatever its LogLevel ("resuming normal operations", "caught SIGTERM"), and with LogLevel info the core:info
// lines outnumber the errors; neither is an error.
import { LEVELS } from '../apache/index.js';
import { messageTemplate } from './error-template.js';
import { TopCounter, type TopJSON } from './sketches.js';

/** Apache's default LogLevel: what a stock server logs besides its notices. */
export const MESSAGE_LEVEL_DEFAULT = 'warn';
/** The levels by severity, most severe first (Apache's). */
export const ERROR_LOG_LEVELS: readonly string[] = LEVELS;
/** Longest sample message kept: Apache writes at most 8192 bytes a line (MAX_STRING_LEN), so a sample is whole. */
export const SAMPLE_MAX = 8192;
/** Distinct modules counted per level; beyond, the rest count as "(other)" (Apache has about 130 modules). */
const MODULES_MAX = 256;

/** Severity rank: 0 for emerg ... 15 for trace8; -1 for a level Apache does not write (never filtered out). */
export function levelRank(level: string): number {
  return ERROR_LOG_LEVELS.indexOf(level);
}

/** Whether lines of `level` are at or above `threshold` (a level Apache does not write always is). */
export function atOrAbove(level: string, threshold: string): boolean {
  const r = levelRank(level);
  return r < 0 || r <= levelRank(threshold);
}

export interface MessageItem {
  /** The template: variables masked with <*>, prefixed with the AH code and the errno text when logged. */
  value: string;
  count: number;
  level: string;
  /** One message of this template as logged (whole, up to SAMPLE_MAX characters). */
  sample?: string;
}

/** First sample per key, for a bounded number of keys (the oldest dropped first: a frequent template whose sample
 * was dropped gets a new one at its next line). One store may serve several counters (the dashboard's slices). */
export class SampleStore {
  private readonly samples = new Map<string, string>();
  constructor(private readonly max: number) {}

  note(key: string, message: () => string): void {
    if (this.samples.has(key)) return;
    this.samples.set(key, message().slice(0, SAMPLE_MAX));
    if (this.samples.size > this.max) this.samples.delete(this.samples.keys().next().value!);
  }

  get(key: string): string | undefined {
    return this.samples.get(key);
  }
}

/** A counter's state as JSON (a worker of `visor analyze` sends it to the main thread). */
export interface ErrorLogJSON {
  levels: Array<[string, number]>;
  modules: Array<[string, string, number]>;
  messages: Array<[string, TopJSON]>;
  samples: Array<[string, string]>;
}

const sampleKey = (level: string, template: string) => `${level}\u0000${template}`;

export class ErrorLogCounter {
  readonly levels = new Map<string, number>();
  /** level -> module -> lines. */
  private readonly modules = new Map<string, Map<string, number>>();
  /** level -> template counter; only levels at or above `messageLevel`. */
  private readonly messages = new Map<string, TopCounter>();
  readonly samples: SampleStore;

  /** `messageLevel`: the least severe level whose templates are counted (trace8: all). */
  constructor(private readonly capacity: number, private readonly messageLevel: string = MESSAGE_LEVEL_DEFAULT, samples?: SampleStore) {
    this.samples = samples ?? new SampleStore(capacity);
  }

  add(level: string, e: MessageFields & { module?: unknown; message_text?: unknown }): void {
    this.levels.set(level, (this.levels.get(level) ?? 0) + 1);
    // Apache 2.2 and 2.0 lines name no module: counted by level only.
    if (typeof e.module === 'string' && e.module) {
      let byModule = this.modules.get(level);
      if (!byModule) this.modules.set(level, (byModule = new Map()));
      const key = byModule.has(e.module) || byModule.size < MODULES_MAX ? e.module : '(other)';
      byModule.set(key, (byModule.get(key) ?? 0) + 1);
    }
    const text = e.message_text;
    if (typeof text !== 'string' || !text || !atOrAbove(level, this.messageLevel)) return;
    const { template, message } = templateOf(e, text);
    let counter = this.messages.get(level);
    if (!counter) this.messages.set(level, (counter = new TopCounter(this.capacity)));
    counter.add(template);
    this.samples.note(sampleKey(level, template), message);
  }

  /** Lines per level, most severe first (levels Apache does not write last, by name). */
  levelCounts(): Record<string, number> {
    return Object.fromEntries([...this.levels.entries()].sort((a, b) => bySeverity(a[0], b[0])));
  }

  /** Lines per module at or above `threshold`, most first. */
  moduleCounts(threshold: string, n: number): Array<{ value: string; count: number }> {
    const m = new Map<string, number>();
    for (const [level, byModule] of this.modules) {
      if (!atOrAbove(level, threshold)) continue;
      for (const [module, count] of byModule) m.set(module, (m.get(module) ?? 0) + count);
    }
    return [...m.entries()].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || cmp(a.value, b.value)).slice(0, n);
  }

  /** The `n` most frequent templates at or above `threshold` (each template counted per level: the lists of two
   * levels share no key, so the top n of their union is the top n of their top n's), with samples. */
  topMessages(n: number, threshold: string = this.messageLevel): MessageItem[] {
    const items: MessageItem[] = [];
    for (const [level, counter] of this.messages) {
      if (!atOrAbove(level, threshold)) continue;
      for (const { value, count } of counter.top(n)) items.push({ value, count, level });
    }
    return this.withSamples(items.sort(byCount).slice(0, n));
  }

  /** The `n` most frequent templates of every level, most severe level first: the dashboard filters them by level. */
  topMessagesPerLevel(n: number): MessageItem[] {
    const items: MessageItem[] = [];
    for (const level of [...this.messages.keys()].sort(bySeverity)) {
      for (const { value, count } of this.messages.get(level)!.top(n)) items.push({ value, count, level });
    }
    return this.withSamples(items);
  }

  private withSamples(items: MessageItem[]): MessageItem[] {
    for (const item of items) {
      const sample = this.samples.get(sampleKey(item.level, item.value));
      if (sample !== undefined) item.sample = sample;
    }
    return items;
  }

  /** Per level: how much a count of its templates may exceed the true one (0: exact). */
  messageBounds(): Record<string, number> {
    return Object.fromEntries([...this.messages].map(([level, c]) => [level, c.errorBound]));
  }

  /** How much a count of topMessages(threshold) may exceed the true one (0: exact). */
  messagesBound(threshold: string = this.messageLevel): number {
    let bound = 0;
    for (const [level, counter] of this.messages) if (atOrAbove(level, threshold)) bound += counter.errorBound;
    return bound;
  }

  /** Per level and module: [level, module, lines], for the dashboard's level filter. */
  moduleEntries(): Array<[string, string, number]> {
    const out: Array<[string, string, number]> = [];
    for (const [level, byModule] of this.modules) for (const [module, count] of byModule) out.push([level, module, count]);
    return out;
  }

  /** The state, with at most `k` templates per level. */
  toJSON(k = Infinity): ErrorLogJSON {
    const messages: Array<[string, TopJSON]> = [...this.messages].map(([level, c]) => [level, c.toJSON(k)]);
    const samples: Array<[string, string]> = [];
    for (const [level, json] of messages) {
      for (const [template] of json.e) {
        const s = this.samples.get(sampleKey(level, template));
        if (s !== undefined) samples.push([sampleKey(level, template), s]);
      }
    }
    return { levels: [...this.levels], modules: this.moduleEntries(), messages, samples };
  }

  /** Adds another counter's state (counts add, error bounds add: TopCounter.merge). */
  merge(json: ErrorLogJSON): void {
    for (const [level, n] of json.levels) this.levels.set(level, (this.levels.get(level) ?? 0) + n);
    for (const [level, module, n] of json.modules) {
      let byModule = this.modules.get(level);
      if (!byModule) this.modules.set(level, (byModule = new Map()));
      byModule.set(module, (byModule.get(module) ?? 0) + n);
    }
    for (const [level, top] of json.messages) {
      let counter = this.messages.get(level);
      if (!counter) this.messages.set(level, (counter = new TopCounter(this.capacity)));
      counter.merge(top);
    }
    for (const [key, sample] of json.samples) this.samples.note(key, () => sample);
  }
}

type MessageFields = { error_code?: unknown; errno?: unknown; errno_text?: unknown };

/** The template of an error-log event's message (`text`: its message_text), and the message as logged (built only
 * when asked for). Both start with what precedes the text on the line: `(13)Permission denied: AH00035: `. */
export function templateOf(e: MessageFields, text: string): { template: string; message: () => string } {
  const prefix = messagePrefix(e);
  return { template: prefix.masked + messageTemplate(text), message: () => prefix.text + text };
}

function messagePrefix(e: MessageFields): { text: string; masked: string } {
  let text = '';
  let masked = '';
  if (typeof e.errno_text === 'string' && e.errno_text) {
    const errno = typeof e.errno === 'number' ? `(${e.errno})` : '';
    text += `${errno}${e.errno_text}: `;
    masked += `${errno ? '(<*>)' : ''}${e.errno_text}: `;
  }
  if (typeof e.error_code === 'string' && e.error_code) {
    text += `${e.error_code}: `;
    masked += `${e.error_code}: `;
  }
  return { text, masked };
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byCount = (a: { value: string; count: number; level: string }, b: { value: string; count: number; level: string }) =>
  b.count - a.count || cmp(a.value, b.value) || bySeverity(a.level, b.level);

/** Most severe first; levels Apache does not write after Apache's, by name. */
export function bySeverity(a: string, b: string): number {
  const ra = levelRank(a);
  const rb = levelRank(b);
  if (ra >= 0 && rb >= 0) return ra - rb;
  if (ra >= 0) return -1;
  if (rb >= 0) return 1;
  return cmp(a, b);
}
