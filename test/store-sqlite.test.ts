// The store output on SQLite, read back with Debian's sqlite3 CLI: the schema the migrations create, the row of
// every kind of result, replays that overwrite instead of duplicating, rows the database refuses (dead-letter file),
// a locked database (write fails, health says why, the retry commits), and kill -9 of a real `visor run` several
// times: the events table holds each line exactly once and the windows equal a recount.
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Event, OutputInstance, PluginContext } from '../core/index.js';
import { MetricsHub } from '../core/runtime/metrics.js';
import { classify, formatResolution, MIGRATIONS, SCHEMA_VERSION, SqliteEngine, TABLES } from '../lib/store/index.js';
import storePlugin from '../plugins/outputs/store/index.js';
import { pluginContext } from './support/corpora.js';
import { CliProcess, onPath, runCli, skipWhenMissing, tempDir } from './support/helpers.js';
import { accessLog, assertStored, storeConfig, writeLog } from './support/store.js';
import { waitUntil } from './support/tail-harness.js';

const SQLITE3 = onPath('sqlite3');

/** Rows of a query, as the sqlite3 CLI prints them with -json. With a busy timeout, as any reader beside a writer
 * needs: the first connection after a kill -9 recovers the WAL under an exclusive lock (a reader without one got
 * "database is locked" once in CI). */
function sq<T = Record<string, unknown>>(file: string, sql: string): T[] {
  const out = execFileSync(SQLITE3!, ['-json', '-readonly', '-cmd', '.timeout 10000', file, sql], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  return out.trim() ? (JSON.parse(out) as T[]) : [];
}
const count = (file: string, sql: string) => Number(Object.values(sq(file, sql)[0])[0]);

/** The store plugin driven directly, with its data directory in `dir`. */
async function openStore(dir: string, options: Record<string, unknown> = {}) {
  const hub = new MetricsHub();
  const base = pluginContext('db', 'store', hub, 'output');
  const context: PluginContext = { ...base, configDir: dir, dataDir: async () => { await mkdir(path.join(dir, 'db'), { recursive: true }); return path.join(dir, 'db'); } };
  const out = (await storePlugin.create({
    engine: 'sqlite', synchronous: 'full', busy_timeout: 100, timeout: 10_000, events: true, event_exclude: [], position_field: 'position',
    kafka_field: 'kafka', batch_size: 2000, batch_timeout: 50, agent: 'a1', ...options,
  } as never, context)) as OutputInstance;
  await out.start?.();
  return { out, hub, file: path.join(dir, 'db', 'visor.db'), custom: () => hub.snapshot().db.custom, discarded: () => hub.snapshot().db.discarded_by_reason };
}

/** One of each kind of result, as the aggregates emit them (fields copied from their code). */
function sampleBatch(): Event[] {
  const t0 = Date.UTC(2026, 0, 2, 3, 4, 0);
  return [
    {
      window_start: t0, window_end: t0 + 60_000, status: 500, count: 3, errors: 3,
      _window: { aggregate: 'traffic', group_by: ['status'], size: 60_000, fingerprint: 'f00d', spec: { version: 1 }, state: { values: [500], count: 3 } },
    },
    { name: 'errors', severity: 'critical', kind: 'threshold', state: 'firing', message: '[critical] errors: ...', time: t0 + 5000, count: 1, samples: [], value: 12, since: t0 + 1000 },
    { report: 'visor', window_start: t0, window_end: t0 + 300_000, requests: 10, errors: 1, error_rate: 0.1, message: 'report visor', html: '<p>' },
    { message: '12:00 10 requests', window_start: t0, window_end: t0 + 10_000, count: 10, rate: 1, client_error_rate: 0, server_error_rate: 0.1, top_clients: [] },
    { message: 'GET / 200', timestamp: t0 + 1, client_ip: '10.0.0.1', method: 'GET', path: '/', status: 200, bytes: 512, user: 'bob', duration_us: 1200, vhost: 'a.example', position: { file: 'abc', offset: 0 } },
    { message: 'from kafka', timestamp: t0 + 2, status: 404, kafka: { topic: 'logs', partition: 2, offset: 41, key: null } },
    { message: 'no identity', timestamp: t0 + 3 },
    { partial: { version: 1, watermark: 5 } },
    { heartbeat: true, timestamp: t0 },
  ];
}

describe('store output: SQLite (sqlite3 reads it back)', function () {
  this.timeout(60_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(function () {
    skipWhenMissing(this, SQLITE3 ? undefined : 'sqlite3 is not installed (apt-get install sqlite3)');
  });
  beforeEach(async () => { tmp = await tempDir('visor-store-'); });
  afterEach(async () => { await tmp.remove(); });

  it('classifies by the documented rule and names resolutions by their largest whole unit', () => {
    assert.deepEqual(sampleBatch().map(classify), ['window', 'alert', 'report', 'summary', 'event', 'event', 'event', 'partial', 'heartbeat']);
    assert.equal(classify({ window_start: 1, window_end: 2, count: 1 }), 'window_without_state');
    assert.deepEqual([60_000, 3_600_000, 86_400_000, 90_000, 1500].map(formatResolution), ['1m', '1h', '1d', '90s', '1500ms']);
  });

  it('validate: engine postgres without url, and url with sqlite, are located errors', async () => {
    const a = await tmp.file('a.yaml', 'inputs: { i: { type: stdin } }\noutputs: { o: { type: store, inputs: [i], engine: postgres } }\n');
    const ra = await runCli(['validate', '-c', a]);
    assert.equal(ra.code, 78);
    assert.match(ra.stderr + ra.stdout, /a\.yaml:2:\d+: .*engine: postgres needs url/);
    const b = await tmp.file('b.yaml', 'inputs: { i: { type: stdin } }\noutputs: { o: { type: store, inputs: [i], url: "postgres://x/y" } }\n');
    const rb = await runCli(['validate', '-c', b]);
    assert.equal(rb.code, 78);
    assert.match(rb.stderr + rb.stdout, /url is for engine: postgres/);
    assert.doesNotMatch(rb.stderr + rb.stdout, /postgres:\/\/x\/y/, 'the secret url is not printed');
  });

  it('migrations create the declared tables, columns and keys, once; a newer schema is refused', async () => {
    const s = await openStore(tmp.dir);
    await s.out.close?.();
    const versions = sq<{ version: number }>(s.file, 'SELECT version FROM schema_version');
    assert.deepEqual(versions.map((v) => v.version), MIGRATIONS.map((m) => m.version));
    assert.equal(sq<{ journal_mode: string }>(s.file, 'PRAGMA journal_mode')[0].journal_mode, 'wal');
    for (const table of Object.values(TABLES)) {
      const info = sq<{ name: string; pk: number }>(s.file, `PRAGMA table_info(${table.name})`);
      assert.deepEqual(info.map((c) => c.name), table.columns.map((c) => c.name), `${table.name} columns`);
      assert.deepEqual(info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name), table.key, `${table.name} key`);
    }
    // Opened again: nothing applied twice.
    const again = await openStore(tmp.dir);
    await again.out.close?.();
    assert.equal(count(s.file, 'SELECT count(*) FROM schema_version'), MIGRATIONS.length);

    execFileSync(SQLITE3!, [s.file, `INSERT INTO schema_version VALUES (${SCHEMA_VERSION + 1}, 'from the future', 0)`]);
    await assert.rejects(new SqliteEngine({ file: s.file, synchronous: 'full', busyTimeout: 100 }).open(), /newer than this Visor knows/);
  });

  it('stores each kind in its table with its identity; a replay of the same batches adds no row', async () => {
    const s = await openStore(tmp.dir);
    await s.out.write(sampleBatch());
    await s.out.write(sampleBatch()); // a replay
    const changed = sampleBatch();
    (changed[0] as Event).count = 4; // the same window again with more events: the row is replaced
    await s.out.write(changed);
    await s.out.close?.();
    const f = s.file;
    const w = sq(f, 'SELECT agent, aggregate, resolution, window_start, window_end, group_key, group_values, count, metrics, sketches, fingerprint FROM windows');
    assert.deepEqual(w, [{
      agent: 'a1', aggregate: 'traffic', resolution: '1m', window_start: Date.UTC(2026, 0, 2, 3, 4, 0), window_end: Date.UTC(2026, 0, 2, 3, 5, 0),
      group_key: '[500]', group_values: '{"status":500}', count: 4, metrics: '{"errors":3}', sketches: '{"values":[500],"count":3}', fingerprint: 'f00d',
    }]);
    assert.deepEqual(sq(f, 'SELECT aggregate, fingerprint, spec FROM aggregates'), [{ aggregate: 'traffic', fingerprint: 'f00d', spec: '{"version":1}' }]);
    assert.deepEqual(sq(f, 'SELECT rule, grp, state, first_time - last_time AS d, count, severity, value FROM alerts'), [{ rule: 'errors', grp: '', state: 'firing', d: -4000, count: 1, severity: 'critical', value: 12 }]);
    assert.deepEqual(sq(f, 'SELECT kind, name, requests, errors FROM reports ORDER BY kind'), [{ kind: 'report', name: 'visor', requests: 10, errors: 1 }, { kind: 'summary', name: '', requests: 10, errors: null }]);
    const ev = sq<Record<string, unknown>>(f, 'SELECT origin, vhost, client_ip, remote_user, method, path, status, bytes, duration_us, extra FROM events ORDER BY time');
    assert.deepEqual(ev.map((e) => e.origin), ['tail:abc:0', 'kafka:logs/2@41', 'content']);
    assert.deepEqual(ev[0], { origin: 'tail:abc:0', vhost: 'a.example', client_ip: '10.0.0.1', remote_user: 'bob', method: 'GET', path: '/', status: 200, bytes: 512, duration_us: 1200, extra: '{"message":"GET / 200"}' });
    assert.equal(JSON.parse(ev[1].extra as string).kafka.offset, 41, 'what has no column stays in extra');
    assert.equal(count(f, 'SELECT count(*) FROM events'), 3);
    assert.equal(s.discarded().partial, 3, 'partials are counted as not stored');
    assert.equal(s.custom()['visor_store_rejected_rows_total'], 0);
  });

  it('two events of one identity in one batch: one row, the last one\'s (each event is mapped as it is upserted)', async () => {
    const s = await openStore(tmp.dir);
    const t = Date.UTC(2026, 0, 1);
    const line = (offset: number, path: string): Event => ({ timestamp: t + offset, status: 200, path, message: `line ${offset}`, position: { file: 'f', offset } });
    await s.out.write([line(0, '/a'), line(10, '/b'), line(0, '/a2'), line(20, '/c')]);
    await s.out.close?.();
    assert.deepEqual(sq(s.file, 'SELECT origin, path FROM events ORDER BY time'), [
      { origin: 'tail:f:0', path: '/a2' }, { origin: 'tail:f:10', path: '/b' }, { origin: 'tail:f:20', path: '/c' },
    ]);
  });

  it('a row the database refuses goes to rejected.jsonl with a count; the rest of the batch commits', async () => {
    const s = await openStore(tmp.dir);
    const t = Date.UTC(2026, 0, 1);
    const good = (i: number): Event => ({ timestamp: t + i, status: 200, message: `line ${i}`, position: { file: 'x', offset: i * 10 } });
    const bad: Event = { timestamp: t + 99, status: 200.5, message: 'a status that is no integer', position: { file: 'x', offset: 990 } };
    await s.out.write([good(0), bad, good(1), good(2)]);
    await s.out.close?.();
    assert.equal(count(s.file, 'SELECT count(*) FROM events'), 3);
    const dead = readFileSync(path.join(tmp.dir, 'db', 'rejected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(dead.length, 1);
    assert.equal(dead[0].table, 'events');
    assert.deepEqual(dead[0].event, bad);
    assert.match(dead[0].error, /SQLITE_CONSTRAINT_DATATYPE|cannot store REAL/);
    assert.equal(s.custom()['visor_store_rejected_rows_total'], 1);
  });

  it('a database locked by another process: write() rejects, health says why, the retry commits', async () => {
    const s = await openStore(tmp.dir);
    const holder = spawn(SQLITE3!, [s.file], { stdio: ['pipe', 'pipe', 'pipe'] });
    holder.stdin.write('BEGIN IMMEDIATE;\nSELECT \'locked\';\n');
    await new Promise<void>((resolve) => holder.stdout.on('data', (d: Buffer) => { if (d.toString().includes('locked')) resolve(); }));
    const batch: Event[] = [{ timestamp: 1, message: 'm', position: { file: 'y', offset: 0 } }];
    await assert.rejects(s.out.write(batch), /database is locked/);
    const h = s.out.health!();
    assert.equal(h.healthy, false);
    assert.match(h.reason!, /cannot write to sqlite .*visor\.db: database is locked/);
    holder.stdin.end('COMMIT;\n');
    await new Promise((r) => holder.on('close', r));
    await s.out.write(batch);
    assert.equal(s.out.health!().healthy, true);
    await s.out.close?.();
    assert.equal(count(s.file, 'SELECT count(*) FROM events'), 1);
  });

  it('tail positions identify lines across rotation: the same lines read again under their rotated name are not stored twice', async () => {
    const logs = path.join(tmp.dir, 'logs');
    await mkdir(logs);
    const lines = accessLog(300, 9);
    await writeLog(path.join(logs, 'access.log'), lines.slice(0, 200));
    const config = await tmp.file('c.yaml', storeConfig('path: out.db').replace('path: access.log', 'path: logs/access.log*'));
    assert.equal((await runCli(['run', '-c', config])).code, 0);
    // logrotate's rename, new lines in a new file, and the tail's checkpoints lost: everything is read again.
    await writeFile(path.join(logs, 'access.log.1'), readFileSync(path.join(logs, 'access.log')));
    await rm(path.join(logs, 'access.log'));
    await writeLog(path.join(logs, 'access.log'), lines.slice(200));
    await rm(path.join(tmp.dir, 'state', 'logs'), { recursive: true });
    const r = await runCli(['run', '-c', config]);
    assert.equal(r.code, 0, r.stderr);
    const db = path.join(tmp.dir, 'out.db');
    assert.equal(count(db, 'SELECT count(*) FROM events'), 300);
    assert.equal(count(db, "SELECT count(DISTINCT substr(origin, 1, 21)) FROM events"), 2, 'two files by content');
  });

  it('kill -9 of `visor run` five times, then a final run: each line stored exactly once, windows equal a recount', async function () {
    this.timeout(240_000);
    const N = 60_000;
    const lines = accessLog(N);
    await writeLog(path.join(tmp.dir, 'access.log'), lines);
    const config = await tmp.file('c.yaml', storeConfig('batch_size: 1000'));
    const db = path.join(tmp.dir, 'state', 'db', 'visor.db');
    // The file exists a moment before the first migration has created its tables: until then nothing is stored.
    const hasEvents = () => existsSync(db) && count(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'events'") === 1;
    const stored = () => (hasEvents() ? count(db, 'SELECT count(*) FROM events') : 0);
    const kills: number[] = [];
    for (let k = 1; k <= 5; k++) {
      const p = new CliProcess(['run', '-c', config], { cwd: tmp.dir });
      const target = Math.min(N - 1, stored() + 5000);
      await waitUntil(() => stored() >= target || p.child.exitCode !== null, `${target} events stored`, 120_000, () => p.stderr);
      p.child.kill('SIGKILL');
      const r = await p.exited;
      assert.equal(r.signal, 'SIGKILL', `the run ended before the kill: ${r.stderr}`);
      kills.push(stored());
    }
    const last = await runCli(['run', '-c', config], { cwd: tmp.dir });
    assert.equal(last.code, 0, last.stderr);
    assert.ok(kills[kills.length - 1] < N, `killed before the end (${kills.join(', ')})`);
    assertStored(lines, {
      events: sq(db, 'SELECT origin, time, client_ip, method, path, status, bytes FROM events'),
      windows: sq(db, "SELECT window_start, group_key, count FROM windows WHERE aggregate = 'traffic' AND resolution = '1m'"),
    });
    assert.ok(!(await readdir(path.join(tmp.dir, 'state', 'db'))).includes('rejected.jsonl'));
    console.log(`      killed at ${kills.join(', ')} stored events; ${N} lines, ${count(db, 'SELECT count(*) FROM windows')} windows after the final run`);
  });
});
