// Alert latency end to end through the real CLI: a combined access line with status 500 is appended to a
// tailed file -> apache_access -> alert (per-event rule, cooldown 0) -> email -> a loopback SMTP server in
// this process. Latency = SMTP receive time - append time, per line. Baseline in the same run: the same
// appends seen by a plain fs.watch + read loop in this process (what part is the filesystem notification).
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readSync, watch, writeSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import { CLI } from '../support/helpers.js';
import { startSmtp, type Received } from '../support/smtp.js';
import { rng } from './apache-lines.js';

const TARGET_P99_MS = 100;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]! : NaN;
}

function accessLine(k: number, now = new Date()): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const ts = `${pad(now.getUTCDate())}/${MONTHS[now.getUTCMonth()]}/${now.getUTCFullYear()}:${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())} +0000`;
  return `10.0.${(k >> 8) & 255}.${k & 255} - - [${ts}] "GET /err-${k} HTTP/1.1" 500 512 "-" "visor-bench/1.0"`;
}

/** Starts the CLI and resolves once it logged `visor started`. */
function startVisor(config: string): Promise<{ child: ChildProcess; stderr: () => string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'run', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    let started = false;
    const timer = setTimeout(() => { child.kill('SIGTERM'); reject(new Error(`visor did not start within 30 s\n${stderr}`)); }, 30_000);
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (!started && /visor started/.test(stderr)) {
        started = true;
        clearTimeout(timer);
        resolve({ child, stderr: () => stderr });
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!started) { clearTimeout(timer); reject(new Error(`visor exited with ${code ?? signal} before starting\n${stderr}`)); }
    });
  });
}

function stopVisor(child: ChildProcess): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code, signal) => { clearTimeout(kill); resolve(code ?? signal); });
    child.kill('SIGTERM');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function benchAlertLatency(count = Number(process.env.BENCH_ALERT_LINES ?? 200)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-alert-'));
  const smtp = await startSmtp();
  let visor: { child: ChildProcess; stderr: () => string } | undefined;
  let watcher: ReturnType<typeof watch> | undefined;
  let fd: number | undefined;
  try {
    // stamp every message the SMTP server accepts with its receive time (same clock as the appends)
    const received = new Map<number, number>(); // k -> receive time
    const unmatched: Received[] = [];
    const messages = smtp.messages;
    messages.push = (...items: Received[]) => {
      const t = performance.now();
      for (const m of items) {
        const k = /\/err-(\d+)\b/.exec(`${m.subject}\n${m.text}\n${m.raw}`);
        if (k && !received.has(Number(k[1]))) received.set(Number(k[1]), t);
        else unmatched.push(m);
      }
      return Array.prototype.push.apply(messages, items);
    };

    // second baseline: one message per new SMTP connection (as the email output sends), straight from this
    // process to the same server: the floor of a delivery (smtp-server waits 100 ms before its greeting)
    const direct: number[] = [];
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false });
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await transport.sendMail({ from: 'visor@example.com', to: ['ops@example.com'], subject: `probe /err-probe`, text: 'probe' });
      direct.push(performance.now() - t);
    }
    transport.close();
    direct.sort((a, b) => a - b);
    messages.length = 0;
    unmatched.length = 0;

    const file = path.join(dir, 'access.log');
    await writeFile(file, '');
    const config = path.join(dir, 'alert.yaml');
    await writeFile(config, [
      `service: { data_dir: ${JSON.stringify(path.join(dir, 'data'))}, log_level: info }`,
      'inputs:',
      `  logs: { type: tail, path: [${JSON.stringify(file)}], read_from: beginning }`,
      'filters:',
      '  access: { type: apache_access, inputs: [logs], format: combined }',
      'aggregates:',
      '  alerts:',
      '    type: alert',
      '    inputs: [access]',
      "    rules: [{ name: server-error, when: 'status >= 500', cooldown: 0 }]",
      'outputs:',
      '  mail:',
      '    type: email',
      '    inputs: [alerts]',
      `    host: 127.0.0.1`,
      `    port: ${smtp.port}`,
      '    secure: false',
      '    max_per_minute: 0',
      '    from: visor@example.com',
      '    to: [ops@example.com]',
      '  rest: { type: blackhole, inputs: [access._unparsed] }',
      '',
    ].join('\n'));

    // baseline: fs.watch + read of the new bytes, in this process
    const seen = new Map<number, number>(); // k -> time this process read the line
    const rfd = openSync(file, 'r');
    let offset = 0;
    let rest = '';
    const buf = Buffer.alloc(64 * 1024);
    const drain = () => {
      for (;;) {
        const n = readSync(rfd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        const t = performance.now();
        const parts = (rest + buf.toString('utf8', 0, n)).split('\n');
        rest = parts.pop()!;
        for (const line of parts) {
          const k = /\/err-(\d+)\b/.exec(line);
          if (k && !seen.has(Number(k[1]))) seen.set(Number(k[1]), t);
        }
      }
    };
    watcher = watch(file, () => drain());

    const t0 = performance.now();
    visor = await startVisor(config);
    const startupMs = performance.now() - t0;
    await sleep(300); // let the tailer settle on the (empty) file

    const random = rng(20240501);
    const appended = new Map<number, number>(); // k -> append time
    fd = openSync(file, 'a');
    for (let k = 0; k < count; k++) {
      const line = accessLine(k) + '\n';
      const t = performance.now();
      writeSync(fd, line);
      appended.set(k, t);
      await sleep(20 + Math.floor(random() * 61)); // 20–80 ms
    }
    closeSync(fd);
    fd = undefined;

    const deadline = Date.now() + 30_000;
    while ((received.size < count || seen.size < count) && Date.now() < deadline) await sleep(20);
    watcher.close();
    watcher = undefined;
    closeSync(rfd);

    const code = await stopVisor(visor.child);
    const stderr = visor.stderr();
    visor = undefined;
    await sleep(200); // a message sent while draining at shutdown still counts (and would be a duplicate)

    if (received.size !== count || unmatched.length) {
      throw new Error(`SMTP server received ${smtp.messages.length} messages, ${received.size} distinct of ${count} lines appended` +
        `${unmatched.length ? `, ${unmatched.length} unmatched (first subject: ${unmatched[0]!.subject})` : ''}\n${stderr.slice(-4000)}`);
    }
    if (smtp.messages.length !== count) throw new Error(`SMTP server received ${smtp.messages.length} messages for ${count} lines (duplicates)`);
    if (seen.size !== count) throw new Error(`fs.watch baseline saw ${seen.size} of ${count} lines`);

    const lat = (m: Map<number, number>) => [...appended].map(([k, t]) => m.get(k)! - t).sort((a, b) => a - b);
    const e2e = lat(received);
    const fsw = lat(seen);
    const row = (label: string, s: number[], note: string) =>
      `  ${label.padEnd(40)} p50 ${percentile(s, 50).toFixed(1).padStart(6)}  p90 ${percentile(s, 90).toFixed(1).padStart(6)}  p99 ${percentile(s, 99).toFixed(1).padStart(6)}  max ${s[s.length - 1]!.toFixed(1).padStart(6)} ms  ${note}`;
    const p99 = percentile(e2e, 99);
    const span = (m: Map<number, number>) => { const v = [...m.values()]; return (Math.max(...v) - Math.min(...v)) / 1000; };
    const rates = `appended ${(count / span(appended)).toFixed(1)}/s, delivered ${(count / span(received)).toFixed(1)}/s`;
    return [
      `alert latency through the CLI: ${count} status-500 combined lines appended at seeded random 20–80 ms intervals to a tailed file; ` +
        `tail (read_from: beginning, poll defaults) -> apache_access -> alert (status >= 500, cooldown 0) -> email (max_per_minute 0) -> loopback SMTP; ` +
        `start-up ${startupMs.toFixed(0)} ms; visor exit on SIGTERM: ${code}`,
      row('fs.watch + read in this process', fsw, `(baseline) ${seen.size}/${count} lines seen`),
      row('nodemailer send, new connection each', direct, '(baseline) 20 messages, one at a time, same SMTP server'),
      row('append -> e-mail received by SMTP', e2e, `${received.size}/${count} messages received; ${rates}; target p99 <= ${TARGET_P99_MS} ms (${p99 <= TARGET_P99_MS ? 'ok' : 'MISSED'})`),
    ];
  } finally {
    watcher?.close();
    if (fd !== undefined) closeSync(fd);
    if (visor) await stopVisor(visor.child);
    await smtp.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('alert-latency.js') || process.argv[1]?.endsWith('alert-latency.ts')) {
  benchAlertLatency().then((l) => console.log(l.join('\n')), (err) => { console.error(err); process.exit(1); });
}
