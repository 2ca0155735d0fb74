// The kafka output and input against a real Kafka protocol peer: librdkafka's mock cluster (3 brokers, hosted
// by kcat), checked with kcat -C, a client nobody here wrote. Agents are real `visor run` processes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Kafka, Partitioners, logLevel } from 'kafkajs';
import { definePlugin, type Event } from '../core/index.js';
import { CliProcess, freePort, onPath, tempDir } from './support/helpers.js';
import { pipelineWith, probesOf } from './support/pipeline-harness.js';
import { MockKafka, kcatConsume, requireKcat } from './support/kafka.js';
import { KafkaProxy } from './support/kafka-proxy.js';

process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
const GROUP_TIMINGS = 'session_timeout: 4s, heartbeat_interval: 300ms, rebalance_timeout: 3s';

/** Emits { n, client_ip, message } in batches of 1000; client_ip takes 500 values. */
const clientsInput = definePlugin<{ total: number }, 'input'>({
  kind: 'input',
  name: 'test_kafka_clients',
  description: 'Numbered events with one of 500 client addresses.',
  schema: { type: 'object', properties: { total: { type: 'integer', default: 1000 } } },
  create(options, ctx) {
    const p = probesOf(ctx)(ctx.id);
    return {
      async run({ emit, signal }) {
        for (let n = 0, b = 0; n < options.total && !signal.aborted; b++) {
          const events: Event[] = [];
          for (let i = 0; i < 1000 && n < options.total; i++, n++) events.push({ n, client_ip: `10.1.${n % 5}.${(n * 7) % 100}`, message: `event ${n}` });
          p.emitted = n;
          await emit(events, { onAck: (result) => p.acks.push({ batch: b, result, at: Date.now() }) });
        }
      },
    };
  },
});

/** A paced input for CLI agents, loaded by path: `count` events { n, message: "m-<n>" }, `batch` at a time. */
const SEQ_PLUGIN = `export default {
  kind: 'input', name: 'test_seq', description: 'numbered events',
  schema: { type: 'object', properties: { count: { type: 'integer' }, batch: { type: 'integer' }, pause_ms: { type: 'integer' } } },
  create(o) {
    return { async run({ emit, signal }) {
      for (let n = 0; n < o.count && !signal.aborted; ) {
        const events = [];
        for (let i = 0; i < o.batch && n < o.count; i++, n++) events.push({ n, message: 'm-' + n });
        await emit(events);
        await new Promise((r) => setTimeout(r, o.pause_ms));
      }
    } };
  },
};
`;

/** Polls a condition that no event announces (state inside Kafka or another process). */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function stdoutLines(p: CliProcess): string[] {
  return p.stdout.split('\n').filter(Boolean);
}

async function produce(brokers: string[], topic: string, from: number, to: number, batch = 500): Promise<void> {
  const kafka = new Kafka({ brokers, logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  try {
    for (let i = from; i < to; i += batch) {
      const messages = [];
      for (let n = i; n < Math.min(to, i + batch); n++) messages.push({ key: `k${n % 97}`, value: `m-${n}` });
      await producer.send({ topic, messages });
    }
  } finally {
    await producer.disconnect();
  }
}

function consumerConfig(brokers: string[], topic: string, group: string, extra = ''): string {
  return `
service: { log_level: info, grace: 10s }
inputs:
  k: { type: kafka, brokers: ${JSON.stringify(brokers)}, topics: [${topic}], group_id: ${group}, from: beginning, ${GROUP_TIMINGS}, commit_interval: 200ms${extra} }
outputs:
  out: { type: stdout, inputs: [k], format: text }
`;
}

describe('kafka (librdkafka mock cluster via kcat)', function () {
  this.timeout(120_000);
  let mock: MockKafka;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const agents: CliProcess[] = [];
  const startPipeline = pipelineWith(clientsInput);

  before(async function () {
    requireKcat(this);
    mock = await new MockKafka().start(3);
    tmp = await tempDir('visor-kafka-');
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) if (a.child.exitCode === null) { a.child.kill('SIGKILL'); await a.exited; }
  });
  after(async () => {
    await mock?.stop();
    await tmp?.remove();
  });

  function agent(config: string): CliProcess {
    const p = new CliProcess(['run', '-c', config], { env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' } });
    agents.push(p);
    return p;
  }

  it('visor generate --kafka sends exactly --count lines to the topic (checked with kcat -C)', async () => {
    const { runCli } = await import('./support/helpers.js');
    const r = await runCli(['generate', '--count', '3000', '--rate', 'max', '--seed', '5', '--kafka', mock.brokers.join(','), '--topic', 'generated'],
      { env: { KAFKAJS_NO_PARTITIONER_WARNING: '1' } });
    assert.equal(r.code, 0, r.stderr);
    const got = await kcatConsume(mock.brokers, 'generated');
    assert.equal(got.length, 3000);
    assert.ok(got.every((m) => /^\S+ \S+ \S+ \[[^\]]+\] "/.test(m.value)), 'each value is one combined-format access line');
  });

  it('kafka output: 100,000 events keyed by client_ip all arrive, each key on its murmur2 partition, in per-key order', async () => {
    const h = await startPipeline(`
inputs:
  src: { type: test_kafka_clients, total: 100000 }
outputs:
  k: { type: kafka, inputs: [src], brokers: ${JSON.stringify(mock.brokers)}, topic: keyed, key: client_ip, compression: gzip, batch_size: 2000 }
`);
    await h.pipeline.done();
    const acks = h.probe('src').acks;
    assert.equal(acks.length, 100);
    assert.ok(acks.every((a) => a.result.status === 'delivered'), 'every batch acknowledged as delivered');

    const got = await kcatConsume(mock.brokers, 'keyed');
    assert.equal(got.length, 100_000);
    const seen = new Set<number>();
    const partitionOf = new Map<string, number>();
    const lastN = new Map<string, number>();
    const partitioner = Partitioners.DefaultPartitioner();
    const partitionMetadata = [0, 1, 2, 3].map((p) => ({ partitionId: p, leader: 0, replicas: [0], isr: [0], partitionErrorCode: 0 }));
    for (const m of got.sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
      const e = JSON.parse(m.value) as { n: number; client_ip: string };
      assert.equal(m.key, e.client_ip);
      seen.add(e.n);
      const p = partitionOf.get(m.key);
      if (p === undefined) {
        partitionOf.set(m.key, m.partition);
        assert.equal(m.partition, partitioner({ topic: 'keyed', partitionMetadata, message: { key: m.key, value: m.value } }), `partition of ${m.key}`);
      } else assert.equal(m.partition, p, `key ${m.key} on one partition`);
      assert.ok(e.n > (lastN.get(m.key) ?? -1), `per-key order for ${m.key}`);
      lastN.set(m.key, e.n);
    }
    assert.equal(seen.size, 100_000);
    assert.equal(new Set(partitionOf.values()).size, 4, 'keys spread over the 4 partitions');
    assert.ok(Number(/visor_component_sent_bytes_total\{[^}]*component_id="k"[^}]*\} (\d+)/.exec(await h.metrics.exposition())?.[1]) > 100_000 * 20);
  });

  it('kafka output: topic template, null key when the field is absent', async () => {
    const h = await startPipeline(`
inputs:
  src: { type: test_counter, total: 10, batch: 5 }
filters:
  t: { type: test_tag, inputs: [src], field: tag, value: linex }
outputs:
  k: { type: kafka, inputs: [t], brokers: ${JSON.stringify(mock.brokers)}, topic: "tpl-{{ tag }}", key: client_ip, headers: { tag: "{{ tag }}" }, format: text }
`);
    await h.pipeline.done();
    const got = await kcatConsume(mock.brokers, 'tpl-linex');
    assert.equal(got.length, 10);
    assert.ok(got.every((m) => m.key === ''), 'null keys');
    assert.deepEqual(got.map((m) => m.value).sort(), Array.from({ length: 10 }, (_, i) => `line ${i + 1}`).sort());
  });

  it('kafka input: an agent stopped (SIGTERM) mid-stream and restarted loses nothing', async () => {
    const N = 20_000;
    const topic = 'restart';
    const config = await tmp.file('restart.yaml', consumerConfig(mock.brokers, topic, 'g-restart', ', max_bytes: 4KiB, batch_size: 100'));
    await produce(mock.brokers, topic, 0, 1000);
    const first = agent(config);
    const producing = produce(mock.brokers, topic, 1000, N, 200);
    await first.waitFor((p) => stdoutLines(p).length >= 3000, '3000 messages consumed');
    first.child.kill('SIGTERM');
    const r1 = await first.exited;
    assert.equal(r1.code, 0, r1.stderr);
    const before = stdoutLines(first);
    await producing;
    assert.ok(before.length < N, `stopped mid-stream (${before.length} of ${N})`);

    const second = agent(config);
    const all = new Set(before);
    await second.waitFor((p) => { for (const l of stdoutLines(p)) all.add(l); return all.size >= N; }, 'every message after the restart', 60_000);
    second.child.kill('SIGTERM');
    assert.equal((await second.exited).code, 0);
    const after = stdoutLines(second);
    for (let n = 0; n < N; n++) assert.ok(all.has(`m-${n}`), `m-${n} delivered`);
    const duplicates = before.length + after.length - N;
    console.log(`      restart: ${before.length} before, ${after.length} after, ${duplicates} duplicates`);
    assert.ok(duplicates < 1000, `offsets were committed at the stop (duplicates: ${duplicates})`);
  });

  it('kafka input: messages from kcat -P (a producer nobody here wrote) arrive with key, partition, offset and headers', async () => {
    const { execFile } = await import('node:child_process');
    const topic = 'from-kcat';
    const lines = Array.from({ length: 500 }, (_, n) => `client-${n % 7}|line ${n} with "quotes" and ünïcode`);
    await new Promise<void>((resolve, reject) => {
      const p = execFile('kcat', ['-P', '-b', mock.brokers.join(','), '-t', topic, '-K', '|', '-H', 'origin=kcat'], (err, _o, stderr) => (err ? reject(new Error(stderr)) : resolve()));
      p.stdin!.end(lines.join('\n') + '\n');
    });
    const config = await tmp.file('from-kcat.yaml', `
service: { log_level: info }
inputs:
  k: { type: kafka, brokers: ${JSON.stringify(mock.brokers)}, topics: [${topic}], group_id: g-kcat, from: beginning, ${GROUP_TIMINGS} }
outputs:
  out: { type: stdout, inputs: [k], format: json }
`);
    const a = agent(config);
    await a.waitFor((p) => stdoutLines(p).length >= 500, '500 messages', 30_000);
    a.child.kill('SIGTERM');
    assert.equal((await a.exited).code, 0);
    const events = stdoutLines(a).map((l) => JSON.parse(l) as { message: string; kafka: { topic: string; partition: number; offset: number; key: string; headers: Record<string, string> } });
    assert.equal(events.length, 500);
    const byMessage = new Map(events.map((e) => [e.message, e]));
    for (const [n, line] of lines.entries()) {
      const [key, message] = line.split('|');
      const e = byMessage.get(message);
      assert.ok(e, `line ${n} arrived`);
      assert.equal(e.kafka.key, key);
      assert.equal(e.kafka.topic, topic);
      assert.equal(e.kafka.headers.origin, 'kcat');
      assert.ok(Number.isInteger(e.kafka.partition) && Number.isInteger(e.kafka.offset));
    }
    // One key, one partition, in the order kcat sent them.
    for (let k = 0; k < 7; k++) {
      const mine = events.filter((e) => e.kafka.key === `client-${k}`);
      assert.equal(new Set(mine.map((e) => e.kafka.partition)).size, 1);
      const order = mine.sort((x, y) => x.kafka.offset - y.kafka.offset).map((e) => Number(/line (\d+)/.exec(e.message)![1]));
      assert.deepEqual(order, [...order].sort((x, y) => x - y));
    }
  });

  it('kafka input: two agents in one group split the partitions and together deliver everything', async () => {
    const N = 20_000;
    const topic = 'split';
    await produce(mock.brokers, topic, 0, 10); // creates the topic
    const config = await tmp.file('split.yaml', consumerConfig(mock.brokers, topic, 'g-split', ', field: ""').replace('format: text', 'format: json'));
    const a = agent(config);
    const b = agent(config);
    const assignment = (p: CliProcess) => {
      const all = [...p.stderr.matchAll(new RegExp(`joined consumer group .*partitions=${topic}:([0-9,]*)`, 'g'))];
      return all.length ? all[all.length - 1][1].split(',').map(Number) : undefined;
    };
    const split = (p: CliProcess) => assignment(p)?.length === 2;
    await Promise.all([a.waitFor(split, 'two partitions for agent a', 60_000), b.waitFor(split, 'two partitions for agent b', 60_000)]);
    await produce(mock.brokers, topic, 10, N);
    const union = new Set<string>();
    const partitions = new Map<CliProcess, Set<number>>([[a, new Set()], [b, new Set()]]);
    const read = () => {
      for (const p of [a, b]) {
        for (const l of stdoutLines(p)) {
          const e = JSON.parse(l) as { message: string; partition: number; topic: string; offset: number };
          assert.equal(e.topic, topic);
          union.add(e.message);
          if (Number(e.message.slice(2)) >= 10) partitions.get(p)!.add(e.partition); // produced after the split
        }
      }
      return union.size >= N;
    };
    await until(read, 'every message from the two agents', 60_000);
    const pa = [...partitions.get(a)!].sort();
    const pb = [...partitions.get(b)!].sort();
    assert.deepEqual(pa, [...assignment(a)!].sort());
    assert.deepEqual(pb, [...assignment(b)!].sort());
    assert.deepEqual([...pa, ...pb].sort(), [0, 1, 2, 3], 'each partition read by one agent');
    assert.ok(stdoutLines(a).length > 0 && stdoutLines(b).length > 0);
    for (const p of [a, b]) p.child.kill('SIGTERM');
    for (const p of [a, b]) assert.equal((await p.exited).code, 0);
  });

  it('an edge lagging beyond allowed_lateness: its late events reach the merger, merged while their window is open, else amended: the stored row holds the corrected count', async function () {
    const sqlite3 = onPath('sqlite3');
    if (!sqlite3) this.skip();
    // Aggregator and merger (window emit: partials, window_merge) in one process, the partials through Kafka as in
    // configs/cluster. Partitions are chosen by the producer: the lagging edge's events go where the test says.
    const [events, partials] = ['late-events', 'late-partials'];
    const T0 = Date.UTC(2026, 10, 25);
    const pad = (n: number) => String(n).padStart(2, '0');
    /** A combined access line at `s` seconds after T0 (a window of 20 s, allowed_lateness 30 s below). */
    const line = (s: number, n: number) => `10.2.${n % 7}.${n % 200} - - [25/Nov/2026:00:${pad(Math.floor(s / 60))}:${pad(s % 60)} +0000] "GET /p${n % 13} HTTP/1.1" 200 ${100 + n} "-" "curl/8"`;
    const send = async (messages: Array<{ partition: number; value: string }>) => {
      const producer = new Kafka({ brokers: mock.brokers, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
      await producer.connect();
      try {
        for (let i = 0; i < messages.length; i += 500) await producer.send({ topic: events, messages: messages.slice(i, i + 500) });
      } finally {
        await producer.disconnect();
      }
    };
    // Edge A: 4 events a second over 0-200 s on partitions 0-2; partition 3 only up to 10 s, so that its watermark
    // (10 s - 30 s) keeps the merger's window [0,20s) open.
    let n = 0;
    const edgeA = Array.from({ length: 800 }, (_, i) => ({ partition: i % 3, value: line(Math.floor(i / 4), n++) }));
    const early = Array.from({ length: 40 }, (_, i) => ({ partition: 3, value: line(Math.floor(i / 4), n++) }));
    await send([...edgeA, ...early]);
    // A data directory of its own: the merger journals the windows it delivered there (a shared one would make a
    // later run take them for delivered and skip them).
    const db = path.join(tmp.dir, 'late-edge.db');
    /** The window rows as Debian's sqlite3 reads them (no code of ours): [resolution, start (s after T0), count, revision]. */
    const rows = () => {
      const out = execFileSync(sqlite3!, ['-json', '-readonly', '-cmd', '.timeout 10000', db, `SELECT resolution, window_start, count, json_extract(metrics, '$.revision') AS revision FROM windows ORDER BY resolution, window_start`], { encoding: 'utf8' });
      return (out.trim() ? (JSON.parse(out) as Array<{ resolution: string; window_start: number; count: number; revision: number | null }>) : [])
        .map((r) => [r.resolution, (r.window_start - T0) / 1000, r.count, r.revision]);
    };
    const h = await startPipeline(`
service: { data_dir: ${JSON.stringify(path.join(tmp.dir, 'late-edge'))} }
inputs:
  k: { type: kafka, brokers: ${JSON.stringify(mock.brokers)}, topics: [${events}], group_id: g-late-agg, from: beginning, ${GROUP_TIMINGS} }
  kp: { type: kafka, brokers: ${JSON.stringify(mock.brokers)}, topics: [${partials}], group_id: g-late-merger, from: beginning, ${GROUP_TIMINGS} }
filters:
  access: { type: apache_access, inputs: [k], format: combined }
aggregates:
  a: { type: window, inputs: [access], emit: partials, window: { type: tumbling, size: 20s }, allowed_lateness: 30s, idle_timeout: 1h, watermark_interval: 100ms, metrics: { requests: count() } }
  m: { type: window_merge, inputs: [kp], window: { type: tumbling, size: 20s }, metrics: { requests: count() }, expected_partitions: 4, state: true }
outputs:
  po: { type: kafka, inputs: [a], brokers: ${JSON.stringify(mock.brokers)}, topic: ${partials}, key: partial.partition, format: json }
  out: { type: test_record, inputs: [m] }
  db: { type: store, inputs: [m], path: ${JSON.stringify(db)}, agent: merger, rollups: [1h] }
  late: { type: blackhole, inputs: [a._late] }
`);
    /** until(), failing with what the pipeline logged and counted. */
    const waitFor = (cond: () => boolean, what: string) => until(cond, what, 60_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${JSON.stringify(custom())}\n${h.logs.slice(-40).join('')}`);
    });
    const custom = () => ({ ...h.metrics.snapshot().a.custom, ...h.metrics.snapshot().m.custom });
    try {
      const counted = (name: string) => custom()[`visor_window_merge_late_events_${name}_total`] ?? 0;
      const emitted = () => h.probe('out').written.map((r) => [(r.window_start as number) - T0, r.requests, ...(r.amended ? [r.revision] : [])]);
      // The aggregator has read edge A: partitions 0-2 (newest event 199 s) closed every window up to [140,160s),
      // one partial each; partition 3 (9 s) none, and the merger waits for it.
      await waitFor(() => h.metrics.snapshot().a.custom.visor_window_partials_total >= 3 * 8, 'the partials of partitions 0-2 up to [140,160s)');
      assert.deepEqual(emitted(), [], 'partition 3 holds every window');
      // Edge B, 150 s behind: 20 events of [0,20s) on partition 0, whose aggregator closed that window long ago.
      await send(Array.from({ length: 20 }, (_, i) => ({ partition: 0, value: line(i, n++) })));
      await waitFor(() => counted('merged') >= 20, 'the late events merged');
      // Partition 3 catches up: the window closes everywhere, with edge B's events in it.
      await send(Array.from({ length: 200 }, (_, i) => ({ partition: 3, value: line(10 + Math.floor(i / 2), n++) })));
      await waitFor(() => emitted().length >= 1, 'window [0,20s)');
      assert.deepEqual(emitted()[0], [0, 80 + 40 + 20 + 20], 'edge A (80 on 0-2), partition 3 (40 early, 20 later), edge B (20)');
      // Edge B again, now behind an emitted window: 30 events of [0,20s) on partition 1. The merger kept the window
      // (amend_for, default 1h): it merges them and emits the window's corrected result again, revision 1.
      await send(Array.from({ length: 30 }, (_, i) => ({ partition: 1, value: line(i % 20, n++) })));
      await waitFor(() => counted('amended') >= 30, 'the late events amended');
      await waitFor(() => emitted().some((r) => r.length === 3), 'the amended result');
      const c = custom();
      assert.deepEqual([c.visor_window_late_events_total, counted('merged'), counted('amended'), counted('missing')], [50, 20, 30, 0], 'late at the aggregator, merged, amended, missing');
      assert.deepEqual(emitted().filter((r) => r[0] === 0), [[0, 160], [0, 190, 1]], 'window [0,20s): its result, then the corrected one');
      assert.ok(!h.logs.some((l) => / WARN .*late events/.test(l)), h.logs.join('\n'));
      // The store upserted the corrected result over the first: one row of [0,20s), with 190 events, and the 1h roll-up
      // recomputed from the stored rows (all windows emitted so far fall in the first hour).
      await waitFor(() => rows().some((r) => r[0] === '20s' && r[1] === 0 && r[2] === 190), 'the stored row corrected');
      const stored = rows();
      const fine = stored.filter((r) => r[0] === '20s');
      assert.deepEqual(fine.filter((r) => r[1] === 0), [['20s', 0, 190, 1]], 'one row of [0,20s), the corrected count');
      const total = emitted().filter((r) => r.length === 2 && r[0] !== 0).reduce((sum, r) => sum + (r[1] as number), 190);
      await waitFor(() => rows().some((r) => r[0] === '1h' && r[2] === total), `the 1h roll-up of ${total}`);
      assert.deepEqual(rows().filter((r) => r[0] === '1h').map((r) => r.slice(0, 3)), [['1h', 0, total]], 'the roll-up counts the amended events once');
    } finally {
      await h.pipeline.stop(5000);
    }
  });

  it('kafka output: a 10 s outage through a proxy loses nothing, keeps memory bounded and shows the retries', async function () {
    const N = 60_000;
    const topic = 'outage';
    const proxy = await new KafkaProxy(mock.brokers).start();
    try {
      const port = await freePort();
      const plugin = await tmp.file('seq.js', SEQ_PLUGIN);
      const config = await tmp.file('outage.yaml', `
service: { plugins: [${JSON.stringify(plugin)}], http: { listen: 127.0.0.1:${port} }, grace: 20s }
inputs:
  src: { type: test_seq, count: ${N}, batch: 200, pause_ms: 20 }
outputs:
  k:
    type: kafka
    inputs: [src]
    brokers: ${JSON.stringify(proxy.addresses)}
    topic: ${topic}
    format: text
    timeout: 2s
    connect_timeout: 1s
    retries: 1
    buffer: { max_events: 5000 }
    retry: { backoff: 200ms, max_backoff: 1s }
`);
      const p = agent(config);
      const metrics = async () => (await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text(), () => ''));
      const sent = async () => Number(/visor_component_sent_events_total\{[^}]*component_id="k"[^}]*\} (\d+)/.exec(await metrics())?.[1] ?? 0);
      await until(async () => (await sent()) >= 5000, '5000 events sent before the cut').catch((err) => { throw new Error(`${err.message}\n${p.stderr.slice(-3000)}`); });
      assert.ok(proxy.rewritten > 0, 'metadata went through the proxy');
      const status = `/proc/${p.child.pid}/status`;
      const rss = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(status, 'utf8'))![1]) / 1024;
      const rssAtCut = rss();
      await proxy.cut();
      const sentAtCut = await sent();
      let maxRss = rssAtCut;
      const sampler = setInterval(() => { maxRss = Math.max(maxRss, rss()); }, 200);
      await new Promise((r) => setTimeout(r, 10_000)); // the outage itself
      clearInterval(sampler);
      const text = await metrics();
      const failures = Number(/visor_kafka_send_failures_total\{[^}]*\} (\d+)/.exec(text)?.[1] ?? 0);
      const health = await fetch(`http://127.0.0.1:${port}/health`);
      assert.ok(failures > 0, `send failures counted during the outage (${failures})`);
      assert.equal(health.status, 503, 'unhealthy while sends fail');
      assert.ok((await sent()) - sentAtCut < 1000, 'nothing was sent while cut');
      await proxy.heal();
      const r = await p.exited; // the input ends after N events; the pipeline drains and exits
      assert.equal(r.code, 0, r.stderr.slice(-2000));
      const got = await kcatConsume(mock.brokers, topic);
      const values = new Set(got.map((m) => m.value));
      for (let n = 0; n < N; n++) assert.ok(values.has(`m-${n}`), `m-${n} delivered`);
      console.log(`      outage: ${got.length - N} duplicates, ${failures} failed sends, RSS ${rssAtCut.toFixed(0)} MB at the cut, max ${maxRss.toFixed(0)} MB during it`);
      assert.ok(maxRss - rssAtCut < 60, `RSS bounded during the outage (${rssAtCut.toFixed(0)} -> ${maxRss.toFixed(0)} MB)`);
    } finally {
      await proxy.stop();
    }
  });
});
