// Kafka for the tests: librdkafka's in-process mock cluster hosted by Debian's kcat (3 brokers on real
// 127.0.0.1 ports; topics auto-created with 4 partitions), and kcat as an independent consumer to check
// what was produced. See ../shared/notes/components.md (Kafka).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { onPath, skipWhenMissing } from './helpers.js';

/** Why Kafka tests cannot run here (kcat missing), or undefined. */
export function kcatMissing(): string | undefined {
  return onPath('kcat') ? undefined : 'kcat is not installed (apt-get install kcat): Kafka tests need its mock cluster';
}

/** In a `before` hook: skip with a reason when kcat is missing; fail under CI=true. */
export function requireKcat(ctx: Mocha.Context): void {
  skipWhenMissing(ctx, kcatMissing());
}

export class MockKafka {
  brokers: string[] = [];
  private child: ChildProcess | undefined;

  /** Starts `kcat -P` as the host of a mock cluster of `brokers` brokers; resolves with the broker list. */
  async start(brokers = 3): Promise<this> {
    const child = spawn('kcat', ['-P', '-t', '__keepalive', '-b', 'unused:9092', '-X', `test.mock.num.brokers=${brokers}`], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    this.child = child;
    let stderr = '';
    this.brokers = await new Promise<string[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`kcat mock cluster did not start: ${stderr}`)), 10_000);
      child.on('error', (err) => { clearTimeout(timer); reject(err); });
      child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kcat exited (${code}): ${stderr}`)); });
      child.stderr!.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
        const m = /replaced with (\S+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1].split(',').filter(Boolean));
        }
      });
    });
    child.removeAllListeners('exit');
    return this;
  }

  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('close', () => r()));
    child.stdin!.end();
    child.kill('SIGTERM');
    await exited;
  }
}

export interface KcatMessage { partition: number; offset: number; key: string; value: string }

/** Reads a whole topic from the beginning with kcat (a client nobody here wrote) and exits at its end. */
export function kcatConsume(brokers: string[], topic: string): Promise<KcatMessage[]> {
  return new Promise((resolve, reject) => {
    execFile('kcat', ['-C', '-b', brokers.join(','), '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%p\t%o\t%k\t%s\n'],
      { maxBuffer: 1024 * 1024 * 1024, timeout: 120_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`kcat -C failed: ${err.message}\n${stderr}`));
        const out: KcatMessage[] = [];
        for (const line of stdout.split('\n')) {
          if (!line) continue;
          const a = line.indexOf('\t');
          const b = line.indexOf('\t', a + 1);
          const c = line.indexOf('\t', b + 1);
          out.push({ partition: Number(line.slice(0, a)), offset: Number(line.slice(a + 1, b)), key: line.slice(b + 1, c), value: line.slice(c + 1) });
        }
        resolve(out);
      });
  });
}

/** How many messages `topic` holds: the sum of its partitions' end offsets (`kcat -Q`, timestamp -1 = the end),
 * read from the brokers themselves. `partitions`: the topic's partition count (the mock auto-creates 4). */
export function kcatMessageCount(brokers: string[], topic: string, partitions = 4): Promise<number> {
  const args = ['-Q', '-b', brokers.join(',')];
  for (let p = 0; p < partitions; p++) args.push('-t', `${topic}:${p}:-1`);
  return new Promise((resolve, reject) => {
    execFile('kcat', args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`kcat -Q failed: ${err.message}\n${stderr}`));
      const offsets = [...stdout.matchAll(/\[(\d+)\] offset (-?\d+)/g)];
      if (offsets.length !== partitions) return reject(new Error(`kcat -Q: ${offsets.length} of ${partitions} partitions in its answer:\n${stdout}${stderr}`));
      resolve(offsets.reduce((n, m) => n + Math.max(0, Number(m[2])), 0));
    });
  });
}
