// Plugin.encodes: with service.threads > 1 a parser feeding only a file output has its worker write the JSON lines,
// and the file output appends those bytes. The same corpus (non-ASCII fields, lines no parser takes) through the
// real tail, apache_access and file output gives the same files byte for byte (rotated ones too), the same counters
// and checkpoints with threads 1, 2 and 3; the worker's encoding is counted where it is used and only there; an
// encoder that throws and a worker that dies fail their batch as on the main thread.
import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, tempDir } from './support/helpers.js';
import { corpus, LINES, run, type ComponentCounts, type Outcome } from './support/threads.js';

const FILTERS = path.join(ROOT, 'test/fixtures/parallel-filters.js');
const ENCODED = 'visor_worker_encoded_batches_total';

/** The corpus with non-ASCII user agents and paths (2- to 4-byte UTF-8), and a non-ASCII line no parser takes. */
function lines(): string[] {
  const all = corpus();
  for (let i = 3; i < all.length; i += 613) all[i] = all[i].replace(/"[^"]*"$/, '"Mozilla/5.0 (Ünïcødé; 日本語; 🚀)"');
  for (let i = 7; i < all.length; i += 1009) all[i] = all[i].replace(/"GET \/[^ ]*/, '"GET /café/日本/🚀');
  all[4_321] = 'ligne illisible é 日本 🚫';
  return all;
}

const encodedBatches = (o: Outcome) => o.custom.out[ENCODED];
/** The counters less the one that says how the batches came (which is what differs: sameAcrossThreads). */
const counts = (o: Outcome): Record<string, ComponentCounts> => o.stats;

const bytes = (o: Outcome) => Object.values(o.files).reduce((n, text) => n + Buffer.byteLength(text), 0);

describe('service.threads: the file output encoded in the worker threads (Plugin.encodes)', function () {
  this.timeout(90_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let size: number;
  const log = lines();
  const ids = ['logs', 'access', 'fail', 'out'];

  before(async () => {
    dir = await tempDir('visor-threads-encoded-');
    await writeFile(path.join(dir.dir, 'access.log'), log.join('\n') + '\n');
    size = (await stat(path.join(dir.dir, 'access.log'))).size;
  });
  after(() => dir.remove());

  const parsedTo = (output: string) => (out: (name: string) => string) => [
    'filters:',
    '  access: { type: apache_access, inputs: [logs], format: combined }',
    'outputs:',
    // The main output goes to `out` only (so it is encoded in the worker); the unparsed lines reach it as events.
    `  out: { type: file, inputs: [access, access._unparsed], ${output.replace('PATH', JSON.stringify(out('events.jsonl')))} }`,
  ];

  async function threeRuns(body: (out: (name: string) => string) => string[], plugins: string[] = []): Promise<Outcome[]> {
    const runs: Outcome[] = [];
    for (const threads of [1, 2, 3]) runs.push(await run(dir.dir, threads, body, plugins, undefined, ids));
    return runs;
  }

  function assertSame(one: Outcome, more: Outcome[]): void {
    for (const [i, r] of more.entries()) {
      assert.deepEqual(Object.keys(r.files).sort(), Object.keys(one.files).sort(), `the files of threads ${i + 2}`);
      for (const name of Object.keys(one.files)) assert.ok(one.files[name] === r.files[name], `${name} differs between threads 1 and ${i + 2}`);
      assert.deepEqual(counts(r), counts(one));
      assert.equal(r.checkpoint, one.checkpoint);
      assert.ok(!r.logs.some((l) => l.includes('ERROR')), r.logs.join(''));
    }
  }

  it('writes the same files, rotated ones included, with threads 1, 2 and 3, encoding in the workers', async () => {
    const [one, ...more] = await threeRuns(parsedTo('path: PATH, format: json, rotate: { max_size: 1MiB }'));
    const unparsed = log.filter((l) => l.trim() === '' || !l.includes('"')).length;
    const written = Object.values(one.files).join('').split('\n').slice(0, -1);
    assert.equal(written.length, LINES, 'every line was written, parsed or not');
    assert.equal(written.filter((l) => 'parse_error' in JSON.parse(l)).length, unparsed);
    assert.ok(written.some((l) => JSON.parse(l).user_agent === 'Mozilla/5.0 (Ünïcødé; 日本語; 🚀)'), 'non-ASCII fields were parsed and written');
    assert.ok(written.some((l) => JSON.parse(l).message === 'ligne illisible é 日本 🚫'), 'a non-ASCII unparsed line was written');
    assert.ok(Object.keys(one.files).length >= 5, `rotated by size: ${Object.keys(one.files).join(', ')}`);
    assertSame(one, more);
    assert.equal(encodedBatches(one), undefined, 'threads 1 encodes on the main thread');
    for (const r of more) {
      // Every batch of parsed lines came encoded (a tail batch has some: one every ~800 lines).
      assert.ok(encodedBatches(r) >= Math.floor(size / (256 * 1024)), `batches encoded in workers: ${encodedBatches(r)}`);
      assert.ok(r.logs.some((l) => l.includes('batches go to worker threads') && l.includes('encoded_for=out')), r.logs.join(''));
    }
    for (const r of [one, ...more]) {
      assert.equal(r.stats.out.sentBytes, bytes(r), 'sent bytes are the bytes written');
      assert.equal(r.stats.out.sent._default, LINES);
      assert.equal(r.checkpoint, size, 'everything acknowledged');
    }
  });

  it('encodes only_fields and format text in the workers too, and keeps a template and a path naming files by field on the main thread', async () => {
    const cases = [
      { output: 'path: PATH, format: json, only_fields: [client_ip, timestamp, url, status, user_agent]', encoded: true },
      { output: 'path: PATH, format: text', encoded: true },
      { output: 'path: PATH, format: template, template: "{{ client_ip }} {{ url }} {{ user_agent }}"', encoded: false },
      { output: 'path: PATH, format: json', encoded: false, byStatus: true },
    ];
    for (const c of cases) {
      const body = (out: (name: string) => string) => parsedTo(c.output)(c.byStatus ? (name) => out(`{{ status }}-${name}`) : out);
      const [one, ...more] = await threeRuns(body);
      assert.ok(bytes(one) > 100_000, `${c.output}: written`);
      assertSame(one, more);
      for (const r of more) assert.equal(encodedBatches(r) > 0, c.encoded, `${c.output}: ${encodedBatches(r)} batches encoded in workers`);
      if (c.byStatus) assert.ok(Object.keys(one.files).length > 5, `a file per status: ${Object.keys(one.files).join(', ')}`);
    }
  });

  it('fails a batch whose encoding throws as on the main thread: retried, then failed, not acknowledged', async () => {
    const bad = log[6_000];
    const body = (out: (name: string) => string) => [
      'filters:',
      `  fail: { type: bigint_on, inputs: [logs], message: ${JSON.stringify(bad)} }`,
      'outputs:',
      `  out: { type: file, inputs: [fail], path: ${JSON.stringify(out('passed.jsonl'))}, format: json, retry: { attempts: 2, backoff: 10ms } }`,
    ];
    const [one, ...more] = await threeRuns(body, [FILTERS]);
    const failed = one.stats.out.discarded.write_failed;
    const passed = one.files['passed.jsonl'].split('\n').length - 1;
    assert.ok(failed > 0 && passed + failed === LINES, `${passed} passed + ${failed} failed of ${LINES}`);
    assert.ok(!one.files['passed.jsonl'].includes(JSON.stringify(bad)));
    assert.equal(one.stats.out.errors.write, 2, 'tried twice');
    for (const [i, r] of more.entries()) {
      assert.ok(one.files['passed.jsonl'] === r.files['passed.jsonl'], `the same events passed with threads ${i + 2}`);
      assert.deepEqual(counts(r), counts(one));
      assert.ok(encodedBatches(r) > 0, 'the other batches were encoded in workers');
    }
    const failedAt = Buffer.byteLength(log.slice(0, 6_000).join('\n') + '\n');
    for (const r of [one, ...more]) assert.ok(r.checkpoint <= failedAt, `checkpoint ${r.checkpoint} before the failed line at ${failedAt}`);
  });

  it('fails the batches of a worker thread that dies while encoding for the file output, and writes the others in order', async () => {
    const fatal = log[100];
    const body = (out: (name: string) => string) => [
      'filters:',
      `  fail: { type: exit_thread_on, inputs: [logs], message: ${JSON.stringify(fatal)} }`,
      'outputs:',
      `  out: { type: file, inputs: [fail], path: ${JSON.stringify(out('survived.jsonl'))}, format: json }`,
    ];
    const r = await run(dir.dir, 2, body, [FILTERS], undefined, ids);
    assert.ok(encodedBatches(r) > 0, 'encoded in the worker');
    assert.ok(r.logs.some((l) => l.includes('worker thread died')), 'the death is logged');
    const failed = r.stats.fail.discarded.process_error;
    const messages = r.files['survived.jsonl'].split('\n').slice(0, -1).map((l) => JSON.parse(l).message as string);
    assert.ok(failed > 0 && messages.length + failed === LINES, `${messages.length} written + ${failed} failed of ${LINES}`);
    // What was written is the log without one run of lines (the batch the thread died on), in the log's order.
    const gap = messages.findIndex((m, i) => m !== log[i]);
    assert.ok(gap >= 0 && gap <= 100, `the lines before the fatal one's batch, then a gap: at ${gap}`);
    assert.deepEqual(messages.slice(gap), log.slice(gap + failed), 'the lines after the gap, in order');
    assert.equal(r.stats.out.sentBytes, bytes(r));
    assert.ok(r.checkpoint < size, 'the failed batch is not acknowledged as delivered');
  });
});
