// Reading the real Apache logs in ../shared/corpora in place, and a plugin context for driving a plugin
// instance directly (tests and benchmarks).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { PluginContext, PluginKind } from '../../core/index.js';
import { ComponentTimers } from '../../core/runtime/context.js';
import { createLogger, createLogSink } from '../../core/runtime/logger.js';
import { MetricsHub } from '../../core/runtime/metrics.js';
import { ROOT } from './helpers.js';

export const CORPORA = path.resolve(ROOT, '../shared/corpora');

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
  return {
    id, logger, configDir: ROOT, timers: new ComponentTimers(logger),
    metrics: hub.component({ id, kind, type }),
    dataDir: async () => ROOT,
    pipeline: () => ({ state: 'running', healthy: true, components: {} }),
    shared: <T>(key: string, create: () => T): T => {
      if (!shared.has(key)) shared.set(key, create());
      return shared.get(key) as T;
    },
  };
}
