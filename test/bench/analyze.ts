// `visor analyze` on a 1,000,000-line generated combined file, beside GoAccess (Debian `goaccess`, the static
// report: `goaccess FILE --log-format=COMBINED -o report.json`) on the same file in the same run, and `wc -l`
// as the floor. Each is a whole process, timed from spawn to exit (start-up included), with its peak RSS (GNU
// time's %M). visor analyze computes every traffic panel and runs the enrichment (issue 18); GoAccess runs twice:
// with its default panels, and with every panel on (REFERRERS and KEYPHRASES, which Debian's goaccess.conf turns
// off, and GEO_LOCATION on the country database visor uses). Then the cost per event of parsing, the enrichment
// and the panels, in this process, on the same lines. Attack detection (issue 19, on by default) beside --no-detect in
// alternating pairs of whole processes, on one thread and on all cores, and its two halves per event in this process:
// the rules' matching (done by each reading thread) and the pouring of the match records (the main thread, serial).
// Then `visor analyze --store` (SQLite) on a smaller file (BENCH_STORE_LINES, 200,000), beside plain `analyze` on
// the same file, a second `--store` run on the same database (nothing changes), and the floor it is measured
// against: the store's writer (lib/store's StoreWriter, what the store output runs) writing the same events,
// parsed beforehand in memory, in the same batches, in this process.
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { contentId, type Event } from '../../core/index.js';
import { MetricsHub } from '../../core/runtime/metrics.js';
import { AnalyzeDetect, MatchRecorder } from '../../lib/analyze/detect.js';
import { openEnrichment } from '../../lib/analyze/enrich.js';
import { detectSettings } from '../../bin/detect-config.js';
import { buildAccessParser } from '../../lib/apache/index.js';
import { packagedCountryDatabase } from '../../lib/insight/index.js';
import { PanelAccumulator } from '../../lib/stats/index.js';
import { SqliteEngine, StoreWriter } from '../../lib/store/index.js';
import { pluginContext } from '../support/corpora.js';
import { CLI, onPath } from '../support/helpers.js';
import { combinedLines } from './apache-lines.js';

/** GoAccess lines/s times this is the target. */
const TARGET_RATIO = 5;
/** Issue 18: visor analyze with every panel beside GoAccess with every panel, lines/s. */
const TARGET_PANELS_RATIO = 3;
const GNU_TIME = '/usr/bin/time';
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** A whole process, timed; `rssKb`: its peak RSS when GNU time is installed (its last stderr line, then cut off). */
function timed(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): { secs: number; stdout: string; status: number | null; stderr: string; rssKb: number | null } {
  const gnuTime = existsSync(GNU_TIME);
  const [cmd, argv] = gnuTime ? [GNU_TIME, ['-f', '%M', command, ...args]] : [command, args];
  const start = process.hrtime.bigint();
  const r = spawnSync(cmd, argv, { cwd, env, encoding: 'utf8', maxBuffer: 256 << 20, stdio: ['ignore', 'pipe', 'pipe'] });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  let stderr = r.stderr ?? '';
  let rssKb: number | null = null;
  if (gnuTime) {
    const lines = stderr.trimEnd().split('\n');
    const last = Number(lines.pop());
    if (Number.isFinite(last)) {
      rssKb = last;
      stderr = lines.join('\n');
    }
  }
  return { secs, stdout: r.stdout ?? '', stderr, status: r.status, rssKb };
}
const mib = (kb: number | null) => (kb === null ? 'RSS n/a' : `peak RSS ${(kb / 1024).toFixed(0)} MiB`);

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

    const analyze = (threads?: string, extra: string[] = []) => {
      const env = threads ? { ...process.env, VISOR_ANALYZE_THREADS: threads } : process.env;
      const r = timed(process.execPath, [CLI, 'analyze', '--json', ...extra, file], dir, env);
      if (r.status !== 0) throw new Error(`visor analyze failed: ${r.stderr}`);
      const summary = JSON.parse(r.stdout) as {
        requests: number; lines_per_second: number; panels?: { lists: Array<{ id: string; needs?: string }> }; detect?: { matches: number; alerts: number };
      };
      if (summary.requests !== count) throw new Error(`visor analyze counted ${summary.requests} requests of ${count}`);
      const empty = (summary.panels?.lists ?? []).filter((l) => l.needs).map((l) => l.id);
      return { secs: r.secs, inner: summary.lines_per_second, rssKb: r.rssKb, empty, detect: summary.detect };
    };
    analyze('1'); // warm the page cache
    const single = analyze('1');
    out.push(row('visor analyze --json (1 thread)', single.secs, `(${fmt(single.inner)} lines/s after start-up; ${mib(single.rssKb)})`));
    const visor = analyze();
    out.push(row(`visor analyze --json (${os.availableParallelism()} cores)`, visor.secs, `(${fmt(visor.inner)} lines/s after start-up; ${mib(visor.rssKb)})`));
    out.push(`  visor analyze: every traffic panel and the enrichment (user_agent, bot, geoip) on; panels without data in this file: ${visor.empty.join(', ') || 'none'}`);
    out.push(...detectPairs(analyze, row, Number(process.env.BENCH_DETECT_PAIRS ?? 2)));

    const goaccess = onPath('goaccess');
    if (!goaccess) {
      out.push('  goaccess: not installed (Debian package goaccess); no comparison');
      return out;
    }
    const version = spawnSync(goaccess, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? '';
    const v = version.replace(/^GoAccess - /, '').replace(/\.$/, '');
    const ga = timed(goaccess, [file, '--log-format=COMBINED', '-o', path.join(dir, 'report.json')], dir);
    if (ga.status !== 0) {
      out.push(`  goaccess failed (exit ${ga.status}): ${ga.stderr.trim().split('\n').pop()}`);
      return out;
    }
    out.push(row(`goaccess -o report.json (${v})`, ga.secs, mib(ga.rssKb)));
    const all = timed(goaccess, [file, '--log-format=COMBINED', '--enable-panel=REFERRERS', '--enable-panel=KEYPHRASES', '--enable-panel=GEO_LOCATION',
      `--geoip-database=${packagedCountryDatabase()}`, '-o', path.join(dir, 'report-all.json')], dir);
    if (all.status === 0) out.push(row('goaccess, every panel on', all.secs, mib(all.rssKb)));
    else out.push(`  goaccess with every panel failed (exit ${all.status}): ${all.stderr.trim().split('\n').pop()}`);
    const ratio = ga.secs / visor.secs;
    out.push(`  visor analyze / goaccess (default panels): ${ratio.toFixed(1)}x (one thread: ${(ga.secs / single.secs).toFixed(1)}x); issue 17 target >= ${TARGET_RATIO}x: ${ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`);
    if (all.status === 0) {
      const r18 = all.secs / visor.secs;
      out.push(`  visor analyze / goaccess, both with every panel: ${r18.toFixed(1)}x (one thread: ${(all.secs / single.secs).toFixed(1)}x); issue 18 target >= ${TARGET_PANELS_RATIO}x: ${r18 >= TARGET_PANELS_RATIO ? 'met' : 'NOT met'}`);
    }
    out.push(`  load average at the end: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Attack detection's cost in whole processes: `pairs` alternating runs without (--no-detect) and with it, on one
 * thread and on all cores, best of each; the ratio of the bests. */
function detectPairs(
  analyze: (threads?: string, extra?: string[]) => { secs: number; rssKb: number | null; detect?: { matches: number; alerts: number } },
  row: (name: string, secs: number, note?: string) => string, pairs: number,
): string[] {
  const out: string[] = [`  attack detection (default pack) beside --no-detect, ${pairs} alternating pairs each, best of each (load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} before):`];
  for (const threads of ['1', undefined]) {
    const off: Array<ReturnType<typeof analyze>> = [];
    const on: Array<ReturnType<typeof analyze>> = [];
    for (let i = 0; i < pairs; i++) {
      off.push(analyze(threads, ['--no-detect']));
      on.push(analyze(threads));
    }
    const best = (xs: typeof off) => xs.reduce((a, b) => (b.secs < a.secs ? b : a));
    const a = best(off);
    const b = best(on);
    const where = threads ? '1 thread' : `${os.availableParallelism()} cores`;
    out.push(row(`  --no-detect (${where})`, a.secs, mib(a.rssKb)));
    out.push(row(`  detect on (${where})`, b.secs, `${mib(b.rssKb)}; ${fmt(b.detect?.matches ?? 0)} matches, ${b.detect?.alerts ?? 0} alerts`));
    out.push(`    detect on / off (${where}): ${(b.secs / a.secs).toFixed(2)}x the time (pairs: ${off.map((x, i) => (on[i]!.secs / x.secs).toFixed(2)).join(', ')})`);
  }
  return out;
}

/** Detection's two halves per event on the same parsed and enriched lines, in this process, best of 3 rounds: the
 * rules' matching and recording (what each reading thread does: MatchRecorder), and the pouring of those records
 * into the buckets in order (what the main thread alone does for the workers' parts: AnalyzeDetect.pour). */
export async function benchDetectCost(count = Number(process.env.BENCH_COST_LINES ?? 300_000)): Promise<string[]> {
  const lines = combinedLines(count);
  const parser = buildAccessParser({ format: 'combined', timezone: 'UTC' });
  const enrich = await openEnrichment();
  const events = lines.map((l) => { const e: Event = {}; parser.parse(l, e); enrich(e); return e; });
  const settings = await detectSettings(undefined);
  let best = { match: Infinity, pour: Infinity };
  let records = 0;
  for (let round = 0; round < 3; round++) {
    const recorder = new MatchRecorder(settings);
    let t = process.hrtime.bigint();
    for (let i = 0; i < events.length; i++) recorder.event(events[i]!, lines[i]!, i);
    const match = Number(process.hrtime.bigint() - t) / count;
    const m = recorder.records();
    records = m.n;
    const main = new AnalyzeDetect(settings);
    t = process.hrtime.bigint();
    main.pour('(in memory)', 0, m);
    const pour = Number(process.hrtime.bigint() - t) / Math.max(1, m.n);
    best = { match: Math.min(best.match, match), pour: Math.min(best.pour, pour) };
  }
  return [
    `attack detection per event on ${fmt(count)} generated combined lines, this process, best of 3 (load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}):`,
    `  matching + recording (each reading thread)   ${best.match.toFixed(0).padStart(6)} ns/event`,
    `  pouring the records in order (main thread)   ${best.pour.toFixed(0).padStart(6)} ns/record; ${fmt(records)} records (${(records / count).toFixed(2)} per event, 36 bytes each + each client once)`,
  ];
}

/** Per event, in this process, on the same parsed lines: the parser, the enrichment (analyze's, enrich.ts) and the
 * panels (PanelAccumulator.add), with the enrichment caches' hit ratio. */
export async function benchPanelCost(count = Number(process.env.BENCH_COST_LINES ?? 300_000)): Promise<string[]> {
  const lines = combinedLines(count);
  const parser = buildAccessParser({ format: 'combined', timezone: 'UTC' });
  const enrich = await openEnrichment();
  const ns = (t: bigint) => Number(process.hrtime.bigint() - t) / count;
  let best = { parse: Infinity, enrich: Infinity, panels: Infinity };
  for (let round = 0; round < 3; round++) {
    let t = process.hrtime.bigint();
    const events = lines.map((l) => { const e: Event = {}; parser.parse(l, e); return e; });
    const parse = ns(t);
    t = process.hrtime.bigint();
    for (const e of events) enrich(e);
    const enriched = ns(t);
    const acc = new PanelAccumulator(1000);
    t = process.hrtime.bigint();
    for (const e of events) acc.add(e, e.status as number);
    const panels = ns(t);
    best = { parse: Math.min(best.parse, parse), enrich: Math.min(best.enrich, enriched), panels: Math.min(best.panels, panels) };
  }
  return [
    `cost per event on ${fmt(count)} generated combined lines, this process, best of 3 rounds (load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}):`,
    `  parse (apache_access, combined)  ${best.parse.toFixed(0).padStart(6)} ns/event`,
    `  enrichment (user_agent, bot, geoip; caches of 10,000, warm after round 1) ${best.enrich.toFixed(0).padStart(6)} ns/event`,
    `  traffic panels (PanelAccumulator.add, capacity 1000) ${best.panels.toFixed(0).padStart(6)} ns/event`,
  ];
}

/** Both: the reading figures on the large file, then the --store ones. */
export async function benchAnalyze(): Promise<string[]> {
  return [...await benchAnalyzeRead(), ...await benchPanelCost(), ...await benchDetectCost(), ...await benchAnalyzeStore()];
}

if (process.argv[1]?.endsWith('analyze.js') || process.argv[1]?.endsWith('analyze.ts')) {
  benchAnalyze().then((l) => console.log(l.join('\n')));
}
