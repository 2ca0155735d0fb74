// The aggregator tier of the Kafka scale-out (configs/cluster/aggregator.yaml as real `visor run` processes)
// against librdkafka's mock cluster (3 brokers, hosted by kcat): a seeded generator's combined lines are put on
// a 4-partition topic keyed by client_ip first, then 1 and then 2 aggregator processes (one consumer group)
// parse them, window them (1 min, status counts, error rate, top status/client_ip/path, p50/95/99 bytes,
// distinct clients) and send partials. Timed from the first watermark to the moment every partition's
// watermark reached its last event (read from the partials topic). Skipped with a line when kcat is missing.
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CliProcess, ROOT, runCli } from '../support/helpers.js';
import { MockKafka, kcatMissing } from '../support/kafka.js';

const TOTAL = Number(process.env.BENCH_CLUSTER_EVENTS ?? 600_000);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
/** Messages per partition of the last preload (client_ip keys do not spread evenly). */
const perPartition: number[] = [];
/** Group joins per aggregator process in each run (more than one: a rebalance happened mid-run). */
const joins: Record<string, number[]> = {};

interface Line { key: string; value: string; time: number }

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
function parseTime(line: string): number {
  const m = /\[(\d\d)\/(\w\w\w)\/(\d{4}):(\d\d):(\d\d):(\d\d) \+0000\]/.exec(line)!;
  return Date.UTC(Number(m[3]), MONTHS[m[2]], Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
}

/** Puts the lines on `topic` keyed by client address (gzip: the mock keeps ~5 MB per partition); returns the
 * newest event time per partition. */
async function preload(brokers: string[], topic: string, lines: Line[]): Promise<Map<number, number>> {
  const { Kafka, Partitioners, CompressionTypes, logLevel } = (await import('kafkajs')).default;
  const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = [0, 1, 2, 3].map((p) => ({ partitionId: p, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
  const newest = new Map<number, number>();
  perPartition.length = 0;
  for (let i = 0; i < lines.length; i += 2000) {
    const messages = lines.slice(i, i + 2000).map((l) => {
      const partition = partitioner({ topic, partitionMetadata, message: { key: l.key, value: l.value } });
      newest.set(partition, Math.max(newest.get(partition) ?? -Infinity, l.time));
      perPartition[partition] = (perPartition[partition] ?? 0) + 1;
      return { key: l.key, value: l.value, partition };
    });
    await producer.send({ topic, messages, compression: CompressionTypes.GZIP });
  }
  await producer.disconnect();
  return newest;
}

/** Watches the partials topic: the time of the first watermark, and of the moment every partition reached its newest event. */
async function watchWatermarks(brokers: string[], topic: string, group: string, newest: Map<number, number>): Promise<{ ready: Promise<void>; done: Promise<[number, number]>; stop: () => Promise<void> }> {
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const consumer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 300, rebalanceTimeout: 3000, maxWaitTimeInMs: 50 });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const marks = new Map<number, number>();
  let first = 0;
  let resolveDone!: (v: [number, number]) => void;
  const done = new Promise<[number, number]>((r) => (resolveDone = r));
  let resolveReady!: () => void;
  const ready = new Promise<void>((r) => (resolveReady = r));
  consumer.on(consumer.events.GROUP_JOIN, () => resolveReady());
  await consumer.run({
    eachMessage: async ({ message }) => {
      const e = JSON.parse(message.value!.toString()) as { partial: { partition: number; watermark: number | null } };
      const now = Date.now();
      if (typeof e.partial.watermark !== 'number') return;
      if (!first) first = now;
      if (e.partial.watermark > (marks.get(e.partial.partition) ?? -Infinity)) marks.set(e.partial.partition, e.partial.watermark);
      if ([...newest].every(([p, t]) => (marks.get(p) ?? -Infinity) >= t)) resolveDone([first, now]);
    },
  });
  return { ready, done, stop: () => consumer.disconnect() };
}

async function aggregatorTier(brokers: string[], dir: string, run: string, processes: number, lines: Line[]): Promise<number> {
  const events = `bench-events-${run}`;
  const partials = `bench-partials-${run}`;
  const newest = await preload(brokers, events, lines);
  const watcher = await watchWatermarks(brokers, partials, `bench-watch-${run}`, newest);
  // The shipped config, with lateness 0 (the lines are in time order) and watermarks every 100 ms for timing.
  const config = path.join(dir, `aggregator-${run}.yaml`);
  writeFileSync(config, readFileSync(path.join(ROOT, 'configs/cluster/aggregator.yaml'), 'utf8').replace('    idle_timeout:', '    watermark_interval: 100ms\n    idle_timeout:'));
  const env = {
    KAFKAJS_NO_PARTITIONER_WARNING: '1', KAFKA_BROKERS: brokers.join(','), EVENTS_TOPIC: events, PARTIALS_TOPIC: partials,
    AGGREGATOR_GROUP: `bench-aggregators-${run}`, KAFKA_SESSION_TIMEOUT: '6s', KAFKA_HEARTBEAT_INTERVAL: '300ms', KAFKA_REBALANCE_TIMEOUT: '3s',
    ALLOWED_LATENESS: '0s', VISOR_LOG_LEVEL: 'info',
  };
  const procs = Array.from({ length: processes }, (_, i) => new CliProcess(['run', '-c', config], { env: { ...env, VISOR_DATA_DIR: path.join(dir, `${run}-${i}`) } }));
  try {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`aggregators (${processes}) did not finish in 180 s: ${procs.map((p) => p.stderr.slice(-1000)).join('\n')}`)), 180_000);
    });
    const [first, last] = await Promise.race([watcher.done, timeout]).finally(() => clearTimeout(timer));
    joins[run] = procs.map((p) => p.stderr.split('joined consumer group').length - 1);
    return TOTAL / ((last - first) / 1000);
  } finally {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await watcher.stop();
  }
}

export async function benchCluster(): Promise<string[]> {
  const missing = kcatMissing();
  if (missing) return [`cluster: skipped (${missing})`];
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-cluster-'));
  const mock = await new MockKafka().start(3);
  try {
    const file = path.join(dir, 'all.log');
    const r = await runCli(['generate', '--count', String(TOTAL), '--seed', '7', '--rate', '500', '--start-time', '2026-11-25T00:00:00Z', '--speed', 'max', '--timezone', '+0000', '-o', file]);
    if (r.code !== 0) throw new Error(r.stderr);
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((value) => ({ key: value.slice(0, value.indexOf(' ')), value, time: parseTime(value) }));
    const one = await aggregatorTier(mock.brokers, dir, 'one', 1, lines);
    const two = await aggregatorTier(mock.brokers, dir, 'two', 2, lines);
    return [
      `cluster aggregator tier (configs/cluster/aggregator.yaml: kafka input -> apache_access -> window emit: partials -> kafka output), ${fmt(TOTAL)} combined lines on 4 partitions, ${os.cpus().length} cores:`,
      `  1 aggregator process: ${fmt(one)} events/s; 2 processes in one group: ${fmt(two)} events/s (scaling ${(two / one).toFixed(2)}x; group joins per process: ${JSON.stringify(joins)}; events per partition: ${perPartition.map((n) => `${Math.round((100 * n) / TOTAL)}%`).join(' ')})`,
    ];
  } finally {
    await mock.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('cluster.ts') || process.argv[1]?.endsWith('cluster.js')) {
  benchCluster().then((lines) => console.log(lines.join('\n')), (err) => {
    console.error(err);
    process.exit(1);
  });
}
