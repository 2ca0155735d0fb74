// Whole-process measurements for benchmarks that spawn a program and compare it with a baseline spawned
// in the same run: wall time, CPU time (user + sys), peak RSS; and the statistics printed for repeated runs.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';

/** One line naming the machine, printed above every section's figures: absolute figures belong to it. */
export function machine(): string {
  const cpus = os.cpus();
  return `machine: ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${cpus.length} cores, node ${process.version}, ${os.platform()} ${os.release()}`;
}

let clockTicks: number | undefined;
/** USER_HZ, the unit of the times in /proc/<pid>/stat (100 on Linux x86 and arm). */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/**
 * CPU seconds (user + sys) of this process's children that have been waited for: fields cutime and cstime
 * of /proc/self/stat. The kernel adds a child's times (its threads and its own waited-for children included)
 * when the child is reaped, which libuv does before Node emits 'exit'; so the difference across one child's
 * life is that child's CPU time, as long as no other child is reaped meanwhile (these benchmarks run one
 * process at a time). Node has no rusage of a child, and sampling /proc/<pid>/stat misses the end of the run.
 * Resolution: one tick, 10 ms. undefined without /proc.
 */
function childrenCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // from field 3 (state) on
    return (Number(fields[13]) + Number(fields[14])) / ticksPerSecond(); // fields 16 and 17
  } catch {
    return undefined;
  }
}

export interface Measured {
  secs: number;
  /** user + sys CPU seconds of the process (all its threads), undefined without /proc */
  cpuSecs: number | undefined;
  /** peak RSS (VmHWM) in MB, sampled every 50 ms; undefined without /proc */
  rssMB: number | undefined;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end, from spawn to exit; rejects unless it exits with 0. */
export function measure(command: string, args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const cpuBefore = childrenCpuSeconds();
    const start = process.hrtime.bigint();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
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
    child.on('error', (err) => { clearInterval(timer); reject(err); });
    let exited: { secs: number; cpuSecs: number | undefined } | undefined;
    child.on('exit', () => {
      const secs = Number(process.hrtime.bigint() - start) / 1e9;
      clearInterval(timer);
      const cpuAfter = childrenCpuSeconds();
      exited = { secs, cpuSecs: cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore };
    });
    // 'close' follows 'exit' once stdout and stderr are drained
    child.on('close', (code, signal) => {
      if (code !== 0 || !exited) return reject(new Error(`${command} ${args.join(' ')} exited with ${code ?? signal}\n${stderr}`));
      resolve({ ...exited, rssMB: hwmKB === undefined ? undefined : (hwmKB * 1024) / 1e6, stdout, stderr });
    });
  });
}

export interface Spread { min: number; median: number; max: number }
export function spread(values: number[]): Spread {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return { min: s[0], median: s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2, max: s[s.length - 1] };
}
