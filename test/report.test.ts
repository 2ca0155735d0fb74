import assert from 'node:assert/strict';
import type { Event } from '../core/index.js';
import { atOrAbove, bySeverity, messageTemplate } from '../lib/stats/index.js';
import { mixedEvents } from './support/mixed-events.js';
import { startPipeline, type Harness, type Probes } from './support/pipeline-harness.js';

// A script stands in for the input: the test decides what to emit and when (after which report), through the
// kit's test_script input (emit sends a copy of the batch, without waiting for its acknowledgement).
type Emit = (events: Event[]) => Promise<void>;
/** The probes of the pipeline whose script runs (reportWhere is called from scripts). */
let running: Probes;

/** Resolves once the output has written a report satisfying `test` (polls the recorded writes). */
async function reportWhere(test: (r: Event) => boolean, ms = 10_000): Promise<Event> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = running('out').written.find(test);
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`no matching report in ${JSON.stringify(running('out').written.map((r) => r.message))}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const pipelineYaml = (extra: string, interval: string) => `
inputs:
  src: { type: test_script }
aggregates:
  rep: { type: report, inputs: [src], interval: ${interval}, top: 3, title: 'web<01>'${extra} }
outputs:
  out: { type: test_record, inputs: [rep] }
`;

/** A report (with `extra` options, every `interval`) of what `script` emits; resolves once the pipeline ended. */
async function runReport(script: (emit: Emit) => Promise<void>, extra = '', interval = '200ms'): Promise<Harness> {
  const h = await startPipeline(pipelineYaml(extra, interval));
  running = h.probe;
  const src = h.script('src');
  await script(async (events) => void src.send(events.map((e) => ({ ...e }))));
  await h.run.end();
  return h;
}

function exactTop(values: string[], n: number) {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n).map(([value, count]) => ({ value, count }));
}

/** The top n message templates of the lines at or above `threshold`, each template counted per level, with the
 * first message of each as its sample. */
function exactMessages(log: Event[], threshold: string, n: number) {
  const m = new Map<string, { value: string; count: number; level: string; sample: string }>();
  for (const e of log) {
    if (!atOrAbove(e.level as string, threshold) || typeof e.message_text !== 'string' || !e.message_text) continue;
    const value = messageTemplate(e.message_text);
    const k = `${e.level}\u0000${value}`;
    const had = m.get(k);
    if (had) had.count++;
    else m.set(k, { value, count: 1, level: e.level as string, sample: e.message_text });
  }
  return [...m.values()].sort((a, b) => b.count - a.count || (a.value < b.value ? -1 : a.value > b.value ? 1 : bySeverity(a.level, b.level))).slice(0, n);
}

describe('report aggregate', () => {
  for (const seed of [1, 2]) {
    it(`figures equal a brute-force computation over one interval (seed ${seed})`, async () => {
      const events = mixedEvents(seed, 2000);
      const { probe } = await runReport(async (emit) => {
        await reportWhere(() => true); // start right after a report: the batch lies in one interval
        await emit(events);
        await reportWhere((r) => (r.requests as number) > 0);
      }, ', capacity: 100');
      const reports = probe('out').written;
      const nonEmpty = reports.filter((r) => (r.requests as number) > 0 || (r.error_log_lines as number) > 0);
      assert.equal(nonEmpty.length, 1);
      const got = nonEmpty[0];

      const access = events.filter((e) => e.heartbeat !== true && typeof e.status === 'number');
      const errs = access.filter((e) => (e.status as number) >= 500);
      const cls = (lo: number) => access.filter((e) => (e.status as number) >= lo && (e.status as number) < lo + 100).length;
      const log = events.filter((e) => e.heartbeat !== true && typeof e.level === 'string');
      assert.equal(got.report, 'web<01>');
      assert.equal(got.requests, access.length);
      assert.equal(got.errors, errs.length);
      assert.equal(got.error_rate, errs.length / access.length);
      assert.deepEqual(got.status_classes, { '2xx': cls(200), '3xx': cls(300), '4xx': cls(400), '5xx': cls(500), other: access.length - cls(200) - cls(300) - cls(400) - cls(500) });
      assert.ok((got.status_classes as Record<string, number>).other > 0);
      assert.equal(got.bytes, access.reduce((s, e) => s + (typeof e.bytes === 'number' ? e.bytes : 0), 0));
      const seconds = ((got.window_end as number) - (got.window_start as number)) / 1000;
      assert.equal(got.requests_per_second, access.length / seconds);
      assert.deepEqual(got.top_clients, exactTop(access.map((e) => e.client_ip as string), 3));
      assert.deepEqual(got.top_error_clients, exactTop(errs.map((e) => e.client_ip as string), 3));
      assert.deepEqual(got.top_paths, exactTop(access.map((e) => e.path as string), 3));
      assert.ok(!JSON.stringify(got.top_clients).includes('9.9.9.9'), 'heartbeats excluded');
      assert.deepEqual(got.top_error_bounds, { top_clients: 0, top_error_clients: 0, top_paths: 0, top_error_messages: 0 });
      // error-log events
      assert.equal(got.error_log_lines, log.length);
      const levels: Record<string, number> = {};
      for (const e of log) levels[e.level as string] = (levels[e.level as string] ?? 0) + 1;
      assert.deepEqual(got.error_log_levels, levels);
      // Templates of warn and worse only (the default message_level), per level, with a sample each.
      assert.deepEqual(got.top_error_messages, exactMessages(log, 'warn', 3));
      assert.ok((got.top_error_messages as unknown[]).length > 0);
      // the text rendering carries the key figures
      const text = got.message as string;
      assert.match(text, new RegExp(`requests: ${access.length} `));
      assert.match(text, new RegExp(`errors \\(5xx\\): ${errs.length} `));
      assert.match(text, new RegExp(`error rate: ${((errs.length / access.length) * 100).toFixed(2)}%`));
      assert.ok(text.includes(`${(got.top_clients as Array<{ value: string; count: number }>)[0].value} (${(got.top_clients as Array<{ count: number }>)[0].count})`));
      assert.ok(text.includes('error log lines: ' + log.length));
      // every report of the run is an interval of its own: back to back
      for (let i = 1; i < reports.length; i++) assert.equal(reports[i].window_start, reports[i - 1].window_end);
    });
  }

  it('an interval with only heartbeats (or nothing) reports zeros and error_rate null; no division by zero', async () => {
    const { probe } = await runReport(async (emit) => {
      await reportWhere(() => true);
      await emit([{ heartbeat: true, status: 500, client_ip: '1.1.1.1', path: '/hb' }]);
      await reportWhere((r) => running('out').written.indexOf(r) >= 2);
    });
    const reports = probe('out').written;
    assert.ok(reports.length >= 3);
    for (const r of reports) {
      assert.equal(r.requests, 0);
      assert.equal(r.errors, 0);
      assert.equal(r.error_rate, null);
      assert.equal(r.requests_per_second, 0);
      assert.equal(r.bytes, 0);
      assert.deepEqual(r.top_clients, []);
      assert.deepEqual(r.status_classes, { '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0, other: 0 });
      assert.match(r.message as string, /error rate: n\/a/);
    }
  });

  it('emit_empty: false skips empty intervals; a flush at shutdown reports what was seen', async () => {
    const { probe } = await runReport(async (emit) => {
      await emit([{ status: 200, client_ip: '1.1.1.1', path: '/', bytes: 10 }]);
    }, ', emit_empty: false', '1h');
    const reports = probe('out').written;
    assert.equal(reports.length, 1);
    assert.equal(reports[0].requests, 1);
    assert.equal(reports[0].bytes, 10);
  });

  it('no stale entries: a client seen only in one interval is absent from the next', async () => {
    const { probe } = await runReport(async (emit) => {
      await reportWhere(() => true);
      await emit([
        { status: 500, client_ip: '10.1.1.1', path: '/old', bytes: 100 },
        { level: 'crit', message_text: 'old failure' },
      ]);
      await reportWhere((r) => (r.requests as number) > 0);
      await emit([{ status: 200, client_ip: '10.2.2.2', path: '/new', bytes: 5 }]);
      await reportWhere((r) => JSON.stringify(r.top_clients).includes('10.2.2.2'));
    });
    const reports = probe('out').written.filter((r) => (r.requests as number) > 0);
    assert.equal(reports.length, 2);
    const [first, second] = reports;
    assert.deepEqual(first.top_clients, [{ value: '10.1.1.1', count: 1 }]);
    assert.equal(first.error_rate, 1);
    assert.deepEqual(first.error_log_levels, { crit: 1 });
    assert.deepEqual(first.top_error_messages, [{ value: 'old failure', count: 1, level: 'crit', sample: 'old failure' }]);
    assert.deepEqual(second.top_clients, [{ value: '10.2.2.2', count: 1 }]);
    assert.deepEqual(second.top_error_clients, []);
    assert.deepEqual(second.top_paths, [{ value: '/new', count: 1 }]);
    assert.deepEqual(second.top_error_messages, []);
    assert.deepEqual(second.error_log_levels, {});
    assert.equal(second.errors, 0);
    assert.equal(second.error_rate, 0);
    assert.equal(second.bytes, 5);
    assert.ok(!(second.message as string).includes('10.1.1.1'));
  });

  it('top lists beyond capacity use Space-Saving and report its bound; a long message is one template, kept whole', async () => {
    const long = 'x'.repeat(500);
    const events: Event[] = [];
    for (let i = 0; i < 50; i++) events.push({ status: 200, client_ip: 'heavy', path: '/' });
    for (let i = 0; i < 30; i++) events.push({ status: 200, client_ip: `c${i}`, path: '/' });
    events.push({ level: 'error', message_text: long });
    const { probe } = await runReport(async (emit) => {
      await emit(events);
    }, ', capacity: 5', '1h');
    const [r] = probe('out').written;
    const top = r.top_clients as Array<{ value: string; count: number }>;
    const bound = (r.top_error_bounds as Record<string, number>).top_clients;
    assert.ok(bound > 0 && bound <= 80 / 5);
    assert.equal(top[0].value, 'heavy');
    assert.ok(top[0].count >= 50 && top[0].count <= 50 + bound);
    assert.deepEqual(r.top_error_messages, [{ value: long, count: 1, level: 'error', sample: long }]);
  });

  it('html escapes everything (title, clients, paths, messages)', async () => {
    const { probe } = await runReport(async (emit) => {
      await emit([
        { status: 500, client_ip: '<script>alert(1)</script>', path: '/"><img src=x onerror=alert(2)>', bytes: 1 },
        { level: 'error', message_text: "<script>alert('m')</script>" },
      ]);
    }, '', '1h');
    const [r] = probe('out').written;
    const html = r.html as string;
    assert.ok(!html.includes('<script>'), html);
    assert.ok(!html.includes('<img'), html);
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(html.includes('web&lt;01&gt;'));
    assert.ok(html.includes('&lt;script&gt;alert(&#39;m&#39;)&lt;/script&gt;'));
    assert.ok(html.includes('<table'));
  });
});
