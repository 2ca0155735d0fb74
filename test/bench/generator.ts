// `rate: max` generator throughput, written to a file, per format, beside a plain loop that writes a fixed
// line the same number of times to a file in the same run.
import { createWriteStream, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runGenerate } from '../../bin/generate-run.js';

const LINE = '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"\n';

async function plainLoop(file: string, count: number): Promise<number> {
  const t = process.hrtime.bigint();
  const out = createWriteStream(file);
  let chunk = '';
  for (let i = 0; i < count; i++) {
    chunk += LINE;
    if ((i + 1) % 1000 === 0) {
      if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
      chunk = '';
    }
  }
  await new Promise<void>((r) => out.end(chunk, () => r()));
  return Number(process.hrtime.bigint() - t) / 1e9;
}

export async function benchGenerator(count = Number(process.env.BENCH_GENERATOR_LINES ?? 1_000_000)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-gen-bench-'));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  try {
    const lines = [`generator, rate: max, ${fmt(count)} lines per format, written to a file (in-process pipeline):`];
    const base = await plainLoop(path.join(dir, 'plain.log'), count);
    lines.push(`  plain loop writing a fixed line  ${fmt(count / base).padStart(11)} lines/s  ${(statSync(path.join(dir, 'plain.log')).size / 1e6 / base).toFixed(0).padStart(5)} MB/s  (baseline)`);
    for (const format of ['common', 'combined', 'vhost_combined', 'combinedio', 'error_2.2', 'error_2.4']) {
      const file = path.join(dir, `${format}.log`);
      const t = process.hrtime.bigint();
      await runGenerate({ format, rate: 'max', count, seed: 1 }, { kind: 'stream', file });
      const secs = Number(process.hrtime.bigint() - t) / 1e9;
      const mb = statSync(file).size / 1e6;
      lines.push(`  ${format.padEnd(32)} ${fmt(count / secs).padStart(11)} lines/s  ${(mb / secs).toFixed(0).padStart(5)} MB/s  (${((base / secs) * 100).toFixed(0)}% of the plain loop)`);
      await rm(file);
    }
    lines.push('  target: >= 500,000 combined lines/s');
    return lines;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('generator.js')) benchGenerator().then((l) => console.log(l.join('\n')));
