// The project's yardstick (../shared/bench beside the repository, also in CI's clone): the deterministic
// 1M-line corpus from gen-corpus.js and reference-scanner.js, the fixed baseline every ratio divides by.
// The corpus (237 MB, ~10 s to generate) is cached in a temp directory across runs.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from '../support/helpers.js';

/** $SHARED_BENCH when set: a worktree elsewhere than beside ../shared (e.g. /work/wt/NAME) still finds it. */
export const SHARED_BENCH = process.env.SHARED_BENCH ?? path.resolve(ROOT, '../shared/bench');
export const SCANNER = path.join(SHARED_BENCH, 'reference-scanner.js');
const GENERATOR = path.join(SHARED_BENCH, 'gen-corpus.js');

export function sharedBenchAvailable(): boolean {
  return existsSync(SCANNER) && existsSync(GENERATOR);
}

export interface Corpus { file: string; lines: number; bytes: number; note: string }

/**
 * access.log of `lines` lines from gen-corpus.js, in $PERF_DIR or a temp directory kept across runs. It is
 * reused when its size and the generator are those recorded beside it when it was written (a run killed
 * while generating leaves no record, so it is written again).
 */
export async function sharedCorpus(lines: number): Promise<Corpus> {
  const dir = process.env.PERF_DIR ?? path.join(os.tmpdir(), `visor-bench-corpus-${lines}`);
  const file = path.join(dir, 'access.log');
  const recordFile = path.join(dir, 'access.log.visor-bench.json');
  const generator = createHash('sha256').update(readFileSync(GENERATOR)).digest('hex');
  try {
    const record = JSON.parse(await readFile(recordFile, 'utf8')) as { lines: number; bytes: number; generator: string };
    if (record.lines === lines && record.generator === generator && (await stat(file)).size === record.bytes) {
      return { file, lines, bytes: record.bytes, note: `${path.relative(ROOT, GENERATOR)}, reused from an earlier run` };
    }
  } catch { /* not generated yet */ }
  await mkdir(dir, { recursive: true });
  // the second argument is error.log's line count, which these benchmarks do not read
  execFileSync(process.execPath, [GENERATOR, String(lines), '1'], { cwd: dir, env: { ...process.env, PERF_DIR: dir }, stdio: 'ignore' });
  const counted = Number(execFileSync('wc', ['-l', file], { encoding: 'utf8' }).trim().split(/\s+/)[0]);
  if (counted !== lines) throw new Error(`gen-corpus.js wrote ${counted} lines, asked for ${lines}`);
  const bytes = (await stat(file)).size;
  await writeFile(recordFile, JSON.stringify({ lines, bytes, generator }));
  return { file, lines, bytes, note: `${path.relative(ROOT, GENERATOR)}, generated now` };
}
