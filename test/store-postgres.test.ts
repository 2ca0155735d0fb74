// The store output on a real PostgreSQL (test/support/postgres.ts starts one), read back with psql: the schema and
// its day partitions, each kind's row and replays, refused rows in the dead-letter file, and real `visor run`s
// killed with -9 and one that lives through the server being stopped for 10 s: each line exactly once.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Event, OutputInstance, PluginContext } from '../core/index.js';
import { MetricsHub } from '../core/runtime/metrics.js';
import { MIGRATIONS, TABLES } from '../lib/store/index.js';
import storePlugin from '../plugins/outputs/store/index.js';
import { pluginContext } from './support/corpora.js';
import { CliProcess, freePort, skipWhenMissing, tempDir } from './support/helpers.js';
import { PostgresServer, postgresMissing } from './support/postgres.js';
import { accessLog, assertStored, storeConfig, writeLog } from './support/store.js';
import { waitUntil } from './support/tail-harness.js';

describe('store output: PostgreSQL (psql reads it back)', function () {
  this.timeout(120_000);
  let server: PostgresServer;
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let n = 0;
  const freshDatabase = () => server.createDatabase(`visor_${++n}`);

  before(async function () {
    skipWhenMissing(this, postgresMissing());
    server = await PostgresServer.start();
  });
  after(async () => { await server?.destroy(); });
  beforeEach(async () => { tmp = await tempDir('visor-store-pg-'); });
  afterEach(async () => { await tmp.remove(); });

  async function openStore(url: string) {
    const hub = new MetricsHub();
    const base = pluginContext('db', 'store', hub, 'output');
    const context: PluginContext = { ...base, configDir: tmp.dir, dataDir: async () => { await mkdir(path.join(tmp.dir, 'db'), { recursive: true }); return path.join(tmp.dir, 'db'); } };
    const out = (await storePlugin.create({
      engine: 'postgres', url, synchronous: 'full', busy_timeout: 100, timeout: 10_000, events: true, event_exclude: [], position_field: 'position',
      kafka_field: 'kafka', batch_size: 2000, batch_timeout: 50, agent: 'a1',
    } as never, context)) as OutputInstance;
    await out.start?.();
    return { out, custom: () => hub.snapshot().db.custom };
  }
  /** Rows of a query, through psql, as JSON. */
  const rows = async <T = Record<string, unknown>>(db: string, sql: string): Promise<T[]> =>
    JSON.parse((await server.psql(`SELECT coalesce(json_agg(q), '[]') FROM (${sql}) q`, db)) || '[]') as T[];

  it('migrations create the declared tables, columns and keys; events is partitioned by day', async () => {
    const url = await freshDatabase();
    const db = url.slice(url.lastIndexOf('/') + 1);
    const s = await openStore(url);
    await s.out.close?.();
    assert.equal(await server.psql('SELECT string_agg(version::text, \',\' ORDER BY version) FROM schema_version', db), MIGRATIONS.map((m) => m.version).join(','));
    for (const table of Object.values(TABLES)) {
      const cols = await server.psql(`SELECT string_agg(column_name, ',' ORDER BY ordinal_position) FROM information_schema.columns WHERE table_name = '${table.name}'`, db);
      assert.equal(cols, table.columns.map((c) => c.name).join(','), `${table.name} columns`);
      const key = await server.psql(`SELECT string_agg(a.attname, ',' ORDER BY array_position(i.indkey, a.attnum)) FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = '${table.name}'::regclass AND i.indisprimary`, db);
      assert.equal(key, table.key.join(','), `${table.name} key`);
    }
    assert.equal(await server.psql("SELECT partstrat FROM pg_partitioned_table WHERE partrelid = 'events'::regclass", db), 'r');
    // A second agent starting on the same database applies nothing again.
    const again = await openStore(url);
    await again.out.close?.();
    assert.equal(await server.psql('SELECT count(*) FROM schema_version', db), String(MIGRATIONS.length));
  });

  it('stores each kind with its identity, one partition per day; a replay adds no row; a refused row goes to rejected.jsonl', async () => {
    const url = await freshDatabase();
    const db = url.slice(url.lastIndexOf('/') + 1);
    const s = await openStore(url);
    const day1 = Date.UTC(2026, 0, 1, 23, 59, 59);
    const day2 = day1 + 2000;
    const batch = (): Event[] => [
      { window_start: day1 - 59_000, window_end: day1 + 1000, status: 200, count: 7, _window: { aggregate: 'traffic', group_by: ['status'], size: 60_000, fingerprint: 'f1', spec: {}, state: { count: 7 } } },
      { name: 'r', severity: 'warning', kind: 'event', state: 'digest', message: 'm', time: day2, count: 3, samples: ['a'], since: day1 },
      { report: 'visor', window_start: day1, window_end: day2, requests: 2, errors: 0 },
      { timestamp: day1, status: 200, path: '/a', message: 'l1', position: { file: 'f', offset: 0 } },
      { timestamp: day2, status: 500, path: '/b', message: 'l2', position: { file: 'f', offset: 3 } },
      { timestamp: day2, status: 404, message: 'k', kafka: { topic: 't', partition: 0, offset: 9 } },
    ];
    await s.out.write(batch());
    await s.out.write(batch()); // replayed
    const refused: Event[] = [
      { timestamp: day2, status: 200.5, message: 'no integer', position: { file: 'f', offset: 6 } },
      { timestamp: day2, status: 200, path: 'nul \u0000 in text', message: 'nul', position: { file: 'f', offset: 9 } },
    ];
    await s.out.write([...batch(), ...refused, { timestamp: day2, status: 201, message: 'l3', position: { file: 'f', offset: 12 } }]);
    await s.out.close?.();
    assert.deepEqual(await rows(db, 'SELECT aggregate, resolution, group_key, count FROM windows'), [{ aggregate: 'traffic', resolution: '1m', group_key: '[200]', count: 7 }]);
    assert.deepEqual(await rows(db, 'SELECT rule, state, count, extract(epoch FROM last_time - first_time) AS d FROM alerts'), [{ rule: 'r', state: 'digest', count: 3, d: 2 }]);
    assert.equal(await server.psql('SELECT count(*) FROM reports', db), '1');
    assert.deepEqual(await rows(db, 'SELECT tableoid::regclass::text AS part, origin, status FROM events ORDER BY time, origin'), [
      { part: 'events_p20260101', origin: 'tail:f:0', status: 200 },
      { part: 'events_p20260102', origin: 'kafka:t/0@9', status: 404 },
      { part: 'events_p20260102', origin: 'tail:f:12', status: 201 },
      { part: 'events_p20260102', origin: 'tail:f:3', status: 500 },
    ]);
    const dead = readFileSync(path.join(tmp.dir, 'db', 'rejected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(dead.map((d) => d.event.message), ['no integer', 'nul']);
    assert.match(dead[0].error, /invalid input syntax for type bigint|22P02/);
    assert.match(dead[1].error, /0x00|22021|22P05/);
    assert.equal(s.custom()['visor_store_rejected_rows_total'], 2);
  });

  /** A store on a fresh database, and lines of one file identified by their offsets. */
  const linesStore = async () => {
    const url = await freshDatabase();
    const t = Date.UTC(2026, 0, 1, 12);
    const line = (offset: number, path: string): Event => ({ timestamp: t + offset, status: 200, path, message: `line ${offset}`, position: { file: 'f', offset } });
    return { db: url.slice(url.lastIndexOf('/') + 1), s: await openStore(url), line };
  };

  it('events are COPYed straight into their table; a batch meeting stored rows is upserted instead (they are overwritten, the new ones added)', async () => {
    const { db, s, line } = await linesStore();
    await s.out.write([line(0, '/a'), line(10, '/b')]);
    // The same lines again (same identity), one with a field the mapping puts in a column changed, and a new line.
    await s.out.write([line(0, '/a'), line(10, '/b2'), line(20, '/c')]);
    await s.out.close?.();
    assert.deepEqual(await rows(db, 'SELECT origin, path FROM events ORDER BY time'), [
      { origin: 'tail:f:0', path: '/a' }, { origin: 'tail:f:10', path: '/b2' }, { origin: 'tail:f:20', path: '/c' },
    ]);
  });

  it('two events of one identity in one batch: one row, the last one\'s (the direct COPY meets the key twice, and the batch is upserted from staging instead)', async () => {
    const { db, s, line } = await linesStore();
    await s.out.write([line(0, '/a'), line(10, '/b'), line(0, '/a2'), line(20, '/c')]);
    await s.out.close?.();
    assert.deepEqual(await rows(db, 'SELECT origin, path FROM events ORDER BY time'), [
      { origin: 'tail:f:0', path: '/a2' }, { origin: 'tail:f:10', path: '/b' }, { origin: 'tail:f:20', path: '/c' },
    ]);
  });

  it('a batch of many COPY chunks meeting a stored row in its first chunk, then holding one identity in two chunks: each row once, the last one\'s', async () => {
    const { db, s, line } = await linesStore();
    await s.out.write([line(0, '/stored')]);
    // 1500 events: several chunks of the streamed COPY, so the unique violation arrives while later chunks are sent.
    const lines = Array.from({ length: 1500 }, (_, i) => line(i * 10, `/p${i}`));
    await s.out.write([...lines, line(5000, '/last')]); // line 5000 also is lines[500]
    await s.out.write(Array.from({ length: 1500 }, (_, i) => line(100_000 + i * 10, '/new'))); // after the failed COPYs: the connection still works
    await s.out.close?.();
    const [count] = await rows<{ n: number; first: string; last: string }>(db,
      "SELECT count(*)::int AS n, max(path) FILTER (WHERE origin = 'tail:f:0') AS first, max(path) FILTER (WHERE origin = 'tail:f:5000') AS last FROM events");
    assert.deepEqual(count, { n: 3000, first: '/p0', last: '/last' });
  });

  it('kill -9 twice, then a run during which the server is stopped for 10 s: each line exactly once, windows equal a recount', async function () {
    this.timeout(300_000);
    const url = await freshDatabase();
    const db = url.slice(url.lastIndexOf('/') + 1);
    const N = 60_000;
    const lines = accessLog(N, 11);
    await writeLog(path.join(tmp.dir, 'access.log'), lines);
    const port = await freePort();
    const config = await tmp.file('c.yaml', storeConfig(`engine: postgres, url: "${url}", timeout: 2s, batch_size: 1000`, `, http: { listen: "127.0.0.1:${port}" }`));
    const stored = async () => Number(await server.psql('SELECT count(*) FROM events', db).catch(() => '-1'));
    const kills: number[] = [];
    for (let k = 1; k <= 2; k++) {
      const p = new CliProcess(['run', '-c', config]);
      const target = Math.max(0, await stored()) + 8000;
      await waitUntil(async () => (await stored()) >= target || p.child.exitCode !== null, `${target} events stored`, 120_000, () => p.stderr);
      p.child.kill('SIGKILL');
      assert.equal((await p.exited).signal, 'SIGKILL', 'killed before it finished');
      kills.push(await stored());
    }

    const p = new CliProcess(['run', '-c', config]);
    const target = (await stored()) + 8000;
    await waitUntil(async () => (await stored()) >= target || p.child.exitCode !== null, `${target} events stored`, 120_000, () => p.stderr);
    assert.equal(p.child.exitCode, null, 'still running when the server stops');
    const before = await stored();
    await server.stop();
    const stoppedAt = Date.now();
    let health: { status: number; body: string } | undefined;
    await waitUntil(async () => {
      const r = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
      if (!r) return false;
      health = { status: r.status, body: await r.text() };
      return health.status === 503 && /consecutive write failures: cannot write to postgres/.test(health.body);
    }, '/health to say why the store fails', 15_000, () => JSON.stringify(health));
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - stoppedAt))));
    assert.equal(p.child.exitCode, null, `the agent waits for the database: ${p.stderr}`);
    await server.resume();
    const r = await p.exited;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /write failed/, 'the failures were logged');

    const stats = await rows<{ n: number; parts: number }>(db, "SELECT count(*) AS n, count(DISTINCT tableoid) AS parts FROM events");
    assertStored(lines, {
      events: await rows(db, 'SELECT origin, (extract(epoch FROM time) * 1000)::bigint AS time, client_ip, method, path, status, bytes FROM events'),
      windows: await rows(db, "SELECT (extract(epoch FROM window_start) * 1000)::bigint AS window_start, group_key, count FROM windows WHERE aggregate = 'traffic' AND resolution = '1m'"),
    });
    console.log(`      killed at ${kills.join(', ')} stored events; server stopped at ${before}; ${stats[0].n} events in ${stats[0].parts} day partition(s) after the final run`);
  });

  it('a database that is not there at start: the agent starts, retries, and the run completes once it is there', async function () {
    this.timeout(120_000);
    const url = server.url('created_later');
    const lines = accessLog(2000, 3);
    await writeLog(path.join(tmp.dir, 'access.log'), lines);
    const config = await tmp.file('c.yaml', storeConfig(`engine: postgres, url: "${url}", timeout: 2s`));
    const p = new CliProcess(['run', '-c', config]);
    await p.waitForStderr(/store not reachable at start; writes will retry.*created_later.*does not exist/, 30_000);
    await server.createDatabase('created_later');
    const r = await p.exited;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await server.psql('SELECT count(*) FROM events', 'created_later'), String(lines.length));
  });
});
