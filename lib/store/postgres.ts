// The PostgreSQL engine (node-postgres). A batch is one transaction: per table, its rows are COPY'd (pg-copy-streams)
// into a session-local staging table, then upserted from it with one INSERT ... SELECT ... ON CONFLICT; events, new
// rows but during a replay, are COPY'd straight into their table first (see write). Measured in one run of
// test/bench/store.ts (which then also timed this alternative) against one INSERT ... SELECT FROM unnest(column
// arrays) per table: COPY was about 1.5x faster (array literals cost more to build and to parse than COPY's text).
// When the database refuses a row (a type or constraint error aborts the whole statement), the transaction is rolled
// back and the batch written again row by row, each under a savepoint: refused rows are left out and returned, the
// others commit together.
// `events` is partitioned by UTC day; a day's partition is created (in its own statement, before the batch's
// transaction) the first time a row of that day is written.
import { pipeline } from 'node:stream/promises';
import type { ConnectionOptions } from 'node:tls';
import type { Pool, PoolClient } from 'pg';
import { PermanentError } from '../../core/index.js';
import { copyText } from './copy.js';
import { describeError, eventRows, refusesRow, upsertClauses, type EventRows, type ExpireTarget, type RejectedRow, type StoreEngine, type TableRows } from './engine.js';
import { eventPartition, MIGRATIONS, SCHEMA_VERSION, TABLES, type ColumnType, type Table } from './schema.js';

export interface PostgresOptions {
  /** A connection URL (postgres://user:password@host:port/db?...) or a libpq key=value string. */
  url: string;
  ssl?: ConnectionOptions;
  /** Longest a connection attempt or a statement may take, ms: a server that hangs fails the write, which is retried. */
  timeout: number;
  /** Read only (`visor query`): nothing is migrated, and every session's transactions are read-only. */
  readOnly?: boolean;
}

const PG_TYPE: Record<ColumnType, string> = { text: 'text', int: 'bigint', real: 'float8', time: 'timestamptz', json: 'jsonb' };
/** Advisory lock key taken while migrating, so that agents starting together apply each migration once. */
const MIGRATION_LOCK = 7_305_700_001;

const INT8_OID = 20;
const UNIQUE_VIOLATION = '23505';
const DAY = 86_400_000;
/** Rows per COPY chunk (see copyEvents). */
const CHUNK = 250;
const int8 = (v: string) => (Number.isSafeInteger(Number(v)) ? Number(v) : v);

const sqlstate = (err: unknown) => String((err as { code?: unknown })?.code ?? '');
/** A row's own fault (engine.ts says which SQLSTATEs): the rest of its batch commits without it. */
const rowFault = (err: unknown) => refusesRow('postgres', err);

/** The URL without its password (for health and errors). */
function describeUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'postgresql (connection string)';
  }
}

/** A JavaScript value as node-postgres should send it for a column of this type. */
function wire(type: ColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (type === 'time' && typeof v === 'number') return new Date(v).toISOString();
  return v;
}

export class PostgresEngine implements StoreEngine {
  readonly dialect = 'postgres' as const;
  readonly location: string;
  private pool: Pool | undefined;
  private opened = false;
  /** Partitions of `events` known to exist. */
  private readonly partitions = new Set<string>();
  /** The last error of an idle connection (the server went away between batches). */
  lastIdleError: string | undefined;

  constructor(private readonly options: PostgresOptions) {
    this.location = describeUrl(options.url);
  }

  private async getPool(): Promise<Pool> {
    if (this.pool) return this.pool;
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({
      connectionString: this.options.url,
      ...(this.options.ssl ? { ssl: this.options.ssl } : {}),
      max: 2,
      connectionTimeoutMillis: this.options.timeout,
      query_timeout: this.options.timeout,
      statement_timeout: this.options.timeout,
      idleTimeoutMillis: 30_000,
      application_name: this.options.readOnly ? 'visor query' : 'visor',
      // A reader prints what it reads: bigint (count(*), the integer columns) as a number when it is exact.
      ...(this.options.readOnly ? { types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === INT8_OID ? int8 : pg.types.getTypeParser(oid, format as 'text')) } } : {}),
      // Even a COMMIT inside a query cannot leave a read-only transaction for a writing one.
      ...(this.options.readOnly ? { options: '-c default_transaction_read_only=on' } : {}),
    });
    // An idle connection that breaks is dropped by the pool; without a listener it would crash the process.
    pool.on('error', (err) => { this.lastIdleError = describeError(err); });
    this.pool = pool;
    return pool;
  }

  /** A pooled connection for `fn`; one that failed for the database's reasons is discarded, not reused. */
  private async withClient<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const client = await (await this.getPool()).connect();
    let broken: Error | undefined;
    // A connection that breaks while checked out (the server shut down) emits 'error' besides failing the query
    // in flight; unheard, that event would be an uncaught exception.
    const onError = (err: Error) => { broken = err; };
    client.on('error', onError);
    try {
      return await fn(client);
    } catch (err) {
      if (!rowFault(err)) broken ??= err as Error;
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async open(): Promise<number> {
    if (this.opened) return SCHEMA_VERSION;
    if (this.options.readOnly) {
      const rows = (await (await this.getPool()).query("SELECT CASE WHEN to_regclass('schema_version') IS NULL THEN 0 ELSE 1 END AS t")).rows;
      const current = rows[0].t ? Number((await this.pool!.query('SELECT coalesce(max(version), 0) AS v FROM schema_version')).rows[0].v) : 0;
      if (current !== SCHEMA_VERSION) {
        throw new PermanentError(`${this.location} has schema version ${current}, this Visor reads ${SCHEMA_VERSION}: ${current > SCHEMA_VERSION ? 'upgrade Visor' : 'start the agent of this store once to migrate it'}`);
      }
      this.opened = true;
      return SCHEMA_VERSION;
    }
    await this.withClient(async (c) => {
      await c.query('BEGIN');
      try {
        await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
        await c.query('CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, description text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
        const current = Number((await c.query('SELECT coalesce(max(version), 0) AS v FROM schema_version')).rows[0].v);
        if (current > SCHEMA_VERSION) {
          throw new PermanentError(`${this.location} has schema version ${current}, newer than this Visor knows (${SCHEMA_VERSION}): upgrade Visor`);
        }
        for (const m of MIGRATIONS) {
          if (m.version <= current) continue;
          for (const sql of m.postgres) await c.query(sql);
          await c.query('INSERT INTO schema_version (version, description) VALUES ($1, $2)', [m.version, m.description]);
        }
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
    });
    this.opened = true;
    return SCHEMA_VERSION;
  }

  async write(tables: TableRows[], events?: EventRows): Promise<RejectedRow[]> {
    await this.open();
    await this.ensurePartitions(tables, events);
    return this.withClient(async (c) => {
      // Events are new rows but during a replay: the first attempt COPYs them straight into events, and only a batch
      // that meets a stored row (a unique violation undoes the transaction; so does a batch holding one identity
      // twice) is written again with every table upserted from staging, its events mapped whole, one row per identity.
      // The result is the upsert's either way. Measured (test/bench/store.ts, 2000-row batches, inside the pipeline):
      // the staging COPY and its INSERT ... SELECT ... ON CONFLICT cost ~11 µs per row each; the direct COPY costs
      // what the plain COPY loop does (the engine alone on the same rows: 0.8-1.05x of it, noise). No savepoint
      // around the direct COPY: each statement is a round trip, and in the pipeline a round trip's answer waits for
      // the parse task running on the event loop (~1-3 ms per 1000 lines).
      // A batch of events alone is one COPY: a statement outside BEGIN is its own transaction, and the COPY ends
      // (pg-copy-streams' finish, on ReadyForQuery) after its commit.
      const rows = tables.filter((tr) => tr.rows.length);
      for (const direct of [true, false]) {
        const lone = direct && (events ? !rows.length : rows.length === 1 && rows[0].table === TABLES.events);
        try {
          await this.ensureStaging(c);
          if (!lone) await c.query('BEGIN');
          for (const tr of rows) await this.copyUpsert(c, tr, direct && tr.table === TABLES.events);
          if (events) {
            if (direct) await this.copyEvents(c, events);
            else await this.copyUpsert(c, eventRows(events), false);
          }
          if (!lone) await c.query('COMMIT');
          return [];
        } catch (err) {
          await c.query('ROLLBACK').catch(() => undefined);
          if (direct && sqlstate(err) === UNIQUE_VIOLATION) continue;
          if (!rowFault(err)) throw err;
          break;
        }
      }
      return this.writeRowByRow(c, events ? [...rows, eventRows(events)] : rows);
    });
  }

  /** COPYs `events` straight into their table, mapped and sent CHUNK rows at a time as the COPY streams. While the
   * server inserts a batch the event loop parses the next ones (the store's queue fills to its 10000 events), so what
   * the write holds through that wait is copied by every scavenge meanwhile: the batch's rows mapped whole first, and
   * their COPY text, were. Sent a chunk at a time they are garbage once sent, and the server inserts the first rows
   * while the rest are mapped. Measured (100k lines, fresh processes as the agent's, --trace-gc-nvp, load 8-13):
   * promoted 81-84 MB against 217 MB, this process's CPU 14.5-14.8 against 19.6-20.1 µs per event (3 alternating
   * pairs); chunks of 50 rows 73-77 MB and 14.5-14.8 µs, of 1000 94-97 MB and 16.4-17.3 µs, the whole batch as one
   * 159-173 MB and 20.2-20.6 µs. */
  private async copyEvents(c: PoolClient, { table, events, row }: EventRows): Promise<void> {
    const { columns } = upsertClauses(table);
    async function* chunks() {
      for (let i = 0; i < events.length; i += CHUNK) yield copyText(table, events.slice(i, i + CHUNK).map(row));
    }
    await pipeline(chunks, c.query(this.copyFrom!(`COPY ${table.name} (${columns}) FROM STDIN`)));
  }

  private async writeRowByRow(c: PoolClient, batch: TableRows[]): Promise<RejectedRow[]> {
    const rejected: RejectedRow[] = [];
    try {
      await c.query('BEGIN');
      for (const { table, rows } of batch) {
        const sql = this.rowSql(table);
        for (const row of rows) {
          await c.query('SAVEPOINT visor_row');
          try {
            await c.query(sql, row.values.map((v, i) => wire(table.columns[i].type, v)));
            await c.query('RELEASE SAVEPOINT visor_row');
          } catch (err) {
            if (!rowFault(err)) throw err;
            await c.query('ROLLBACK TO SAVEPOINT visor_row');
            rejected.push({ table: table.name, event: row.event, error: describeError(err) });
          }
        }
      }
      await c.query('COMMIT');
      return rejected;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }

  private readonly sqlCache = new Map<string, string>();

  /** Connections that have their staging tables (temporary tables live as long as the session). */
  private readonly staged = new WeakSet<PoolClient>();
  private copyFrom: typeof import('pg-copy-streams').from | undefined;

  /** One staging table per table, emptied at every commit; created outside a transaction (a rollback would drop it). */
  private async ensureStaging(c: PoolClient): Promise<void> {
    if (this.staged.has(c)) return;
    this.copyFrom ??= (await import('pg-copy-streams')).from;
    for (const t of Object.values(TABLES)) await c.query(`CREATE TEMP TABLE IF NOT EXISTS stage_${t.name} (LIKE ${t.name} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS`);
    this.staged.add(c);
  }

  /** `direct`: COPY into the table itself (new rows only: a stored one is a unique violation). */
  private async copyUpsert(c: PoolClient, { table, rows }: TableRows, direct: boolean): Promise<void> {
    const { columns, conflict } = upsertClauses(table);
    const text = copyText(table, rows);
    const into = direct ? table.name : `stage_${table.name}`;
    await pipeline(async function* () { yield text; }, c.query(this.copyFrom!(`COPY ${into} (${columns}) FROM STDIN`)));
    if (!direct) await c.query(`INSERT INTO ${table.name} (${columns}) SELECT ${columns} FROM stage_${table.name} ${conflict}`);
  }

  private rowSql(table: Table): string {
    const k = `row:${table.name}`;
    let sql = this.sqlCache.get(k);
    if (!sql) {
      const { columns, conflict } = upsertClauses(table);
      sql = `INSERT INTO ${table.name} (${columns}) VALUES (${table.columns.map((col, i) => `$${i + 1}::${PG_TYPE[col.type]}`).join(', ')}) ${conflict}`;
      this.sqlCache.set(k, sql);
    }
    return sql;
  }

  /** Creates the day partitions of the batch's events (mapped rows or raw) that this engine has not seen yet, each in
   * its own statement. */
  private async ensurePartitions(tables: TableRows[], events: EventRows | undefined): Promise<void> {
    // The distinct days first: naming a partition per row (Date, ISO strings) cost ~2.5 µs a row (measured).
    const days = new Set<number>();
    const timeAt = TABLES.events.columns.findIndex((c) => c.name === 'time');
    for (const tr of tables) if (tr.table === TABLES.events) for (const r of tr.rows) days.add(Math.floor((r.values[timeAt] as number) / DAY));
    if (events) for (const e of events.events) days.add(Math.floor(events.time(e) / DAY));
    const missing = new Map<string, ReturnType<typeof eventPartition>>();
    for (const day of days) {
      const p = eventPartition(day * DAY);
      if (!this.partitions.has(p.name)) missing.set(p.name, p);
    }
    if (!missing.size) return;
    const pool = await this.getPool();
    for (const p of missing.values()) {
      try {
        await pool.query(`CREATE TABLE IF NOT EXISTS ${p.name} PARTITION OF events FOR VALUES FROM ('${p.from}') TO ('${p.to}')`);
      } catch (err) {
        // Another agent created it at the same moment (IF NOT EXISTS does not cover the race).
        if (sqlstate(err) !== '42P07' && sqlstate(err) !== '23505') throw err;
      }
      this.partitions.add(p.name);
    }
  }

  async query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    await this.open();
    return this.withClient(async (c) => {
      await c.query('BEGIN READ ONLY');
      try {
        // The extended protocol: one statement only, so `SELECT 1; COMMIT; DELETE ...` is refused, not run.
        const extended = { text: sql, values: params, queryMode: 'extended' };
        return (await c.query(extended)).rows as Record<string, unknown>[];
      } finally {
        await c.query('ROLLBACK').catch(() => undefined);
      }
    });
  }

  async expire(target: ExpireTarget, before: number, limit: number): Promise<number> {
    await this.open();
    const pool = await this.getPool();
    const cutoff = new Date(before).toISOString();
    if (target.table === 'windows') {
      const r = await pool.query('DELETE FROM windows WHERE ctid IN (SELECT ctid FROM windows WHERE resolution = $1 AND window_end < $2 LIMIT $3)', [target.resolution, cutoff, limit]);
      return r.rowCount ?? 0;
    }
    // Days wholly before the cutoff go at once (a DROP of the partition, no row-by-row delete nor vacuum).
    let dropped = 0;
    const parts = await pool.query<{ name: string }>("SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'events'");
    for (const { name } of parts.rows) {
      const m = /^events_p(\d{4})(\d{2})(\d{2})$/.exec(name);
      if (!m || Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) + 86_400_000 > before) continue;
      dropped += Number((await pool.query(`SELECT count(*) AS n FROM ${name}`)).rows[0].n);
      await pool.query(`DROP TABLE IF EXISTS ${name}`);
      this.partitions.delete(name);
    }
    const r = await pool.query('DELETE FROM events WHERE (tableoid, ctid) IN (SELECT tableoid, ctid FROM events WHERE time < $1 LIMIT $2)', [cutoff, limit]);
    return dropped + (r.rowCount ?? 0);
  }

  async close(): Promise<void> {
    const pool = this.pool;
    this.pool = undefined;
    this.opened = false;
    await pool?.end();
  }
}
