// `npm run bench`: throughput of the core, each figure beside a baseline measured in the same run,
// because absolute numbers on shared 2-core machines are noisy. Not a test: it asserts nothing.
import { execFileSync, spawnSync } from 'node:child_process';
import { createWriteStream, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Event } from '../../core/index.js';
import { loadRegistry } from '../../core/registry.js';
import { benchAccessParser } from './parsers-access.js';
import { benchErrorParser } from './parsers-error.js';
import { benchEnrichment } from './enrichment.js';
import { benchEnrichmentGeo } from './enrichment-geo.js';
import { benchGenerator } from './generator.js';
import { benchTail } from './tail.js';
import { benchAlertLatency } from './alert-latency.js';
import { benchAnalyze } from './analyze.js';
import { benchDetect } from './detect.js';
import { benchCluster } from './cluster.js';
import { benchFileOutput } from './file-output.js';
import { benchStore } from './store.js';
import { benchStoreHistory } from './store-history.js';
import { benchKafka } from './kafka.js';
import { benchTcp } from './tcp.js';
import { benchHttpOutput } from './http-output.js';
import { benchStartup } from './startup.js';
import { LINE_TEXT, latencies } from './plugins.js';
import { buildPipeline } from './pipeline.js';
import { machine } from './measure.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');
const TOTAL = Number(process.env.BENCH_EVENTS ?? 5_000_000);

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;
}
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** The same array work the pipeline does, in a plain loop: build batches, pass them through 3 functions. */
function baselineLoop(total: number, batchSize: number): number {
  const pass = (events: Event[]) => events;
  const stages = [pass, pass, pass];
  let consumed = 0;
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < total; ) {
    const n = Math.min(batchSize, total - sent);
    let events: Event[] = new Array(n);
    for (let i = 0; i < n; i++) events[i] = { message: LINE_TEXT };
    sent += n;
    for (const s of stages) events = s(events);
    consumed += events.length;
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  if (consumed !== total) throw new Error('baseline lost events');
  return total / secs;
}

async function corePipeline(total: number, batchSize: number): Promise<number> {
  const pluginsModule = path.join(HERE, 'plugins.js');
  const yaml = `
service: { plugins: [${JSON.stringify(pluginsModule)}] }
inputs:
  src: { type: bench_lines, total: ${total}, batch_size: ${batchSize} }
filters:
  f1: { type: bench_passthrough, inputs: [src] }
  f2: { type: bench_passthrough, inputs: [f1] }
  f3: { type: bench_passthrough, inputs: [f2] }
outputs:
  sink: { type: blackhole, inputs: [f3] }
`;
  const { pipeline, metrics } = await buildPipeline(yaml, 'bench.yaml');
  latencies.length = 0;
  const start = process.hrtime.bigint();
  await pipeline.start();
  await pipeline.done();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const received = metrics.snapshot().sink.received_events;
  if (received !== total) throw new Error(`pipeline delivered ${received} of ${total}`);
  return total / secs;
}

/** stdin -> blackhole through the real CLI, beside `wc -l` reading the same file. */
async function stdinPipeline(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-'));
  try {
    const corpus = path.resolve(ROOT, '../shared/corpora/elastic-examples-apache_logs/apache_logs');
    const source = readFileSync(corpus);
    const file = path.join(dir, 'access.log');
    const out = createWriteStream(file);
    for (let i = 0; i < 40; i++) out.write(source);
    await new Promise((r) => out.end(r));
    const bytes = statSync(file).size;
    const lines = Number(execFileSync('wc', ['-l', file]).toString().trim().split(/\s+/)[0]);
    const config = path.join(dir, 'stdin.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(config, 'inputs:\n  in: { type: stdin }\noutputs:\n  sink: { type: blackhole, inputs: [in] }\n');
    const parseConfig = path.join(dir, 'parse.yaml');
    writeFileSync(parseConfig, 'inputs:\n  in: { type: stdin }\nfilters:\n  access: { type: apache_access, inputs: [in], format: combined }\noutputs:\n  sink: { type: blackhole, inputs: [access, access._unparsed] }\n');

    const time = (cmd: string, args: string[], input?: string) => {
      const t = process.hrtime.bigint();
      const r = spawnSync(cmd, args, { stdio: [input ? 'pipe' : 'ignore', 'ignore', 'pipe'], input: input ? readFileSync(input) : undefined, maxBuffer: 1 << 30 });
      if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
      return Number(process.hrtime.bigint() - t) / 1e9;
    };
    const wc = time('wc', ['-l', file]);
    const catWc = time('sh', ['-c', `cat ${file} | wc -l`]);
    const visor = time('sh', ['-c', `cat ${file} | ${process.execPath} ${path.join(ROOT, 'bin/run.js')} run -c ${config}`]);
    const visorParse = time('sh', ['-c', `cat ${file} | ${process.execPath} ${path.join(ROOT, 'bin/run.js')} run -c ${parseConfig}`]);
    const mb = bytes / 1e6;
    console.log(`\nthe CLI reading stdin (${fmt(lines)} real access lines, ${mb.toFixed(0)} MB, elastic corpus x40)`);
    console.log(`  wc -l FILE          ${fmt(lines / wc).padStart(13)} lines/s  ${(mb / wc).toFixed(0).padStart(6)} MB/s  (baseline)`);
    console.log(`  cat FILE | wc -l    ${fmt(lines / catWc).padStart(13)} lines/s  ${(mb / catWc).toFixed(0).padStart(6)} MB/s  (baseline)`);
    console.log(`  cat FILE | visor    ${fmt(lines / visor).padStart(13)} lines/s  ${(mb / visor).toFixed(0).padStart(6)} MB/s  stdin -> blackhole (whole CLI, start-up included)`);
    console.log(`  cat FILE | visor    ${fmt(lines / visorParse).padStart(13)} lines/s  ${(mb / visorParse).toFixed(0).padStart(6)} MB/s  stdin -> apache_access -> blackhole`);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function benchCore(): Promise<void> {
  console.log('synthetic input -> 3 pass-through filters -> blackhole, in-process');
  for (const batch of [1000, 100]) {
    baselineLoop(Math.min(TOTAL, 500_000), batch); // warm-up
    await corePipeline(Math.min(TOTAL, 500_000), batch);
    const base = baselineLoop(TOTAL, batch);
    const core = await corePipeline(TOTAL, batch);
    const sorted = [...latencies].sort((a, b) => a - b);
    console.log(`  batch ${String(batch).padStart(4)}: plain loop ${fmt(base).padStart(12)} events/s | pipeline ${fmt(core).padStart(12)} events/s (${((core / base) * 100).toFixed(0)}% of the loop)` +
      ` | emit->ack ms p50 ${percentile(sorted, 50).toFixed(2)} p99 ${percentile(sorted, 99).toFixed(2)} max ${sorted[sorted.length - 1].toFixed(2)}`);
  }
  console.log(`  peak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
}

const print = (lines: string[]) => console.log(lines.join('\n'));

/** Sections in run order; `npm run bench -- tcp kafka` runs only those named. */
const SECTIONS: Array<[string, () => Promise<void>]> = [
  ['core', benchCore],
  ['startup', async () => print(await benchStartup())],
  ['parsers', async () => { print(await benchAccessParser()); console.log(''); print(await benchErrorParser()); }],
  ['enrichment', async () => print([...await benchEnrichment(), ...await benchEnrichmentGeo()])],
  ['generator', async () => print(await benchGenerator())],
  ['stdin', stdinPipeline],
  ['tail', async () => print(await benchTail())],
  ['alert', async () => print(await benchAlertLatency())],
  ['analyze', async () => print(await benchAnalyze())],
  ['detect', async () => print(await benchDetect())],
  ['file', async () => print(await benchFileOutput())],
  ['store', async () => { print(await benchStore()); console.log(''); print(await benchStoreHistory()); }],
  ['tcp', async () => print(await benchTcp())],
  ['http', async () => print(await benchHttpOutput())],
  ['kafka', async () => print(await benchKafka())],
  ['cluster', async () => print(await benchCluster())],
];

async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((w) => !SECTIONS.some(([name]) => name === w));
  if (unknown.length) throw new Error(`unknown bench section(s) ${unknown.join(', ')}; choose from ${SECTIONS.map(([n]) => n).join(', ')}`);
  console.log(`Visor benchmarks — ${machine()}; ${fmt(TOTAL)} events per core run`);
  for (const [name, run] of SECTIONS) {
    if (wanted.length && !wanted.includes(name)) continue;
    console.log('');
    await run();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
