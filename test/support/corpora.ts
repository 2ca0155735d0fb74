// Reading the real Apache logs in ../shared/corpora in place, a plugin context for driving a plugin
// instance directly (tests and benchmarks), and running a parser filter over the lines of a log.
import { KeptValues } from '../../core/runtime/kept.js';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Event, FilterInstance, PluginContext, PluginKind } from '../../core/index.js';
import { ComponentTimers } from '../../core/runtime/context.js';
import { createLogger, createLogSink } from '../../core/runtime/logger.js';
import { MetricsHub } from '../../core/runtime/metrics.js';
import { ROOT } from './helpers.js';

export const CORPORA = path.resolve(ROOT, '../shared/corpora');

/** The access logs the detect tests replay: the Elastic example log, the hackers' access log of logparser and each
 * CrowdSec hub test's attack lines. */
export function detectCorpusFiles(): string[] {
  const crowdsec = path.join(CORPORA, 'crowdsec-hub-tests');
  return [
    path.join(CORPORA, 'elastic-examples-apache_logs/apache_logs'),
    path.join(CORPORA, 'logparser-hackers-access/hackers-access.log'),
    ...readdirSync(crowdsec).map((d) => path.join(crowdsec, d, `${d}.log`)).filter((f) => existsSync(f)),
  ];
}

/** The corpus directory, or: fail under CI=true, else skip with a one-line reason. */
export function corpus(ctx: Mocha.Context, dir: string): string {
  const full = path.join(CORPORA, dir);
  if (existsSync(full)) return full;
  if (process.env.CI === 'true') assert.fail(`corpus ${dir} is missing: expected at ${full}`);
  console.log(`      (skipped: corpus ${dir} not found at ${full})`);
  ctx.skip();
}

/** Lines of a file (gunzipped for .gz), without the final newline; a CRLF file keeps its '\r' for the parser. */
export function readLines(file: string): string[] {
  let data = readFileSync(file);
  if (file.endsWith('.gz')) data = gunzipSync(data);
  const lines = data.toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

export function pluginContext(id: string, type: string, hub = new MetricsHub(), kind: PluginKind = 'filter'): PluginContext {
  const logger = createLogger(createLogSink('warn'));
  // The component is alone in its pipeline: its shared values are its own.
  const shared = new Map<string, unknown>();
  const kept = new KeptValues();
  return {
    id, logger, configDir: ROOT, service: { name: 'test-host' }, timers: new ComponentTimers(logger),
    metrics: hub.component({ id, kind, type }),
    dataDir: async () => ROOT,
    pipeline: () => ({ state: 'running', healthy: true, components: {} }),
    shared: <T>(key: string, create: () => T): T => {
      if (!shared.has(key)) shared.set(key, create());
      return shared.get(key) as T;
    },
    kept: <T>(key: string, create: () => T): T => kept.get(id, type, key, create),
  };
}

/** An event out of a parser filter as its tests read it: `n` is the number (from 1) of the line it came from. */
export interface LineEvent {
  n: number;
  message: unknown;
  parse_error?: string;
  [field: string]: unknown;
}

export interface FileRun {
  lines: string[];
  /** Parsed events by line number (1-based). */
  parsed: Map<number, LineEvent>;
  /** Unparsed events by line number, with their parse_error. */
  unparsed: Map<number, LineEvent>;
}

/** Every line through the real filter's `process`, in batches of 1000 as a pipeline hands them over; checks that
 * every line comes out exactly once, parsed or on _unparsed. */
export function runFilterLines(filter: FilterInstance, lines: string[]): FileRun {
  const parsed = new Map<number, LineEvent>();
  const unparsed = new Map<number, LineEvent>();
  for (let i = 0; i < lines.length; i += 1000) {
    const batch: Event[] = lines.slice(i, i + 1000).map((message, k) => ({ n: i + k + 1, message }));
    const out = filter.process(batch, {
      emit: (events, output) => {
        assert.equal(output, '_unparsed');
        for (const e of events) unparsed.set(e.n as number, e as LineEvent);
      },
    }) as Event[];
    for (const e of out) parsed.set(e.n as number, e as LineEvent);
  }
  assert.equal(parsed.size + unparsed.size, lines.length, 'every line is either parsed or unparsed');
  return { lines, parsed, unparsed };
}

/** The exact set of unparsed lines, with their reasons; and the raw line kept untouched. */
export function assertUnparsed(run: FileRun, expected: Record<number, string>): void {
  const got = Object.fromEntries([...run.unparsed].map(([n, e]) => [n, e.parse_error]));
  assert.deepEqual(got, expected);
  for (const [n, e] of run.unparsed) assert.equal(e.message, run.lines[n - 1]);
}
