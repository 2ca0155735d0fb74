// The public test kit (core/testing, `visor/testing`) as a plugin author uses it: one plugin between a scripted
// input and recording outputs, or a pipeline from YAML; acknowledgements, side outputs, failures and config errors.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { definePlugin, PermanentError, type AckHold } from '../core/index.js';
import { ConfigError, formatDiagnostic, runPipeline, testPlugin, validateConfig } from '../core/testing/index.js';
import { ROOT, tempDir } from './support/helpers.js';

const run = promisify(execFile);

/** Counts what it absorbs, holding every batch's acknowledgement until it emits the count at the end. */
const counting = definePlugin<{ field: string }, 'aggregate'>({
  kind: 'aggregate',
  name: 'counting',
  description: 'Emits {count} when flushed; holds acknowledgements until then.',
  schema: { type: 'object', properties: { field: { type: 'string', default: 'count' } } },
  create(options, context) {
    let count = 0;
    const holds: AckHold[] = [];
    return {
      process(events, ctx) {
        count += events.length;
        holds.push(ctx.hold());
      },
      async flush() {
        await context.emit([{ [options.field]: count }], { acks: holds });
      },
    };
  },
});

/** Emits `count` events {i}, then ends. */
const numbers = definePlugin<{ count: number }, 'input'>({
  kind: 'input',
  name: 'numbers',
  description: 'Emits {i} for i < count.',
  schema: { type: 'object', properties: { count: { type: 'integer', default: 3 } } },
  create: (options) => ({
    async run({ emit }) {
      await emit(Array.from({ length: options.count }, (_, i) => ({ i })));
    },
  }),
});

/** Refuses events without a `to`, for good. */
const picky = definePlugin<Record<string, never>, 'output'>({
  kind: 'output',
  name: 'picky',
  description: 'Accepts events that have a "to".',
  schema: { type: 'object', properties: {} },
  create: () => ({
    async write(events) {
      if (events.some((e) => !e.to)) throw new PermanentError('an event has no "to"');
    },
  }),
});

/** Writes a file into its data directory when it starts. */
const stateful = definePlugin<Record<string, never>, 'output'>({
  kind: 'output',
  name: 'stateful',
  description: 'Keeps a state file.',
  schema: { type: 'object', properties: {} },
  create: (_options, context) => ({
    async start() {
      await writeFile(path.join(await context.dataDir(), 'state'), 'started');
    },
    async write() {},
  }),
});

/** Counts its starts in a file of its data directory, as a checkpoint or a journal carries over, and tells `seen`
 * where that directory is and how many starts it found there. */
function startCounter(seen: Array<{ dir: string; before: number }>) {
  return definePlugin<Record<string, never>, 'output'>({
    kind: 'output',
    name: 'start_counter',
    description: 'Counts its starts in its data directory.',
    schema: { type: 'object', properties: {} },
    create: (_options, context) => ({
      async start() {
        const dir = await context.dataDir();
        const file = path.join(dir, 'starts');
        const before = await readFile(file, 'utf8').then(Number, (err: NodeJS.ErrnoException) => {
          if (err.code === 'ENOENT') return 0;
          throw err;
        });
        await writeFile(file, String(before + 1));
        seen.push({ dir, before });
      },
      async write() {},
    }),
  });
}

describe('test kit (visor/testing)', () => {
  describe('testPlugin', () => {
    it('a filter: events in, the main output and each side output recorded, the acknowledgement and metrics out', async () => {
      const t = await testPlugin('where', { options: { condition: 'status >= 500' } });
      const ack = await t.send([{ status: 200 }, { status: 503 }, { status: 404 }]);
      assert.deepEqual(ack, { status: 'delivered' });
      assert.deepEqual(t.events, { out: [{ status: 503 }], _rejected: [{ status: 200 }, { status: 404 }] });
      assert.equal(t.stats('where').custom.visor_where_kept_events_total, 1);
      await t.end();
      assert.deepEqual(t.acks, [{ input: 'in', batch: 0, result: { status: 'delivered' } }]);
    });

    it('an aggregate that holds acknowledgements: they arrive once its result, emitted at the end, is delivered', async () => {
      const t = await testPlugin(counting, { options: { field: 'n' } });
      const first = t.send([{}, {}]);
      const second = t.send([{}]);
      while (t.stats('counting').received_events < 3) await new Promise((r) => setTimeout(r, 5));
      assert.deepEqual(t.acks, [], 'absorbed, but held until the result is delivered');
      await t.end();
      assert.deepEqual(await Promise.all([first, second]), [{ status: 'delivered' }, { status: 'delivered' }]);
      assert.deepEqual(t.events.out, [{ n: 3 }]);
    });

    it('side outputs are the ones the options give (window: _late in event time only)', async () => {
      const common = { window: { size: '1m' }, metrics: { n: 'count()' } };
      const eventTime = await testPlugin('window', { options: { ...common, time: 'event' } });
      const processing = await testPlugin('window', { options: { ...common, time: 'processing' } });
      await Promise.all([eventTime.end(), processing.end()]);
      assert.deepEqual(Object.keys(eventTime.events).sort(), ['_late', 'out']);
      assert.deepEqual(Object.keys(processing.events), ['out']);
    });

    it('an output: the acknowledgement says what it did with the batch', async () => {
      const t = await testPlugin(picky);
      assert.deepEqual(await t.send([{ to: 'a' }]), { status: 'delivered' });
      const refused = await t.send([{ to: 'b' }, {}]);
      assert.equal(refused.status, 'failed');
      assert.match(String(refused.error?.message), /an event has no "to"/);
      assert.deepEqual(t.events, {});
      await t.end();
      assert.equal(t.stats('picky').discarded_by_reason.write_failed, 2);
    });

    it('an input: what it emits reaches out; a finite input ends the run by itself', async () => {
      const t = await testPlugin(numbers, { options: { count: 4 } });
      await t.done();
      assert.deepEqual(t.output('out').events.map((e) => e.i), [0, 1, 2, 3]);
      assert.throws(() => t.input(), /the pipeline has no test_script input/);
    });

    it('invalid options are a ConfigError with located diagnostics, before anything runs', async () => {
      await assert.rejects(testPlugin('where', { options: { condition: 'status >=' } }), (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.deepEqual(err.diagnostics.map((d) => [d.severity, d.line > 0, d.col > 0]), [['error', true, true]]);
        assert.match(err.message, /pipeline\.yaml:\d+:\d+: invalid value "status >=" for condition/);
        return true;
      });
    });
  });

  describe('runPipeline', () => {
    it('runs YAML with the built-ins and your plugins; test_record can fail and be slow; writes are recorded', async () => {
      const t = await runPipeline({
        plugins: [counting],
        yaml: `
inputs:
  src: { type: test_script }
filters:
  big: { type: where, inputs: [src], condition: 'bytes > 100' }
aggregates:
  total: { type: counting, inputs: [src] }
outputs:
  flaky: { type: test_record, inputs: [big], fail: first, fail_times: 1, retry: { backoff: 5ms } }
  counts: { type: test_record, inputs: [total], delay_ms: 5 }
`,
      });
      assert.deepEqual(t.warnings.map(formatDiagnostic), []);
      const ack = t.send([{ bytes: 10 }, { bytes: 1000 }]);
      await t.output('flaky').waitFor(1);
      await t.end();
      assert.deepEqual(await ack, { status: 'delivered' });
      assert.deepEqual(t.output('flaky').writes.map((w) => w.events), [[{ bytes: 1000 }]]);
      assert.equal(t.stats('flaky').errors_by_type.write, 1, 'the first write failed, and was retried');
      assert.deepEqual(t.events.counts, [{ count: 2 }]);
    });

    it('onWrite handlers, set before data flows (start: false), fail writes as the test decides', async () => {
      const t = await runPipeline({ start: false, yaml: 'inputs: { in: { type: test_script } }\noutputs: { out: { type: test_record, inputs: [in] } }' });
      t.output('out').onWrite((events) => {
        if (events.some((e) => e.poison)) throw new PermanentError('poisoned');
      });
      await t.start();
      assert.equal((await t.send([{ poison: true }])).status, 'failed');
      assert.equal((await t.send([{ ok: true }])).status, 'delivered');
      assert.equal(await t.stop(), true);
      assert.deepEqual(t.events, { out: [{ ok: true }] });
    });

    it('several scripted inputs are named; unknown ids are errors, not empty recordings', async () => {
      const t = await runPipeline({ yaml: `
inputs: { a: { type: test_script }, b: { type: test_script } }
outputs: { out: { type: test_record, inputs: [a, b] } }
` });
      await t.send([{ from: 'a' }], 'a');
      await t.input('b').send([{ from: 'b' }]);
      assert.throws(() => t.send([{}]), /several test_script inputs \(a, b\): say which/);
      assert.throws(() => t.output('typo'), /no test_record output "typo" \(test_record outputs: out\)/);
      assert.throws(() => t.stats('typo'), /no component "typo"/);
      await t.end();
      assert.deepEqual(t.acks.map((a) => a.input), ['a', 'b']);
      assert.deepEqual(t.events.out, [{ from: 'a' }, { from: 'b' }]);
    });

    it('two runs in one process share nothing, even with the same ids', async () => {
      const yaml = 'inputs: { in: { type: test_script } }\noutputs: { out: { type: test_record, inputs: [in] } }';
      const [one, two] = await Promise.all([runPipeline({ yaml }), runPipeline({ yaml })]);
      await one.send([{ run: 1 }]);
      await two.send([{ run: 2 }]);
      await Promise.all([one.end(), two.end()]);
      assert.deepEqual([one.events.out, two.events.out], [[{ run: 1 }], [{ run: 2 }]]);
    });

    it('service.plugins load by path, relative to the config file; data_dir is the test\'s; secrets are masked in the logs', async () => {
      const tmp = await tempDir();
      try {
        const t = await runPipeline({
          plugins: [stateful],
          file: path.join(ROOT, 'test/pipeline.yaml'),
          env: { PASSWORD: 'not-for-the-logs' },
          yaml: `
service: { data_dir: ${JSON.stringify(tmp.dir)}, plugins: [./fixtures/secret-plugin.js] }
inputs: { in: { type: test_script } }
outputs:
  keep: { type: stateful, inputs: [in] }
  sink: { type: secret_sink, inputs: [in], password: "\${PASSWORD}" }
`,
        });
        await t.end();
        assert.equal(await readFile(path.join(tmp.dir, 'keep', 'state'), 'utf8'), 'started');
        assert.ok(t.logs.some((l) => l.includes('connecting with password ***')), t.logs.join(''));
        assert.ok(!t.logs.some((l) => l.includes('not-for-the-logs')));
      } finally {
        await tmp.remove();
      }
    });
  });

  describe('data directories', () => {
    it('without a file, every run has a directory of its own, removed when it has ended: no state carries over', async () => {
      const seen: Array<{ dir: string; before: number }> = [];
      const plugin = startCounter(seen);
      // The component id testPlugin gives it, so that both runs would use the same directory if they shared one.
      const yaml = 'inputs: { in: { type: test_script } }\noutputs: { start_counter: { type: start_counter, inputs: [in] } }';
      for (const start of [() => runPipeline({ plugins: [plugin], yaml }), () => testPlugin(plugin)]) {
        const t = await start();
        await t.end();
      }
      assert.deepEqual(seen.map((s) => s.before), [0, 0]);
      // <tmpdir>/visor-test-XXXXXX/data/<component id>
      const runDirs = seen.map((s) => path.dirname(path.dirname(s.dir)));
      assert.notEqual(runDirs[0], runDirs[1]);
      for (const dir of runDirs) {
        assert.match(dir, new RegExp(`^${os.tmpdir()}/visor-test-\\w{6}$`));
        await assert.rejects(stat(dir), { code: 'ENOENT' }, `${dir} is removed once the run has ended`);
      }
    });

    it('a run restarted with the same service.data_dir finds what the first left there, which stays', async () => {
      const seen: Array<{ dir: string; before: number }> = [];
      const tmp = await tempDir();
      try {
        const yaml = `service: { data_dir: ${JSON.stringify(tmp.dir)} }\ninputs: { in: { type: test_script } }\noutputs: { keep: { type: start_counter, inputs: [in] } }`;
        for (let run = 0; run < 2; run++) {
          const t = await runPipeline({ plugins: [startCounter(seen)], yaml });
          await t.end();
        }
        assert.deepEqual(seen, [{ dir: path.join(tmp.dir, 'keep'), before: 0 }, { dir: path.join(tmp.dir, 'keep'), before: 1 }]);
        assert.equal(await readFile(path.join(tmp.dir, 'keep', 'starts'), 'utf8'), '2');
      } finally {
        await tmp.remove();
      }
    });

    it('a run still going when the process exits: its directory goes with the process', async () => {
      const from = (file: string) => JSON.stringify(pathToFileURL(path.join(ROOT, file)).href);
      const script = `
import { definePlugin } from ${from('core/index.ts')};
import { runPipeline } from ${from('core/testing/index.ts')};
const tell = definePlugin({
  kind: 'output', name: 'tell_dir', description: 'Prints its data directory.', schema: { type: 'object', properties: {} },
  create: (_options, context) => ({ async start() { console.log(await context.dataDir()); }, async write() {} }),
});
await runPipeline({ plugins: [tell], yaml: 'inputs: { in: { type: test_script } }\\noutputs: { o: { type: tell_dir, inputs: [in] } }' });
process.exit(0);
`;
      const r = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT });
      const dir = path.dirname(path.dirname(r.stdout.trim()));
      assert.match(dir, new RegExp(`^${os.tmpdir()}/visor-test-\\w{6}$`), r.stdout + r.stderr);
      await assert.rejects(stat(dir), { code: 'ENOENT' });
    });

    it('a run whose config is invalid removes its directory too (the diagnostics name the file in it)', async () => {
      for (const start of [() => runPipeline({ yaml: 'inputs: { in: { type: no_such_plugin } }' }), () => testPlugin('where', { options: { condition: 'status >=' } })]) {
        const err = await start().then(() => assert.fail('the config is invalid'), (e: unknown) => e);
        assert.ok(err instanceof ConfigError, String(err));
        const dir = path.dirname(err.diagnostics[0].file);
        assert.match(dir, new RegExp(`^${os.tmpdir()}/visor-test-\\w{6}$`));
        await assert.rejects(stat(dir), { code: 'ENOENT' });
      }
    });
  });

  describe('validateConfig', () => {
    it('returns what visor validate reports, located: errors and warnings', async () => {
      const diagnostics = await validateConfig({
        file: '/srv/visor/pipeline.yaml',
        yaml: `
inputs: { in: { type: test_script } }
filters:
  p: { type: where, inputs: [in], condition: 'status >= 500' }
  bad: { type: where, inputs: [in], condition: 'status >=' }
outputs: { out: { type: test_record, inputs: [p, bad] } }
`,
      });
      assert.deepEqual(diagnostics.map(formatDiagnostic), [
        '/srv/visor/pipeline.yaml:5:48: invalid value "status >=" for condition — unexpected end of expression at column 10; expected a value',
      ]);
      const unread = await validateConfig({ plugins: [counting], yaml: 'inputs: { in: { type: test_script } }\naggregates: { c: { type: counting, inputs: [in] } }\noutputs: { out: { type: test_record, inputs: [in] } }' });
      assert.deepEqual(unread.map((d) => [d.severity, d.line, d.col]), [['warning', 2, 15]]);
      assert.equal(unread[0].message, 'component "c" is not read by any component');
    });
  });
});
