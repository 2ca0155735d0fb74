// `tail` through the real CLI on a 1,000,000-line combined access log (read_from: beginning, exit_on_eof),
// beside `wc -l` and a plain Node line split of the same file, all in the same run: lines/s, MB/s and the
// peak RSS of the visor process.
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../support/helpers.js';
import { combinedLines } from './apache-lines.js';

const TARGETS = { tailNull: 1_500_000, tailParse: 700_000, rssMB: 100 };
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

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

/** The fair baseline: read in 256 KiB chunks (tail's read_buffer), find each '\n', make one string per line. */
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

/** Runs the CLI to its end; wall time and the peak RSS (VmHWM, sampled every 50 ms from /proc). */
function runVisor(config: string): Promise<{ secs: number; rssMB: number | undefined; stderr: string }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, [CLI, 'run', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    let hwmKB: number | undefined;
    const status = `/proc/${child.pid}/status`;
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'));
        if (m) hwmKB = Math.max(hwmKB ?? 0, Number(m[1]));
      } catch { /* exited, or no /proc */ }
    };
    const timer = setInterval(sample, 50);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearInterval(timer);
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      if (code !== 0) return reject(new Error(`visor exited with ${code ?? signal}\n${stderr}`));
      resolve({ secs, rssMB: hwmKB === undefined ? undefined : (hwmKB * 1024) / 1e6, stderr });
    });
  });
}

/** Everything was read and acknowledged: the checkpoint of the file is at its end. */
async function checkpointed(dataDir: string, input: string, file: string, size: number): Promise<void> {
  const cps = JSON.parse(await readFile(path.join(dataDir, input, 'checkpoints.json'), 'utf8')) as { files: Record<string, { path: string; offset: number }> };
  const cp = Object.values(cps.files).find((c) => c.path === file);
  if (cp?.offset !== size) throw new Error(`checkpoint of ${file} at ${cp?.offset} of ${size} bytes: not everything was delivered`);
}

export async function benchTail(count = Number(process.env.BENCH_TAIL_LINES ?? 1_000_000)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-tail-'));
  try {
    const file = path.join(dir, 'access.log');
    const bytes = await writeLog(file, count);
    const empty = path.join(dir, 'empty.log');
    await writeFile(empty, '');
    const mb = bytes / 1e6;

    let t = process.hrtime.bigint();
    const wcLines = Number(execFileSync('wc', ['-l', file]).toString().trim().split(/\s+/)[0]);
    const wcSecs = Number(process.hrtime.bigint() - t) / 1e9;
    t = process.hrtime.bigint();
    const splitLines = await nodeSplit(file);
    const splitSecs = Number(process.hrtime.bigint() - t) / 1e9;
    if (wcLines !== count || splitLines !== count) throw new Error(`wc -l ${wcLines}, split ${splitLines}, written ${count}`);

    let run = 0;
    /** The window of issue 6's throughput benchmark: 1 min tumbling on event time, counts by status (an
     * exact top list of statuses), error rate, top-10 client_ip and path, p95 bytes. */
    const WINDOW = [
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
    const visor = async (source: string, parse: boolean, window = false) => {
      const dataDir = path.join(dir, `data-${++run}`); // fresh: no checkpoint
      const config = path.join(dir, `tail-${run}.yaml`);
      await writeFile(config, [
        `service: { data_dir: ${JSON.stringify(dataDir)}, log_level: warn }`,
        'inputs:',
        `  logs: { type: tail, path: [${JSON.stringify(source)}], read_from: beginning, exit_on_eof: true }`,
        ...(parse ? ['filters:', '  access: { type: apache_access, inputs: [logs], format: combined }'] : []),
        ...(window ? WINDOW : []),
        'outputs:',
        `  sink: { type: blackhole, inputs: [${window ? 'per_minute, per_minute._late, access._unparsed' : parse ? 'access, access._unparsed' : 'logs'}] }`,
        '',
      ].join('\n'));
      const r = await runVisor(config);
      await checkpointed(dataDir, 'logs', source, (await stat(source)).size);
      return r;
    };
    const startup = await visor(empty, true); // start-up and shutdown alone
    const tailNull = await visor(file, false);
    const tailParse = await visor(file, true);
    const tailWindow = await visor(file, true, true);

    const row = (label: string, secs: number, note: string) =>
      `  ${label.padEnd(34)} ${fmt(count / secs).padStart(11)} lines/s ${(mb / secs).toFixed(0).padStart(5)} MB/s  ${note}`;
    const rss = (r: { rssMB: number | undefined }) => (r.rssMB === undefined ? 'peak RSS n/a' : `peak RSS ${r.rssMB.toFixed(0)} MB`);
    const net = (secs: number) => `${fmt(count / Math.max(secs - startup.secs, 1e-3))} lines/s without start-up`;
    const verdict = (ok: boolean) => (ok ? 'ok' : 'MISSED');
    return [
      `tail through the CLI: ${fmt(count)} generated combined lines, ${mb.toFixed(0)} MB, read_from: beginning, exit_on_eof; whole process, start-up ${startup.secs.toFixed(2)} s included; peak RSS = VmHWM sampled every 50 ms`,
      row('wc -l FILE', wcSecs, '(baseline)'),
      row('node: 256 KiB reads, a string/line', splitSecs, '(baseline)'),
      row('visor tail -> blackhole', tailNull.secs, `${rss(tailNull)}; ${net(tailNull.secs)}; ${(splitSecs / tailNull.secs * 100).toFixed(0)}% of node split`),
      row('visor tail -> apache_access -> bh', tailParse.secs, `${rss(tailParse)}; ${net(tailParse.secs)}`),
      row('  ... -> window (1m, top-10 x2, p95) -> bh', tailWindow.secs, `${rss(tailWindow)}; ${net(tailWindow.secs)}; target >= 600,000 lines/s and <= 100 MB (${verdict(count / tailWindow.secs >= 600_000 && (tailWindow.rssMB ?? 0) <= 100)})`),
      `  targets: tail -> null >= ${fmt(TARGETS.tailNull)} lines/s (${verdict(count / tailNull.secs >= TARGETS.tailNull)}); ` +
        `tail -> apache_access -> null >= ${fmt(TARGETS.tailParse)} lines/s (${verdict(count / tailParse.secs >= TARGETS.tailParse)}); ` +
        `peak RSS <= ${TARGETS.rssMB} MB (${verdict(Math.max(tailNull.rssMB ?? 0, tailParse.rssMB ?? 0) <= TARGETS.rssMB)}${tailNull.rssMB === undefined ? ', not measured: no /proc' : ''})`,
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('tail.js') || process.argv[1]?.endsWith('tail.ts')) {
  benchTail().then((l) => console.log(l.join('\n')), (err) => { console.error(err); process.exit(1); });
}
