// The cost of the Attacks panel in a history view: `n` detect alerts over the last 24 h in a SQLite store (mapped by
// the store's own RowMapper, written through the engine's upsert), and the 24 h view (historyState over a read-only
// connection, store without events or windows: the traffic figures cost ~nothing, the attacks are the work) beside
// same-run baselines: the same view with a status filter (the attacks left out: everything but them) and a plain
// count of the range's alert rows. Wall times and the main thread's CPU time (user+sys: SQLite's reads block the event
// loop that long, and it moves less than wall time with other work on the machine).
// Run: npx tsx test/bench/attacks-history.ts [n ...] (default 10000 100000).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { historyState, type HistoryRequest } from '../../lib/dashboard/index.js';
import { RowMapper, SqliteEngine, TABLES } from '../../lib/store/index.js';
import { rng } from './apache-lines.js';

const RULES: Array<[string, string]> = [['probing', 'warning'], ['sensitive-files', 'warning'], ['path-traversal', 'critical'], ['sqli-probe', 'critical'],
  ['xss-probe', 'critical'], ['exploit-strings', 'critical'], ['scanner-ua', 'warning'], ['crawler', 'notice']];

/** Wall p50 and p95 and CPU p50 (ms) of `runs` calls after a warm one. */
async function timed(runs: number, fn: () => Promise<unknown>): Promise<{ p50: number; p95: number; cpu: number }> {
  await fn(); // warm (statement cache, page cache)
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const c = process.cpuUsage();
    const start = process.hrtime.bigint();
    await fn();
    wall.push(Number(process.hrtime.bigint() - start) / 1e6);
    const d = process.cpuUsage(c);
    cpu.push((d.user + d.system) / 1000);
  }
  const p = (xs: number[], q: number) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;
  return { p50: p(wall, 0.5), p95: p(wall, 0.95), cpu: p(cpu, 0.5) };
}

async function bench(n: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-attacks-'));
  try {
    const file = path.join(dir, 'visor.db');
    const end = Date.now();
    const writer = new SqliteEngine({ file, synchronous: 'normal', busyTimeout: 1000 });
    await writer.open();
    const mapper = new RowMapper({ agent: 'bench', positionField: 'position', kafkaField: 'kafka', exclude: [] });
    const rnd = rng(19);
    for (let done = 0; done < n;) {
      const rows = [];
      for (let k = 0; k < 5000 && done < n; k++, done++) {
        const [rule, severity] = RULES[Math.floor(rnd() * RULES.length)]!;
        const last = end - Math.floor(rnd() * 86_400_000);
        const ip = `10.${Math.floor(rnd() * 20)}.${Math.floor(rnd() * 250)}.${Math.floor(rnd() * 250)}`;
        const evidence = [0, 1, 2].map((i) => `${ip} - - [03/Dec/2026:10:00:0${i} +0000] "GET /${rule}/${'x'.repeat(120)}?id=${done} HTTP/1.1" 404 512 "-" "Mozilla/5.0 (compatible; scanner)"`);
        rows.push(mapper.alert({ name: rule, rule, severity, kind: 'detect', state: 'firing', message: `[${severity}] ${rule}: ${ip} — 3 matching requests`, time: last + 500,
          count: 3, samples: evidence, evidence, since: last - 2000, first: last - 2000, last, client_ip: ip, vhost: 'www.example.com', distinct: 3, quiet_matches: 0 }));
      }
      await writer.write([{ table: TABLES.alerts, rows }]);
    }
    await writer.close();
    const reader = new SqliteEngine({ file, synchronous: 'normal', busyTimeout: 5000, readOnly: true });
    await reader.open();
    try {
      const req: HistoryRequest = { from: end - 86_400_000, to: end + 1000, filters: {}, topN: 10, alerts: 50, title: 'bench', events: false };
      const state = await historyState(reader, req);
      if (state.attacks?.alerts !== n) throw new Error(`the view counted ${state.attacks?.alerts} of ${n} alerts`);
      const runs = n > 50_000 ? 5 : 15;
      const view = await timed(runs, () => historyState(reader, req));
      const without = await timed(runs, () => historyState(reader, { ...req, filters: { status: 404 } }));
      const count = await timed(runs, () => reader.query("SELECT count(*) AS n FROM alerts WHERE kind = 'detect' AND first_time < ? AND last_time >= ?", [req.to, req.from]));
      return `${n.toLocaleString('en-US')} detect alerts, 24 h view: p50 ${view.p50.toFixed(1)} ms, p95 ${view.p95.toFixed(1)} ms, CPU p50 ${view.cpu.toFixed(1)} ms; `
        + `without the attacks (status filter) p50 ${without.p50.toFixed(1)} ms, CPU ${without.cpu.toFixed(1)} ms; count(*) of those alert rows p50 ${count.p50.toFixed(1)} ms, CPU ${count.cpu.toFixed(1)} ms`;
    } finally {
      await reader.close();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const sizes = process.argv.slice(2).map(Number).filter((x) => x > 0);
for (const n of sizes.length ? sizes : [10_000, 100_000]) console.log(await bench(n));
