// Runs a config through the real tail from a log's start with a given service.threads, for the tests comparing thread
// counts (threads.test.ts, threads-encoded.test.ts): what the file outputs wrote, the counters, the checkpoint.
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { runPipeline } from '../../core/testing/index.js';
import { combinedLines } from '../bench/apache-lines.js';
import { sameAcrossThreads } from './helpers.js';

/** Enough lines for many tail batches (256 KiB reads, ~800 lines each), with lines no parser takes among them. */
export const LINES = 20_000;

export function corpus(): string[] {
  const lines = combinedLines(LINES, 7);
  for (let i = 0; i < lines.length; i += 997) lines[i] = i % 2 ? 'not an access log line' : '   ';
  return lines;
}

export interface ComponentCounts {
  received: number;
  sent: Record<string, number>;
  sentBytes: number;
  discarded: Record<string, number>;
  errors: Record<string, number>;
  custom: Record<string, number>;
}

/** files: by name without the run's prefix, every file of the run (rotated ones too); stats: the counters that are the
 * same across thread counts (sameAcrossThreads), custom: each component's custom metrics as they are; dictionaries:
 * per_minute's visor_window_partial_dictionaries. */
export interface Outcome {
  files: Record<string, string>;
  stats: Record<string, ComponentCounts>;
  custom: Record<string, Record<string, number>>;
  checkpoint: number;
  logs: string[];
  dictionaries?: number;
}

let runs = 0;

export async function run(
  dir: string, threads: number, body: (out: (name: string) => string) => string[], plugins: string[] = [], log = path.join(dir, 'access.log'),
  ids = ['logs', 'access', 'events', 'fail', 'per_minute'],
): Promise<Outcome> {
  const n = ++runs; // every run reads the file from its start: no checkpoints, no output files of an earlier one
  const prefix = `r${n}-t${threads}-`;
  const out = (name: string) => path.join(dir, prefix + name);
  const data = path.join(dir, `data-${n}`);
  const yaml = [
    `service: { data_dir: ${JSON.stringify(data)}, threads: ${threads}, plugins: ${JSON.stringify(plugins)} }`,
    'inputs:',
    `  logs: { type: tail, path: [${JSON.stringify(log)}], read_from: beginning, exit_on_eof: true }`,
    ...body(out),
  ].join('\n');
  const pipeline = await runPipeline({ yaml, file: path.join(dir, `r${n}.yaml`) });
  await pipeline.done();
  const files: Record<string, string> = {};
  // Outputs that wrote nothing are there as '' (their file was never made).
  for (const o of yaml.match(/path: "[^"]*r\d+-t\d-[^"]*"/g) ?? []) files[path.basename(JSON.parse(o.slice('path: '.length)) as string).slice(prefix.length)] = '';
  for (const name of await readdir(dir)) if (name.startsWith(prefix)) files[name.slice(prefix.length)] = await readFile(path.join(dir, name), 'utf8');
  const stats: Outcome['stats'] = {};
  const custom: Outcome['custom'] = {};
  for (const id of ids) {
    let s;
    try {
      s = pipeline.stats(id);
    } catch {
      continue; // not a component of this config
    }
    stats[id] = { received: s.received_events, sent: s.sent_events_by_output, sentBytes: s.sent_bytes, discarded: s.discarded_by_reason, errors: s.errors_by_type, custom: sameAcrossThreads(s.custom) };
    custom[id] = s.custom;
  }
  const cps = JSON.parse(await readFile(path.join(data, 'logs', 'checkpoints.json'), 'utf8')) as { files: Record<string, { offset: number }> };
  return { files, stats, custom, checkpoint: Object.values(cps.files)[0].offset, logs: pipeline.logs, dictionaries: custom.per_minute?.visor_window_partial_dictionaries };
}
