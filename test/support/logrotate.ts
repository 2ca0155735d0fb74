// Real rotations for tests: Debian's logrotate run on demand (its own state file, `-f`), a writer process
// that appends numbered lines as Apache does (O_APPEND, reopened on SIGHUP), and what the log files hold
// afterwards — the ground truth a tailer's output is checked against.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { onPath, ROOT } from './helpers.js';

/** Debian's logrotate (in /usr/sbin, which a user's PATH may lack), or undefined. */
export const LOGROTATE = onPath('logrotate', ['/usr/sbin']);
/** Why the logrotate tests cannot run here, for skipWhenMissing. */
export const logrotateMissing = LOGROTATE ? undefined : 'logrotate is not installed (Debian package logrotate)';

export const WRITER_LINE_BYTES = 64;

export interface Writer {
  child: ChildProcess;
  /** Closes the writer's stdin; resolves with the number after the last line written. */
  stop(): Promise<number>;
}

/** Starts appending `n 0000000 ...` lines to `file` at `rate` lines/s, numbered from `first`. */
export function startWriter(file: string, rate: number, first = 0): Writer {
  const child = spawn(process.execPath, [path.join(ROOT, 'test', 'fixtures', 'numbered-writer.js'), file, String(rate), String(first)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { out += d; });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  return {
    child,
    async stop() {
      child.stdin!.end();
      await closed;
      const n = Number(out.trim());
      if (!Number.isFinite(n)) throw new Error(`the writer did not report its count: ${out} ${err}`);
      return n;
    },
  };
}

export type RotateMode = 'create' | 'copytruncate';

/** Rotates `file` once with logrotate (`rotate`, nocompress; `create` signals the writer with SIGHUP in
 * postrotate, as Apache's config does with a graceful restart). Throws with logrotate's output on failure. */
export async function logrotate(file: string, mode: RotateMode, opts: { writerPid?: number; rotate?: number; dateext?: boolean } = {}): Promise<void> {
  const dir = path.dirname(file);
  const conf = path.join(dir, '..', `logrotate-${path.basename(file)}.conf`);
  const state = path.join(dir, '..', `logrotate-${path.basename(file)}.state`);
  const post = mode === 'create' && opts.writerPid ? `  postrotate\n    kill -HUP ${opts.writerPid}\n  endscript\n` : '';
  await writeFile(conf, `${file} {\n  rotate ${opts.rotate ?? 5}\n  nocompress\n  missingok\n  ${mode}\n${opts.dateext ? '  dateext\n  dateformat -%Y%m%d-%s\n' : ''}${post}}\n`, { mode: 0o644 });
  if (!LOGROTATE) throw new Error(logrotateMissing);
  const r = spawnSync(LOGROTATE, ['-f', '-s', state, conf], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`logrotate failed (${r.status}): ${r.stderr}${r.stdout}`);
}

/** How often each line number occurs in the files of `dir` whose name starts with `prefix`. */
export async function linesInFiles(dir: string, prefix: string): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const name of await readdir(dir)) {
    if (!name.startsWith(prefix)) continue;
    const text = await readFile(path.join(dir, name), 'latin1');
    for (const m of text.matchAll(/^n +(\d{7})$/gm)) {
      const n = Number(m[1]);
      counts.set(n, (counts.get(n) ?? 0) + 1);
    }
  }
  return counts;
}
