// Shared test utilities: temporary directories, the CLI as a user runs it, and waiting on real events.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const twoUp = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The repository root, whether this runs from test/support (tsx) or dist/test/support (benchmarks). */
export const ROOT = path.basename(twoUp) === 'dist' ? path.dirname(twoUp) : twoUp;
export const CLI = path.join(ROOT, 'bin', 'run.js');

export async function tempDir(prefix = 'visor-test-'): Promise<{ dir: string; file(name: string, text: string): Promise<string>; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return {
    dir,
    async file(name, text) {
      const p = path.join(dir, name);
      await writeFile(p, text);
      return p;
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

export interface CliResult { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** A running `visor` process whose output is collected as it arrives. */
export class CliProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly exited: Promise<CliResult>;
  private listeners: Array<() => void> = [];

  constructor(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8').on('data', (d: string) => { this.stdout += d; this.notify(); });
    this.child.stderr!.setEncoding('utf8').on('data', (d: string) => { this.stderr += d; this.notify(); });
    this.exited = new Promise((resolve) => {
      this.child.on('close', (code, signal) => { this.notify(); resolve({ code, signal, stdout: this.stdout, stderr: this.stderr }); });
    });
  }

  private notify(): void {
    for (const l of this.listeners) l();
  }

  /** Resolves when `test` holds on the collected output; rejects after `ms` with what was seen. */
  waitFor(test: (p: CliProcess) => boolean, what: string, ms = 15000): Promise<void> {
    return new Promise((resolve, reject) => {
      const check = () => {
        if (!test(this)) return false;
        cleanup();
        resolve();
        return true;
      };
      const timer = setTimeout(() => { cleanup(); reject(new Error(`timed out waiting for ${what}\nstdout: ${this.stdout.slice(-2000)}\nstderr: ${this.stderr.slice(-2000)}`)); }, ms);
      const onExit = () => { if (!check()) { cleanup(); reject(new Error(`process exited while waiting for ${what}\nstderr: ${this.stderr.slice(-2000)}`)); } };
      const cleanup = () => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== listener);
        this.child.off('close', onExit);
      };
      const listener = () => void check();
      this.listeners.push(listener);
      this.child.once('close', onExit);
      check();
    });
  }

  waitForStderr(re: RegExp, ms?: number): Promise<void> {
    return this.waitFor((p) => re.test(p.stderr), `stderr to match ${re}`, ms);
  }
}

export async function runCli(args: string[], opts: { input?: string; env?: Record<string, string>; cwd?: string } = {}): Promise<CliResult> {
  const p = new CliProcess(args, opts);
  p.child.stdin!.end(opts.input ?? '');
  return p.exited;
}
