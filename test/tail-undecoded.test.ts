// A tail's lines reach a parallel filter's worker thread as their bytes (EncodedLines), decoded there: the events,
// tail's counters and checkpoints must be those of one thread whatever the bytes hold (CRLF, multi-byte characters,
// invalid UTF-8, over-long lines cut or skipped, latin1), and a tail feeding a parallel filter and another consumer
// decodes on the main thread for both.
import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { runPipeline } from '../core/testing/index.js';
import { combinedLines } from './bench/apache-lines.js';
import { WINDOW } from './bench/tail.js';
import { ROOT, tempDir } from './support/helpers.js';

const FILTERS = path.join(ROOT, 'test/fixtures/parallel-filters.js');
const MAX_LINE = 200;

/** 3,000 lines in 60 batches of 50: most of them valid UTF-8 (left undecoded), a few with an invalid byte. */
function content(): { bytes: Buffer; invalid: number; long: number } {
  const parts: Buffer[] = [];
  let invalid = 0;
  let long = 0;
  for (let i = 0; i < 3000; i++) {
    const eol = i % 7 === 0 ? '\r\n' : '\n';
    if (i === 620 || i === 1777) {
      parts.push(Buffer.from(`line ${i} bad `), Buffer.from([0xff, 0xc3]), Buffer.from(` byte${eol}`));
      invalid++;
    } else if (i % 450 === 3) {
      // Longer than max_line_bytes, with a 3-byte character across the cut.
      parts.push(Buffer.from(`${'x'.repeat(MAX_LINE - 1 - String(i).length)}${i}€ and more${eol}`));
      long++;
    } else if (i % 333 === 0) parts.push(Buffer.from(eol));
    else parts.push(Buffer.from(`line ${i} é ü 日本 ${'🙂'.repeat(i % 5)} ${'y'.repeat(i % 90)}${eol}`));
  }
  return { bytes: Buffer.concat(parts), invalid, long };
}

/** The worker-stage counters of the filter: batches and lines its workers got as bytes (the path this file tests). */
interface Undecoded { batches: number; lines: number }
interface Outcome { files: Record<string, string>; tail: unknown; checkpoint: number; undecoded: Undecoded }

function undecodedOf(pipeline: { stats(id: string): { worker_undecoded_batches: number; worker_undecoded_lines: number } }, id: string): Undecoded {
  const s = pipeline.stats(id);
  return { batches: s.worker_undecoded_batches, lines: s.worker_undecoded_lines };
}

let runs = 0;

async function run(dir: string, threads: number, tail: string, twoConsumers = false): Promise<Outcome> {
  const n = ++runs;
  const out = (name: string) => path.join(dir, `r${n}-${name}`);
  const data = path.join(dir, `data-${n}`);
  const log = path.join(dir, 'in.log');
  const yaml = [
    `service: { data_dir: ${JSON.stringify(data)}, threads: ${threads}, plugins: [${JSON.stringify(FILTERS)}] }`,
    'inputs:',
    `  logs: { type: tail, path: [${JSON.stringify(log)}], read_from: beginning, exit_on_eof: true, batch_size: 50, max_line_bytes: ${MAX_LINE}, ${tail} }`,
    'filters:',
    "  pass: { type: parallel_throw_on, inputs: [logs], messages: ['never sent'] }",
    'outputs:',
    `  events: { type: file, inputs: [pass], path: ${JSON.stringify(out('events.jsonl'))}, format: json }`,
    ...(twoConsumers ? [`  raw: { type: file, inputs: [logs], path: ${JSON.stringify(out('raw.jsonl'))}, format: json }`] : []),
  ].join('\n');
  const pipeline = await runPipeline({ yaml, file: path.join(dir, `r${n}.yaml`) });
  await pipeline.done();
  const files: Record<string, string> = { events: await readFile(out('events.jsonl'), 'utf8') };
  if (twoConsumers) files.raw = await readFile(out('raw.jsonl'), 'utf8');
  const s = pipeline.stats('logs');
  const cps = JSON.parse(await readFile(path.join(data, 'logs', 'checkpoints.json'), 'utf8')) as { files: Record<string, { offset: number }> };
  return { files, tail: { sent: s.sent_events_by_output, received: s.received_bytes, custom: s.custom }, checkpoint: Object.values(cps.files)[0].offset, undecoded: undecodedOf(pipeline, 'pass') };
}

const messages = (jsonl: string) => jsonl.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { message: string }).message);

describe('tail lines decoded in a worker thread', function () {
  this.timeout(60_000);
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let size: number;
  const { bytes, invalid, long } = content();

  before(async () => {
    dir = await tempDir('visor-undecoded-');
    await writeFile(path.join(dir.dir, 'in.log'), bytes);
    size = (await stat(path.join(dir.dir, 'in.log'))).size;
  });
  after(() => dir.remove());

  for (const long_lines of ['truncate', 'skip'] as const) {
    it(`gives the events, counters and checkpoint of one thread, over-long lines ${long_lines === 'truncate' ? 'cut' : 'skipped'}`, async () => {
      const tail = `long_lines: ${long_lines}, path_field: source`;
      const one = await run(dir.dir, 1, tail);
      const two = await run(dir.dir, 2, tail);
      const three = await run(dir.dir, 3, tail);
      const got = messages(one.files.events);
      assert.equal(got.length, long_lines === 'skip' ? 3000 - long : 3000);
      // What one thread reads is what the bytes say: CRLF gone, characters whole, invalid bytes replaced.
      assert.equal(got[1], `line 1 é ü 日本 🙂 ${'y'}`);
      assert.ok(got.includes(`line 7 é ü 日本 🙂🙂 ${'y'.repeat(7)}`), 'the \\r of a CRLF line is not in its message');
      assert.ok(!got.some((m) => m.endsWith('\r')));
      assert.ok(got.includes('line 620 bad \uFFFD\uFFFD byte'), 'an invalid byte became U+FFFD');
      if (long_lines === 'truncate') assert.ok(got.includes(`${'x'.repeat(MAX_LINE - 4)}903`), 'a long line cut before the character it would split');
      assert.equal(JSON.parse(one.files.events.split('\n')[0]).source, path.join(dir.dir, 'in.log'));
      assert.ok(one.files.events === two.files.events, 'threads 2 wrote other events than threads 1');
      assert.ok(one.files.events === three.files.events, 'threads 3 wrote other events than threads 1');
      const custom = (one.tail as { custom: Record<string, number> }).custom;
      assert.equal(custom.visor_tail_invalid_utf8_lines_total, invalid);
      assert.equal(custom.visor_tail_long_lines_total, long);
      assert.deepEqual(two.tail, one.tail);
      assert.deepEqual(three.tail, one.tail);
      assert.equal(one.checkpoint, size);
      assert.equal(two.checkpoint, size);
      assert.equal(three.checkpoint, size);
      // The bytes path was taken with threads 2 and 3: every batch of 50 lines but the two with an invalid byte,
      // which tail decodes itself (a skipped line is not sent).
      assert.deepEqual(one.undecoded, { batches: 0, lines: 0 });
      assert.deepEqual(two.undecoded, { batches: 60 - invalid, lines: got.length - 50 * invalid });
      assert.deepEqual(three.undecoded, two.undecoded);
    });
  }

  it('decodes latin1 in the worker as one thread does', async () => {
    const one = await run(dir.dir, 1, 'encoding: latin1, path_field: ""');
    const two = await run(dir.dir, 2, 'encoding: latin1, path_field: ""');
    assert.equal(messages(one.files.events)[1], Buffer.from(`line 1 é ü 日本 🙂 y`).toString('latin1'));
    assert.ok(!one.files.events.includes('"source"') && !one.files.events.includes('"file"'), 'no path field');
    assert.ok(one.files.events === two.files.events, 'threads 2 wrote other events than threads 1');
    assert.equal(two.checkpoint, size);
  });

  it('decodes on the main thread for a tail read by a parallel filter and another consumer', async () => {
    const one = await run(dir.dir, 1, 'path_field: file', true);
    const two = await run(dir.dir, 2, 'path_field: file', true);
    assert.equal(messages(two.files.raw).length, 3000);
    assert.ok(one.files.raw === two.files.raw && one.files.events === two.files.events, 'threads 2 wrote other events than threads 1');
    assert.ok(two.files.raw === two.files.events, 'both consumers got the same events');
    assert.equal(two.checkpoint, size);
    assert.deepEqual(two.undecoded, { batches: 0, lines: 0 }, 'decoded on the main thread');
  });

  it('tail -> apache_access -> window: the worker gets the bytes with threads 2, not with threads 1 nor beside another consumer; the same windows', async () => {
    const log = path.join(dir.dir, 'access.log');
    const lines = combinedLines(5000, 11);
    await writeFile(log, lines.join('\n') + '\n');
    const access = async (threads: number, twoConsumers: boolean) => {
      const n = ++runs;
      const out = (name: string) => path.join(dir.dir, `r${n}-${name}`);
      const yaml = [
        `service: { data_dir: ${JSON.stringify(path.join(dir.dir, `data-${n}`))}, threads: ${threads} }`,
        'inputs:',
        `  logs: { type: tail, path: [${JSON.stringify(log)}], read_from: beginning, exit_on_eof: true, batch_size: 500 }`,
        'filters:',
        '  access: { type: apache_access, inputs: [logs], format: combined }',
        ...WINDOW,
        'outputs:',
        `  windows: { type: file, inputs: [per_minute], path: ${JSON.stringify(out('windows.jsonl'))}, format: json }`,
        ...(twoConsumers ? [`  raw: { type: file, inputs: [logs], path: ${JSON.stringify(out('raw.jsonl'))}, format: json }`] : []),
      ].join('\n');
      const pipeline = await runPipeline({ yaml, file: path.join(dir.dir, `r${n}.yaml`) });
      await pipeline.done();
      const raw = twoConsumers ? messages(await readFile(out('raw.jsonl'), 'utf8')).length : undefined;
      return { windows: await readFile(out('windows.jsonl'), 'utf8'), undecoded: undecodedOf(pipeline, 'access'), raw, parsed: pipeline.stats('access').custom.visor_parser_parsed_lines_total };
    };
    const one = await access(1, false);
    const two = await access(2, false);
    const beside = await access(2, true);
    assert.ok(one.windows.split('\n').length > 10, 'windows were written');
    assert.equal(one.parsed, 5000);
    assert.ok(two.windows === one.windows, 'threads 2 wrote other windows than threads 1');
    assert.ok(beside.windows === one.windows, 'threads 2 beside a second consumer wrote other windows than threads 1');
    assert.deepEqual(one.undecoded, { batches: 0, lines: 0 }, 'threads 1: no worker');
    assert.equal(two.undecoded.lines, 5000, 'threads 2: every line reached the worker as bytes');
    assert.ok(two.undecoded.batches >= 10, `in its batches of at most 500 (${two.undecoded.batches})`);
    assert.deepEqual(beside.undecoded, { batches: 0, lines: 0 }, 'a tail with two consumers decodes on the main thread');
    assert.equal(beside.raw, 5000);
  });
});
