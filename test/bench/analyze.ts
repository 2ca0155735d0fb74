// `visor analyze` on a 1,000,000-line generated combined file, beside GoAccess (Debian `goaccess`, the static
// report: `goaccess FILE --log-format=COMBINED -o report.json`) on the same file in the same run, and `wc -l`
// as the floor. Each is a whole process, timed from spawn to exit (start-up included).
import { spawnSync } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
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

export async function benchAnalyze(count = Number(process.env.BENCH_LINES ?? 1_000_000)): Promise<string[]> {
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

if (process.argv[1]?.endsWith('analyze.js') || process.argv[1]?.endsWith('analyze.ts')) {
  benchAnalyze().then((l) => console.log(l.join('\n')));
}
