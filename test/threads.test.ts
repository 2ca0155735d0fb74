// service.threads: the same corpus through the real tail, apache_access, window and file outputs with the parser on
// the main thread (threads: 1) and in a worker thread (threads: 2) gives the same files byte for byte, the same
// counters and the same checkpoints; a filter failing in a worker (it throws, or its thread dies) fails its batch as
// one failing on the main thread does.
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { validateConfig } from '../core/testing/index.js';
import { WINDOW } from './bench/tail.js';
import { ROOT, tempDir } from './support/helpers.js';
import { corpus, LINES, run } from './support/threads.js';

const FILTERS = path.join(ROOT, 'test/fixtures/parallel-filters.js');

const WINDOW_AND_FILES = (out: (name: string) => string) => [
  'filters:',
  // access feeds only the window (and _unparsed, carrying its input whole): the worker sends back 5 fields a line.
  '  access: { type: apache_access, inputs: [logs], format: combined }',
  // events feeds a file output writing whole events: every field comes back.
  '  events: { type: apache_access, inputs: [logs], format: combined }',
  ...WINDOW,
  'outputs:',
  `  windows: { type: file, inputs: [per_minute, per_minute._late], path: ${JSON.stringify(out('windows.jsonl'))}, format: json }`,
  `  unparsed: { type: file, inputs: [access._unparsed], path: ${JSON.stringify(out('unparsed.jsonl'))}, format: json }`,
  `  parsed: { type: file, inputs: [events], path: ${JSON.stringify(out('events.jsonl'))}, format: json }`,
  `  events_unparsed: { type: file, inputs: [events._unparsed], path: ${JSON.stringify(out('events-unparsed.jsonl'))}, format: json }`,
];

describe('service.threads', function () {
  this.timeout(60_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let size: number;
  const lines = corpus();

  before(async () => {
    dir = await tempDir('visor-threads-');
    await writeFile(path.join(dir.dir, 'access.log'), lines.join('\n') + '\n');
    size = (await stat(path.join(dir.dir, 'access.log'))).size;
  });
  after(() => dir.remove());

  it('gives the same window results, files, counters and checkpoints with the parser in a worker thread', async () => {
    const one = await run(dir.dir, 1, WINDOW_AND_FILES);
    const two = await run(dir.dir, 2, WINDOW_AND_FILES);
    const unparsed = lines.filter((l) => l.trim() === '' || l.startsWith('not')).length;
    assert.equal(one.files['events.jsonl'].split('\n').length - 1, LINES - unparsed, 'threads: 1 parsed every access line');
    assert.equal(one.files['unparsed.jsonl'].split('\n').length - 1, unparsed);
    assert.ok(one.files['windows.jsonl'].length > 1000, 'windows were written');
    for (const name of Object.keys(one.files)) assert.ok(one.files[name] === two.files[name], `${name} differs between threads 1 and 2`);
    assert.deepEqual(two.stats, one.stats);
    assert.ok(two.logs.some((l) => l.includes('batches go to worker threads') && l.includes('component=access')), two.logs.join(''));
    assert.ok(!one.logs.some((l) => l.includes('batches go to worker threads')), 'threads: 1 did not');
    assert.ok(!two.logs.some((l) => l.includes('ERROR')), two.logs.join(''));
    assert.equal((one.stats.access as { custom: Record<string, number> }).custom.visor_parser_parsed_lines_total, LINES - unparsed);
    // Acknowledged only once delivered: the tail's checkpoint is at the end of the file in both.
    assert.equal(one.checkpoint, size);
    assert.equal(two.checkpoint, size);
  });

  it('gives the same window results with its partials built in 1 and 2 worker threads, late events included', async () => {
    // Lines of 3 minutes before, every 1500 lines: their windows are closed by then, so they go to _late.
    const late = path.join(dir.dir, 'late.log');
    const withLate = lines.flatMap((l, i) => (i > 1000 && i % 1500 === 0 ? [l, lines[i - 600]] : [l]));
    await writeFile(late, withLate.join('\n') + '\n');
    const body = (out: (name: string) => string) => [
      'filters:',
      '  access: { type: apache_access, inputs: [logs], format: combined }',
      'aggregates:',
      '  per_minute:',
      '    type: window',
      '    inputs: [access]',
      '    window: { type: tumbling, size: 1m }',
      '    group_by: [status]',
      '    ack: emit',
      '    metrics: { requests: count(), errors: count(status >= 500), bytes: sum(bytes), biggest: max(bytes) }',
      '    top: [{ field: client_ip, n: 10 }, { field: path, n: 3, capacity: 5 }]',
      '    percentiles: [{ field: bytes, p: [50, 95] }]',
      '    distinct: [client_ip]',
      '    state: true',
      'outputs:',
      `  windows: { type: file, inputs: [per_minute], path: ${JSON.stringify(out('windows.jsonl'))}, format: json }`,
      `  late: { type: file, inputs: [per_minute._late], path: ${JSON.stringify(out('late.jsonl'))}, format: json }`,
      `  unparsed: { type: file, inputs: [access._unparsed], path: ${JSON.stringify(out('unparsed.jsonl'))}, format: json }`,
    ];
    const runs = [];
    for (const threads of [1, 2, 3]) runs.push(await run(dir.dir, threads, body, [], late));
    const [one, ...more] = runs;
    const lateCount = one.files['late.jsonl'].split('\n').length - 1;
    assert.ok(lateCount > 5, `late events were written: ${lateCount}`);
    assert.ok(one.files['windows.jsonl'].split('\n').length > 100, 'windows were written');
    for (const [i, r] of more.entries()) {
      assert.ok(r.logs.some((l) => l.includes('batches go to worker threads') && l.includes('partials_to=per_minute')), r.logs.join(''));
      assert.ok(!r.logs.some((l) => l.includes('ERROR')), r.logs.join(''));
      for (const name of Object.keys(one.files)) assert.ok(one.files[name] === r.files[name], `${name} differs between threads 1 and ${i + 2}`);
      assert.deepEqual(r.stats, one.stats);
      assert.equal(r.checkpoint, one.checkpoint);
    }
    assert.equal((one.stats.per_minute as { custom: Record<string, number> }).custom.visor_window_late_events_total, lateCount);
    assert.equal(one.checkpoint, (await stat(late)).size, 'everything acknowledged (ack: emit: once the windows were written)');
  });

  it('fails a batch whose filter throws in a worker as it fails one throwing on the main thread', async () => {
    const bad = lines[5_000];
    const body = (out: (name: string) => string) => [
      'filters:',
      `  fail: { type: parallel_throw_on, inputs: [logs], messages: [${JSON.stringify(bad)}] }`,
      'outputs:',
      `  out: { type: file, inputs: [fail], path: ${JSON.stringify(out('passed.jsonl'))}, format: json }`,
    ];
    const one = await run(dir.dir, 1, body, [FILTERS]);
    const two = await run(dir.dir, 2, body, [FILTERS]);
    const passed = one.files['passed.jsonl'].split('\n').length - 1;
    const failed = (one.stats.fail as { discarded: Record<string, number> }).discarded.process_error;
    assert.ok(failed > 0 && passed + failed === LINES, `${passed} passed + ${failed} failed of ${LINES}`);
    assert.ok(!one.files['passed.jsonl'].includes(JSON.stringify(bad)));
    assert.ok(one.files['passed.jsonl'] === two.files['passed.jsonl'], 'the same events passed');
    assert.deepEqual(two.stats, one.stats);
    // Not acknowledged as delivered: the checkpoint stays before the failed batch (the tail keeps it where it was
    // when the failure came back, which depends on when the batches before it were written).
    const failedAt = Buffer.byteLength(lines.slice(0, 5_000).join('\n') + '\n');
    for (const r of [one, two]) assert.ok(r.checkpoint <= failedAt, `checkpoint ${r.checkpoint} before the failed line at ${failedAt}`);
    for (const logs of [one.logs, two.logs]) assert.ok(logs.some((l) => l.includes('process failed') && l.includes('cannot handle')), 'the failure is logged');
  });

  it('fails the batches of a worker thread that dies and goes on with a new one', async () => {
    const fatal = lines[100];
    const run2 = await run(dir.dir, 2, (out) => [
      'filters:',
      `  fail: { type: exit_thread_on, inputs: [logs], message: ${JSON.stringify(fatal)} }`,
      'outputs:',
      `  out: { type: file, inputs: [fail], path: ${JSON.stringify(out('survived.jsonl'))}, format: json }`,
    ], [FILTERS]);
    const written = run2.files['survived.jsonl'].split('\n').length - 1;
    const stats = run2.stats.fail as { discarded: Record<string, number>; errors: Record<string, number> };
    assert.ok(stats.discarded.process_error > 0, 'the batch the thread died on failed');
    assert.equal(written + stats.discarded.process_error, LINES, 'every other event was delivered: none lost silently');
    assert.ok(!run2.files['survived.jsonl'].includes(JSON.stringify(fatal)));
    assert.ok(JSON.parse(run2.files['survived.jsonl'].trim().split('\n').at(-1)!).message === lines.at(-1), 'batches after it were processed');
    assert.ok(run2.logs.some((l) => l.includes('worker thread died')), 'the death is logged');
    assert.ok(run2.checkpoint < size, 'the failed batch is not acknowledged as delivered');
  });

  it('fails the batches of a dying worker thread that builds window partials, and counts the others', async () => {
    const fatal = lines[100];
    const r = await run(dir.dir, 2, (out) => [
      'filters:',
      `  fail: { type: exit_thread_on, inputs: [logs], message: ${JSON.stringify(fatal)} }`,
      'aggregates:',
      // The filter passes lines unparsed: no timestamp, so every event the window gets is counted as invalid_timestamp.
      '  per_minute: { type: window, inputs: [fail], window: { type: tumbling, size: 1m } }',
      'outputs:',
      `  windows: { type: file, inputs: [per_minute], path: ${JSON.stringify(out('windows.jsonl'))}, format: json }`,
    ], [FILTERS]);
    assert.ok(r.logs.some((l) => l.includes('partials_to=per_minute')), r.logs.join(''));
    assert.ok(r.logs.some((l) => l.includes('worker thread died')), 'the death is logged');
    const fail = r.stats.fail as { discarded: Record<string, number>; sent: Record<string, number> };
    const window = r.stats.per_minute as { received: number; discarded: Record<string, number> };
    assert.ok(fail.discarded.process_error > 0, 'the batch the thread died on failed');
    assert.equal(fail.discarded.process_error + window.received, LINES, 'every other event reached the window');
    assert.equal(window.discarded.invalid_timestamp, window.received, "the worker's builder counts went to the window");
    assert.equal(r.files['windows.jsonl'], '');
    assert.ok(r.checkpoint < size, 'the failed batch is not acknowledged as delivered');
  });

  it('frees the string dictionary of a dead worker thread\'s window builder once its successor\'s partials come', async () => {
    // The thread dies on line 12,000, having built the partials of the batches before: the window held its
    // dictionary, and one for the thread started in its place; with threads 3, two threads, one of which dies.
    for (const threads of [2, 3]) {
      const r = await run(dir.dir, threads, (out) => [
        'filters:',
        `  die: { type: exit_thread_on, inputs: [logs], message: ${JSON.stringify(lines[12_000])} }`,
        '  access: { type: apache_access, inputs: [die], format: combined }',
        ...WINDOW,
        'outputs:',
        `  windows: { type: file, inputs: [per_minute], path: ${JSON.stringify(out('windows.jsonl'))}, format: json }`,
        '  rest: { type: blackhole, inputs: [access._unparsed] }',
      ], [FILTERS]);
      assert.ok(r.logs.some((l) => l.includes('worker thread died')), 'the death is logged');
      assert.ok(!r.logs.some((l) => l.includes('out of step')), r.logs.join(''));
      assert.ok(r.files['windows.jsonl'].split('\n').length > 10, 'windows were written');
      assert.equal(r.dictionaries, threads - 1, `threads ${threads}: one dictionary per live worker thread, none of the dead one`);
    }
  });

  it('is validated: a whole number of at least 1', async () => {
    const diagnostics = await validateConfig({ yaml: 'service:\n  threads: 0\ninputs:\n  i: { type: test_script }\noutputs:\n  o: { type: test_record, inputs: [i] }\n' });
    const errors = diagnostics.filter((d) => d.severity === 'error');
    assert.equal(errors.length, 1, JSON.stringify(diagnostics));
    assert.match(errors[0].message, /threads/);
    assert.equal(errors[0].line, 2);
  });
});
