// Start-up of the real CLI, each figure beside `node -e 0` in the same run: `visor --version`, and `visor run` of
// tail (read_from: beginning, exit_on_eof) -> apache_access -> blackhole on a 1-line file (spawn until exit: an upper
// bound of "start-up to the first line read", since it includes reading, delivering and shutting down) and on an
// empty file (the same pipeline, no line). The commands take turns within each round, so a change in the machine's
// load hits all of them alike; medians of ROUNDS rounds.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CLI } from '../support/helpers.js';
import { combinedLines } from './apache-lines.js';

const ROUNDS = 5;
const TARGETS = { versionRatio: 1.5, firstLineSecs: 0.3 };

function timed(args: string[]): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} exited with ${r.status ?? r.signal}\n${r.stderr}`);
  return secs;
}

/** Spawn until the first byte on stdout, and until exit. */
function timedFirstOutput(args: string[]): Promise<{ first: number; exit: number }> {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - start) / 1e9;
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let first: number | undefined;
    let stderr = '';
    child.stdout.once('data', () => { first = since(); });
    child.stdout.resume();
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      const exit = since();
      if (code !== 0 || first === undefined) return reject(new Error(`node ${args.join(' ')} exited with ${code ?? signal}${first === undefined ? ', printing nothing' : ''}\n${stderr}`));
      resolve({ first, exit });
    });
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (secs: number) => `${(secs * 1000).toFixed(0).padStart(5)} ms`;
const verdict = (ok: boolean) => (ok ? 'OK' : 'MISSED');

/** The run read the line and had it delivered: the tail's checkpoint of the file is at its end. */
async function readToTheEnd(dataDir: string, file: string): Promise<void> {
  const cps = JSON.parse(await readFile(path.join(dataDir, 'in', 'checkpoints.json'), 'utf8')) as { files: Record<string, { path: string; offset: number }> };
  const offset = Object.values(cps.files).find((c) => c.path === file)?.offset;
  const size = (await stat(file)).size;
  if (offset !== size) throw new Error(`checkpoint of ${file} at ${offset} of ${size} bytes: the line was not read and delivered`);
}

export async function benchStartup(): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-startup-'));
  try {
    const oneLine = path.join(dir, 'one.log');
    const empty = path.join(dir, 'empty.log');
    await writeFile(oneLine, combinedLines(1, 1).join('\n') + '\n');
    await writeFile(empty, '');
    // A fresh data_dir per run: a checkpoint left by the previous run would make the next one start at the end.
    const config = async (log: string, round: number, output = 'blackhole') => {
      const name = `${path.basename(log, '.log')}-${output}-${round}`;
      const file = path.join(dir, `${name}.yaml`);
      await writeFile(file, `service: { data_dir: ${JSON.stringify(path.join(dir, `data-${name}`))} }
inputs:
  in: { type: tail, path: [${JSON.stringify(log)}], read_from: beginning, exit_on_eof: true }
filters:
  access: { type: apache_access, inputs: [in], format: combined }
outputs:
  sink: { type: ${output}, inputs: [access, access._unparsed] }
`);
      return file;
    };
    const times = { node: [] as number[], version: [] as number[], oneLine: [] as number[], empty: [] as number[], firstOut: [] as number[] };
    timed([CLI, '--version']); // warm the file cache
    for (let round = 0; round < ROUNDS; round++) {
      times.node.push(timed(['-e', '0']));
      times.version.push(timed([CLI, '--version']));
      times.oneLine.push(timed([CLI, 'run', '-c', await config(oneLine, round)]));
      await readToTheEnd(path.join(dir, `data-one-blackhole-${round}`), oneLine);
      times.empty.push(timed([CLI, 'run', '-c', await config(empty, round)]));
      times.firstOut.push((await timedFirstOutput([CLI, 'run', '-c', await config(oneLine, round, 'stdout')])).first);
    }
    const node = median(times.node);
    const version = median(times.version);
    const first = median(times.oneLine);
    const spread = (xs: number[]) => `(${ms(Math.min(...xs)).trim()}-${ms(Math.max(...xs)).trim()})`;
    return [
      `start-up of the CLI, spawn to exit unless said, median of ${ROUNDS} (min-max), ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}:`,
      `  node -e 0                                  ${ms(node)} ${spread(times.node)}  (baseline)`,
      `  visor --version                            ${ms(version)} ${spread(times.version)}  ${(version / node).toFixed(2)}x node -e 0; target <= ${TARGETS.versionRatio}x (${verdict(version / node <= TARGETS.versionRatio)})`,
      `  visor run, tail -> apache_access -> blackhole, 1-line file (start-up to the first line read, upper bound)`,
      `                                             ${ms(first)} ${spread(times.oneLine)}  ${(first / node).toFixed(2)}x node -e 0; target <= ${TARGETS.firstLineSecs * 1000} ms (${verdict(first <= TARGETS.firstLineSecs)})`,
      `  same pipeline, empty file                  ${ms(median(times.empty))} ${spread(times.empty)}  ${(median(times.empty) / node).toFixed(2)}x node -e 0`,
      `  same with stdout for blackhole, 1-line file: spawn to the parsed line on stdout (no shut-down included)`,
      `                                             ${ms(median(times.firstOut))} ${spread(times.firstOut)}  ${(median(times.firstOut) / node).toFixed(2)}x node -e 0`,
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
