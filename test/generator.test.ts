// The generator input as users run it: in pipelines from YAML (simulated clock, so no real waiting) and
// through `visor generate`.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runCli, tempDir } from './support/helpers.js';
import { startPipeline } from './support/pipeline-harness.js';

const START = '2026-11-25T00:00:00Z';
const START_MS = Date.parse(START);

async function generate(options: string, extra = ''): Promise<{ written: Record<string, unknown>[] }> {
  const { pipeline, probe } = await startPipeline(`
inputs:
  gen: { type: generator, ${options} }
${extra || 'outputs:\n  out: { type: test_record, inputs: [gen] }'}
`);
  await pipeline.done();
  return { written: probe('out').written };
}

/** The generator's lines through the parser filter `id` (`parser`: its YAML map, reading gen), every one of which
 * must parse: what the parser wrote, and the pipeline's metrics. */
async function allParsed(options: string, id: string, parser: string) {
  const { pipeline, metrics, probe } = await startPipeline(`
inputs:
  gen: { type: generator, ${options} }
filters:
  ${id}: ${parser}
outputs:
  out: { type: test_record, inputs: [${id}] }
  bad: { type: test_record, inputs: [${id}._unparsed] }
`);
  await pipeline.done();
  assert.equal(probe('bad').written.length, 0, JSON.stringify(probe('bad').written[0]));
  return { written: probe('out').written, metrics };
}

describe('generator', function () {
  this.timeout(60000);

  it('count is exact, heartbeats excluded and marked', async () => {
    const { written } = await generate(`rate: max, count: 12345, seed: 1, start_time: '${START}', speed: max, heartbeat: { interval: 1ms }`);
    const lines = written.filter((e) => e.heartbeat !== true);
    const beats = written.filter((e) => e.heartbeat === true);
    assert.equal(lines.length, 12345);
    assert.ok(beats.length > 0, 'no heartbeat line');
    assert.ok(beats.every((e) => e.message === 'visor heartbeat'));
    assert.ok(lines.every((e) => !('heartbeat' in e)));
  });

  it('duration is exact on a simulated clock: rate x duration lines, all inside the window', async () => {
    const { written } = await generate(`rate: 100, duration: 60s, seed: 2, start_time: '${START}', speed: max, timezone: UTC`);
    assert.equal(written.length, 6000);
    const { written: parsed } = await generate(`rate: 100, duration: 60s, seed: 2, start_time: '${START}', speed: max, timezone: UTC`,
      `filters:\n  access: { type: apache_access, inputs: [gen] }\noutputs:\n  out: { type: test_record, inputs: [access] }`);
    const times = parsed.map((e) => e.timestamp as number);
    assert.ok(times.every((t) => t >= START_MS && t < START_MS + 60_000), 'a line outside [start, start + 60 s)');
    // 100 lines/s: every second of the minute has exactly 100 lines.
    const perSecond = new Map<number, number>();
    for (const t of times) perSecond.set(Math.floor((t - START_MS) / 1000), (perSecond.get(Math.floor((t - START_MS) / 1000)) ?? 0) + 1);
    assert.equal(perSecond.size, 60);
    assert.ok([...perSecond.values()].every((n) => n === 100), `per-second counts: ${[...perSecond.values()].join(',')}`);
  });

  it('the same seed and options give the same lines; another seed does not', async () => {
    const opts = (seed: number) => `format: vhost_combined, rate: 50, duration: 2m, seed: ${seed}, start_time: '${START}', speed: max, timezone: '-0700', bursts: { scheduled: [{ every: 30s, for: 5s, multiplier: 4 }], random: { mean_gap: 20s } }`;
    const a = (await generate(opts(7))).written.map((e) => e.message);
    const b = (await generate(opts(7))).written.map((e) => e.message);
    const c = (await generate(opts(8))).written.map((e) => e.message);
    assert.ok(a.length > 6000);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a.slice(0, 100), c.slice(0, 100));
    assert.match(String(a[0]), /-0700\]/);
  });

  it('scheduled bursts multiply the rate inside the burst only', async () => {
    const { written } = await generate(`rate: 20, duration: 120s, seed: 3, start_time: '${START}', speed: max, timezone: UTC, bursts: { scheduled: [{ every: 60s, for: 10s, multiplier: 5, start: 30s }] }`,
      `filters:\n  access: { type: apache_access, inputs: [gen] }\noutputs:\n  out: { type: test_record, inputs: [access] }`);
    const inBurst = written.filter((e) => {
      const s = ((e.timestamp as number) - START_MS) / 1000;
      return (s >= 30 && s < 40) || (s >= 90 && s < 100);
    }).length;
    assert.equal(inBurst, 2 * 10 * 20 * 5);
    assert.equal(written.length - inBurst, (120 - 20) * 20);
  });

  for (const format of ['common', 'combined', 'vhost_combined', 'combinedio']) {
    it(`every ${format} line parses with apache_access (zero unparsed)`, async () => {
      const { written, metrics } = await allParsed(`format: ${format}, rate: max, count: 20000, seed: 4`, 'access', `{ type: apache_access, inputs: [gen], format: ${format} }`);
      assert.equal(written.length, 20000);
      assert.equal(metrics.snapshot().access.custom.visor_parser_parsed_lines_total, 20000);
    });
  }

  for (const format of ['error_2.2', 'error_2.4']) {
    it(`every ${format} line, heartbeats included, parses with apache_error`, async () => {
      const { written } = await allParsed(`format: ${format}, seed: 5, start_time: '${START}', speed: max, duration: 10m, heartbeat: { interval: 30s, message: still alive },
         level_streams: { error: { interval: [1s, 3s], peak_interval: [100ms, 200ms] }, warn: { interval: [2s, 4s] }, notice: { interval: [5s, 10s] } },
         bursts: { scheduled: [{ every: 2m, for: 20s, multiplier: 1 }] }`, 'errors', '{ type: apache_error, inputs: [gen], timezone: local }');
      const beats = written.filter((e) => e.heartbeat === true);
      assert.equal(beats.length, 19); // every 30 s in [start, start + 10 min), the first at 30 s
      assert.ok(beats.every((e) => e.message_text === 'still alive' && e.level === 'info'));
      const levels = new Set(written.filter((e) => e.heartbeat !== true).map((e) => e.level));
      assert.deepEqual([...levels].sort(), ['error', 'notice', 'warn']);
      // During bursts the error stream switches to its peak gaps (100-200 ms): far more error lines.
      const errorsIn = (from: number, to: number) => written.filter((e) => e.level === 'error' && (e.timestamp as number) >= START_MS + from && (e.timestamp as number) < START_MS + to).length;
      assert.ok(errorsIn(120_000, 140_000) > 5 * errorsIn(60_000, 80_000), `burst ${errorsIn(120_000, 140_000)} vs normal ${errorsIn(60_000, 80_000)}`);
    });
  }

  it('visor generate writes to a file, byte-identical for the same seed', async () => {
    const tmp = await tempDir();
    try {
      const args = (file: string) => ['generate', '--count', '5000', '--seed', '11', '--start-time', START, '--speed', 'max', '--rate', '100', '--timezone', '+0100', '-o', file];
      const a = path.join(tmp.dir, 'a.log');
      const b = path.join(tmp.dir, 'b.log');
      assert.equal((await runCli(args(a))).code, 0);
      assert.equal((await runCli(args(b))).code, 0);
      const text = await readFile(a, 'utf8');
      assert.equal(text, await readFile(b, 'utf8'));
      assert.equal(text.split('\n').length - 1, 5000);
      assert.match(text, /^\S+ - \S+ \[25\/Nov\/2026:01:00:0\d \+0100\] "/);
      const bad = await runCli(['generate', '--rate', 'fast']);
      assert.equal(bad.code, 78);
      assert.match(bad.stderr, /rate/);
    } finally {
      await tmp.remove();
    }
  });
});
