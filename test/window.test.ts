import assert from 'node:assert/strict';
import { rng } from './bench/apache-lines.js';
import { definePlugin, type Event } from '../core/index.js';
import { partitionAssignments } from '../lib/kafka/index.js';
import { compileMetric } from '../lib/stats/index.js';
import { pipelineWith, probesOf, type Harness } from './support/pipeline-harness.js';

// An input that emits scripted batches (by name), optionally pausing between them; records acks, and how
// many results each output had written when each batch was about to be emitted.
const scripts = new Map<string, Event[][]>();
const seenBefore = new Map<string, number[]>();
const eventsInput = definePlugin<{ script: string; pause_ms: number; end_pause_ms: number; watch: string }, 'input'>({
  kind: 'input',
  name: 'test_window_events',
  description: 'Emits scripted batches of events.',
  schema: {
    type: 'object',
    properties: {
      script: { type: 'string' },
      pause_ms: { type: 'integer', default: 0 },
      end_pause_ms: { type: 'integer', default: 0 },
      watch: { type: 'string', default: 'out' },
    },
  },
  create(options, ctx) {
    const probe = probesOf(ctx);
    const p = probe(ctx.id);
    const seen: number[] = [];
    seenBefore.set(ctx.id, seen);
    return {
      async run({ emit }) {
        const batches = scripts.get(options.script) ?? [];
        for (let b = 0; b < batches.length; b++) {
          seen.push(probe(options.watch).written.length);
          p.emitted += batches[b].length;
          await emit(batches[b].map((e) => ({ ...e })), { onAck: (result) => p.acks.push({ batch: b, result, at: Date.now() }) });
          if (options.pause_ms) await sleep(options.pause_ms);
        }
        if (options.end_pause_ms) await sleep(options.end_pause_ms);
        seen.push(probe(options.watch).written.length);
      },
    };
  },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));


const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
const LATENESS = 30_000;

/** A stream in batches: out of order within the allowed lateness, some events far too late, some heartbeats. */
function randomStream(seed: number, n: number, size: number) {
  const rand = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const batches: Event[][] = [];
  const onTime: Event[] = [];
  const late: Event[] = [];
  let clock = T0;
  let maxSeen = -Infinity; // max event time of previous batches
  let batchMax = -Infinity;
  let current: Event[] = [];
  for (let i = 0; i < n; i++) {
    if (current.length && rand() < 0.08) {
      batches.push(current);
      current = [];
      maxSeen = Math.max(maxSeen, batchMax);
    }
    clock += Math.floor(rand() * 1500);
    const status = pick([200, 200, 200, 200, 301, 404, 500, 503]);
    const e: Event = {
      vhost: pick(['a.example', 'b.example', 'c.example']),
      status,
      client_ip: `10.0.0.${Math.floor(rand() * rand() * 12)}`,
      path: pick(['/', '/a', '/b', '/c']),
      bytes: rand() < 0.1 ? '-' : Math.floor(rand() * 5000),
      timestamp: clock - Math.floor(rand() * LATENESS),
    };
    if (rand() < 0.03) {
      current.push({ heartbeat: true, timestamp: clock, status: 200 });
    } else if (maxSeen > -Infinity && rand() < 0.04) {
      // Every window holding it ended before the watermark of the previous batches: late.
      e.timestamp = maxSeen - LATENESS - size - 1 - Math.floor(rand() * 60_000);
      late.push(e);
      current.push(e);
      continue;
    }
    if (e.heartbeat !== true) onTime.push(e);
    batchMax = Math.max(batchMax, e.timestamp as number);
    current.push(e);
  }
  batches.push(current);
  return { batches, onTime: onTime.filter((e) => e.heartbeat !== true), late };
}

/** Brute force: every window containing each on-time event, grouped. */
function bruteForce(events: Event[], size: number, advance: number, groupBy: string | undefined) {
  const groups = new Map<string, Event[]>();
  for (const e of events) {
    const t = e.timestamp as number;
    for (let s = Math.floor(t / advance) * advance; s + size > t; s -= advance) {
      const k = `${s}|${groupBy ? e[groupBy] : ''}`;
      if (!groups.has(k)) groups.set(k, []);
      groups.get(k)!.push(e);
    }
  }
  const expected = new Map<string, Event>();
  for (const [k, es] of groups) {
    const nums = es.map((e) => e.bytes).filter((b): b is number => typeof b === 'number');
    const errors = es.filter((e) => (e.status as number) >= 500).length;
    const notFound = es.filter((e) => e.status === 404).length;
    const clients = new Map<string, number>();
    for (const e of es) clients.set(e.client_ip as string, (clients.get(e.client_ip as string) ?? 0) + 1);
    expected.set(k, {
      count: es.length,
      requests: es.length,
      errors,
      error_rate: errors / es.length,
      errors_per_404: notFound ? errors / notFound : null,
      bytes: nums.reduce((a, b) => a + b, 0),
      avg_bytes: nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null,
      min_bytes: nums.length ? Math.min(...nums) : null,
      max_bytes: nums.length ? Math.max(...nums) : null,
      per_second: es.length / (size / 1000),
      top_client_ip: [...clients.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3).map(([value, count]) => ({ value, count })),
      top_client_ip_error_bound: 0,
    });
  }
  return expected;
}

const METRICS = `
    metrics:
      requests: count()
      errors: count(status >= 500)
      error_rate: count(status >= 500) / count()
      errors_per_404: count(status >= 500) / count(status == 404)
      bytes: sum(bytes)
      avg_bytes: avg(bytes)
      min_bytes: min(bytes)
      max_bytes: max(bytes)
      per_second: rate()
    top: [{ field: client_ip, n: 3, capacity: 1000 }]`;

function compare(written: Event[], expected: Map<string, Event>, groupBy: string | undefined, size: number) {
  const actual = new Map<string, Event>();
  for (const r of written) {
    assert.equal((r.window_end as number) - (r.window_start as number), size);
    const k = `${r.window_start}|${groupBy ? r[groupBy] : ''}`;
    assert.ok(!actual.has(k), `window ${k} emitted twice`);
    actual.set(k, r);
  }
  assert.deepEqual([...actual.keys()].sort(), [...expected.keys()].sort());
  for (const [k, exp] of expected) {
    const got = actual.get(k)!;
    for (const [name, v] of Object.entries(exp)) {
      if (typeof v === 'number' && !Number.isInteger(v)) assert.ok(Math.abs((got[name] as number) - v) < 1e-9, `${k} ${name}: ${got[name]} != ${v}`);
      else assert.deepEqual(got[name], v, `${k} ${name}`);
    }
  }
}

describe('window aggregate', () => {
  const startPipeline = pipelineWith(eventsInput);

  /** Window `w` over `batches` from the input src (`input`: more of its options, as `, key: value`), started:
   * `options` are the lines of w's YAML map after type and inputs, `outputs` the outputs section (the test_record
   * `out` unless given). */
  function startWindow(batches: Event[][], options: string, o: { input?: string; outputs?: string } = {}) {
    scripts.set('s', batches);
    return startPipeline(`
inputs:
  src: { type: test_window_events, script: s${o.input ?? ''} }
aggregates:
  w:
    type: window
    inputs: [src]${options}
outputs:
${o.outputs ?? '  out: { type: test_record, inputs: [w] }'}
`);
  }

  /** startWindow, run to the end. */
  async function runWindow(batches: Event[][], options: string, o: { input?: string; outputs?: string } = {}) {
    const h = await startWindow(batches, options, o);
    await h.pipeline.done();
    return h;
  }

  for (const seed of [1, 2, 3]) {
    it(`tumbling, per group: matches a brute-force recomputation; late events go to _late (seed ${seed})`, async () => {
      const { batches, onTime, late } = randomStream(seed, 3000, 60_000);
      const { metrics, probe } = await runWindow(batches, `
    window: { type: tumbling, size: 1m }
    allowed_lateness: 30s
    group_by: [vhost]${METRICS}`, { outputs: `  out: { type: test_record, inputs: [w] }
  late: { type: test_record, inputs: [w._late] }` });
      assert.ok(late.length > 10);
      assert.deepEqual(probe('late').written.map((e) => e.timestamp), late.map((e) => e.timestamp));
      compare(probe('out').written, bruteForce(onTime, 60_000, 60_000, 'vhost'), 'vhost', 60_000);
      // Results leave in window order.
      const starts = probe('out').written.map((r) => r.window_start as number);
      assert.deepEqual(starts, [...starts].sort((a, b) => a - b));
      const w = metrics.snapshot().w;
      assert.equal(w.sent_events_by_output._late, late.length);
      assert.equal(w.custom.visor_window_late_events_total, late.length, JSON.stringify(w.custom));
    });
  }

  it('hopping windows match a brute-force recomputation', async () => {
    const { batches, onTime } = randomStream(7, 3000, 60_000);
    const { probe } = await runWindow(batches, `
    window: { type: hopping, size: 1m, advance: 20s }
    allowed_lateness: 30s${METRICS}`);
    compare(probe('out').written, bruteForce(onTime, 60_000, 20_000, undefined), undefined, 60_000);
  });

  it('the watermark closes windows while data flows; flush emits the open ones at the end', async () => {
    const ev = (s: number) => ({ timestamp: T0 + s * 1000, status: 200 });
    const { probe } = await runWindow([[ev(1), ev(5)], [ev(50)], [ev(70)], [ev(95)], [ev(130)]], `
    window: { type: tumbling, size: 1m }
    allowed_lateness: 30s`, { input: ', pause_ms: 30' });
    // Window [0,60s) closes once an event at >= 90s is seen (batch 3); [60s,120s) at 150s: only at flush.
    assert.deepEqual(seenBefore.get('src'), [0, 0, 0, 0, 1, 1]);
    assert.deepEqual(probe('out').written.map((r) => [r.window_start, r.count]), [[T0, 3], [T0 + 60_000, 2], [T0 + 120_000, 1]]);
  });

  it('an idle input does not hold event-time windows open forever', async () => {
    await runWindow([[{ timestamp: T0 + 10 }, { timestamp: T0 + 20 }]], `
    window: { type: tumbling, size: 100ms }
    allowed_lateness: 100ms`, { input: ', end_pause_ms: 600' });
    assert.deepEqual(seenBefore.get('src'), [0, 1], 'the window was emitted while the input was idle');
  });

  it('processing time: windows are emitted by timers at their end', async () => {
    const { probe } = await runWindow([[{ a: 1 }, { a: 2 }, { heartbeat: true }]], `
    time: processing
    window: { type: tumbling, size: 100ms }`, { input: ', end_pause_ms: 500' });
    assert.deepEqual(seenBefore.get('src'), [0, 1]);
    assert.equal(probe('out').written[0].count, 2, 'heartbeats are not counted');
  });

  it('percentiles within 1% of exact, distinct within 5%, Space-Saving bounds hold over capacity', async () => {
    const rand = rng(42);
    const events: Event[] = [];
    const N = 40_000;
    for (let i = 0; i < N; i++) {
      // Heavy hitters /h0../h4, then a long tail of rare paths.
      const path = rand() < 0.5 ? `/h${Math.floor(rand() * 5)}` : `/p${Math.floor(rand() * 20_000)}`;
      events.push({
        timestamp: T0 + Math.floor((i / N) * 59_000),
        duration_us: Math.round(Math.exp(6 + 2 * rand() * rand() + rand())),
        client_ip: `ip${Math.floor(rand() * 12_000)}`,
        path,
      });
    }
    const batches: Event[][] = [];
    for (let i = 0; i < N; i += 1000) batches.push(events.slice(i, i + 1000));
    const { probe } = await runWindow(batches, `
    window: { type: tumbling, size: 1m }
    top: [{ field: path, n: 5, capacity: 200 }]
    percentiles: [{ field: duration_us, p: [50, 95, 99, 99.9] }]
    distinct: [client_ip, path]`);
    const [r] = probe('out').written;
    assert.equal(r.count, N);
    const sorted = events.map((e) => e.duration_us as number).sort((a, b) => a - b);
    for (const [p, name] of [[50, 'p50_duration_us'], [95, 'p95_duration_us'], [99, 'p99_duration_us'], [99.9, 'p99_9_duration_us']] as const) {
      const exact = sorted[Math.ceil((p / 100) * N) - 1];
      const got = r[name] as number;
      assert.ok(Math.abs(got - exact) <= 0.01 * exact + 1e-9, `${name}: ${got} vs exact ${exact}`);
    }
    for (const f of ['client_ip', 'path']) {
      const exact = new Set(events.map((e) => e[f])).size;
      assert.ok(exact > 4096);
      const got = r[`distinct_${f}`] as number;
      assert.ok(Math.abs(got - exact) <= 0.05 * exact, `distinct_${f}: ${got} vs exact ${exact}`);
    }
    const truth = new Map<string, number>();
    for (const e of events) truth.set(e.path as string, (truth.get(e.path as string) ?? 0) + 1);
    const bound = r.top_path_error_bound as number;
    assert.ok(bound > 0, 'over capacity the error bound is reported');
    assert.ok(bound <= N / 200, 'Space-Saving error is at most N / capacity');
    const top = r.top_path as Array<{ value: string; count: number }>;
    assert.deepEqual(top.map((t) => t.value).sort(), ['/h0', '/h1', '/h2', '/h3', '/h4']);
    for (const t of top) {
      const real = truth.get(t.value)!;
      assert.ok(t.count >= real && t.count - bound <= real, `${t.value}: reported ${t.count}, true ${real}, bound ${bound}`);
    }
  });

  it('ack: emit holds input acks until the results of every window a batch touched are written', async () => {
    const ev = (s: number) => ({ timestamp: T0 + s * 1000 });
    // Batch 0 touches window A, batch 1 windows A and B, batch 2 window B (and closes A).
    const { pipeline, probe } = await startWindow([[ev(1)], [ev(30), ev(61)], [ev(70)]], `
    window: { type: tumbling, size: 1m }
    ack: emit`, { input: ', pause_ms: 50', outputs: '  out: { type: test_record, inputs: [w], delay_ms: 30 }' });
    const src = probe('src');
    const out = probe('out');
    const acked: number[][] = [];
    const push = out.written.push.bind(out.written);
    out.written.push = (...items) => {
      acked.push(src.acks.map((a) => a.batch));
      return push(...items);
    };
    await pipeline.done();
    assert.deepEqual(out.written.map((r) => r.count), [2, 2]);
    assert.deepEqual(acked[0], [], 'no batch acknowledged before window A was written');
    assert.ok(!acked[1].includes(1) && !acked[1].includes(2), 'batches touching window B wait for its result');
    assert.ok(acked[1].includes(0), 'batch 0 only needed window A');
    assert.deepEqual(src.acks.map((a) => a.batch).sort(), [0, 1, 2]);
    assert.ok(src.acks.every((a) => a.result.status === 'delivered'));
  });

  it('ack: absorb acknowledges batches as soon as they are absorbed', async () => {
    const { pipeline, probe } = await startWindow([[{ timestamp: T0 }], [{ timestamp: T0 + 1000 }]], `
    window: { type: tumbling, size: 1m }`, { input: ', pause_ms: 30', outputs: '  out: { type: test_record, inputs: [w], delay_ms: 50 }' });
    const src = probe('src');
    const out = probe('out');
    let ackedAtWrite = -1;
    const push = out.written.push.bind(out.written);
    out.written.push = (...items) => {
      ackedAtWrite = src.acks.length;
      return push(...items);
    };
    await pipeline.done();
    assert.equal(ackedAtWrite, 2, 'both batches were acknowledged before the (flushed) result was written');
    assert.equal(out.written[0].count, 2);
  });

  it('rejects invalid metric expressions with the metric name', async () => {
    for (const [text, msg] of [
      ['count( + sum(bytes)', /metric "m": unclosed/],
      ['bytes * 2', /metric "m": unknown aggregate "bytes"/],
      ['count(status >=)', /metric "m": in count\(status >=\)/],
      ['sum()', /metric "m": sum\(\) needs/],
      ['count() count()', /metric "m": unexpected "c"/],
    ] as const) {
      assert.throws(() => compileMetric('m', text, new Map()), msg);
    }
    await assert.rejects(startPipeline(`
inputs:
  src: { type: test_window_events, script: s }
aggregates:
  w: { type: window, inputs: [src], window: { size: 1m }, metrics: { bad_one: "avg(bytes" } }
outputs:
  out: { type: test_record, inputs: [w] }
`), /pipeline\.yaml:5:79: invalid value "avg\(bytes" for metrics\.bad_one — unclosed "\(" of avg/);
  });
});

// A stand-in for the kafka input: with `owns`, it registers in its pipeline's partition assignments and owns
// those partitions of topic t (in the generation it stamps on its events), as the kafka input does on joining.
const ownerInput = definePlugin<{ owns?: number[]; partitions: number[] }, 'input'>({
  kind: 'input',
  name: 'test_partition_owner',
  description: 'Emits one event per partition of topic t; with owns, registers as a kafka input owning those partitions.',
  schema: { type: 'object', properties: { owns: { type: 'array', items: { type: 'integer' } }, partitions: { type: 'array', items: { type: 'integer' } } } },
  create(options, ctx) {
    const assignments = partitionAssignments(ctx);
    return {
      async run({ emit, signal }) {
        const unregister = options.owns ? assignments.register() : undefined;
        const generation = options.owns ? assignments.assign({ t: options.owns }).generation : undefined;
        await emit(options.partitions.map((partition) => ({ timestamp: T0 + 10, kafka: { topic: 't', partition, offset: 0, generation } })));
        await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        unregister?.();
      },
    };
  },
});

describe('window partials: partition ownership per pipeline', () => {
  const startPipeline = pipelineWith(ownerInput);

  const pipelineYaml = (input: string, out: string) => `
inputs:
  src: { type: test_partition_owner, ${input} }
aggregates:
  w: { type: window, inputs: [src], emit: partials, window: { size: 100ms }, idle_timeout: 100ms, watermark_interval: 50ms }
outputs:
  ${out}: { type: test_record, inputs: [w] }
`;
  /** The partitions of the partials holding groups that output `id` of `h` received. */
  const partitionsOf = (h: Harness, id: string) => h.probe(id).written.filter((r) => r.groups).map((r) => (r.partial as Event).partition);
  async function until(check: () => boolean, what: string): Promise<void> {
    for (const deadline = Date.now() + 5000; !check(); await sleep(20)) if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
  }

  it('two pipelines in one process do not share the kafka partition assignments', async () => {
    // A owns partition 0 only: its window closes partition 0's window and drops partition 1's (owned elsewhere).
    const a = await startPipeline(pipelineYaml('owns: [0], partitions: [0, 1]', 'out_a'));
    // B runs no kafka input: ownership is not tracked, its partition 1 is its own (with one process-wide table,
    // A's registration made B drop it as owned by another member).
    const b = await startPipeline(pipelineYaml('partitions: [1]', 'out_b'));
    try {
      await until(() => partitionsOf(a, 'out_a').length > 0 && partitionsOf(b, 'out_b').length > 0, 'the partials of both pipelines');
      await sleep(300); // ticks enough for partition 1 of A to have been closed too, had it been kept
      assert.deepEqual(partitionsOf(a, 'out_a'), [0]);
      assert.deepEqual(partitionsOf(b, 'out_b'), [1]);
    } finally {
      await Promise.all([a.pipeline.stop(1000), b.pipeline.stop(1000)]);
    }
  });
});
