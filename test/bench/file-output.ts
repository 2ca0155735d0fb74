// The file output writing parsed Apache access events as JSON lines, beside the plain way (`JSON.stringify`
// of each event, joined, one write per batch to a file) in the same run: lines/s, MB/s, and the peak RSS.
// 100,000 real combined lines are parsed by apache_access once (batches of 1,000) and written 10 times over,
// so the figures measure the writing, not the parsing.
import fs from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Event, FilterInstance, OutputInstance } from '../../core/index.js';
import { ComponentTimers } from '../../core/runtime/context.js';
import { MetricsHub } from '../../core/runtime/metrics.js';
import accessPlugin from '../../plugins/filters/apache_access.js';
import filePlugin from '../../plugins/outputs/file.js';
import { pluginContext } from '../support/corpora.js';
import { combinedLines } from './apache-lines.js';

const TARGET = 280_000;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function parsedBatches(distinct: number, batchSize: number): Promise<Event[][]> {
  const filter = (await accessPlugin.create({ field: 'message', format: 'combined', timezone: 'UTC' }, pluginContext('access', 'apache_access'))) as FilterInstance;
  const ctx = { emit: () => undefined, hold: () => { throw new Error('no hold'); } };
  const lines = combinedLines(distinct, 11);
  const batches: Event[][] = [];
  for (let i = 0; i < lines.length; i += batchSize) {
    const batch = lines.slice(i, i + batchSize).map((message) => ({ message }) as Event);
    const parsed = filter.process(batch, ctx) as Event[];
    if (parsed.length !== batch.length) throw new Error('unparsed lines in the bench corpus');
    batches.push(parsed);
  }
  return batches;
}

/** JSON.stringify + join + one write per batch, awaited like an output's write. */
async function plain(file: string, batches: Event[][], total: number): Promise<number> {
  const fd = fs.openSync(file, 'a');
  const write = (buf: Buffer) => new Promise<void>((res, rej) => fs.write(fd, buf, (e) => (e ? rej(e) : res())));
  const start = process.hrtime.bigint();
  for (let n = 0, b = 0; n < total; b = (b + 1) % batches.length) {
    const batch = batches[b];
    let text = '';
    for (const e of batch) text += JSON.stringify(e) + '\n';
    await write(Buffer.from(text));
    n += batch.length;
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  fs.closeSync(fd);
  return secs;
}

async function viaOutput(file: string, batches: Event[][], total: number, extra: Record<string, unknown> = {}): Promise<number> {
  const hub = new MetricsHub();
  const base = pluginContext('file', 'file', hub, 'output');
  const context = { ...base, configDir: path.dirname(file) };
  const out = (await filePlugin.create({
    path: path.basename(file), format: 'json', timezone: 'UTC', mkdir: true, file_mode: '0644', dir_mode: '0755',
    fsync: 'never', fsync_interval: 1000, compression: 'none', max_open_files: 64, idle_timeout: 30_000, ...extra,
  }, context)) as OutputInstance;
  await out.start?.();
  const start = process.hrtime.bigint();
  for (let n = 0, b = 0; n < total; b = (b + 1) % batches.length) {
    await out.write(batches[b]);
    n += batches[b].length;
  }
  await out.flush?.();
  await out.close?.();
  (base.timers as ComponentTimers).cancelAll(); // as the runtime does when the component stops
  return Number(process.hrtime.bigint() - start) / 1e9;
}

export async function benchFileOutput(total = Number(process.env.BENCH_FILE_EVENTS ?? 1_000_000)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-file-'));
  try {
    const batches = await parsedBatches(Math.min(100_000, total), 1000);
    const runs: Array<{ name: string; secs: number; bytes: number }> = [];
    // Alternate the two, twice each, and keep each one's best: the machine is shared and noisy.
    for (let round = 0; round < 2; round++) {
      const a = path.join(dir, `plain-${round}.jsonl`);
      runs.push({ name: 'plain', secs: await plain(a, batches, total), bytes: (await stat(a)).size });
      await rm(a);
      const b = path.join(dir, `visor-${round}.jsonl`);
      runs.push({ name: 'file', secs: await viaOutput(b, batches, total), bytes: (await stat(b)).size });
      await rm(b);
    }
    const sizeRot = path.join(dir, 'rot', 'access.jsonl');
    const rotSecs = await viaOutput(sizeRot, batches, total, { rotate: { max_size: 64 * 1024 * 1024, keep: 2 } });
    const best = (name: string) => runs.filter((r) => r.name === name).sort((x, y) => x.secs - y.secs)[0];
    const p = best('plain');
    const f = best('file');
    if (p.bytes !== f.bytes) throw new Error(`file output wrote ${f.bytes} bytes, plain ${p.bytes}`);
    const rss = process.resourceUsage().maxRSS / 1024;
    return [
      `file output, ${fmt(total)} parsed access events as JSON lines (${(f.bytes / 1e6).toFixed(0)} MB):`,
      `  JSON.stringify + one write per batch: ${fmt(total / p.secs)} lines/s (${(p.bytes / 1e6 / p.secs).toFixed(0)} MB/s)`,
      `  file output (fsync: never):           ${fmt(total / f.secs)} lines/s (${(f.bytes / 1e6 / f.secs).toFixed(0)} MB/s), ${(p.secs / f.secs).toFixed(2)}x of plain, target >= ${fmt(TARGET)} ${total / f.secs >= TARGET ? 'met' : 'NOT met'}`,
      `  file output, rotate max_size 64MB:    ${fmt(total / rotSecs)} lines/s`,
      `  peak RSS of the bench process: ${rss.toFixed(0)} MB (holds the 100,000 parsed events)`,
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Run alone: `npx tsx test/bench/file-output.ts`
if (process.argv[1] && path.resolve(process.argv[1]).replace(/\.[jt]s$/, '') === path.resolve(new URL(import.meta.url).pathname).replace(/\.[jt]s$/, '')) {
  for (const line of await benchFileOutput()) console.log(line);
}
