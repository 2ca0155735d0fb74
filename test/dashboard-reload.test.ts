// A SIGHUP reload keeps the dashboard's in-memory history and recent alerts (PluginContext.kept), unless an option
// that shapes them changed; a real `visor run` process, real signals, the dashboard's real HTTP API.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import type { DashboardState } from '../lib/dashboard/index.js';
import { CliProcess, freePort, tempDir } from './support/helpers.js';

const TOKEN = 'reload-test-token-0123';

const config = (port: number, title: string, updateEvery: string) => `
inputs:
  in: { type: stdin }
filters:
  access: { type: apache_access, inputs: [in], format: common }
aggregates:
  alerts:
    type: alert
    inputs: [access]
    rules:
      - { name: server-error, when: 'status >= 500', cooldown: 10m, severity: warning }
outputs:
  dash: { type: dashboard, inputs: [access, alerts], listen: 127.0.0.1:${port}, token: ${TOKEN}, title: ${title}, update_every: ${updateEvery} }
`;

/** `n` common-format lines of this minute, every tenth a 503. */
const lines = (from: number, n: number): string => {
  const t = new Date().toUTCString().replace(/^\w+, (\d+) (\w+) (\d+) ([\d:]+) GMT$/, '$1/$2/$3:$4 +0000');
  return Array.from({ length: n }, (_, i) => `10.0.0.${(from + i) % 250} - - [${t}] "GET /p${from + i} HTTP/1.1" ${(from + i) % 10 === 0 ? 503 : 200} 100\n`).join('');
};

describe('dashboard over a SIGHUP reload', function () {
  this.timeout(60_000);

  it('keeps its history and recent alerts when the reload leaves its model options alone, starts afresh when they change', async () => {
    const tmp = await tempDir();
    const port = await freePort();
    const file = await tmp.file('p.yaml', config(port, 'web01', '250ms'));
    const p = new CliProcess(['run', '-c', file]);
    const state = async (): Promise<DashboardState> =>
      (await (await fetch(`http://127.0.0.1:${port}/api/state`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as DashboardState;
    const until = async (test: (s: DashboardState) => boolean, what: string): Promise<DashboardState> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        // A dashboard being replaced refuses the connection for a moment.
        const s = await state().catch(() => undefined);
        if (s && test(s)) return s;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(s?.totals)}\n${p.stderr.slice(-2000)}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    try {
      await p.waitForStderr(/visor started/);
      p.child.stdin!.write(lines(0, 200));
      const charted = (s: DashboardState) => s.series.requests.reduce((a, b) => a + b, 0);
      // Charts end with the last complete second: wait until it holds them all.
      const before = await until((s) => s.totals.requests === 200 && charted(s) === 200 && s.alerts.length > 0, '200 requests charted and an alert');

      // update_every does not shape the model: history, totals and alerts survive the reload.
      await writeFile(file, config(port, 'web01', '300ms'));
      const reloads = (p.stderr.match(/configuration reloaded/g) ?? []).length;
      p.child.kill('SIGHUP');
      await p.waitFor((x) => (x.stderr.match(/configuration reloaded/g) ?? []).length > reloads, 'the reload');
      const after = await until((s) => s.totals.requests === 200, 'the kept totals');
      assert.equal(after.totals.errors, before.totals.errors);
      assert.equal(charted(after), 200);
      // The recent alerts are still listed (newest first; the reload's own "stopped" notice of the old alert
      // aggregate may come on top).
      const key = (a: DashboardState['alerts'][number]) => `${a.name} ${a.state} ${a.time}`;
      assert.deepEqual(after.alerts.slice(-before.alerts.length).map(key), before.alerts.map(key));
      p.child.stdin!.write(lines(200, 50));
      await until((s) => s.totals.requests === 250, 'new lines added to the kept history');

      // A new title is a new model: the reloaded dashboard starts from nothing.
      await writeFile(file, config(port, 'web02', '300ms'));
      p.child.kill('SIGHUP');
      await p.waitFor((x) => (x.stderr.match(/configuration reloaded/g) ?? []).length > reloads + 1, 'the second reload');
      const fresh = await until((s) => s.title === 'web02', 'the new title');
      assert.equal(fresh.totals.requests, 0);
      assert.equal(fresh.alerts.length, 0);
      p.child.stdin!.end();
      assert.equal((await p.exited).code, 0);
    } finally {
      p.child.kill('SIGKILL');
      await tmp.remove();
    }
  });
});
