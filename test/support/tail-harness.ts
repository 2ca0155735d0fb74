// Helpers for the tail input's tests: run a tail -> test_record pipeline in-process over real files,
// wait on what arrives, read metrics and the checkpoint file.
import { readdirSync, readlinkSync } from 'node:fs';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Event } from '../../core/index.js';
import type { WriteHandler } from '../../core/testing/index.js';
import { tempDir } from './helpers.js';
import { startPipeline, type Harness, type Probe } from './pipeline-harness.js';

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls `predicate` every 10 ms; rejects after `ms` with `what` (and `detail()` when given). */
export async function waitUntil(predicate: () => boolean | Promise<boolean>, what: string, ms = 15000, detail?: () => string): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await sleep(10);
  }
}

/** Like waitUntil but resolves false instead of throwing (for "wait at most this long" guards). */
export async function waitAtMost(predicate: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

export interface TailRun {
  h: Harness;
  out: Probe;
  /** Messages written by the output so far. */
  messages(): string[];
  /** A custom metric of the tail component (visor_tail_...), 0 when not set yet. */
  metric(name: string): number;
  snapshot(): ReturnType<Harness['metrics']['snapshot']>[string];
  /** Stops the pipeline (drain + close, so the final checkpoint is written). Idempotent. */
  stop(graceMs?: number): Promise<boolean>;
  logs: string[];
  /** performance.now() at which each written event arrived at the output, in order. */
  arrivals: number[];
}

const running = new Set<TailRun>();

/** Stops every pipeline a test left running (call from afterEach). */
export async function stopAll(): Promise<void> {
  for (const r of [...running]) await r.stop(3000);
}

export interface TailDirs {
  tmp: Awaited<ReturnType<typeof tempDir>>;
  /** `logs/` in tmp, made: where the test writes the files to tail. */
  logDir: string;
  /** `data/` in tmp, not made: the tail's data_dir (the tail makes it). */
  dataDir: string;
}

/** A fresh temp dir for one tail test (call from beforeEach; `removeTailDirs` from afterEach). */
export async function tailDirs(prefix: string): Promise<TailDirs> {
  const tmp = await tempDir(prefix);
  const logDir = path.join(tmp.dir, 'logs');
  await mkdir(logDir);
  return { tmp, logDir, dataDir: path.join(tmp.dir, 'data') };
}

/** After a tail test: every pipeline it left running stopped, then its temp dir removed. */
export async function removeTailDirs(tmp: TailDirs['tmp']): Promise<void> {
  await stopAll();
  await tmp.remove();
}

/** How many times each value occurs. */
export function countsOf<T>(values: T[]): Map<T, number> {
  const m = new Map<T, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

export interface TailOptions {
  dataDir: string;
  tail: Record<string, unknown>;
  /** Options of the output (test_record unless `type` is given). */
  output?: Record<string, unknown>;
  /** Runs at the start of every write of the test_record output (throw to fail the write). */
  onWrite?: WriteHandler;
  /** Record arrival times (for latency measurements). */
  timeArrivals?: boolean;
}

/** `inputs.logs` = tail with the given options, `outputs.out` = test_record (or the given output). */
export async function startTail(o: TailOptions): Promise<TailRun> {
  const config = {
    service: { data_dir: o.dataDir, grace: '5s' },
    inputs: { logs: { type: 'tail', ...o.tail } },
    outputs: { out: { type: 'test_record', inputs: ['logs'], ...o.output } },
  };
  // YAML is a superset of JSON.
  const h = await startPipeline(JSON.stringify(config, null, 1), { onWrite: o.onWrite && { out: o.onWrite } });
  const out = h.probe('out');
  const arrivals: number[] = [];
  if (o.timeArrivals) {
    const push = out.written.push.bind(out.written);
    out.written.push = (...items: Event[]) => {
      const now = performance.now();
      for (let i = 0; i < items.length; i++) arrivals.push(now);
      return push(...items);
    };
  }
  let stopped: Promise<boolean> | undefined;
  const run: TailRun = {
    h,
    out,
    logs: h.logs,
    arrivals,
    messages: () => out.written.map((e) => e.message as string),
    metric: (name) => h.metrics.snapshot().logs?.custom[name] ?? 0,
    snapshot: () => h.metrics.snapshot().logs,
    stop: (graceMs = 5000) => {
      stopped ??= (async () => {
        const ok = await h.pipeline.stop(graceMs);
        await h.pipeline.done();
        running.delete(run);
        return ok;
      })();
      return stopped;
    },
  };
  running.add(run);
  return run;
}

export interface CheckpointEntry { key: string; path: string; offset: number }

/** The entries of `<dataDir>/<id>/checkpoints.json` ({ version, files: { key: { path, offset, ... } } }),
 * or undefined when there is no such file yet. */
export async function readCheckpoints(dataDir: string, id = 'logs'): Promise<CheckpointEntry[] | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(dataDir, id, 'checkpoints.json'), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const data = JSON.parse(text) as { files?: Record<string, { path: string; offset: number }> };
  return Object.entries(data.files ?? {}).map(([key, v]) => ({ key, path: v.path, offset: v.offset }));
}

/** The checkpointed offset of `file` (by path), or undefined. With several entries for one path (a rotated
 * file still being drained and its successor), the largest; callers that care use readCheckpoints. */
export async function checkpointOf(dataDir: string, file: string, id = 'logs'): Promise<number | undefined> {
  const all = await readCheckpoints(dataDir, id);
  const mine = all?.filter((e) => e.path === file) ?? [];
  if (mine.length === 0) return undefined;
  return Math.max(...mine.map((e) => e.offset));
}

/** `count` lines `prefix` + zero-padded number from `from` on, as the tail delivers them (no \n). */
export function numberedLines(from: number, count: number, prefix = 'line '): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(from + i).padStart(7, '0')}`);
}

/** The text of numberedLines: each line ending in \n. */
export function numbered(from: number, count: number, prefix = 'line '): string {
  let s = '';
  for (const line of numberedLines(from, count, prefix)) s += line + '\n';
  return s;
}

export function numberOf(message: string): number {
  const m = /(\d+)$/.exec(message);
  return m ? Number(m[1]) : NaN;
}

/** Open file descriptors of this process, as `fd -> target`. */
export function openFds(): Map<string, string> {
  const fds = new Map<string, string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      fds.set(fd, readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // closed between readdir and readlink (e.g. the readdir's own fd)
    }
  }
  return fds;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Appends text to a file (by path), as a separate process's `>>` would. */
export function append(file: string, text: string | Buffer): Promise<void> {
  return appendFile(file, text);
}
