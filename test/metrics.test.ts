import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { MetricsHub } from '../core/runtime/metrics.js';

/** The exposition lines of one metric name, e.g. `visor_component_errors_total{...} 2`. */
function samplesOf(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

describe('MetricsHub', () => {
  /** The metrics of input `access` (type file) after 5 events, and what the hub gives when asked again with `type`. */
  function askedAgain(type: string) {
    const hub = new MetricsHub();
    const before = hub.component({ id: 'access', kind: 'input', type: 'file' });
    before.receivedEvents.inc(5);
    return { hub, before, after: hub.component({ id: 'access', kind: 'input', type }) };
  }

  it('returns the same metrics object for the same id, kind and type', () => {
    const { before, after } = askedAgain('file');
    assert.equal(after, before);
    assert.equal(after.receivedEvents.value, 5);
  });

  it('starts a component whose type changed from zero', () => {
    const { hub, before, after } = askedAgain('tcp');
    assert.notEqual(after, before);
    assert.equal(after.receivedEvents.value, 0);
    assert.equal(hub.snapshot().access?.type, 'tcp');
  });

  it('exposes component counters with their labels', async () => {
    const hub = new MetricsHub('1.2.3');
    const parse = hub.component({ id: 'parse', kind: 'filter', type: 'apache' });
    parse.receivedEvents.inc(10);
    parse.sentEvents().inc(7);
    parse.sentEvents('_unparsed').inc(3);
    parse.discarded('too_long').inc(2);
    parse.errors('parse').inc();
    parse.bufferEvents.set(4);
    parse.bufferMaxEvents = 1000;
    const text = await hub.exposition();

    const labels = 'component_id="parse",component_kind="filter",component_type="apache"';
    assert.deepEqual(samplesOf(text, 'visor_component_received_events_total'), [`visor_component_received_events_total{${labels}} 10`]);
    assert.deepEqual(samplesOf(text, 'visor_component_sent_events_total'), [
      `visor_component_sent_events_total{${labels},output="_default"} 7`,
      `visor_component_sent_events_total{${labels},output="_unparsed"} 3`,
    ]);
    assert.deepEqual(samplesOf(text, 'visor_component_discarded_events_total'), [
      `visor_component_discarded_events_total{${labels},reason="too_long"} 2`,
    ]);
    assert.deepEqual(samplesOf(text, 'visor_component_errors_total'), [`visor_component_errors_total{${labels},error_type="parse"} 1`]);
    assert.deepEqual(samplesOf(text, 'visor_buffer_events'), [`visor_buffer_events{${labels}} 4`]);
    assert.deepEqual(samplesOf(text, 'visor_buffer_max_events'), [`visor_buffer_max_events{${labels}} 1000`]);
    assert.deepEqual(samplesOf(text, 'visor_build_info'), ['visor_build_info{version="1.2.3"} 1']);
    assert.equal(samplesOf(text, 'visor_uptime_seconds').length, 1);
    assert.match(text, /^# TYPE visor_component_received_events_total counter$/m);
    assert.match(text, /^visor_process_cpu_user_seconds_total /m, 'default process metrics carry the visor_ prefix');
  });

  it('reads the numbers at scrape time', async () => {
    const hub = new MetricsHub();
    const out = hub.component({ id: 'out', kind: 'output', type: 'stdout' });
    out.sentBytes.inc(100);
    assert.match(await hub.exposition(), /^visor_component_sent_bytes_total\{[^}]*\} 100$/m);
    out.sentBytes.inc(50);
    assert.match(await hub.exposition(), /^visor_component_sent_bytes_total\{[^}]*\} 150$/m);
  });

  it('snapshots plain numbers per component', () => {
    const hub = new MetricsHub();
    const parse = hub.component({ id: 'parse', kind: 'filter', type: 'apache' });
    parse.receivedEvents.inc(10);
    parse.sentEvents().inc(7);
    parse.sentEvents('_unparsed').inc(3);
    parse.discarded('too_long').inc(2);
    parse.discarded('empty').inc(1);
    parse.errors('parse').inc(4);
    parse.bufferMaxEvents = 500;
    parse.counter('lines_seen', 'Lines seen.').inc(9);
    parse.gauge('open_files', 'Files open.').set(2);

    assert.deepEqual(hub.snapshot(), {
      parse: {
        kind: 'filter',
        type: 'apache',
        received_events: 10,
        sent_events: 10,
        sent_events_by_output: { _default: 7, _unparsed: 3 },
        received_bytes: 0,
        sent_bytes: 0,
        discarded: 3,
        discarded_by_reason: { too_long: 2, empty: 1 },
        errors: 4,
        errors_by_type: { parse: 4 },
        buffer_events: 0,
        buffer_max_events: 500,
        worker_undecoded_batches: 0,
        worker_undecoded_lines: 0,
        custom: { visor_lines_seen_total: 9, visor_open_files: 2 },
      },
    });
  });

  it('exposes the worker-stage counters of the components whose batches go to worker threads, only theirs', async () => {
    const hub = new MetricsHub();
    const parallel = hub.component({ id: 'parse', kind: 'filter', type: 'apache_access' });
    parallel.workerStage = true;
    parallel.workerUndecodedBatches.inc(3);
    parallel.workerUndecodedLines.inc(2400);
    hub.component({ id: 'out', kind: 'output', type: 'stdout' });
    const text = await hub.exposition();
    const labels = 'component_id="parse",component_kind="filter",component_type="apache_access"';
    assert.deepEqual(samplesOf(text, 'visor_component_worker_undecoded_batches_total'), [`visor_component_worker_undecoded_batches_total{${labels}} 3`]);
    assert.deepEqual(samplesOf(text, 'visor_component_worker_undecoded_lines_total'), [`visor_component_worker_undecoded_lines_total{${labels}} 2400`]);
    const snap = hub.snapshot();
    assert.deepEqual([snap.parse!.worker_undecoded_batches, snap.parse!.worker_undecoded_lines, snap.out!.worker_undecoded_lines], [3, 2400, 0]);
  });

  it('retain() removes forgotten components from the exposition and the snapshot', async () => {
    const hub = new MetricsHub();
    hub.component({ id: 'kept', kind: 'input', type: 'file' }).receivedEvents.inc();
    const gone = hub.component({ id: 'gone', kind: 'input', type: 'file' });
    gone.receivedEvents.inc();
    gone.gauge('open_files', 'Files open.').set(1);
    assert.match(await hub.exposition(), /component_id="gone"/);

    hub.retain(['kept']);
    const text = await hub.exposition();
    assert.doesNotMatch(text, /component_id="gone"/);
    assert.doesNotMatch(text, /visor_open_files/);
    assert.match(text, /component_id="kept"/);
    assert.deepEqual(Object.keys(hub.snapshot()), ['kept']);
  });

  it('shares one custom metric between components, told apart by labels', async () => {
    const hub = new MetricsHub();
    const a = hub.component({ id: 'a', kind: 'input', type: 'file' });
    const b = hub.component({ id: 'b', kind: 'input', type: 'file' });
    a.counter('lines_read', 'Lines read from files.').inc(2);
    b.counter('lines_read_total', 'Lines read from files.').inc(5);
    assert.equal(a.counter('lines_read', 'Lines read from files.').value, 2, 'the same counter comes back');

    const text = await hub.exposition();
    assert.equal(text.match(/^# TYPE visor_lines_read_total counter$/gm)?.length, 1);
    assert.deepEqual(samplesOf(text, 'visor_lines_read_total'), [
      'visor_lines_read_total{component_id="a",component_kind="input",component_type="file"} 2',
      'visor_lines_read_total{component_id="b",component_kind="input",component_type="file"} 5',
    ]);
  });

  it('custom metrics with labels: one series per label value, summed in the snapshot; label names checked', async () => {
    const hub = new MetricsHub();
    const c = hub.component({ id: 'logs', kind: 'input', type: 'tail' });
    c.counter('lost_bytes', 'Bytes lost.', { file: '/var/log/a.log' }).inc(10);
    c.counter('lost_bytes', 'Bytes lost.', { file: '/var/log/b "quoted".log' }).inc(4);
    c.counter('lost_bytes', 'Bytes lost.', { file: '/var/log/a.log' }).inc(1);
    const text = await hub.exposition();
    assert.deepEqual(samplesOf(text, 'visor_lost_bytes_total'), [
      'visor_lost_bytes_total{component_id="logs",component_kind="input",component_type="tail",file="/var/log/a.log"} 11',
      'visor_lost_bytes_total{component_id="logs",component_kind="input",component_type="tail",file="/var/log/b \\"quoted\\".log"} 4',
    ]);
    assert.equal(hub.snapshot().logs?.custom.visor_lost_bytes_total, 15);
    assert.throws(() => c.counter('lost_bytes', 'Bytes lost.'), /has labels \[file\]; it cannot also have \[\]/);
    assert.throws(() => c.counter('other', 'Other.', { component_id: 'x' }), /invalid label name "component_id"/);
    assert.throws(() => c.counter('other', 'Other.', { 'a-b': 'x' }), /invalid label name "a-b"/);
    const d = hub.component({ id: 'more', kind: 'input', type: 'tail' });
    assert.throws(() => d.counter('lost_bytes', 'Bytes lost.', { path: 'x' }), /already registered with labels \[file\]/);
  });

  it('rejects invalid or conflicting custom metric names with a clear error', () => {
    const c = new MetricsHub().component({ id: 'a', kind: 'input', type: 'file' });
    assert.throws(() => c.counter('lines-read', 'Lines.'), /invalid metric name "lines-read"/);
    assert.throws(() => c.gauge('1st', 'First.'), /invalid metric name "1st"/);
    assert.throws(() => c.gauge('a:b', 'Recording rule style.'), /invalid metric name/);
    assert.throws(() => c.gauge('ok', ''), /needs a help text/);
    c.counter('things', 'Things.');
    assert.throws(() => c.gauge('things_total', 'Things.'), /already registered as a counter/);
    assert.throws(() => c.counter('component_errors', 'Clash.'), /reserved by Visor/);
  });

  it("states prom-client's content type before prom-client is loaded", () => {
    assert.equal(new MetricsHub().contentType, new Registry().contentType);
  });

  it('custom metrics declared after the first scrape are exposed too, and then process metric names are taken', async () => {
    const hub = new MetricsHub();
    const c = hub.component({ id: 'a', kind: 'input', type: 'file' });
    c.counter('before', 'Declared before the first scrape.').inc(1);
    assert.match(await hub.exposition(), /^visor_before_total\{[^}]*\} 1$/m);
    c.gauge('after', 'Declared after it.').set(3);
    const text = await hub.exposition();
    assert.match(text, /^visor_after\{[^}]*\} 3$/m);
    assert.match(text, /^visor_before_total\{[^}]*\} 1$/m);
    assert.throws(() => c.gauge('process_cpu_user_seconds_total', 'Clash.'), /reserved by Visor/);
  });

  it('refuses to decrease a counter', () => {
    const c = new MetricsHub().component({ id: 'a', kind: 'input', type: 'file' });
    assert.throws(() => c.receivedEvents.inc(-1), RangeError);
    assert.throws(() => c.receivedEvents.inc(NaN), RangeError);
    assert.equal(c.receivedEvents.value, 0);
  });
});
