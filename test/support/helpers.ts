// Shared test utilities: temporary directories, the CLI as a user runs it, and waiting on real events.
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
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

  /** `wrap`: a command prefix to run the agent under (e.g. setpriv with dropped capabilities). */
  constructor(args: string[], opts: { env?: Record<string, string>; cwd?: string; wrap?: string[] } = {}) {
    const command = [...(opts.wrap ?? []), process.execPath, CLI, ...args];
    this.child = spawn(command[0], command.slice(1), {
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

/** In a `before` hook: when `missing` names why a system package is unavailable, skip the suite with that
 * one-line reason — but fail under CI=true, where .ci/run installs it and a silent skip would hide a test. */
export function skipWhenMissing(ctx: Mocha.Context, missing: string | undefined): void {
  if (!missing) return;
  if (process.env.CI === 'true') throw new Error(`CI=true but ${missing}`);
  console.log(`    skipped: ${missing}`);
  ctx.skip();
}

/** Absolute path of an executable on PATH (plus `extra` directories), or undefined. */
export function onPath(name: string, extra: string[] = []): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(path.delimiter), ...extra]) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch { /* not here */ }
  }
  return undefined;
}

/** A port nothing listens on (it was free a moment ago). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/** A component's custom metrics less those that count what worker threads did (window's and detect's
 * *_partial_dictionaries, an output's visor_worker_encoded_batches_total): there are none with threads 1, so they are
 * the one thing that differs with threads. */
export function sameAcrossThreads(custom: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(custom).filter(([name]) => !name.endsWith('_partial_dictionaries') && name !== 'visor_worker_encoded_batches_total'));
}
