// The SQLite engine (better-sqlite3, pinned to 12: 13 needs Node 22). One file in WAL mode, so that readers
// (sqlite3, Grafana, `visor query` later) never block the writer nor see half a batch. better-sqlite3 is
// synchronous: a batch runs on the event loop, which is why busy_timeout is short (a lock held elsewhere makes the
// write fail fast and the core retry with backoff, instead of freezing the agent while it waits).
// The writes stay on the main thread. Measured (test/bench/store.ts): a batch here runs at the speed of a plain
// prepared-INSERT loop over the same rows (0.8-1.2x, noise); what the pipeline adds per event is tail + parse
// (1.3-2.8 µs) and the mapping (2.9-6.7 µs) against 13.5-25 µs per inserted row. A writer thread, with the core
// handing the output the next batch while this one commits, was built and measured (README, store benchmark): it
// did overlap the mapping with the insert, but no faster end to end. The thread became the bottleneck, doing the
// same inserts plus the structured clone of every row, on 2 cores shared with the main thread.
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { PermanentError } from '../../core/index.js';
import { describeError, refusesRow, upsertClauses, type EventRows, type ExpireTarget, type RejectedRow, type Row, type StoreEngine, type TableRows } from './engine.js';
import { MIGRATIONS, SCHEMA_VERSION, type Table } from './schema.js';

export interface SqliteOptions {
  file: string;
  /** full: each commit is fsync'd before write() resolves (survives a power loss); normal: survives a crash of
   * the agent, and a power loss may lose the last commits. */
  synchronous: 'full' | 'normal';
  /** How long a write waits for a lock another process holds before it fails (and is retried), ms. */
  busyTimeout: number;
  /** Read only (`visor query`): the file must exist, nothing is migrated, and query() refuses statements that write. */
  readOnly?: boolean;
}

/** visor_match(source, flags, value): the expression language's `=~` (a JavaScript regex) for queries translated
 * from it (filter-sql.ts); 1 or 0, NULL when the value is neither a string nor a number. */
function registerMatch(db: Database.Database): void {
  const cache = new Map<string, RegExp>();
  db.function('visor_match', { deterministic: true }, (source: unknown, flags: unknown, value: unknown) => {
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint') return null;
    const key = `${String(flags)}/${String(source)}`;
    let re = cache.get(key);
    if (!re) cache.set(key, (re = new RegExp(String(source), String(flags))));
    return re.test(String(value)) ? 1 : 0;
  });
}

/** Refusals of one row (engine.ts says which codes). Everything else (busy, locked, full, I/O, read-only) is the database's. */
const rowRefused = (err: unknown) => refusesRow('sqlite', err);

export class SqliteEngine implements StoreEngine {
  readonly dialect = 'sqlite' as const;
  readonly location: string;
  private db: Database.Database | undefined;
  private readonly statements = new Map<string, Database.Statement>();

  constructor(private readonly options: SqliteOptions) {
    this.location = options.file;
  }

  async open(): Promise<number> {
    if (this.db) return SCHEMA_VERSION;
    // Loaded on first use: the CLI imports every plugin at start, and most runs have no store.
    const { default: Sqlite } = await import('better-sqlite3');
    if (this.options.readOnly) return this.openReadOnly(Sqlite);
    mkdirSync(path.dirname(this.options.file), { recursive: true });
    return this.adopt(new Sqlite(this.options.file, { timeout: this.options.busyTimeout }), (db) => {
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${this.options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`);
      this.migrate(db);
    });
  }

  private openReadOnly(Sqlite: typeof Database): number {
    if (!existsSync(this.options.file)) throw new PermanentError(`${this.location} does not exist (has the agent with this store run?)`);
    return this.adopt(new Sqlite(this.options.file, { readonly: true, fileMustExist: true, timeout: this.options.busyTimeout }), (db) => {
      const current = this.schemaVersion(db);
      if (current < SCHEMA_VERSION) throw new PermanentError(`${this.location} has schema version ${current}: start the agent of this store once to migrate it to ${SCHEMA_VERSION}`);
    });
  }

  /** Prepares a freshly opened connection (`setup`, then the REGEXP function) and keeps it; closed if that fails. */
  private adopt(db: Database.Database, setup: (db: Database.Database) => void): number {
    try {
      setup(db);
      registerMatch(db);
    } catch (err) {
      db.close();
      throw err;
    }
    this.db = db;
    return SCHEMA_VERSION;
  }

  /** The database's schema version (0 for none); refuses one newer than this Visor knows. */
  private schemaVersion(db: Database.Database): number {
    const current = (db.prepare('SELECT max(version) AS v FROM schema_version').get() as { v: number | null }).v ?? 0;
    if (current > SCHEMA_VERSION) throw new PermanentError(`${this.location} has schema version ${current}, newer than this Visor knows (${SCHEMA_VERSION}): upgrade Visor`);
    return current;
  }

  private migrate(db: Database.Database): void {
    // IMMEDIATE: two agents starting on one file apply each migration once.
    db.transaction(() => {
      db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at INTEGER NOT NULL) STRICT');
      const current = this.schemaVersion(db);
      for (const m of MIGRATIONS) {
        if (m.version <= current) continue;
        for (const sql of m.sqlite) db.exec(sql);
        db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(m.version, m.description, Date.now());
      }
    }).immediate();
  }

  private statement(table: Table): Database.Statement {
    let s = this.statements.get(table.name);
    if (!s) {
      const { columns, conflict } = upsertClauses(table);
      s = this.db!.prepare(`INSERT INTO ${table.name} (${columns}) VALUES (${table.columns.map(() => '?').join(', ')}) ${conflict}`);
      this.statements.set(table.name, s);
    }
    return s;
  }

  async write(batch: TableRows[], events?: EventRows): Promise<RejectedRow[]> {
    await this.open();
    const db = this.db!;
    const rejected: RejectedRow[] = [];
    // A statement that fails inside a transaction is undone alone (SQLite's statement atomicity), so a refused row
    // is left out while the rest of the batch commits. A failure of the database itself propagates: rollback.
    const upsert = (stmt: Database.Statement, table: Table, row: Row) => {
      try {
        stmt.run(row.values);
      } catch (err) {
        if (!rowRefused(err)) throw err;
        rejected.push({ table: table.name, event: row.event, error: describeError(err) });
      }
    };
    db.transaction(() => {
      for (const { table, rows } of batch) {
        const stmt = this.statement(table);
        for (const row of rows) upsert(stmt, table, row);
      }
      // Each event mapped just before its upsert (EventRows says why); upserted in order, the last of two events
      // with one identity is the row that stays.
      if (events) {
        const stmt = this.statement(events.table);
        for (const e of events.events) upsert(stmt, events.table, events.row(e));
      }
    }).immediate();
    return rejected;
  }

  async query(sql: string, params: unknown[] = []): Promise<Record<string, unknown>[]> {
    await this.open();
    const stmt = this.db!.prepare(sql);
    if (!stmt.readonly) throw new PermanentError(`not a read-only statement: ${sql.trim().split(/\s+/)[0]} (only statements that read are run)`);
    if (!stmt.reader) throw new PermanentError('the statement returns no rows');
    return stmt.all(...params) as Record<string, unknown>[];
  }

  async expire(target: ExpireTarget, before: number, limit: number): Promise<number> {
    await this.open();
    // One autocommitted statement: a short write lock, so that the agent's batches interleave with the deletion.
    const sql = target.table === 'events'
      ? 'DELETE FROM events WHERE rowid IN (SELECT rowid FROM events WHERE time < ? LIMIT ?)'
      : 'DELETE FROM windows WHERE rowid IN (SELECT rowid FROM windows WHERE resolution = ? AND window_end < ? LIMIT ?)';
    const params = target.table === 'events' ? [before, limit] : [target.resolution, before, limit];
    return this.db!.prepare(sql).run(...params).changes;
  }

  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    this.statements.clear();
    db?.close();
  }
}
