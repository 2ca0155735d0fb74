// tail -> apache_access -> store (events: true) in-process, rows/s for SQLite and PostgreSQL, each beside, in the
// same run: (a) a plain loop inserting the same rows (read back from the store, so exactly what it wrote) through
// the same driver, in transactions of the store's default batch_size; (b) the same pipeline into blackhole. And the
// bytes on disk per million events: the SQLite file + its WAL; PostgreSQL's pg_total_relation_size (table + indexes
// + TOAST) summed over the partitions of events.
// The plain loops do the least a program must. SQLite: one prepared INSERT per row, one transaction per batch, the
// same pragmas as the store (WAL; synchronous FULL, the default, and NORMAL, each measured on both sides).
// PostgreSQL: one COPY per batch into events, its own transaction (what the engine does for new rows; a batch
// that meets a stored row is upserted from a staging table, measured on its own as the replay path).
import { mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import Database from 'better-sqlite3';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Event, FilterInstance } from '../../core/index.js';
import { copyText, PostgresEngine, RowMapper, SqliteEngine, TABLES, upsertClauses } from '../../lib/store/index.js';
import accessPlugin from '../../plugins/filters/apache_access.js';
import storePlugin from '../../plugins/outputs/store/index.js';
import { pluginContext } from '../support/corpora.js';
import { PostgresServer, postgresMissing } from '../support/postgres.js';
import { combinedLines } from './apache-lines.js';
import { buildPipeline } from './pipeline.js';

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const secondsSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e9;
/** The store's default transaction size (its batch_size), which the plain loops use too. */
const BATCH = (storePlugin.schema.properties as Record<string, { default?: unknown }>).batch_size.default as number;
const COLUMNS = TABLES.events.columns.map((c) => c.name);
const ROUNDS = Number(process.env.BENCH_STORE_ROUNDS ?? 3);

/** This process's CPU time (µs) in the last timed section, printed beside the wall time: on the shared 2-core machine
 * the load of other work stretches wall time (fsync waits, run queue) more than CPU time. PostgreSQL's own work is in
 * the server's processes, not here. */
let sectionCpu = 0;
const startSection = () => ({ at: process.hrtime.bigint(), cpu: process.cpuUsage() });
function endSection(s: ReturnType<typeof startSection>): number {
  const c = process.cpuUsage(s.cpu);
  sectionCpu = c.user + c.system;
  return secondsSince(s.at);
}

async function writeLog(file: string, count: number): Promise<void> {
  await writeFile(file, combinedLines(count, 17).join('\n') + '\n');
}

/** The whole pipeline, read_from beginning to EOF; seconds from start to the last acknowledgement. */
async function runPipeline(dir: string, log: string, output: string): Promise<{ secs: number; received: number }> {
  const yaml = [
    `service: { data_dir: ${JSON.stringify(dir)}, log_level: warn }`,
    'inputs:',
    `  logs: { type: tail, path: [${JSON.stringify(log)}], read_from: beginning, exit_on_eof: true, position_field: position }`,
    'filters:',
    '  access: { type: apache_access, inputs: [logs], format: combined }',
    'outputs:',
    `  sink: { inputs: [access], ${output} }`,
    '',
  ].join('\n');
  const { pipeline: p, metrics } = await buildPipeline(yaml, 'bench-store.yaml');
  const section = startSection();
  await p.start();
  await p.done();
  const secs = endSection(section);
  return { secs, received: metrics.snapshot().sink.received_events as number };
}

/** µs per event of the store's own work beside the driver's: mapping (identity hash, typed columns, JSON extra) of
 * events parsed from the same lines, with a tail position each, best of 3. */
async function mappingMicros(total: number): Promise<number> {
  const filter = (await accessPlugin.create({ field: 'message', format: 'combined', timezone: 'UTC' }, pluginContext('access', 'apache_access'))) as FilterInstance;
  const ctx = { emit: () => undefined, hold: () => { throw new Error('no hold'); } };
  let offset = 0;
  const events = filter.process(combinedLines(total, 17).map((message) => {
    const e: Event = { message, position: { file: '5f0c1e2d3a4b5c6d', offset } };
    offset += message.length + 1;
    return e;
  }), ctx) as Event[];
  const mapper = new RowMapper({ agent: 'bench', positionField: 'position', kafkaField: 'kafka', exclude: [] });
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const start = process.hrtime.bigint();
    for (const e of events) mapper.event(e);
    best = Math.min(best, secondsSince(start));
  }
  return (best * 1e6) / total;
}

async function sqliteBytes(file: string): Promise<number> {
  let bytes = 0;
  for (const f of [file, `${file}-wal`]) bytes += await stat(f).then((s) => s.size, () => 0);
  return bytes;
}

/** The rows the store wrote, in column order, in batches of BATCH. */
function storedRows(file: string): unknown[][][] {
  const db = new Database(file, { readonly: true });
  const rows = db.prepare(`SELECT ${COLUMNS.join(', ')} FROM events ORDER BY rowid`).raw().all() as unknown[][];
  db.close();
  const batches: unknown[][][] = [];
  for (let i = 0; i < rows.length; i += BATCH) batches.push(rows.slice(i, i + BATCH));
  return batches;
}

async function sqlitePlain(file: string, rows: unknown[][][], synchronous: 'full' | 'normal'): Promise<number> {
  const engine = new SqliteEngine({ file, synchronous, busyTimeout: 100 });
  await engine.open(); // the same tables and indexes
  await engine.close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous.toUpperCase()}`);
  const stmt = db.prepare(`INSERT INTO events (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map(() => '?').join(', ')})`);
  const insert = db.transaction((batch: unknown[][]) => { for (const r of batch) stmt.run(r); });
  const section = startSection();
  for (const batch of rows) insert.immediate(batch);
  const secs = endSection(section);
  db.close();
  return secs;
}

async function copyBatch(client: pg.PoolClient, batch: unknown[][], table: string): Promise<void> {
  const text = copyText(TABLES.events, batch.map((values) => ({ values })));
  const stream = client.query(copyFrom(`COPY ${table} (${COLUMNS.join(', ')}) FROM STDIN`));
  await pipeline(async function* () { yield text; }, stream as unknown as Writable);
}

/** Each batch in one transaction: COPY'd into events (`copy`, the plain loop: one COPY, outside BEGIN), or COPY'd into a staging table and
 * upserted from it with INSERT ... SELECT ... ON CONFLICT (`staging`, the engine's path for a batch that meets rows
 * already stored: a replay). */
async function postgresLoop(url: string, rows: unknown[][][], how: 'copy' | 'staging'): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  const client = await pool.connect();
  const { columns, conflict } = upsertClauses(TABLES.events);
  if (how === 'staging') await client.query('CREATE TEMP TABLE stage_events (LIKE events INCLUDING DEFAULTS) ON COMMIT DELETE ROWS');
  const section = startSection();
  for (const batch of rows) {
    if (how === 'copy') await copyBatch(client, batch, 'events'); // a lone statement: its own transaction
    else {
      await client.query('BEGIN');
      await copyBatch(client, batch, 'stage_events');
      await client.query(`INSERT INTO events (${columns}) SELECT ${columns} FROM stage_events ${conflict}`);
      await client.query('COMMIT');
    }
  }
  const secs = endSection(section);
  client.release();
  await pool.end();
  return secs;
}

export async function benchStore(total = Number(process.env.BENCH_STORE_EVENTS ?? 100_000)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-store-'));
  const out: string[] = [];
  let run = 0;
  const fresh = async () => { const d = path.join(dir, `run-${++run}`); await mkdir(d); return d; };
  try {
    const log = path.join(dir, 'access.log');
    await writeLog(log, total);
    const rate = (secs: number) => total / secs;
    const checked = (r: { secs: number; received: number }) => {
      if (r.received !== total) throw new Error(`pipeline delivered ${r.received} of ${total} events`);
      return r.secs;
    };
    /** ROUNDS rounds of (store, plain) back to back, since the machine is shared and its load drifts: the best of
     * each, and the ratio within each round (store rows/s over the plain loop's rows/s of the same round). */
    const paired = async (store: () => Promise<number>, plain: () => Promise<number>) => {
      const s: number[] = [];
      const p: number[] = [];
      const cpu = { store: [] as number[], plain: [] as number[] };
      for (let r = 0; r < ROUNDS; r++) {
        s.push(await store());
        cpu.store.push(sectionCpu / total);
        p.push(await plain());
        cpu.plain.push(sectionCpu / total);
      }
      const ratios = s.map((secs, r) => p[r] / secs).sort((a, b) => a - b);
      const range = (xs: number[]) => `${Math.min(...xs).toFixed(1)}-${Math.max(...xs).toFixed(1)}`;
      return { store: Math.min(...s), plain: Math.min(...p), ratios: ratios.map((x) => x.toFixed(2)).join(', '), cpu: `store ${range(cpu.store)}, plain loop ${range(cpu.plain)}` };
    };
    const blackholeRuns: number[] = [];
    for (let r = 0; r < ROUNDS; r++) blackholeRuns.push(checked(await runPipeline(await fresh(), log, 'type: blackhole')));
    const blackhole = Math.min(...blackholeRuns);
    out.push(
      `store output: tail -> apache_access -> store (events: true), ${fmt(total)} combined lines, in-process, default batch_size ${BATCH} and batch_timeout;`,
      `  each store figure beside a plain loop inserting the same rows through the same driver in transactions of ${BATCH}, ${ROUNDS} rounds of (store, plain):`,
      `  tail -> apache_access -> blackhole:                          ${fmt(rate(blackhole)).padStart(9)} events/s`,
    );
    const mapUs = await mappingMicros(total);
    out.push(
      `  per event on the store's side, beside the driver's work: tail + parse ${(1e6 / rate(blackhole)).toFixed(1)} µs (the blackhole pipeline), ` +
        `mapping ${mapUs.toFixed(1)} µs (identity hash, typed columns, JSON extra; alone, in memory)`,
    );
    const line = (label: string, m: { store: number; plain: number; ratios: string; cpu: string }, baseline: string) => [
      `    ${baseline.padEnd(56)} ${fmt(rate(m.plain)).padStart(9)} rows/s (${((m.plain * 1e6) / total).toFixed(1)} µs per row; 0.8x leaves ${((m.plain * 1e6) / total / 4).toFixed(1)} µs per event for the rest)`,
      `    ${label.padEnd(56)} ${fmt(rate(m.store)).padStart(9)} rows/s: ${(m.plain / m.store).toFixed(2)}x of the plain loop (per round ${m.ratios}), ${(blackhole / m.store).toFixed(2)}x of blackhole's events/s`,
      `    ${'this process\'s CPU per row, per round (µs):'.padEnd(56)} ${m.cpu}`,
    ];

    let sqliteFile = '';
    for (const synchronous of ['full', 'normal'] as const) {
      let bytes = 0;
      let rows: unknown[][][] = [];
      const m = await paired(async () => {
        const d = await fresh();
        const file = path.join(d, 'visor.db');
        const secs = checked(await runPipeline(d, log, `type: store, events: true, path: ${JSON.stringify(file)}, synchronous: ${synchronous}, agent: bench`));
        bytes = await sqliteBytes(file);
        if (!rows.length) {
          rows = storedRows(file);
          if (rows.reduce((n, b) => n + b.length, 0) !== total) throw new Error(`SQLite holds ${rows.flat().length} of ${total} events`);
          sqliteFile ||= file;
        }
        return secs;
      }, async () => sqlitePlain(path.join(await fresh(), 'plain.db'), rows, synchronous));
      out.push(
        `  SQLite (WAL, synchronous ${synchronous.toUpperCase()}${synchronous === 'full' ? ', the default' : ''}; the plain loop uses the same pragmas):`,
        ...line('tail -> apache_access -> store:', m, 'plain prepared INSERT loop (better-sqlite3):'),
        `    on disk: ${fmt((bytes * 1e6) / total)} bytes per million events (file + WAL after close)`,
      );
    }

    {
      // What the raw line costs on disk: it is kept in extra unless excluded (its parsed fields have columns).
      const d = await fresh();
      const file = path.join(d, 'visor.db');
      checked(await runPipeline(d, log, `type: store, events: true, path: ${JSON.stringify(file)}, agent: bench, event_exclude: [message]`));
      out.push(`  SQLite with event_exclude: [message]: ${fmt(((await sqliteBytes(file)) * 1e6) / total)} bytes per million events`);
    }

    const missing = postgresMissing();
    if (missing) {
      out.push(`  PostgreSQL: skipped (${missing})`);
      return out;
    }
    const rows = storedRows(sqliteFile);
    const server = await PostgresServer.start();
    try {
      let n = 0;
      // Each measurement on a fresh database whose schema (and the day's partition) the engine created.
      const database = async () => {
        const name = `bench_${++n}`;
        const url = await server.createDatabase(name);
        const engine = new PostgresEngine({ url, timeout: 30_000 });
        const [first] = rows[0];
        await engine.write([{ table: TABLES.events, rows: [{ values: first, event: {} }] }]);
        await engine.close();
        await server.psql('TRUNCATE events', name);
        return { url, name };
      };
      const relationBytes = (name: string) => server.psql("SELECT coalesce(sum(pg_total_relation_size(inhrelid)), 0) FROM pg_inherits WHERE inhparent = 'events'::regclass", name).then(Number);
      let bytes = 0;
      const m = await paired(async () => {
        const { url, name } = await database();
        const secs = checked(await runPipeline(await fresh(), log, `type: store, events: true, engine: postgres, url: ${JSON.stringify(url)}, agent: bench`));
        const count = Number(await server.psql('SELECT count(*) FROM events', name));
        if (count !== total) throw new Error(`PostgreSQL holds ${count} of ${total} events`);
        bytes = await relationBytes(name);
        return secs;
      }, async () => postgresLoop((await database()).url, rows, 'copy'));
      const staging = Math.min(await postgresLoop((await database()).url, rows, 'staging'), await postgresLoop((await database()).url, rows, 'staging'));
      out.push(
        '  PostgreSQL:',
        ...line('tail -> apache_access -> store:', m, 'plain COPY of each batch into events (pg-copy-streams):'),
        `    ${'the same rows, COPY to staging + INSERT ON CONFLICT:'.padEnd(56)} ${fmt(rate(staging)).padStart(9)} rows/s (the engine's path for a batch meeting stored rows: a replay)`,
        `    on disk: ${fmt((bytes * 1e6) / total)} bytes per million events (pg_total_relation_size over the partitions of events)`,
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
