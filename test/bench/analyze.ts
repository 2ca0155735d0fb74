// `visor analyze` on a 1,000,000-line generated combined file, beside GoAccess (Debian `goaccess`, the static
// report: `goaccess FILE --log-format=COMBINED -o report.json`) on the same file in the same run, and `wc -l`
// as the floor. Each is a whole process, timed from spawn to exit (start-up included).
// Then `visor analyze --store` (SQLite) on a smaller file (BENCH_STORE_LINES, 200,000), beside plain `analyze` on
// the same file, a second `--store` run on the same database (nothing changes), and the floor it is measured
// against: the store's writer (lib/store's StoreWriter, what the store output runs) writing the same events,
// parsed beforehand in memory, in the same batches, in this process.
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { contentId, type Event } from '../../core/index.js';
import { MetricsHub } from '../../core/runtime/metrics.js';
import { buildAccessParser } from '../../lib/apache/index.js';
import { SqliteEngine, StoreWriter } from '../../lib/store/index.js';
import { pluginContext } from '../support/corpora.js';
import { CLI, onPath } from '../support/helpers.js';
import { combinedLines } from './apache-lines.js';

/** GoAccess lines/s times this is the target. */
const TARGET_RATIO = 5;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

function timed(command: string, args: string[], cwd: string): { secs: number; stdout: string; status: number | null; stderr: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  return { secs, stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status };
}

/** One generated sequence (timestamps only move forward), written in slices. */
async function writeLines(file: string, count: number): Promise<void> {
  const lines = combinedLines(count);
  const out = createWriteStream(file);
  const step = 100_000;
  for (let i = 0; i < count; i += step) {
    if (!out.write(lines.slice(i, i + step).join('\n') + '\n')) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
}

/** Events per transaction, as `analyze --store` writes them (lib/analyze/store.ts). */
const STORE_BATCH = 5000;

/** The events `analyze --store` makes of `lines` (the tail's fields and position, then the parsed ones). */
function storeEvents(lines: string[], file: string): Event[] {
  const parser = buildAccessParser({ format: 'combined', timezone: 'UTC' });
  const id = contentId(Buffer.from(lines[0] + '\n'));
  let offset = 0;
  return lines.map((message) => {
    const e: Event = { message, file, position: { file: id, offset } };
    offset += Buffer.byteLength(message) + 1;
    parser.parse(message, e);
    return e;
  });
}

/** The StoreWriter alone writing `events` (batches of STORE_BATCH, no roll-ups: only events) into a new SQLite file. */
async function writerAlone(file: string, events: Event[]): Promise<number> {
  const ctx = pluginContext('db', 'store', new MetricsHub(), 'output');
  const engine = new SqliteEngine({ file, synchronous: 'full', busyTimeout: 5000 });
  const writer = new StoreWriter(engine, {
    agent: 'bench', events: true, exclude: [], positionField: 'position', kafkaField: 'kafka', deadLetter: `${file}.rejected.jsonl`, rollups: [],
  }, ctx);
  await engine.open();
  const start = process.hrtime.bigint();
  for (let i = 0; i < events.length; i += STORE_BATCH) await writer.write(events.slice(i, i + STORE_BATCH));
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await engine.close();
  return secs;
}

/** `analyze --store` beside plain `analyze` and the writer alone, on `count` lines. */
export async function benchAnalyzeStore(count = Number(process.env.BENCH_STORE_LINES ?? 200_000)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-analyze-store-'));
  try {
    const file = path.join(dir, 'access.log');
    await writeLines(file, count);
    const out: string[] = [`visor analyze --store (SQLite) on ${fmt(count)} generated combined lines, whole processes, same file:`];
    const run = (args: string[]) => {
      const start = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [CLI, 'analyze', '--json', ...args, file], { cwd: dir, env: { ...process.env, VISOR_ANALYZE_THREADS: '1' }, encoding: 'utf8', maxBuffer: 64 << 20 });
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      if (r.status !== 0) throw new Error(`visor analyze failed: ${r.stderr}`);
      const j = JSON.parse(r.stdout) as { requests: number; store?: { rows: Record<string, number>; rows_per_second: number; seconds: number } };
      if (j.requests !== count) throw new Error(`visor analyze counted ${j.requests} requests of ${count}`);
      return { secs, store: j.store };
    };
    const row = (name: string, secs: number, note = '') => `  ${name.padEnd(44)} ${fmt(count / secs).padStart(9)} lines/s ${secs.toFixed(2).padStart(6)} s${note ? `  ${note}` : ''}`;
    run([]); // warm the page cache
    const plain = run([]);
    out.push(row('visor analyze (1 thread)', plain.secs));
    const db = path.join(dir, 'visor.db');
    const first = run(['--store', db]);
    const rows = Object.values(first.store!.rows).reduce((a, b) => a + b, 0);
    out.push(row('visor analyze --store (new database)', first.secs, `(${fmt(rows)} rows; its writing ${first.store!.seconds.toFixed(2)} s, ${fmt(first.store!.rows_per_second)} rows/s)`));
    const again = run(['--store', db]);
    out.push(row('visor analyze --store again (changes nothing)', again.secs));
    const events = storeEvents(combinedLines(count), file);
    const alone = await writerAlone(path.join(dir, 'writer.db'), events);
    out.push(`  StoreWriter alone, the same ${fmt(count)} events parsed beforehand, batches of ${STORE_BATCH}: ${fmt(count / alone)} rows/s (${alone.toFixed(2)} s)`);
    out.push(`  analyze --store / plain analyze: ${(plain.secs / first.secs).toFixed(2)}x; analyze --store (reading, parsing, windows, roll-ups, start-up included) / the writer alone: ${(alone / first.secs).toFixed(2)}x`);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchAnalyzeRead(count = Number(process.env.BENCH_LINES ?? 1_000_000)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-analyze-'));
  try {
    const file = path.join(dir, 'access.log');
    await writeLines(file, count);
    const mb = (await stat(file)).size / 1e6;
    const out: string[] = [`visor analyze on ${fmt(count)} generated combined lines (${mb.toFixed(0)} MB file), whole processes:`];
    const row = (name: string, secs: number, note = '') =>
      `  ${name.padEnd(34)} ${fmt(count / secs).padStart(10)} lines/s ${secs.toFixed(2).padStart(6)} s${note ? `  ${note}` : ''}`;

    const wc = timed('wc', ['-l', file], dir);
    out.push(row('wc -l (baseline: read only)', wc.secs));

    const analyze = (threads?: string) => {
      const env = threads ? { ...process.env, VISOR_ANALYZE_THREADS: threads } : process.env;
      const start = process.hrtime.bigint();
      const r = spawnSync(process.execPath, [CLI, 'analyze', '--json', file], { cwd: dir, env, encoding: 'utf8', maxBuffer: 64 << 20 });
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      if (r.status !== 0) throw new Error(`visor analyze failed: ${r.stderr}`);
      const summary = JSON.parse(r.stdout) as { requests: number; lines_per_second: number };
      if (summary.requests !== count) throw new Error(`visor analyze counted ${summary.requests} requests of ${count}`);
      return { secs, inner: summary.lines_per_second };
    };
    analyze('1'); // warm the page cache
    const single = analyze('1');
    out.push(row('visor analyze --json (1 thread)', single.secs, `(${fmt(single.inner)} lines/s after start-up)`));
    const visor = analyze();
    out.push(row(`visor analyze --json (${os.availableParallelism()} cores)`, visor.secs, `(${fmt(visor.inner)} lines/s after start-up)`));

    const goaccess = onPath('goaccess');
    if (!goaccess) {
      out.push('  goaccess: not installed (Debian package goaccess); no comparison');
      return out;
    }
    const version = spawnSync(goaccess, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? '';
    const ga = timed(goaccess, [file, '--log-format=COMBINED', '-o', path.join(dir, 'report.json')], dir);
    if (ga.status !== 0) {
      out.push(`  goaccess failed (exit ${ga.status}): ${ga.stderr.trim().split('\n').pop()}`);
      return out;
    }
    out.push(row(`goaccess -o report.json (${version.replace(/^GoAccess - /, '').replace(/\.$/, '')})`, ga.secs));
    const ratio = ga.secs / visor.secs;
    out.push(`  visor analyze / goaccess: ${ratio.toFixed(1)}x (one thread: ${(ga.secs / single.secs).toFixed(1)}x); target >= ${TARGET_RATIO}x: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Both: the reading figures on the large file, then the --store ones. */
export async function benchAnalyze(): Promise<string[]> {
  return [...await benchAnalyzeRead(), ...await benchAnalyzeStore()];
}

if (process.argv[1]?.endsWith('analyze.js') || process.argv[1]?.endsWith('analyze.ts')) {
  benchAnalyze().then((l) => console.log(l.join('\n')));
}
