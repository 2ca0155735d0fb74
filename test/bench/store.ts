// The store output writing parsed Apache access events (events: true) beside a plain loop inserting the same rows
// with the same driver in the same run: rows/s for SQLite, and for PostgreSQL when Debian's server is installed
// (started like the tests do). The plain loops do the least a program must: SQLite, one prepared INSERT per row in
// one transaction per batch (WAL, synchronous FULL like the store); PostgreSQL, COPY of each batch into the table.
// The store output maps every event (identity hash, typed columns, JSON rest) and upserts (PostgreSQL: COPY into a
// staging table, then INSERT ... SELECT ... ON CONFLICT). For PostgreSQL the alternative upsert the engine does not
// use is measured too, so that the choice can be checked: one INSERT ... SELECT FROM unnest(column arrays) ... ON
// CONFLICT per batch.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Event, FilterInstance, OutputInstance, PluginContext } from '../../core/index.js';
import { MetricsHub } from '../../core/runtime/metrics.js';
import { ComponentTimers } from '../../core/runtime/context.js';
import { copyText, RowMapper, SqliteEngine, TABLES, upsertClauses } from '../../lib/store/index.js';
import accessPlugin from '../../plugins/filters/apache_access.js';
import storePlugin from '../../plugins/outputs/store/index.js';
import { pluginContext } from '../support/corpora.js';
import { PostgresServer, postgresMissing } from '../support/postgres.js';
import { combinedLines } from './apache-lines.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const BATCH = 1000;
const secondsSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;

/** `total` parsed access events in batches, each with a tail position of its own (so every row is new). */
async function parsedBatches(total: number): Promise<Event[][]> {
  const filter = (await accessPlugin.create({ field: 'message', format: 'combined', timezone: 'UTC' }, pluginContext('access', 'apache_access'))) as FilterInstance;
  const ctx = { emit: () => undefined, hold: () => { throw new Error('no hold'); } };
  const lines = combinedLines(total, 17);
  const batches: Event[][] = [];
  let offset = 0;
  for (let i = 0; i < lines.length; i += BATCH) {
    const batch = lines.slice(i, i + BATCH).map((message) => {
      const e: Event = { message, file: '/var/log/apache2/access.log', position: { file: '5f0c1e2d3a4b5c6d', offset } };
      offset += message.length + 1;
      return e;
    });
    batches.push(filter.process(batch, ctx) as Event[]);
  }
  return batches;
}

/** The rows the store would write, computed once, for the plain loops. */
function rowValues(batches: Event[][]): unknown[][][] {
  const mapper = new RowMapper({ agent: 'bench', positionField: 'position', kafkaField: 'kafka', exclude: [] });
  return batches.map((b) => b.map((e) => mapper.event(e).values));
}

async function viaOutput(options: Record<string, unknown>, dir: string, batches: Event[][]): Promise<number> {
  const base = pluginContext('db', 'store', new MetricsHub(), 'output');
  const context: PluginContext = { ...base, configDir: dir, dataDir: async () => { await mkdir(path.join(dir, 'db'), { recursive: true }); return path.join(dir, 'db'); } };
  const out = (await storePlugin.create({
    synchronous: 'full', busy_timeout: 100, timeout: 30_000, events: true, event_exclude: [], position_field: 'position', kafka_field: 'kafka',
    batch_size: BATCH, batch_timeout: 0, agent: 'bench', ...options,
  } as never, context)) as OutputInstance;
  await out.start?.();
  const start = process.hrtime.bigint();
  for (const b of batches) await out.write(b);
  const secs = secondsSince(start);
  await out.close?.();
  (base.timers as ComponentTimers).cancelAll();
  return secs;
}

async function sqlitePlain(file: string, rows: unknown[][][]): Promise<number> {
  await new SqliteEngine({ file, synchronous: 'full', busyTimeout: 100 }).open().then(() => undefined); // the same tables
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const cols = TABLES.events.columns.map((c) => c.name);
  const stmt = db.prepare(`INSERT INTO events (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`);
  const insert = db.transaction((batch: unknown[][]) => { for (const r of batch) stmt.run(r); });
  const start = process.hrtime.bigint();
  for (const batch of rows) insert.immediate(batch);
  const secs = secondsSince(start);
  db.close();
  return secs;
}

async function copyBatch(client: pg.PoolClient, batch: unknown[][], table = 'events'): Promise<void> {
  const text = copyText(TABLES.events, batch.map((values) => ({ values })));
  const stream = client.query(copyFrom(`COPY ${table} (${TABLES.events.columns.map((c) => c.name).join(', ')}) FROM STDIN`));
  await pipeline(async function* () { yield text; }, stream as unknown as Writable);
}

const PG_TYPE = { text: 'text', int: 'bigint', real: 'float8', time: 'timestamptz', json: 'jsonb' } as const;

/** Each batch in one transaction: COPY'd into events (`copy`, the plain loop); COPY'd into a staging table and
 * upserted from it (`staging`, what the engine does); or upserted with one INSERT ... SELECT FROM unnest (`unnest`). */
async function postgresLoop(url: string, rows: unknown[][][], how: 'copy' | 'staging' | 'unnest'): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const client = await pool.connect();
  const t = TABLES.events;
  const { columns, conflict } = upsertClauses(t);
  if (how === 'staging') await client.query('CREATE TEMP TABLE stage_events (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS');
  const unnest = `INSERT INTO events (${columns}) SELECT * FROM unnest(${t.columns.map((c, i) => `$${i + 1}::${PG_TYPE[c.type]}[]`).join(', ')}) ${conflict}`;
  const start = process.hrtime.bigint();
  for (const batch of rows) {
    await client.query('BEGIN');
    if (how === 'copy') await copyBatch(client, batch);
    else if (how === 'staging') {
      await copyBatch(client, batch, 'stage_events');
      await client.query(`INSERT INTO events (${columns}) SELECT ${columns} FROM stage_events ${conflict}`);
    } else await client.query(unnest, t.columns.map((c, i) => batch.map((r) => (c.type === 'time' ? new Date(r[i] as number).toISOString() : r[i]))));
    await client.query('COMMIT');
  }
  const secs = secondsSince(start);
  client.release();
  await pool.end();
  return secs;
}

export async function benchStore(total = Number(process.env.BENCH_STORE_EVENTS ?? 200_000)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-store-'));
  const out: string[] = [];
  try {
    const batches = await parsedBatches(total);
    const rows = rowValues(batches);
    const rate = (secs: number) => total / secs;
    // Best of two runs each: the machine is shared and noisy.
    const best = async (f: (round: number) => Promise<number>) => Math.min(await f(0), await f(1));

    const mapStart = process.hrtime.bigint();
    rowValues(batches);
    const mapSecs = secondsSince(mapStart);
    const sqlPlain = await best((r) => sqlitePlain(path.join(dir, `plain-${r}.db`), rows));
    const sqlStore = await best((r) => viaOutput({ engine: 'sqlite', path: path.join(dir, `store-${r}.db`) }, dir, batches));
    out.push(
      `store output, ${fmt(total)} parsed access events (events: true, batches of ${BATCH}, one transaction each):`,
      `  SQLite, plain prepared INSERT loop (better-sqlite3): ${fmt(rate(sqlPlain)).padStart(9)} rows/s`,
      `  mapping alone (identity hash, typed columns, JSON extra): ${fmt(total / mapSecs)} events/s`,
      `  SQLite, store output (map + identity + upsert):     ${fmt(rate(sqlStore)).padStart(9)} rows/s, ${(sqlPlain / sqlStore).toFixed(2)}x of the plain loop`,
    );

    const missing = postgresMissing();
    if (missing) {
      out.push(`  PostgreSQL: skipped (${missing})`);
      return out;
    }
    const server = await PostgresServer.start();
    try {
      let n = 0;
      const db = () => server.createDatabase(`bench_${++n}`);
      // Each measurement on a fresh database whose schema the store created.
      const fresh = async () => {
        const url = await db();
        const base = pluginContext('db', 'store', new MetricsHub(), 'output');
        const o = (await storePlugin.create({ engine: 'postgres', url, timeout: 30_000, events: true, event_exclude: [], position_field: 'position', kafka_field: 'kafka', batch_size: BATCH, batch_timeout: 0, synchronous: 'full', busy_timeout: 100 } as never, { ...base, dataDir: async () => dir })) as OutputInstance;
        await o.start?.();
        await o.write(batches[0].slice(0, 1)); // creates the day's partition, like the first batch of a day
        await o.close?.();
        (base.timers as ComponentTimers).cancelAll();
        await server.psql('TRUNCATE events', url.slice(url.lastIndexOf('/') + 1));
        return url;
      };
      const pgPlain = await best(async () => postgresLoop(await fresh(), rows, 'copy'));
      const pgStaging = await best(async () => postgresLoop(await fresh(), rows, 'staging'));
      const pgUnnest = await best(async () => postgresLoop(await fresh(), rows, 'unnest'));
      const pgStore = await best(async () => viaOutput({ engine: 'postgres', url: await fresh() }, dir, batches));
      out.push(
        `  PostgreSQL, plain COPY of each batch (pg-copy-streams): ${fmt(rate(pgPlain)).padStart(9)} rows/s`,
        `  PostgreSQL, same rows, COPY to staging + INSERT ON CONFLICT (the engine's upsert): ${fmt(rate(pgStaging)).padStart(9)} rows/s`,
        `  PostgreSQL, same rows, INSERT ... SELECT FROM unnest ON CONFLICT (the alternative): ${fmt(rate(pgUnnest)).padStart(9)} rows/s`,
        `  PostgreSQL, store output (map + identity + the engine's upsert): ${fmt(rate(pgStore)).padStart(9)} rows/s, ${(pgPlain / pgStore).toFixed(2)}x of the plain COPY`,
      );
    } finally {
      await server.destroy();
    }
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// Run alone: `npx tsx test/bench/store.ts`
if (process.argv[1] && path.resolve(process.argv[1]).replace(/\.[jt]s$/, '') === path.resolve(new URL(import.meta.url).pathname).replace(/\.[jt]s$/, '')) {
  for (const line of await benchStore()) console.log(line);
}
