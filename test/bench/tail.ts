// `tail` through the real CLI (whole process, start-up included) on the shared 1M-line corpus of
// ../shared/bench (issue 17), each pipeline run alternately with `reference-scanner.js` on the same file in
// the same run, and judged by the ratio scanner time / visor time: absolute figures on this project's shared
// 2-core machines move 2-3x between machines and ±30% between runs, ratios far less.
// Per pipeline: wall time min/median/max, CPU-µs per line (user + sys of the whole process, all threads),
// peak RSS (VmHWM). Every run checks that everything was delivered: the checkpoint is at the file's end.
import { execFileSync, spawnSync } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLI, ROOT } from '../support/helpers.js';
import { combinedLines } from './apache-lines.js';
import { machine, measure, spread, type Measured } from './measure.js';
import { SCANNER, SHARED_BENCH, sharedBenchAvailable, sharedCorpus, type Corpus } from './shared-corpus.js';

/** Issue 17's goals, all same-run ratios except the memory and CPU budgets. */
const GOALS = { p1VsScanner: 0.5, fileVsScannerEmit: 1.4, cpuMicrosPerLine: 2.0, rssMB: 100, startupSecs: 0.3, versionVsNode: 1.5 };
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 5));
const FILE_RUNS = Math.max(3, RUNS);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');

/** The fallback corpus when ../shared/bench is missing: the benchmarks' own combined-line generator. */
async function writeLog(file: string, count: number): Promise<number> {
  const fh = await open(file, 'w');
  try {
    const chunk = 100_000; // ~24 MB of strings at a time
    for (let i = 0, seed = 1; i < count; i += chunk, seed++) {
      await fh.write(combinedLines(Math.min(chunk, count - i), seed).join('\n') + '\n');
    }
  } finally {
    await fh.close();
  }
  return (await stat(file)).size;
}

/** A plain Node line split: read in 256 KiB chunks (tail's read_buffer), find each '\n', one string per line. */
async function nodeSplit(file: string): Promise<number> {
  let lines = 0;
  let chars = 0;
  let rest: Buffer | undefined;
  for await (const data of createReadStream(file, { highWaterMark: 256 * 1024 })) {
    const buf: Buffer = rest ? Buffer.concat([rest, data as Buffer]) : (data as Buffer);
    let start = 0;
    for (let nl = buf.indexOf(10); nl >= 0; nl = buf.indexOf(10, start)) {
      chars += buf.toString('utf8', start, nl).length; // use the string so it is not optimised away
      lines++;
      start = nl + 1;
    }
    rest = start < buf.length ? buf.subarray(start) : undefined;
  }
  if (rest) lines++;
  if (chars === 0) throw new Error('no text');
  return lines;
}

const countLines = (file: string) => Number(execFileSync('wc', ['-l', file], { encoding: 'utf8' }).trim().split(/\s+/)[0]);

/** Everything was read and acknowledged: the checkpoint of the file is at its end. */
async function checkpointed(dataDir: string, input: string, file: string, size: number): Promise<void> {
  const cps = JSON.parse(await readFile(path.join(dataDir, input, 'checkpoints.json'), 'utf8')) as { files: Record<string, { path: string; offset: number }> };
  const cp = Object.values(cps.files).find((c) => c.path === file);
  if (cp?.offset !== size) throw new Error(`checkpoint of ${file} at ${cp?.offset} of ${size} bytes: not everything was delivered`);
}

/** The window of issue 6's throughput benchmark and issue 17's P1: 1 min tumbling on event time, counts,
 * errors and error rate, an exact top list of statuses, top-10 client_ip and path, p95 bytes. */
export const WINDOW = [
  'aggregates:',
  '  per_minute:',
  '    type: window',
  '    inputs: [access]',
  '    window: { type: tumbling, size: 1m }',
  '    time: event',
  '    metrics: { requests: count(), errors: count(status >= 500), error_rate: count(status >= 500) / count() }',
  '    top: [{ field: status, n: 50 }, { field: client_ip, n: 10 }, { field: path, n: 10 }]',
  '    percentiles: [{ field: bytes, p: [95] }]',
];

type Pipeline = 'blackhole' | 'parse' | 'window' | 'file';
/** The fields reference-scanner.js --emit writes (its ip, time, path and agent are Visor's client_ip, timestamp, url
 * and user_agent): the same content, without the raw line and the file name every whole event carries. */
const SCANNER_FIELDS = ['client_ip', 'ident', 'user', 'timestamp', 'method', 'url', 'protocol', 'status', 'bytes', 'referer', 'user_agent'];
interface VisorOptions { threads?: number; out?: string; onlyFields?: readonly string[] }

function visorConfig(source: string, dataDir: string, pipeline: Pipeline, opts: VisorOptions = {}): string {
  const parse = pipeline !== 'blackhole';
  const service = [`data_dir: ${JSON.stringify(dataDir)}`, 'log_level: warn', ...(opts.threads ? [`threads: ${opts.threads}`] : [])];
  const outputs = {
    blackhole: ['  sink: { type: blackhole, inputs: [logs] }'],
    parse: ['  sink: { type: blackhole, inputs: [access, access._unparsed] }'],
    window: ['  sink: { type: blackhole, inputs: [per_minute, per_minute._late, access._unparsed] }'],
    file: [`  out: { type: file, inputs: [access], path: ${JSON.stringify(opts.out)}, format: json${opts.onlyFields ? `, only_fields: [${opts.onlyFields.join(', ')}]` : ''} }`, '  rest: { type: blackhole, inputs: [access._unparsed] }'],
  }[pipeline];
  return [
    `service: { ${service.join(', ')} }`,
    'inputs:',
    `  logs: { type: tail, path: [${JSON.stringify(source)}], read_from: beginning, exit_on_eof: true }`,
    ...(parse ? ['filters:', '  access: { type: apache_access, inputs: [logs], format: combined }'] : []),
    ...(pipeline === 'window' ? WINDOW : []),
    'outputs:',
    ...outputs,
    '',
  ].join('\n');
}

/** Fluent Bit, when this machine has it (not in Debian 12, not on npm; never downloaded by the benchmark). */
function fluentBitBinary(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(path.join(dir, 'fluent-bit'))) return path.join(dir, 'fluent-bit');
  }
  return existsSync('/opt/fluent-bit/bin/fluent-bit') ? '/opt/fluent-bit/bin/fluent-bit' : undefined;
}
const FLUENT_BIT_DIR = path.join(ROOT, 'test/bench/fluent-bit');

/** How far Fluent Bit's tail got: the offset its DB (SQLite, read with the sqlite3 CLI) keeps for the file. */
function fluentBitOffset(db: string, file: string): number | undefined {
  const r = spawnSync('sqlite3', [db, `SELECT offset FROM in_tail_files WHERE name = '${file.replaceAll("'", "''")}'`], { encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() !== '' ? Number(r.stdout.trim()) : undefined;
}

interface ScannerRun extends Measured { ownSecs: number; parsed: number }

export async function benchTail(count = Number(process.env.BENCH_TAIL_LINES ?? 1_000_000)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-tail-'));
  const out: string[] = [];
  try {
    const shared = sharedBenchAvailable();
    let corpus: Corpus;
    if (shared) corpus = await sharedCorpus(count);
    else {
      const file = path.join(dir, 'access.log');
      corpus = { file, lines: count, bytes: await writeLog(file, count), note: `${SHARED_BENCH} not found: the benchmarks' own generated log instead, and no scanner ratios` };
    }
    const { file, bytes } = corpus;
    const mb = bytes / 1e6;
    const empty = path.join(dir, 'empty.log');
    await writeFile(empty, '');

    let run = 0;
    const visor = async (source: string, pipeline: Pipeline, opts: VisorOptions = {}): Promise<Measured> => {
      const dataDir = path.join(dir, `data-${++run}`); // fresh: no checkpoint
      const config = path.join(dir, `tail-${run}.yaml`);
      await writeFile(config, visorConfig(source, dataDir, pipeline, opts));
      const r = await measure(process.execPath, [CLI, 'run', '-c', config]);
      await checkpointed(dataDir, 'logs', source, (await stat(source)).size);
      await rm(dataDir, { recursive: true, force: true });
      return r;
    };
    const scanner = async (emit?: string): Promise<ScannerRun> => {
      const r = await measure(process.execPath, [SCANNER, 'scanner', file, ...(emit ? [`--emit=${emit}`] : [])]);
      const report = JSON.parse(r.stdout) as { lines: number; parsed: number; failed: number; seconds: number };
      if (report.lines !== count) throw new Error(`reference scanner read ${report.lines} of ${count} lines`);
      return { ...r, ownSecs: report.seconds, parsed: report.parsed };
    };

    // Support for a one-core setting, which issue 17's work may add: a config the CLI accepts with it.
    const threadsConfig = path.join(dir, 'threads.yaml');
    await writeFile(threadsConfig, visorConfig(empty, path.join(dir, 'data-threads'), 'window', { threads: 1 }));
    const threadsSupported = spawnSync(process.execPath, [CLI, 'validate', '-c', threadsConfig], { stdio: 'ignore' }).status === 0;
    const fluentBit = fluentBitBinary();
    const fluentBitOffsets: Array<number | undefined> = [];

    out.push(`tail through the CLI, whole process (spawn to exit, start-up included), read_from: beginning, exit_on_eof`);
    const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
    out.push(`  load average at the start ${load()} (other work on the machine moves every absolute figure)`);
    out.push(`  corpus: ${fmt(count)} combined lines, ${mb.toFixed(0)} MB, ${file} (${corpus.note})`);
    out.push(`  ${RUNS} runs of each (BENCH_RUNS), alternating with the baseline; figures min / median / max; ratio = baseline time / visor time (higher: visor faster), median of each and best of each`);
    out.push('  CPU = user + sys of the whole process, all threads (cutime + cstime of this process around the child), per line; RSS = VmHWM sampled every 50 ms, largest of the runs');

    // Start-up: `visor --version` beside `node -e 0`; `visor run` on an empty file (start-up and shutdown).
    const nodeE: Measured[] = [];
    const version: Measured[] = [];
    const startup: Measured[] = [];
    for (let i = 0; i < RUNS; i++) {
      nodeE.push(await measure(process.execPath, ['-e', '0']));
      version.push(await measure(process.execPath, [CLI, '--version']));
      startup.push(await visor(empty, 'window'));
    }
    const secs = (rs: Measured[]) => spread(rs.map((r) => r.secs));
    const span = (s: { min: number; median: number; max: number }) => `${s.min.toFixed(2)} / ${s.median.toFixed(2)} / ${s.max.toFixed(2)} s`;
    const versionRatio = secs(version).median / secs(nodeE).median;
    out.push('', 'start-up');
    out.push(`  node -e 0                                     ${span(secs(nodeE))}  (baseline)`);
    out.push(`  visor --version                               ${span(secs(version))}  ${versionRatio.toFixed(2)}x node -e 0 (median); goal <= ${GOALS.versionVsNode}x (${verdict(versionRatio <= GOALS.versionVsNode)})`);
    out.push(`  visor run, P1's config on an empty file       ${span(secs(startup))}  start-up + shutdown, an upper bound on start-up to the first line read; goal <= ${GOALS.startupSecs} s (${verdict(secs(startup).median <= GOALS.startupSecs)})`);

    // One-off floors for the reader: how fast this machine reads and splits the file.
    let t = process.hrtime.bigint();
    const wcLines = countLines(file);
    const wcSecs = Number(process.hrtime.bigint() - t) / 1e9;
    t = process.hrtime.bigint();
    const splitLines = await nodeSplit(file);
    const splitSecs = Number(process.hrtime.bigint() - t) / 1e9;
    if (wcLines !== count || splitLines !== count) throw new Error(`wc -l ${wcLines}, split ${splitLines}, corpus ${count}`);
    out.push('', 'floors, once (in this process: no start-up)');
    out.push(`  wc -l FILE                                    ${wcSecs.toFixed(2)} s  ${fmt(count / wcSecs)} lines/s  ${(mb / wcSecs).toFixed(0)} MB/s`);
    out.push(`  node: 256 KiB reads, a string per line        ${splitSecs.toFixed(2)} s  ${fmt(count / splitSecs)} lines/s  ${(mb / splitSecs).toFixed(0)} MB/s`);

    const cpuPerLine = (rs: Measured[]) => {
      const cpu = rs.map((r) => r.cpuSecs);
      return cpu.some((c) => c === undefined) ? undefined : spread(cpu.map((c) => ((c as number) * 1e6) / count)).median;
    };
    const rss = (rs: Measured[]) => {
      const r = rs.map((x) => x.rssMB);
      return r.some((x) => x === undefined) ? 'RSS n/a' : `RSS ${Math.min(...(r as number[])).toFixed(0)}-${Math.max(...(r as number[])).toFixed(0)} MB`;
    };
    const ratio = (base: Measured[], rs: Measured[]) => ({ median: secs(base).median / secs(rs).median, best: secs(base).min / secs(rs).min });
    const row = (label: string, rs: Measured[], note = '') => {
      const cpu = cpuPerLine(rs);
      return `  ${label.padEnd(46)}${span(secs(rs))}  ${fmt(count / secs(rs).median).padStart(9)} lines/s  CPU ${cpu === undefined ? 'n/a' : `${cpu.toFixed(2)} µs/line`}  ${rss(rs)}${note ? `  ${note}` : ''}`;
    };
    const scannerRow = (label: string, rs: ScannerRun[]) =>
      `${row(label, rs)}  (baseline; its own timing, no node start-up: ${span(spread(rs.map((r) => r.ownSecs)))})`;
    const vsScanner = (base: ScannerRun[], rs: Measured[], goal?: number, who = 'visor') => {
      if (!base.length) return 'no scanner ratio: ../shared/bench missing';
      const r = ratio(base, rs);
      // Each round's own ratio: a scanner run and the run right after it share the machine's load of the moment.
      const rounds = spread(rs.map((x, i) => base[i].secs / x.secs));
      const cpuBase = cpuPerLine(base);
      const cpu = cpuPerLine(rs);
      const byCpu = cpuBase === undefined || cpu === undefined ? '' : `; by CPU ${(cpuBase / cpu).toFixed(2)}x`;
      return `scanner/${who} ${r.median.toFixed(2)}x median, ${r.best.toFixed(2)}x best, rounds ${rounds.min.toFixed(2)}-${rounds.max.toFixed(2)}x${byCpu}` +
        `${goal === undefined ? '' : `; goal >= ${goal}x (${verdict(r.median >= goal)})`}`;
    };

    /** Alternates the scanner (when there is one) with each of `runs`, RUNS rounds. */
    const alternate = async <K extends string>(runs: Record<K, () => Promise<Measured>>, rounds = RUNS) => {
      const base: ScannerRun[] = [];
      const got = Object.fromEntries(Object.keys(runs).map((k) => [k, [] as Measured[]])) as Record<K, Measured[]>;
      for (let i = 0; i < rounds; i++) {
        if (shared) base.push(await scanner());
        for (const k of Object.keys(runs) as K[]) got[k].push(await runs[k]());
      }
      return { base, got };
    };

    const plain = await alternate({ tailNull: () => visor(file, 'blackhole'), tailParse: () => visor(file, 'parse') });
    out.push('', 'tail -> blackhole and tail -> apache_access -> blackhole');
    if (shared) out.push(scannerRow('reference-scanner.js scanner FILE', plain.base));
    out.push(row('visor tail -> blackhole', plain.got.tailNull, vsScanner(plain.base, plain.got.tailNull)));
    out.push(row('visor tail -> apache_access -> blackhole', plain.got.tailParse, vsScanner(plain.base, plain.got.tailParse)));

    // P1, as is and (when the config has the setting) on one thread, beside the scanner and Fluent Bit.
    const p1Runs: Record<string, () => Promise<Measured>> = { p1: () => visor(file, 'window') };
    if (threadsSupported) p1Runs.p1OneThread = () => visor(file, 'window', { threads: 1 });
    // Every core: the parser and the window's partials in worker threads (Plugin.parallel, Plugin.partials), with
    // threads - 1 workers beside the main thread, and with one worker per core (the main thread mostly reads).
    const cores = os.availableParallelism();
    if (threadsSupported && cores > 1) p1Runs.p1AllCores = () => visor(file, 'window', { threads: cores });
    if (threadsSupported && cores > 1) p1Runs.p1WorkerPerCore = () => visor(file, 'window', { threads: cores + 1 });
    if (fluentBit) {
      p1Runs.fluentBit = async () => {
        const db = path.join(dir, `fluent-bit-${++run}.db`); // fresh: read from the head
        const env = { ...process.env, BENCH_FILE: file, BENCH_FLUENT_BIT_DIR: FLUENT_BIT_DIR, BENCH_FLUENT_BIT_DB: db };
        const r = await measure(fluentBit, ['-c', path.join(FLUENT_BIT_DIR, 'tail-apache2-null.conf')], { env });
        fluentBitOffsets.push(fluentBitOffset(db, file));
        await rm(db, { force: true });
        return r;
      };
    }
    const p1 = await alternate(p1Runs);
    out.push('', 'P1: tail -> apache_access -> window (1m tumbling, event time; requests, errors, error_rate; top status 50, client_ip 10, path 10; p95 bytes) -> blackhole');
    if (shared) out.push(scannerRow('reference-scanner.js scanner FILE', p1.base));
    const p1Rss = Math.max(...p1.got.p1.map((r) => r.rssMB ?? 0));
    out.push(row('visor P1', p1.got.p1, `${vsScanner(p1.base, p1.got.p1, GOALS.p1VsScanner)}; peak RSS goal <= ${GOALS.rssMB} MB (${p1.got.p1[0].rssMB === undefined ? 'not measured: no /proc' : verdict(p1Rss <= GOALS.rssMB)})`));
    if (shared) {
      const own = spread(p1.base.map((r) => r.ownSecs)).median / secs(p1.got.p1).median;
      out.push(`    stricter: the scanner's own timing (no node start-up) / visor P1: ${own.toFixed(2)}x median`);
    }
    const cpuGoal = (rs: Measured[]) => {
      const cpu = cpuPerLine(rs);
      return cpu === undefined ? 'not measured: no /proc' : verdict(cpu <= GOALS.cpuMicrosPerLine);
    };
    if (p1.got.p1OneThread) {
      out.push(row('visor P1, service.threads: 1', p1.got.p1OneThread, `${vsScanner(p1.base, p1.got.p1OneThread)}; CPU goal <= ${GOALS.cpuMicrosPerLine} µs/line (${cpuGoal(p1.got.p1OneThread)})`));
    } else {
      out.push(`    one core: this build's config has no service.threads (visor validate rejects it): not measured; P1's CPU above is over all its threads; goal <= ${GOALS.cpuMicrosPerLine} µs/line (${cpuGoal(p1.got.p1)} for P1 as is)`);
    }
    const vsOneThread = (rs: Measured[]) => (p1.got.p1OneThread ? `; threads: 1/this ${ratio(p1.got.p1OneThread, rs).median.toFixed(2)}x median` : '');
    if (p1.got.p1AllCores) out.push(row(`visor P1, service.threads: ${cores}`, p1.got.p1AllCores, `${vsScanner(p1.base, p1.got.p1AllCores)}${vsOneThread(p1.got.p1AllCores)}; parser + window partials in ${cores - 1} worker(s)`));
    if (p1.got.p1WorkerPerCore) out.push(row(`visor P1, service.threads: ${cores + 1}`, p1.got.p1WorkerPerCore, `${vsScanner(p1.base, p1.got.p1WorkerPerCore)}${vsOneThread(p1.got.p1WorkerPerCore)}; parser + window partials in ${cores} workers`));
    if (p1.got.fluentBit) {
      const version = spawnSync(fluentBit as string, ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim();
      const fb = p1.got.fluentBit;
      const whole = fluentBitOffsets.filter((o) => o === bytes).length;
      out.push(row(`Fluent Bit tail -> apache2 -> null`, fb, `${version}; ${vsScanner(p1.base, fb, undefined, 'Fluent Bit')}` +
        `; read to the file's end (its tail DB's offset) in ${whole} of ${fb.length} runs${whole < fb.length ? ` (offsets ${fluentBitOffsets.join(', ')} of ${bytes})` : ''}`));
      const parseVsFb = secs(fb).median / secs(plain.got.tailParse).median;
      out.push(`    Fluent Bit/visor, median times: P1 ${ratio(fb, p1.got.p1).median.toFixed(2)}x (goal >= 3x), tail -> apache_access -> blackhole ${parseVsFb.toFixed(2)}x (earlier rounds of this run)` +
        `; CPU per line Fluent Bit/visor P1 ${((cpuPerLine(fb) ?? NaN) / (cpuPerLine(p1.got.p1) ?? NaN)).toFixed(2)}x`);
    } else {
      out.push('    Fluent Bit: not installed on this machine (not in Debian 12 nor on npm; the benchmark downloads nothing), so no ratio to it from this run.' +
        ' The yardstick (../shared/bench/README.md): Fluent Bit 5.1.1 (-O2) tail -> apache2 -> null ran at 0.14x the scanner in one run and 0.18x on an earlier day, on one machine;' +
        ' so P1 at 0.5x the scanner is about 3x Fluent Bit.');
    }

    // tail -> apache_access -> file (JSON lines) beside the scanner writing JSON lines of its records; with threads 2
    // and 3 too, where the parser's worker(s) write the JSON (Plugin.encodes) and the main thread appends the bytes.
    if (shared) {
      const base: ScannerRun[] = [];
      const variants: Array<{ label: string; opts: VisorOptions }> = [
        { label: 'visor tail -> apache_access -> file', opts: {} },
        { label: 'visor ... -> file, only_fields: the scanner\'s fields', opts: { onlyFields: SCANNER_FIELDS } },
      ];
      if (threadsSupported && cores > 1) {
        for (const threads of [2, 3]) {
          variants.push({ label: `visor ... -> file, service.threads: ${threads}`, opts: { threads } });
          variants.push({ label: `visor ... only_fields, service.threads: ${threads}`, opts: { threads, onlyFields: SCANNER_FIELDS } });
        }
      }
      const got = variants.map(() => [] as Measured[]);
      for (let i = 0; i < FILE_RUNS; i++) {
        const scannerOut = path.join(dir, 'scanner.jsonl');
        base.push(await scanner(scannerOut));
        const emitted = countLines(scannerOut);
        await rm(scannerOut);
        if (emitted !== base[i].parsed) throw new Error(`reference scanner wrote ${emitted} of ${base[i].parsed} records`);
        const visorOut = path.join(dir, 'visor.jsonl');
        for (const [k, v] of variants.entries()) {
          got[k].push(await visor(file, 'file', { ...v.opts, out: visorOut }));
          const written = countLines(visorOut);
          await rm(visorOut);
          if (written !== base[i].parsed) throw new Error(`${v.label}: the file output has ${written} lines, the scanner parsed ${base[i].parsed}`);
        }
      }
      out.push('', `tail -> apache_access -> file (format json, fsync never), ${FILE_RUNS} runs; every output line counted`);
      out.push(scannerRow('reference-scanner.js scanner FILE --emit=OUT', base));
      for (const [k, v] of variants.entries()) out.push(row(v.label, got[k], vsScanner(base, got[k], GOALS.fileVsScannerEmit)));
    } else out.push('', 'tail -> apache_access -> file: not run, its baseline is reference-scanner.js --emit (../shared/bench missing)');
    out.push('', `  load average at the end ${load()}`);
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('tail.js') || process.argv[1]?.endsWith('tail.ts')) {
  benchTail().then((l) => console.log([machine(), '', ...l].join('\n')), (err) => { console.error(err); process.exit(1); });
}
