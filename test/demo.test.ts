// `npm start` runs configs/demo.yaml: the dashboard answers with live figures and the console gets a line every 10 s.
import assert from 'node:assert/strict';
import path from 'node:path';
import { CliProcess, ROOT, freePort, tempDir } from './support/helpers.js';

describe('the demo (npm start)', function () {
  this.timeout(40_000);

  it('serves the dashboard with live traffic and alerts, and prints a summary line every 10 s', async () => {
    const tmp = await tempDir();
    const port = await freePort();
    const started = Date.now();
    const demo = new CliProcess(['run', '-c', path.join(ROOT, 'configs/demo.yaml')], {
      env: { VISOR_DATA_DIR: tmp.dir, DASHBOARD_LISTEN: `127.0.0.1:${port}` },
    });
    try {
      await demo.waitForStderr(/dashboard listening/);
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<html/i);
      await demo.waitFor((p) => /\d+ requests \([\d.]+\/s\)\s+4xx [\d.]+%\s+5xx [\d.]+%/.test(p.stdout), 'a console summary line', 20_000);
      const state = await (await fetch(`http://127.0.0.1:${port}/api/state`)).json() as {
        totals: { requests: number; error_log_lines: number }; top: { clients: unknown[] }; health?: Array<{ id: string; unparsed: number }>;
        series: { t: number[] };
      };
      assert.ok(state.totals.requests > 500, `requests ${state.totals.requests}`);
      assert.ok(state.totals.error_log_lines > 0, 'error-log lines reach the dashboard');
      assert.ok(state.top.clients.length > 0);
      // Alive from the first minute: the charts span the seconds seen so far, not an empty 15-minute axis.
      assert.ok(state.series.t.length <= Math.ceil((Date.now() - started) / 1000) + 1, `${state.series.t.length} chart buckets after ${Date.now() - started} ms`);
      assert.ok(state.series.t[0]! >= Math.floor(started / 1000) * 1000 - 1000, 'the charts start when the demo did');
      // Its own heartbeats (every 5 s in the traffic) are not flagged as unparsed lines.
      assert.deepEqual(state.health?.filter((h) => h.unparsed > 0).map((h) => h.id), [], 'no component with unparsed lines');
      assert.deepEqual(state.health?.map((h) => h.id).sort(), ['access', 'alerts', 'console', 'dashboard', 'errors', 'every_10s', 'per_minute', 'server_errors', 'traffic', 'unparsed', 'windows']);
    } finally {
      demo.child.kill('SIGINT');
      const result = await demo.exited;
      await tmp.remove();
      assert.equal(result.code, 0, result.stderr);
    }
  });
});
