// `window` with emit: partials (per source partition, own watermark) and `window_merge`, in process: the merged
// global results equal those of one `window` over the same events (exact metrics, top-N of the partition key,
// percentiles and distinct counts exactly; top-N of another field within the stated bound), duplicates of a
// re-read partition are discarded (after a restart too, by the journal of delivered windows), and a merger
// configured differently refuses the partials.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { definePlugin, type Event } from '../core/index.js';
import { onPath, tempDir } from './support/helpers.js';
import { pipelineWith, probesOf } from './support/pipeline-harness.js';
import { rng } from './bench/apache-lines.js';

/** `pause_ms`: before batch b, wait pause_ms[b] (for what only processing time triggers: a partition's timeout). */
const scripts = new Map<string, { batches: Event[][]; delay_ms: number; end_pause_ms: number; pause_ms?: Record<number, number> }>();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const scriptInput = definePlugin<{ script: string }, 'input'>({
  kind: 'input',
  name: 'test_merge_events',
  description: 'Emits scripted batches.',
  schema: { type: 'object', properties: { script: { type: 'string' } } },
  create(options, ctx) {
    const p = probesOf(ctx)(ctx.id);
    return {
      async run({ emit }) {
        const s = scripts.get(options.script)!;
        if (s.delay_ms) await sleep(s.delay_ms);
        for (let b = 0; b < s.batches.length; b++) {
          if (s.pause_ms?.[b]) await sleep(s.pause_ms[b]);
          await emit(s.batches[b].map((e) => ({ ...e })), { onAck: (result) => p.acks.push({ batch: b, result, at: Date.now() }) });
        }
        if (s.end_pause_ms) await sleep(s.end_pause_ms);
      },
    };
  },
});
/** As the kafka output and input would: the partial travels as JSON text in `message`. */
const toJson = definePlugin<Record<string, never>, 'filter'>({
  kind: 'filter',
  name: 'test_partial_json',
  description: 'Serializes events into message.',
  schema: { type: 'object', properties: {} },
  create: () => ({ process: (events) => events.map((e) => ({ message: JSON.stringify(e) })) }),
});

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
/** The late-data tests' pipeline up to its outputs: a scripted source, an edge window (10 s tumbling, partials,
 * allowed_lateness 5s) and a merger of 2 partitions, with `mergerOptions` appended to the merger's options. */
const edgeAndMerger = (dataDir: string, script: string, mergerOptions: string) => `service: { data_dir: ${JSON.stringify(dataDir)} }
inputs:
  src: { type: test_merge_events, script: ${script} }
aggregates:
  a: { type: window, inputs: [src], window: { type: tumbling, size: 10s }, emit: partials, allowed_lateness: 5s, idle_timeout: 1h, watermark_interval: 50ms, metrics: { n: count() } }
  m: { type: window_merge, inputs: [a], window: { type: tumbling, size: 10s }, metrics: { n: count() }, expected_partitions: 2${mergerOptions} }`;
const SHAPE = `
    window: { type: tumbling, size: 10s }
    group_by: [method]
    metrics: { requests: count(), errors: count(status >= 500), error_rate: count(status >= 500) / count(), bytes: sum(bytes), avg_bytes: avg(bytes), max_bytes: max(bytes), per_second: rate() }
    top: [{ field: client_ip, n: 10 }, { field: path, n: 5, capacity: 40 }]
    percentiles: [{ field: bytes, p: [50, 95, 99] }]
    distinct: [client_ip]`;
const PARTIALS = `emit: partials
    allowed_lateness: 20s
    idle_timeout: 1s
    watermark_interval: 100ms`;

/** 40,000 events over ~200 s, keyed by client_ip onto 4 partitions (with per-partition offsets), in batches of one
 * partition each, interleaved in time so that one window over all of them sees no late event either. */
function stream(seed: number) {
  const rand = rng(seed);
  const perPartition: Event[][] = [[], [], [], []];
  const all: Event[] = [];
  for (let i = 0; i < 40_000; i++) {
    const c = Math.floor(3000 * rand() ** 2);
    const client_ip = `10.${c % 7}.${Math.floor(c / 7) % 256}.${c % 251}`;
    let h = 0;
    for (const ch of client_ip) h = (Math.imul(h, 31) + ch.charCodeAt(0)) | 0;
    const partition = Math.abs(h) % 4;
    const e: Event = {
      timestamp: T0 + Math.floor(i * 5 + rand() * 3000),
      method: rand() < 0.8 ? 'GET' : 'POST',
      status: rand() < 0.05 ? 503 : rand() < 0.1 ? 404 : 200,
      bytes: rand() < 0.05 ? '-' : Math.floor(Math.exp(rand() * 10)),
      path: `/p${Math.floor(300 * rand() ** 3)}`,
      client_ip,
      kafka: { topic: 'apache-events', partition, offset: perPartition[partition].length },
    };
    perPartition[partition].push(e);
    all.push(e);
  }
  const batches: Event[][] = [];
  for (const list of perPartition) for (let i = 0; i < list.length; i += 200) batches.push(list.slice(i, i + 200));
  // Batches in order of their last event's time: each partition in offset order, partitions interleaved in time.
  batches.sort((a, b) => (a[a.length - 1].timestamp as number) - (b[b.length - 1].timestamp as number));
  return { batches, all, perPartition };
}

const sortResults = (rs: Event[]) => [...rs].sort((a, b) => (a.window_start as number) - (b.window_start as number) || String(a.method).localeCompare(String(b.method)));
const withoutPath = (r: Event) => {
  const { top_path: _a, top_path_error_bound: _b, ...rest } = r;
  return rest;
};

describe('window emit: partials + window_merge', function () {
  this.timeout(60_000);
  const startPipeline = pipelineWith(scriptInput, toJson);

  it('merged partials equal one window over the same events; a re-read partition\'s partials are discarded as duplicates', async () => {
    const { batches, all, perPartition } = stream(7);
    scripts.set('all', { batches, delay_ms: 0, end_pause_ms: 4000 });
    // A successor re-reading partitions 0 and 2 from an earlier offset, after the first owner delivered.
    const reread = [...perPartition[0].slice(2500), ...perPartition[2].slice(4000)];
    const rereadBatches: Event[][] = [];
    for (let i = 0; i < reread.length; i += 300) rereadBatches.push(reread.slice(i, i + 300));
    scripts.set('reread', { batches: rereadBatches, delay_ms: 2500, end_pause_ms: 0 });
    const { pipeline, metrics, probe } = await startPipeline(`
inputs:
  src: { type: test_merge_events, script: all }
  again: { type: test_merge_events, script: reread }
aggregates:
  ref:
    type: window
    inputs: [src]
    allowed_lateness: 20s${SHAPE}
  a:
    type: window
    inputs: [src]
    ${PARTIALS}${SHAPE}
  b:
    type: window
    inputs: [again]
    ${PARTIALS}${SHAPE}
  m:
    type: window_merge
    inputs: [json]
    partition_key: client_ip
    expected_partitions: 4${SHAPE}
filters:
  json: { type: test_partial_json, inputs: [a, b] }
outputs:
  ref_out: { type: test_record, inputs: [ref] }
  out: { type: test_record, inputs: [m] }
  late: { type: test_record, inputs: [a._late, ref._late] }
`);
    await pipeline.done();
    assert.equal(probe('late').written.length, 0, `no late events: ${JSON.stringify(metrics.snapshot().a.custom)} ${JSON.stringify(metrics.snapshot().ref.custom)}`);
    const ref = sortResults(probe('ref_out').written);
    const got = sortResults(probe('out').written);
    assert.ok(ref.length >= 40, `${ref.length} results`);
    assert.equal(got.length, ref.length, 'one result per window and group, none missing or doubled');
    assert.deepEqual(got.map(withoutPath), ref.map(withoutPath));
    assert.ok(got.every((r) => r.top_client_ip_error_bound === 0));
    // top path (capacity 40 < distinct paths: Space-Saving in each partial): within the merged bound of the truth.
    let checked = 0;
    let approximate = 0;
    for (const r of got) {
      const truth = new Map<string, number>();
      for (const e of all) {
        const t = e.timestamp as number;
        if (t >= (r.window_start as number) && t < (r.window_end as number) && e.method === r.method) truth.set(e.path as string, (truth.get(e.path as string) ?? 0) + 1);
      }
      const bound = r.top_path_error_bound as number;
      if (bound > 0) approximate++;
      for (const { value, count } of r.top_path as Array<{ value: string; count: number }>) {
        assert.ok(Math.abs(count - (truth.get(value) ?? 0)) <= bound, `${value}: ${count} vs ${truth.get(value)} (bound ${bound})`);
        checked++;
      }
    }
    assert.ok(checked > 0 && approximate > 10, `${approximate} windows past capacity`);
    const m = metrics.snapshot().m;
    assert.ok(m.custom.visor_window_merge_duplicate_partials_total > 0, JSON.stringify(m.custom));
    assert.equal(m.custom.visor_window_merge_late_partials_total ?? 0, 0);
    assert.equal(m.custom.visor_window_merge_overlapping_partials_total ?? 0, 0);
    // Every input batch was acknowledged only after delivery, and delivered.
    const acks = probe('src').acks;
    assert.equal(acks.length, batches.length);
    assert.ok(acks.every((a) => a.result.status === 'delivered'), JSON.stringify(acks.filter((a) => a.result.status !== 'delivered')));
  });

  it('acknowledges a batch only once the partials holding it are delivered; flush leaves open windows unacknowledged', async () => {
    const ev = (s: number, offset: number) => ({ timestamp: T0 + s * 1000, status: 200, kafka: { topic: 't', partition: 0, offset } });
    scripts.set('acks', { batches: [[ev(1, 0), ev(5, 1)], [ev(12, 2)], [ev(45, 3)]], delay_ms: 0, end_pause_ms: 150 });
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_merge_events, script: acks }
aggregates:
  a: { type: window, inputs: [src], window: { type: tumbling, size: 10s }, emit: partials, allowed_lateness: 5s, watermark_interval: 50ms }
outputs:
  out: { type: test_record, inputs: [a] }
`);
    await pipeline.done();
    const written = probe('out').written;
    const partials = written.filter((e) => (e.partial as Event).window_start !== undefined).map((e) => e.partial as Event);
    // Batch 3 (t=45s) moves the watermark to 40s: windows [0,10) and [10,20) close; [40,50) stays open.
    assert.deepEqual(partials.map((p) => [(p.window_start as number) - T0, p.offset_from, p.offset_to, (p.watermark as number) - T0]), [[0, 0, 1, 10_000], [10_000, 2, 2, 40_000]]);
    assert.ok(written.some((e) => (e.partial as Event).window_start === undefined && (e.partial as Event).watermark === T0 + 40_000), 'a watermark event');
    const acks = probe('src').acks;
    assert.deepEqual(acks.map((a) => a.batch).sort(), [0, 1], 'the batch in the open window is not acknowledged');
  });

  it('restarted, a merger takes a re-read copy of a window it delivered before as a duplicate, also when it read no partial of that partition again', async () => {
    // Real partials of two source partitions: windows [0,10s) with offsets 0..9 of each, and events at 40s that
    // close them. Then a copy as an aggregator's successor computes it after a rebalance of the aggregators: it
    // re-reads source partition 0 from offset 5 (the first owner's commit, once its partial was delivered).
    const ev = (partition: number, s: number, offset: number) => ({ timestamp: T0 + s * 1000, status: 200, kafka: { topic: 'ev', partition, offset } });
    const tenEach = [0, 1].map((q) => Array.from({ length: 10 }, (_, i) => ev(q, i, i)));
    const aggregator = `
aggregates:
  a: { type: window, inputs: [src], window: { type: tumbling, size: 10s }, emit: partials, allowed_lateness: 5s, watermark_interval: 1h, metrics: { n: count() } }
outputs:
  out: { type: test_record, inputs: [a] }`;
    const partialsOf = async (script: string, batches: Event[][]) => {
      scripts.set(script, { batches, delay_ms: 0, end_pause_ms: 0 });
      const { pipeline, probe } = await startPipeline(`inputs:\n  src: { type: test_merge_events, script: ${script} }${aggregator}`);
      await pipeline.done();
      return probe('out').written.filter((e) => (e.partial as Event).window_start === T0);
    };
    const originals = await partialsOf('first-owner', [...tenEach, [ev(0, 40, 10)], [ev(1, 40, 10)]]);
    const [copy] = await partialsOf('successor', [tenEach[0].slice(5), [ev(0, 40, 10)]]);
    const header = (e: Event) => e.partial as Event;
    const original = (q: number) => originals.find((e) => header(e).partition === q)!;
    assert.deepEqual([0, 1].map((q) => [header(original(q)).offset_from, header(original(q)).offset_to]), [[0, 9], [0, 9]]);
    assert.deepEqual([header(copy).partition, header(copy).offset_from, header(copy).offset_to], [0, 5, 9], 'the successor\'s copy covers a sub-range');
    const watermark = (q: number) => {
      const { window_start: _s, window_end: _e, offset_from: _f, offset_to: _t, ...rest } = header(original(q));
      return { partial: { ...rest, watermark: T0 + 35_000 } };
    };
    // As the kafka input delivers them: JSON text in `message`, at offsets of the partials topic (> 0: resumed).
    let offset = 0;
    const read = (events: Event[]) => events.map((e) => ({ message: JSON.stringify(e), kafka: { topic: 'partials', partition: 0, offset: offset++ } }));
    const merger = (dataDir: string, script: string) => `
service: { data_dir: ${JSON.stringify(dataDir)} }
inputs:
  src: { type: test_merge_events, script: ${script} }
aggregates:
  m: { type: window_merge, inputs: [src], window: { type: tumbling, size: 10s }, metrics: { n: count() }, expected_partitions: 2 }
outputs:
  out: { type: test_record, inputs: [m] }`;
    const tmp = await tempDir('visor-merge-restart-');
    try {
      // The first merger delivers the window (and journals it), then stops.
      scripts.set('m1', { batches: [read([original(0), original(1), watermark(0), watermark(1)])], delay_ms: 0, end_pause_ms: 0 });
      const first = await startPipeline(merger(path.join(tmp.dir, 'same'), 'm1'));
      await first.pipeline.done();
      assert.deepEqual(first.probe('out').written.map((r) => [r.window_start, r.n]), [[T0, 20]]);
      // The restarted merger resumes past partition 0's original (its commit had passed it) but before partition 1's:
      // it skips the window once both watermarks passed it, then reads the successor's copy of partition 0, and
      // then a partial of partition 0 outside every merged range (what a timed-out partition would send).
      offset = 3;
      const outside = { ...copy, partial: { ...header(copy), offset_from: 11, offset_to: 12 } };
      const restart = () => [read([original(1), watermark(0), watermark(1)]), read([copy]), read([outside])];
      const counts = async (dataDir: string, script: string) => {
        offset = 3;
        scripts.set(script, { batches: restart(), delay_ms: 0, end_pause_ms: 0 });
        const h = await startPipeline(merger(dataDir, script));
        await h.pipeline.done();
        assert.equal(h.probe('out').written.length, 0, 'the delivered window is not emitted again');
        const c = h.metrics.snapshot().m.custom;
        return [c.visor_window_merge_skipped_windows_total, c.visor_window_merge_duplicate_partials_total ?? 0, c.visor_window_merge_late_partials_total ?? 0];
      };
      // Same data directory: the journal holds the window's merged ranges, so the copy is a duplicate and the
      // partial outside them late, exactly as the first merger would have counted them.
      assert.deepEqual(await counts(path.join(tmp.dir, 'same'), 'm2'), [1, 1, 1], 'skipped, duplicates, late');
      // A new data directory: the window is skipped by the offsets guess, and with no record of what it merged
      // both partials of it are taken as copies of the delivered result.
      assert.deepEqual(await counts(path.join(tmp.dir, 'moved'), 'm3'), [1, 2, 0], 'skipped, duplicates, late (no journal)');
      // A journal line whose ranges are not of the written form: the window is still known as delivered, and its
      // ranges as unknown.
      const journal = path.join(tmp.dir, 'same', 'm', 'delivered-windows.jsonl');
      const line = JSON.parse(readFileSync(journal, 'utf8').split('\n')[0]) as Event;
      assert.ok(Array.isArray(line.ranges) && line.ranges.length === 2, readFileSync(journal, 'utf8'));
      mkdirSync(path.join(tmp.dir, 'garbled', 'm'), { recursive: true });
      writeFileSync(path.join(tmp.dir, 'garbled', 'm', 'delivered-windows.jsonl'), JSON.stringify({ ...line, ranges: [['x', 1]] }) + '\n');
      assert.deepEqual(await counts(path.join(tmp.dir, 'garbled'), 'm4'), [1, 2, 0], 'skipped, duplicates, late (garbled ranges)');
    } finally {
      await tmp.remove();
    }
  });

  it('events an aggregator finds late travel on in late partials: merged while the window is open, amended once emitted, else counted and logged as missing', async () => {
    // Partition 0 runs 30 s ahead (an edge ahead of another by more than allowed_lateness: 5 s) and closes [0,10s)
    // with 9 events; then 2 events of [0,10s) arrive on it late (the lagging edge's). `closeP1First`: partition 1
    // closes the window first, so the merger has emitted it by then.
    const ev = (partition: number, s: number, offset: number) => ({ timestamp: T0 + s * 1000, status: 200, kafka: { topic: 'ev', partition, offset } });
    const p0 = Array.from({ length: 9 }, (_, i) => ev(0, i + 1, i));
    const tmp = await tempDir('visor-merge-late-');
    const run = async (script: string, closeP1First: boolean, mergerOptions = '') => {
      const lateBatch = [ev(0, 3, 10), ev(0, 4, 11)];
      const p1 = [[ev(1, 2, 0)], [ev(1, 40, 1)]];
      // Partition 1 sits at 40 s (watermark 35 s) for the late batch: [0,10s) ended 25 s before.
      const batches = closeP1First ? [p0, [ev(0, 30, 9)], ...p1, lateBatch] : [p0, [ev(0, 30, 9)], p1[0], lateBatch, p1[1]];
      scripts.set(script, { batches, delay_ms: 0, end_pause_ms: 0 });
      // A data directory of its own: the merger's journal of delivered windows must not carry over between runs.
      const h = await startPipeline(`
${edgeAndMerger(path.join(tmp.dir, script), script, mergerOptions)}
  # On the window results: a per-event rule both the first result and its amendment match, and a sum over them that
  # only counting the window twice (10 + 12) passes.
  al:
    type: alert
    inputs: [m]
    rules:
      - { name: big, when: 'n >= 10' }
      - { name: twice, when: 'sum(n) > 15', over: 1h }
outputs:
  out: { type: test_record, inputs: [m] }
  alerts: { type: test_record, inputs: [al] }
  parts: { type: test_record, inputs: [a] }
  late: { type: test_record, inputs: [a._late] }
`);
      await h.pipeline.done();
      const lateIndex = batches.indexOf(lateBatch);
      assert.equal(h.probe('src').acks.find((a) => a.batch === lateIndex)?.result.status, 'delivered', 'the late batch is acknowledged once its late partial is delivered');
      assert.equal(h.probe('late').written.length, 2, 'the aggregator still sends its late events to _late');
      const c = { ...h.metrics.snapshot().a.custom, ...h.metrics.snapshot().m.custom };
      return {
        results: h.probe('out').written.map((r) => [(r.window_start as number) - T0, r.n, r.amended ?? false, r.revision ?? 0]),
        late: c.visor_window_late_events_total, merged: c.visor_window_merge_late_events_merged_total ?? 0, missing: c.visor_window_merge_late_events_missing_total ?? 0,
        amended: c.visor_window_merge_late_events_amended_total ?? 0, latePartials: c.visor_window_merge_late_partials_total ?? 0, logs: h.logs, partials: h.probe('parts').written,
        kept: c.visor_window_merge_amendable_windows,
        alerts: h.probe('alerts').written.map((a) => [a.name, a.state]), skippedByAlert: h.metrics.snapshot().al.custom.visor_alert_amended_results_skipped_total ?? 0,
      };
    };
    try {
      // Partition 1 still holds the window open: the late events are merged, the result is the whole window's.
      const open = await run('late-open', false);
      assert.deepEqual(open.results, [[0, 12, false, 0]]);
      assert.deepEqual([open.late, open.merged, open.amended, open.missing, open.latePartials], [2, 2, 0, 0, 0], 'late, merged, amended, missing, late partials');
      // Restarted on its data directory, the merger reads that late partial again (its commit had not passed it), but
      // no other partial of the window: a copy of what it delivered (its journal has the range), not missing events.
      const latePartial = open.partials.filter((e) => (e.partial as Event).late === true);
      assert.deepEqual(latePartial.map((e) => [(e.partial as Event).offset_from, (e.partial as Event).offset_to]), [[10, 11]]);
      scripts.set('late-reread', { batches: [latePartial.map((e) => ({ message: JSON.stringify(e), kafka: { topic: 'partials', partition: 0, offset: 7 } }))], delay_ms: 0, end_pause_ms: 0 });
      const again = await startPipeline(`
service: { data_dir: ${JSON.stringify(path.join(tmp.dir, 'late-open'))} }
inputs:
  src: { type: test_merge_events, script: late-reread }
aggregates:
  m: { type: window_merge, inputs: [src], window: { type: tumbling, size: 10s }, metrics: { n: count() }, expected_partitions: 2 }
outputs:
  out: { type: test_record, inputs: [m] }
`);
      await again.pipeline.done();
      const ac = again.metrics.snapshot().m.custom;
      assert.deepEqual([again.probe('out').written.length, ac.visor_window_merge_duplicate_partials_total, ac.visor_window_merge_late_events_missing_total ?? 0], [0, 1, 0], 'results, duplicates, missing');
      // Emitted before the late events came: kept (amend_for, default 1h), the window gets its corrected result again.
      const amended = await run('late-amended', true);
      assert.deepEqual(amended.results, [[0, 10, false, 0], [0, 12, true, 1]], 'the result, then its amendment with the late events');
      assert.deepEqual([amended.late, amended.merged, amended.amended, amended.missing, amended.latePartials], [2, 0, 2, 0, 0], 'late, merged, amended, missing, late partials');
      assert.equal(amended.kept, 1, 'one emitted window kept for amending');
      assert.ok(!amended.logs.some((l) => /WARN/.test(l)), amended.logs.join('\n'));
      // The alert takes the first result only: one alert for the window, and no sum counting it twice.
      assert.deepEqual([amended.alerts, amended.skippedByAlert], [[['big', 'firing']], 1], 'alerts, amended results left out');
      // Restarted on its data directory, the merger reads the late partial again (its commit had not passed it): the
      // amendment was journaled with its range, so the copy is a duplicate, neither amended again nor missing.
      const amendedPartial = amended.partials.filter((e) => (e.partial as Event).late === true);
      scripts.set('amended-reread', { batches: [amendedPartial.map((e) => ({ message: JSON.stringify(e), kafka: { topic: 'partials', partition: 0, offset: 7 } }))], delay_ms: 0, end_pause_ms: 0 });
      const again2 = await startPipeline(`
service: { data_dir: ${JSON.stringify(path.join(tmp.dir, 'late-amended'))} }
inputs:
  src: { type: test_merge_events, script: amended-reread }
aggregates:
  m: { type: window_merge, inputs: [src], window: { type: tumbling, size: 10s }, metrics: { n: count() }, expected_partitions: 2 }
outputs:
  out: { type: test_record, inputs: [m] }
`);
      await again2.pipeline.done();
      const ac2 = again2.metrics.snapshot().m.custom;
      assert.deepEqual([again2.probe('out').written.length, ac2.visor_window_merge_duplicate_partials_total, ac2.visor_window_merge_late_events_amended_total ?? 0, ac2.visor_window_merge_late_events_missing_total ?? 0], [0, 1, 0, 0], 'results, duplicates, amended, missing');
      // Not kept: the result lacks the late events, and the merger says so and why (metric and warning).
      for (const [script, options, why] of [['late-off', ', amend_for: 0s', 'amend_for is 0'], ['late-old', ', amend_for: 20s', 'older than amend_for']]) {
        // amend_for 20 s: the newest watermark (35 s) is 25 s past the window's end by the time the late events come.
        const emitted = await run(script, true, options);
        assert.deepEqual(emitted.results, [[0, 10, false, 0]], script);
        assert.deepEqual([emitted.late, emitted.merged, emitted.amended, emitted.missing, emitted.latePartials], [2, 0, 0, 2, 1], `${script}: late, merged, amended, missing, late partials`);
        assert.ok(emitted.logs.some((l) => new RegExp(`late events for a window already emitted: its result lacks them.*not amended: ${why}.*window_start=\\d+.*events=2`).test(l)), emitted.logs.join('\n'));
      }
    } finally {
      await tmp.remove();
    }
  });

  it('amending: only the groups late events touched are emitted again, each amendment with the next revision; the store keeps one row per window and group; beyond amend_max_windows, missing', async function () {
    const sqlite3 = onPath('sqlite3');
    if (!sqlite3) this.skip();
    const ev = (partition: number, s: number, status: number, offset: number) => ({ timestamp: T0 + s * 1000, status, kafka: { topic: 'ev', partition, offset } });
    // [0,10s): 9 × 200 on partition 0, 1 × 503 on partition 1; [10,20s): 2 × 200 on partition 0. Both partitions then
    // reach 40 s (watermark 35 s): both windows are emitted. Then late on partition 0: a 503 of [0,10s) and a 200 of
    // [10,20s) in one batch, and another 200 of [10,20s).
    const batches = [
      [...Array.from({ length: 9 }, (_, i) => ev(0, i + 1, 200, i)), ev(0, 12, 200, 9), ev(0, 15, 200, 10)],
      [ev(0, 40, 200, 11)],
      [ev(1, 2, 503, 0)],
      [ev(1, 40, 200, 1)],
      [ev(0, 3, 503, 12), ev(0, 14, 200, 13)],
      [ev(0, 16, 200, 14)],
    ];
    const tmp = await tempDir('visor-merge-amend-');
    const run = async (script: string, mergerOptions: string) => {
      scripts.set(script, { batches, delay_ms: 0, end_pause_ms: 0 });
      const db = path.join(tmp.dir, `${script}.db`);
      const h = await startPipeline(`
service: { data_dir: ${JSON.stringify(path.join(tmp.dir, script))} }
inputs:
  src: { type: test_merge_events, script: ${script} }
aggregates:
  a: { type: window, inputs: [src], window: { type: tumbling, size: 10s }, group_by: [status], emit: partials, allowed_lateness: 5s, idle_timeout: 1h, watermark_interval: 50ms, metrics: { n: count() } }
  m: { type: window_merge, inputs: [a], window: { type: tumbling, size: 10s }, group_by: [status], metrics: { n: count() }, expected_partitions: 2, state: true${mergerOptions} }
outputs:
  out: { type: test_record, inputs: [m] }
  db: { type: store, inputs: [m], path: ${JSON.stringify(db)}, agent: t, rollups: [] }
`);
      await h.pipeline.done();
      const c = h.metrics.snapshot().m.custom;
      // The rows as Debian's sqlite3 reads them: [start (s), group, count, revision].
      const rows = (JSON.parse(execFileSync(sqlite3!, ['-json', '-readonly', db, `SELECT window_start, group_key, count, json_extract(metrics, '$.revision') AS revision FROM windows ORDER BY window_start, group_key`], { encoding: 'utf8' }) || '[]') as Array<Record<string, number | string | null>>)
        .map((r) => [((r.window_start as number) - T0) / 1000, r.group_key, r.count, r.revision]);
      return {
        results: h.probe('out').written.map((r) => [((r.window_start as number) - T0) / 1000, r.status, r.n, r.revision ?? 0]),
        counts: [c.visor_window_merge_late_events_amended_total ?? 0, c.visor_window_merge_late_events_missing_total ?? 0, c.visor_window_merge_amended_results_total ?? 0, c.visor_window_merge_amendable_windows],
        rows, logs: h.logs,
      };
    };
    try {
      const all = await run('amend-all', '');
      assert.deepEqual(all.results, [
        [0, 200, 9, 0], [0, 503, 1, 0], [10, 200, 2, 0],
        [0, 503, 2, 1], [10, 200, 3, 1], // the first late batch: the 503 group of [0,10s) and the 200 group of [10,20s) only
        [10, 200, 4, 2], // the second: [10,20s) again, revision 2
      ]);
      assert.deepEqual(all.counts, [3, 0, 3, 2], 'late events amended, missing; amended results; windows kept');
      assert.deepEqual(all.rows, [[0, '[200]', 9, null], [0, '[503]', 2, 1], [10, '[200]', 4, 2]], 'one row per window and group, the last revision');
      // Only one window kept: [0,10s) went beyond the cap when [10,20s) was emitted. Its late 503 is missing, said why.
      const capped = await run('amend-capped', ', amend_max_windows: 1');
      assert.deepEqual(capped.results, [[0, 200, 9, 0], [0, 503, 1, 0], [10, 200, 2, 0], [10, 200, 3, 1], [10, 200, 4, 2]]);
      assert.deepEqual(capped.counts, [2, 1, 2, 1], 'late events amended, missing; amended results; windows kept');
      assert.ok(capped.logs.some((l) => /WARN .*late events for a window already emitted: its result lacks them.*not amended: beyond amend_max_windows.*window_start=\d+.*events=1/.test(l)), capped.logs.join('\n'));
      assert.deepEqual(capped.rows, [[0, '[200]', 9, null], [0, '[503]', 1, null], [10, '[200]', 4, 2]]);
    } finally {
      await tmp.remove();
    }
  });

  it('a timed-out partition\'s partial for a window emitted without it amends that window once (journaled); one for a window nobody had is a new result', async () => {
    // Real partials of two source partitions: [0,10s) with 5 events on partition 0 and 3 on partition 1, [10,20s) with
    // one event on partition 1 only; events at 40 s close both windows (watermark 35 s).
    const ev = (partition: number, s: number, offset: number) => ({ timestamp: T0 + s * 1000, status: 200, kafka: { topic: 'ev', partition, offset } });
    scripts.set('timeout-partials', { batches: [
      [...Array.from({ length: 5 }, (_, i) => ev(0, i + 1, i)), ev(0, 40, 5)],
      [...Array.from({ length: 3 }, (_, i) => ev(1, i + 2, i)), ev(1, 12, 3), ev(1, 40, 4)],
    ], delay_ms: 0, end_pause_ms: 0 });
    const agg = await startPipeline(`
inputs:
  src: { type: test_merge_events, script: timeout-partials }
aggregates:
  a: { type: window, inputs: [src], window: { type: tumbling, size: 10s }, emit: partials, allowed_lateness: 5s, watermark_interval: 1h, metrics: { n: count() } }
outputs:
  out: { type: test_record, inputs: [a] }
`);
    await agg.pipeline.done();
    const header = (e: Event) => e.partial as Event;
    const partial = (q: number, s: number) => agg.probe('out').written.find((e) => header(e).partition === q && header(e).window_start === T0 + s * 1000)!;
    assert.ok(partial(0, 0) && partial(1, 0) && partial(1, 10) && !partial(0, 10), 'partials of [0,10s) on both partitions, of [10,20s) on partition 1 only');
    // Watermark-only events (as every watermark_interval) at 5 s: both partitions known, [0,10s) open.
    const watermarkAt5 = (q: number) => {
      const { window_start: _s, window_end: _e, offset_from: _f, offset_to: _t, ...rest } = header(partial(q, 0));
      return { partial: { ...rest, watermark: T0 + 5000 } };
    };
    const read = (events: Event[]) => events.map((e) => ({ message: JSON.stringify(e) }));
    // Partition 1 then sends nothing for longer than partition_timeout: partition 0's partial closes [0,10s) without
    // it. Then partition 1's partial of [0,10s), a copy of it (re-sent after a rebalance) and its partial of [10,20s).
    const batches = [read([watermarkAt5(0), watermarkAt5(1)]), read([partial(0, 0)]), read([partial(1, 0)]), read([partial(1, 0)]), read([partial(1, 10)])];
    const tmp = await tempDir('visor-merge-timeout-');
    const merger = (script: string) => `
service: { data_dir: ${JSON.stringify(tmp.dir)} }
inputs:
  src: { type: test_merge_events, script: ${script} }
aggregates:
  m: { type: window_merge, inputs: [src], window: { type: tumbling, size: 10s }, metrics: { n: count() }, expected_partitions: 2, partition_timeout: 200ms }
outputs:
  out: { type: test_record, inputs: [m] }`;
    try {
      scripts.set('timeout-merge', { batches, delay_ms: 0, end_pause_ms: 0, pause_ms: { 1: 500 } });
      const h = await startPipeline(merger('timeout-merge'));
      await h.pipeline.done();
      const c = h.metrics.snapshot().m.custom;
      assert.ok(h.logs.some((l) => /partition sent nothing for partition_timeout/.test(l)), h.logs.join('\n'));
      assert.deepEqual(h.probe('out').written.map((r) => [((r.window_start as number) - T0) / 1000, r.n, r.amended ?? false, r.revision ?? 0]),
        [[0, 5, false, 0], [0, 8, true, 1], [10, 1, false, 0]], 'emitted without partition 1, amended with it once; [10,20s) a first result');
      assert.deepEqual([c.visor_window_merge_unwaited_events_amended_total ?? 0, c.visor_window_merge_late_events_amended_total ?? 0, c.visor_window_merge_amended_results_total ?? 0, c.visor_window_merge_duplicate_partials_total ?? 0, c.visor_window_merge_late_partials_total ?? 0, c.visor_window_merge_late_events_missing_total ?? 0],
        [3, 0, 1, 1, 0, 0], 'events amended (normal partial, late partials), amended results, duplicates, late partials, missing events');
      assert.ok(!h.logs.some((l) => /already emitted: dropped/.test(l)), h.logs.join('\n'));
      assert.ok(h.probe('src').acks.every((a) => a.result.status === 'delivered'), JSON.stringify(h.probe('src').acks));
      // The amendment was journaled with partition 1's range: the newest line of [0,10s) holds both partitions'.
      const lines = readFileSync(path.join(tmp.dir, 'm', 'delivered-windows.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { start: number; ranges: Array<[string, number, number]> });
      const last = lines.filter((l) => l.start === T0).pop()!;
      assert.deepEqual(last.ranges.map(([id, from, to]) => [id.split('\0')[1], from, to]).sort(), [['0', 0, 4], ['1', 0, 2]], JSON.stringify(lines));
      // Restarted on its data directory and reading them all again: both windows were delivered, nothing is emitted.
      scripts.set('timeout-reread', { batches: batches.slice(1), delay_ms: 0, end_pause_ms: 0 });
      const again = await startPipeline(merger('timeout-reread'));
      await again.pipeline.done();
      assert.deepEqual([again.probe('out').written.length, again.metrics.snapshot().m.custom.visor_window_merge_skipped_windows_total], [0, 2], 'results, skipped windows');
    } finally {
      await tmp.remove();
    }
  });

  it('late events for a window no partial had reached before every partition passed it: a first result within amend_for, then amendable; else missing', async () => {
    // [0,10s): 9 events on partition 0, 1 on partition 1; nothing in [10,20s). Both reach 40 s (watermark 35 s): [0,10s)
    // is emitted, [10,20s) never opened. Then late on partition 0 (a lagging edge's): one event of [10,20s), another.
    const ev = (partition: number, s: number, offset: number) => ({ timestamp: T0 + s * 1000, status: 200, kafka: { topic: 'ev', partition, offset } });
    const batches = [[...Array.from({ length: 9 }, (_, i) => ev(0, i + 1, i)), ev(0, 40, 9)], [ev(1, 2, 0)], [ev(1, 40, 1)], [ev(0, 15, 10)], [ev(0, 16, 11)]];
    const tmp = await tempDir('visor-merge-late-new-');
    const run = async (script: string, mergerOptions: string) => {
      scripts.set(script, { batches, delay_ms: 0, end_pause_ms: 0 });
      const h = await startPipeline(`
${edgeAndMerger(path.join(tmp.dir, script), script, mergerOptions)}
outputs:
  out: { type: test_record, inputs: [m] }
  late: { type: test_record, inputs: [a._late] }
`);
      await h.pipeline.done();
      assert.equal(h.probe('late').written.length, 2, 'both events were late at the aggregator');
      assert.ok(h.probe('src').acks.every((a) => a.result.status === 'delivered'), JSON.stringify(h.probe('src').acks));
      const c = h.metrics.snapshot().m.custom;
      return {
        results: h.probe('out').written.map((r) => [((r.window_start as number) - T0) / 1000, r.n, r.amended ?? false, r.revision ?? 0]),
        counts: [c.visor_window_merge_late_events_merged_total ?? 0, c.visor_window_merge_late_events_amended_total ?? 0, c.visor_window_merge_late_events_missing_total ?? 0, c.visor_window_merge_late_partials_total ?? 0],
        logs: h.logs,
      };
    };
    try {
      // amend_for 20 s: [10,20s) ended 15 s behind the newest watermark. Its first late partial makes its first result
      // (neither amended nor with a revision); the second amends it.
      const within = await run('late-new-within', ', amend_for: 20s');
      assert.deepEqual(within.results, [[0, 10, false, 0], [10, 1, false, 0], [10, 2, true, 1]]);
      assert.deepEqual(within.counts, [1, 1, 0, 0], 'late events merged, amended, missing; late partials');
      assert.ok(!within.logs.some((l) => /WARN/.test(l)), within.logs.join('\n'));
      // amend_for 10 s, and 0: older than that, or never: missing, and said why.
      for (const [script, options, why] of [['late-new-old', ', amend_for: 10s', 'older than amend_for'], ['late-new-off', ', amend_for: 0s', 'amend_for is 0']]) {
        const missing = await run(script, options);
        assert.deepEqual(missing.results, [[0, 10, false, 0]], script);
        assert.deepEqual(missing.counts, [0, 0, 2, 2], `${script}: late events merged, amended, missing; late partials`);
        assert.ok(missing.logs.some((l) => new RegExp(`late events for a window .*not amended: ${why}.*window_start=\\d+.*events=1`).test(l)), missing.logs.join('\n'));
      }
    } finally {
      await tmp.remove();
    }
  });

  it('hopping windows: a late event\'s late partial holds the windows already closed, the open ones take it as usual; the merger amends the closed one', async () => {
    const ev = (s: number, offset: number) => ({ timestamp: T0 + s * 1000, status: 200, kafka: { topic: 't', partition: 0, offset } });
    // t=30 s closes every window ending by 25 s (allowed_lateness 5 s); t=22 s belongs to [15,25) (closed) and [20,30) (open).
    scripts.set('late-hopping', { batches: [[ev(16, 0), ev(21, 1)], [ev(30, 2)], [ev(22, 3)], [ev(60, 4)]], delay_ms: 0, end_pause_ms: 0 });
    const { pipeline, probe } = await startPipeline(`
inputs:
  src: { type: test_merge_events, script: late-hopping }
aggregates:
  a: { type: window, inputs: [src], window: { type: hopping, size: 10s, advance: 5s }, emit: partials, allowed_lateness: 5s, idle_timeout: 1h, watermark_interval: 1h, metrics: { n: count() } }
  m: { type: window_merge, inputs: [a], window: { type: hopping, size: 10s, advance: 5s }, metrics: { n: count() }, expected_partitions: 1 }
outputs:
  out: { type: test_record, inputs: [a] }
  merged: { type: test_record, inputs: [m] }
`);
    await pipeline.done();
    const partials = probe('out').written.filter((e) => (e.partial as Event).window_start !== undefined);
    const shown = partials.map((e) => {
      const h = e.partial as Event;
      return [(h.window_start as number) - T0, h.late === true, (e.groups as Array<{ count: number }>).reduce((n, g) => n + g.count, 0), h.offset_from, h.offset_to];
    });
    // Closed by t=30 s: [10,20) and [15,25) (events 16 and 21 s); then the late partial of [15,25) with t=22 s alone;
    // t=60 s closes the rest, [20,30) with t=22 s in it (offsets 1-3).
    assert.deepEqual(shown, [[10_000, false, 1, 0, 0], [15_000, false, 2, 0, 1], [15_000, true, 1, 3, 3], [20_000, false, 2, 1, 3], [25_000, false, 1, 2, 2], [30_000, false, 1, 2, 2]]);
    // The merger emitted [15,25) before the late partial came: it amends that window only ([20,30) took t=22 s on time).
    const results = probe('merged').written.map((r) => [(r.window_start as number) - T0, r.n, r.revision ?? 0]);
    assert.deepEqual(results, [[10_000, 1, 0], [15_000, 2, 0], [15_000, 3, 1], [20_000, 2, 0], [25_000, 1, 0], [30_000, 1, 0]]);
  });

  it('a merger configured differently refuses the partials with a clear error and does not acknowledge them', async () => {
    const ev = (s: number, offset: number) => ({ timestamp: T0 + s * 1000, status: 200, kafka: { topic: 't', partition: 0, offset } });
    scripts.set('mismatch', { batches: [[ev(1, 0)], [ev(30, 1)]], delay_ms: 0, end_pause_ms: 100 });
    const { pipeline, logs, probe } = await startPipeline(`
inputs:
  src: { type: test_merge_events, script: mismatch }
aggregates:
  a: { type: window, inputs: [src], window: { type: tumbling, size: 10s }, emit: partials, metrics: { n: count() } }
  m: { type: window_merge, inputs: [a], window: { type: tumbling, size: 10s }, metrics: { n: count(status >= 500) }, discovery: 0s }
outputs:
  out: { type: test_record, inputs: [m] }
`);
    await pipeline.done();
    assert.equal(probe('out').written.length, 0);
    assert.ok(logs.some((l) => /cannot be merged: the aggregator's window options .* differ from this merger's/.test(l)), logs.join('\n'));
    assert.ok(probe('src').acks.some((a) => a.result.status === 'failed'));
  });

  it('rejects emit: partials with ack: absorb or processing time', async () => {
    for (const extra of ['ack: absorb', 'time: processing']) {
      await assert.rejects(startPipeline(`
inputs:
  src: { type: test_merge_events, script: acks }
aggregates:
  a: { type: window, inputs: [src], window: { type: tumbling, size: 10s }, emit: partials, ${extra} }
outputs:
  out: { type: test_record, inputs: [a] }
`), /emit: partials/);
    }
  });
});
