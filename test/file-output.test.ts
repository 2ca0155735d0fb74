// The file output over real files: formats, path templates, rotation by size and age, keep, fsync modes,
// gzip, write errors (retried or permanent), and kill -9 of the real CLI mid-stream followed by a restart.
// Waits are on real events (pipeline end, file sizes, acknowledgements); no sleep stands in for one.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { definePlugin, type Event } from '../core/index.js';
import { CliProcess, tempDir } from './support/helpers.js';
import { pipelineWith, probesOf, type Harness } from './support/pipeline-harness.js';
import { numbered, readCheckpoints, waitUntil } from './support/tail-harness.js';

/** Emits the given events in batches of `batch`, `pause_ms` apart, stamping `emitted_at` on each. */
const eventsInput = definePlugin<{ events: Event[]; batch: number; pause_ms: number; repeat: number }, 'input'>({
  kind: 'input',
  name: 'test_file_events',
  description: 'Emits the given events (repeat times, numbered by seq) in batches; records acks.',
  schema: {
    type: 'object',
    properties: {
      events: { type: 'array', items: { type: 'object' } },
      batch: { type: 'integer', default: 100 },
      pause_ms: { type: 'integer', default: 0 },
      repeat: { type: 'integer', default: 1 },
    },
  },
  create(options, ctx) {
    const p = probesOf(ctx)(ctx.id);
    return {
      async run({ emit, signal }) {
        const all: Event[] = [];
        for (let r = 0; r < options.repeat; r++) for (const e of options.events) all.push({ seq: all.length, ...e });
        for (let i = 0, b = 0; i < all.length && !signal.aborted; i += options.batch, b++) {
          if (i > 0 && options.pause_ms) await new Promise((res) => setTimeout(res, options.pause_ms));
          const batch = all.slice(i, i + options.batch).map((e) => ({ ...e, emitted_at: Date.now() }));
          p.emitted += batch.length;
          await emit(batch, { onAck: (result) => p.acks.push({ batch: b, result, at: Date.now() }) });
        }
      },
    };
  },
});

const startPipeline = pipelineWith(eventsInput);
async function run(yaml: string): Promise<Harness> {
  const h = await startPipeline(yaml);
  await h.pipeline.done();
  return h;
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').slice(0, -1);
/** NAME.N ... NAME.1, NAME: oldest first. */
function rotationSet(file: string): string[] {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const numbered = readdirSync(dir).map((n) => new RegExp(`^${base.replace(/\./g, '\\.')}\\.(\\d+)$`).exec(n)).filter((m) => m).map((m) => Number(m![1]));
  numbered.sort((a, b) => b - a);
  return [...numbered.map((n) => `${file}.${n}`), ...(existsSync(file) ? [file] : [])];
}
const counterLines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `line ${from + i + 1}`);
/** The plugin's own metrics, without the visor_ prefix. */
const custom = (h: Harness, id: string) =>
  Object.fromEntries(Object.entries(h.metrics.snapshot()[id].custom).map(([k, v]) => [k.replace(/^visor_/, ''), v])) as Record<string, number>;

describe('file output', function () {
  this.timeout(30000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let dir: string;
  beforeEach(async () => {
    tmp = await tempDir('visor-file-');
    dir = tmp.dir;
  });
  afterEach(async () => {
    await chmod(dir, 0o755).catch(() => undefined);
    await tmp.remove();
  });

  describe('formats', () => {
    it('json, text and template: one line per event, in order, exactly as encoded', async () => {
      const events = [
        { message: 'GET / 200', status: 200, client_ip: '192.0.2.1', timestamp: Date.UTC(2026, 10, 25, 13, 4, 5) },
        { status: 404, client_ip: '192.0.2.2', timestamp: Date.UTC(2026, 10, 25, 13, 4, 6) }, // no message: JSON in text
      ];
      const h = await run(`
inputs:
  src: { type: test_file_events, events: ${JSON.stringify(events)}, repeat: 150, batch: 70 }
outputs:
  j: { type: file, inputs: [src], path: ${dir}/a.jsonl }
  t: { type: file, inputs: [src], path: ${dir}/a.txt, format: text }
  p: { type: file, inputs: [src], path: ${dir}/a.tpl, format: template, template: '%H:%M:%S {{ client_ip }} {{ status }}' }
`);
      const json = lines(`${dir}/a.jsonl`).map((l) => JSON.parse(l) as Event);
      assert.equal(json.length, 300);
      json.forEach((e, i) => {
        assert.equal(e.seq, i);
        assert.equal(e.client_ip, events[i % 2].client_ip);
      });
      const text = lines(`${dir}/a.txt`);
      assert.equal(text.length, 300);
      assert.equal(text[0], 'GET / 200');
      assert.equal(JSON.parse(text[1]).status, 404);
      const tpl = lines(`${dir}/a.tpl`);
      assert.deepEqual(tpl.slice(0, 2), ['13:04:05 192.0.2.1 200', '13:04:06 192.0.2.2 404']);
      assert.equal(tpl.length, 300);
      assert.equal(h.metrics.snapshot().j.sent_bytes, statSync(`${dir}/a.jsonl`).size);
      assert.ok(h.probe('src').acks.every((a) => a.result.status === 'delivered'));
    });
  });

  describe('path templates', () => {
    it('by field: each event lands in the file of its vhost, batches split across files, directories created', async () => {
      const events = ['www.example.com', 'api.example.com', 'static.example.com'].map((vhost) => ({ vhost, message: vhost }));
      const h = await run(`
inputs:
  src: { type: test_file_events, events: ${JSON.stringify(events)}, repeat: 400, batch: 250 }
outputs:
  out: { type: file, inputs: [src], path: '${dir}/out/{{ vhost }}/access.log', format: json, dir_mode: '0750' }
`);
      for (const [i, e] of events.entries()) {
        const got = lines(`${dir}/out/${e.vhost}/access.log`).map((l) => JSON.parse(l) as Event);
        assert.equal(got.length, 400, e.vhost);
        assert.ok(got.every((g) => g.vhost === e.vhost));
        assert.deepEqual(got.map((g) => g.seq), Array.from({ length: 400 }, (_, k) => k * 3 + i)); // in order
        assert.equal(statSync(`${dir}/out/${e.vhost}`).mode & 0o777 & ~0o022, 0o750 & ~0o022);
      }
      assert.equal(custom(h, 'out').file_opened_total, 3);
    });

    it('by event time: strftime renders the event timestamp (UTC, or timezone), now when it has none', async () => {
      const t0 = Date.UTC(2026, 10, 25, 22, 30, 0);
      const events = [0, 1, 2, 3].map((h) => ({ message: `hour ${h}`, timestamp: t0 + h * 3600_000 }));
      const before = Date.now();
      await run(`
inputs:
  src: { type: test_file_events, events: ${JSON.stringify([...events, { message: 'no time' }])}, batch: 10 }
outputs:
  utc: { type: file, inputs: [src], path: '${dir}/utc/access-%Y-%m-%d/%H.log', format: text }
  cet: { type: file, inputs: [src], path: '${dir}/cet/%Y%m%d-%H.log', format: text, timezone: '+01:00' }
`);
      assert.deepEqual(lines(`${dir}/utc/access-2026-11-25/22.log`), ['hour 0']);
      assert.deepEqual(lines(`${dir}/utc/access-2026-11-25/23.log`), ['hour 1']);
      assert.deepEqual(lines(`${dir}/utc/access-2026-11-26/00.log`), ['hour 2']);
      assert.deepEqual(lines(`${dir}/utc/access-2026-11-26/01.log`), ['hour 3']);
      assert.deepEqual(lines(`${dir}/cet/20261125-23.log`), ['hour 0']);
      assert.deepEqual(lines(`${dir}/cet/20261126-01.log`), ['hour 2']);
      const d = new Date(before);
      const nowFile = `${dir}/utc/access-${d.toISOString().slice(0, 10)}/${String(d.getUTCHours()).padStart(2, '0')}.log`;
      const d2 = new Date();
      const nowFile2 = `${dir}/utc/access-${d2.toISOString().slice(0, 10)}/${String(d2.getUTCHours()).padStart(2, '0')}.log`;
      assert.ok([nowFile, nowFile2].some((f) => existsSync(f) && lines(f).includes('no time')), 'the event without timestamp is in the current hour\'s file');
    });

    it('many files with max_open_files 2: all lines in the right files, at most 2 open, files reopened for append', async () => {
      const events = Array.from({ length: 7 }, (_, k) => ({ message: `f${k}`, f: `f${k}` }));
      const h = await run(`
inputs:
  src: { type: test_file_events, events: ${JSON.stringify(events)}, repeat: 100, batch: 35 }
outputs:
  out: { type: file, inputs: [src], path: '${dir}/{{ f }}.log', format: text, max_open_files: 2 }
`);
      for (let k = 0; k < 7; k++) assert.deepEqual(lines(`${dir}/f${k}.log`), Array(100).fill(`f${k}`));
      const c = custom(h, 'out');
      assert.ok(c.file_opened_total > 7, `reopened after LRU closes: ${c.file_opened_total}`);
      assert.equal(c.file_open_files, 0, 'all closed at shutdown');
    });
  });

  describe('rotation', () => {
    it('by size: NAME.1 is the newest, no file exceeds max_size, every line once, whole and in order across the set', async () => {
      const h = await run(`
inputs:
  src: { type: test_counter, total: 20000, batch: 50 }
outputs:
  out: { type: file, inputs: [src], path: ${dir}/access.log, format: text, rotate: { max_size: 16KiB } }
`);
      const set = rotationSet(`${dir}/access.log`);
      assert.ok(set.length >= 10, `${set.length} files`);
      for (const f of set) {
        assert.ok(statSync(f).size <= 16 * 1024, `${f}: ${statSync(f).size} bytes`);
        assert.ok(readFileSync(f, 'utf8').endsWith('\n'), `${f} ends with a whole line`);
      }
      assert.deepEqual(set.flatMap(lines), counterLines(0, 20000));
      assert.equal(custom(h, 'out').file_rotations_total, set.length - 1);
    });

    it('keep: only NAME.1 .. NAME.keep remain, holding the newest lines without a gap', async () => {
      const h = await run(`
inputs:
  src: { type: test_counter, total: 20000, batch: 50 }
outputs:
  out: { type: file, inputs: [src], path: ${dir}/access.log, format: text, rotate: { max_size: 16KiB, keep: 3 } }
`);
      const set = rotationSet(`${dir}/access.log`);
      assert.deepEqual(set, [`${dir}/access.log.3`, `${dir}/access.log.2`, `${dir}/access.log.1`, `${dir}/access.log`]);
      const got = set.flatMap(lines);
      assert.deepEqual(got, counterLines(20000 - got.length, 20000));
      assert.ok(custom(h, 'out').file_rotations_total >= 10);
    });

    it('by time (interval 300ms): several files, each spanning at most the interval, every line once in order', async function () {
      this.timeout(20000);
      const interval = 300;
      const h = await run(`
inputs:
  src: { type: test_file_events, events: [{ message: x }], repeat: 300, batch: 10, pause_ms: 50 }
outputs:
  out: { type: file, inputs: [src], path: ${dir}/t.jsonl, rotate: { interval: ${interval}ms } }
`);
      const set = rotationSet(`${dir}/t.jsonl`);
      assert.ok(set.length >= 4, `${set.length} files`);
      const perFile = set.map((f) => lines(f).map((l) => JSON.parse(l) as { seq: number; emitted_at: number }));
      assert.deepEqual(perFile.flat().map((e) => e.seq), Array.from({ length: 300 }, (_, i) => i));
      for (const [i, evs] of perFile.entries()) {
        const span = evs[evs.length - 1].emitted_at - evs[0].emitted_at;
        assert.ok(span < interval + 100, `${set[i]} spans ${span} ms`);
      }
      assert.equal(custom(h, 'out').file_rotations_total, set.length - 1);
    });

    it('gzip: each batch a gzip member, rotated as NAME.N.gz, the concatenation gunzips to every line', async () => {
      await run(`
inputs:
  src: { type: test_counter, total: 5000, batch: 100 }
outputs:
  out: { type: file, inputs: [src], path: ${dir}/a.log.gz, format: text, compression: gzip, rotate: { max_size: 2KiB } }
`);
      const rotated = readdirSync(dir).filter((n) => /^a\.log\.\d+\.gz$/.test(n)).map((n) => Number(n.split('.')[2])).sort((a, b) => b - a);
      assert.ok(rotated.length >= 2, `${rotated.length} rotated files`);
      const files = [...rotated.map((n) => `${dir}/a.log.${n}.gz`), `${dir}/a.log.gz`];
      const text = files.map((f) => zlib.gunzipSync(readFileSync(f)).toString()).join('');
      assert.deepEqual(text.split('\n').slice(0, -1), counterLines(0, 5000));
    });
  });

  describe('fsync', () => {
    for (const mode of ['never', 'batch', 'interval']) {
      it(`fsync: ${mode}: accepted, every batch acknowledged only once its lines are in the file`, async () => {
        const h = await run(`
inputs:
  src: { type: test_counter, total: 3000, batch: 100 }
outputs:
  out: { type: file, inputs: [src], path: ${dir}/s.log, format: text, fsync: ${mode}, fsync_interval: 50ms }
`);
        assert.deepEqual(lines(`${dir}/s.log`), counterLines(0, 3000));
        const acks = h.probe('src').acks;
        assert.equal(acks.length, 30);
        assert.ok(acks.every((a) => a.result.status === 'delivered'));
        assert.equal(h.metrics.snapshot().out.sent_bytes, statSync(`${dir}/s.log`).size);
      });
    }
  });

  describe('write errors', () => {
    it('a path that is a directory: PermanentError at once (batches failed, not retried), with a clear message', async () => {
      await mkdir(`${dir}/logs.d`);
      const h = await run(`
inputs:
  src: { type: test_counter, total: 300, batch: 100 }
outputs:
  out: { type: file, inputs: [src], path: ${dir}/logs.d, format: text }
`);
      const acks = h.probe('src').acks;
      assert.equal(acks.length, 3);
      assert.ok(acks.every((a) => a.result.status === 'failed' && /is a directory/.test(a.result.error!.message)), JSON.stringify(acks));
      const s = h.metrics.snapshot().out;
      assert.equal(s.discarded_by_reason.write_failed, 300);
      assert.equal(s.errors, 3, 'one error per batch: no retries');
    });

    it('a path whose parent is a file: PermanentError (ENOTDIR)', async () => {
      await writeFile(`${dir}/plain`, 'x');
      const h = await run(`
inputs:
  src: { type: test_counter, total: 10, batch: 10 }
outputs:
  out: { type: file, inputs: [src], path: ${dir}/plain/sub/a.log }
`);
      const acks = h.probe('src').acks;
      assert.equal(acks.length, 1);
      assert.equal(acks[0].result.status, 'failed');
      assert.match(acks[0].result.error!.message, /not a directory/);
      assert.equal(readFileSync(`${dir}/plain`, 'utf8'), 'x');
    });

    it('a missing directory with mkdir: false is retried until it appears; a batch split over two files is not written twice', async () => {
      const events = [{ message: 'ok', d: 'present' }, { message: 'late', d: 'later' }];
      await mkdir(`${dir}/present`);
      const h = await startPipeline(`
inputs:
  src: { type: test_file_events, events: ${JSON.stringify(events)}, repeat: 50, batch: 20 }
outputs:
  out: { type: file, inputs: [src], path: '${dir}/{{ d }}/x.log', format: text, mkdir: false, retry: { backoff: 20ms, max_backoff: 50ms } }
`);
      await waitUntil(() => h.metrics.snapshot().out.errors >= 3, '3 failed attempts');
      assert.equal(h.probe('src').acks.length, 0, 'nothing acknowledged while failing');
      await mkdir(`${dir}/later`);
      await h.pipeline.done();
      assert.deepEqual(lines(`${dir}/later/x.log`), Array(50).fill('late'));
      assert.deepEqual(lines(`${dir}/present/x.log`), Array(50).fill('ok'), 'the retried first batch did not write the present file again');
      assert.ok(h.probe('src').acks.every((a) => a.result.status === 'delivered'));
    });

    it('a read-only directory (EACCES) is retried, then written once writable (the CLI agent, without DAC capabilities when root)', async () => {
      await mkdir(`${dir}/ro`);
      await chmod(`${dir}/ro`, 0o555);
      await mkdir(`${dir}/ro-data`);
      const config = path.join(dir, 'ro.yaml');
      await writeFile(config, `service: { data_dir: ${JSON.stringify(`${dir}/ro-data`)} }
inputs:
  src: { type: stdin }
outputs:
  out: { type: file, inputs: [src], path: ${JSON.stringify(`${dir}/ro/a.log`)}, format: text, retry: { backoff: 20ms, max_backoff: 100ms } }
`);
      // Root ignores directory modes: run the agent without CAP_DAC_OVERRIDE, as any user would be.
      const asUser = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-dac_override,-dac_read_search', '--'] : [];
      const agent = new CliProcess(['run', '-c', config], { wrap: asUser });
      const input = Array.from({ length: 100 }, (_, i) => `line ${i + 1}`);
      agent.child.stdin!.end(input.join('\n') + '\n');
      await agent.waitForStderr(/EACCES|permission denied/i);
      assert.equal(agent.child.exitCode, null, 'the agent keeps retrying');
      await chmod(`${dir}/ro`, 0o755);
      const result = await agent.exited;
      assert.equal(result.code, 0, result.stderr);
      assert.deepEqual(lines(`${dir}/ro/a.log`), input);
    });
  });

  describe('crash', () => {
    it('kill -9 of the CLI mid-stream: lines whole and in order; nothing the tail checkpoint acknowledged is missing; the restart completes the set (at-least-once)', async function () {
      this.timeout(90000);
      const TOTAL = 1_000_000;
      const input = path.join(dir, 'in.log');
      await writeFile(input, numbered(0, TOTAL, 'n ')); // "n 0000000\n": offset / 10 = line number
      const out = path.join(dir, 'out', 'copy.log');
      const config = await tmp.file('copy.yaml', `service: { data_dir: ./state, log_level: warn }
inputs:
  logs: { type: tail, path: [in.log], read_from: beginning, checkpoint_interval: 100ms, batch_size: 500, exit_on_eof: true }
outputs:
  copy: { type: file, inputs: [logs], path: out/copy.log, format: text, rotate: { max_size: 1MiB } }
`);
      const outBytes = () => (existsSync(path.dirname(out)) ? readdirSync(path.dirname(out)).reduce((s, n) => s + statSync(path.join(dir, 'out', n)).size, 0) : 0);
      const checkpointLine = async () => ((await readCheckpoints(path.join(dir, 'state'), 'logs'))?.find((c) => c.path === input)?.offset ?? 0) / 10;
      const whole = (text: string) => text.slice(0, text.lastIndexOf('\n') + 1).split('\n').slice(0, -1);
      const number = (l: string) => {
        assert.match(l, /^n \d{7}$/);
        return Number(l.slice(2));
      };

      const p1 = new CliProcess(['run', '-c', config]);
      // Kill once a real share is acknowledged (the checkpoint moved) and more is being written.
      await waitUntil(async () => (outBytes() >= 3_000_000 && (await checkpointLine()) >= 100_000) || p1.child.exitCode !== null,
        '3 MB of output and 100,000 lines checkpointed', 30000, () => p1.stderr);
      p1.child.kill('SIGKILL');
      const r1 = await p1.exited;
      assert.equal(r1.signal, 'SIGKILL', `the agent finished before the kill: ${r1.stderr}`);
      const acked = await checkpointLine(); // the file output's write resolved for every line before it
      const set1 = rotationSet(out);
      const text1 = set1.map((f) => readFileSync(f, 'utf8')).join('');
      const first = whole(text1).map(number);
      assert.ok(set1.length >= 3, 'the kill came after rotations');
      assert.deepEqual(first, Array.from({ length: first.length }, (_, i) => i), 'whole lines, in order, from line 0');
      assert.ok(acked > 0 && acked <= first.length, `checkpoint ${acked}, ${first.length} lines in the files: nothing acknowledged is missing`);

      const p2 = new CliProcess(['run', '-c', config]);
      const r2 = await p2.exited;
      assert.equal(r2.code, 0, r2.stderr);
      assert.equal(await checkpointLine(), TOTAL);
      const all = rotationSet(out).map((f) => readFileSync(f, 'utf8')).join('');
      assert.ok(all.endsWith('\n'));
      const numbers = all.split('\n').slice(0, -1).map(number); // every line whole (a torn tail was cut at reopen)
      // The files hold the first run's whole lines, then the second run from the checkpoint to the end.
      assert.deepEqual(numbers.slice(0, first.length), first);
      const second = numbers.slice(first.length);
      assert.deepEqual(second, Array.from({ length: TOTAL - acked }, (_, i) => acked + i));
      const duplicates = numbers.length - TOTAL;
      assert.equal(new Set(numbers).size, TOTAL, 'every input line at least once');
      console.log(`      killed with ${first.length} lines written, checkpoint at ${acked}: ${duplicates} duplicates after the restart, ${rotationSet(out).length} files`);
    });
  });
});
