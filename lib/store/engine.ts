// The small interface between the store's one code path (row mapping, identity keys, dead letters) and a
// database. An engine owns the dialect: connecting, applying migrations, the SQL of an upsert, and telling a row
// the database refuses for good (a constraint or type error: retrying cannot fix it) from a failure of the
// database itself (unreachable, locked, disk full: retrying can).
import type { Event } from '../../core/index.js';
import type { Table } from './schema.js';

/** One row: its values in the order of `table.columns` (time as epoch ms, json as JSON text), and the event it
 * was made from (what the dead-letter file keeps when the database refuses the row). */
export interface Row {
  values: unknown[];
  event: Event;
}

export interface TableRows {
  table: Table;
  rows: Row[];
}

/** A row with its identity (the key's values as one string). */
export interface KeyedRow extends Row {
  key: string;
}

/** Raw events to write as rows of `table`, each mapped by `row` when the engine writes it, so that the engine holds a
 * few mapped rows at a time instead of the whole batch's (SQLite one, as it upserts them; PostgreSQL a chunk, as its
 * COPY streams). A batch takes longer to map and write than the pipeline takes to fill the young generation, so rows
 * mapped first outlived a scavenge and were copied to the old generation. Measured (tail -> apache_access -> store,
 * 100k lines, each run a fresh process as the agent's, --trace-gc-nvp): SQLite, load 4-6, promoted 158-162 MB against
 * 108-258 MB with the batch mapped first, CPU 16.9-20.4 against 17.9-26.0 µs per event; PostgreSQL, load 8-9.5,
 * promoted 81-84 MB against 217 MB, CPU 14.5-14.8 against 19.6-20.1 µs per event (postgres.ts, copyEvents). `row` is
 * deterministic: an engine may map an event more than once (a batch written again). */
export interface EventRows {
  table: Table;
  events: Event[];
  row: (e: Event) => KeyedRow;
  /** The time column of `row(e)` without mapping the event (PostgreSQL names the day partitions a batch needs before
   * it streams the rows). */
  time: (e: Event) => number;
}

/** One row per identity, the last of each (what upserting them one after the other leaves), in the order of their
 * last occurrences. */
export function lastPerKey<R extends KeyedRow>(rows: Iterable<R>): R[] {
  const byKey = new Map<string, R>();
  for (const r of rows) {
    byKey.delete(r.key); // re-inserted: keeps the order of last occurrences
    byKey.set(r.key, r);
  }
  return [...byKey.values()];
}

/** The rows of `events`, all mapped, one per identity (for an engine that writes a table's rows in one statement). */
export function eventRows(events: EventRows): TableRows {
  return { table: events.table, rows: lastPerKey(events.events.map(events.row)) };
}

export interface RejectedRow {
  table: string;
  event: Event;
  error: string;
}

export interface StoreEngine {
  readonly dialect: 'sqlite' | 'postgres';
  /** Where the data goes, without credentials (for health, logs and errors). */
  readonly location: string;
  /** Connect and apply the migrations not applied yet; resolves with the schema version. Safe to call again after a
   * failure. Rejects with a PermanentError when the database holds a newer schema than this Visor knows. */
  open(): Promise<number>;
  /** Upserts every row in one transaction and resolves after it committed: the tables of `batch` in their order (one
   * row per identity each), then `events` (where two events have one identity, the last one's row is what stays).
   * Rows the database refuses for good are left out of it and returned; the others are committed. Rejects (nothing
   * committed) when the database fails. */
  write(batch: TableRows[], events?: EventRows): Promise<RejectedRow[]>;
  /** A read-only query with bound parameters ($1, $2 ... in PostgreSQL, ? in SQLite). */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Deletes at most `limit` rows older than `before` (epoch ms) in one short statement and resolves with how many:
   * window rows of one resolution whose window ended before it, or events whose time is before it (PostgreSQL first
   * drops the day partitions of events that are wholly before it). */
  expire(target: ExpireTarget, before: number, limit: number): Promise<number>;
  close(): Promise<void>;
}

export type ExpireTarget = { table: 'events' } | { table: 'windows'; resolution: string };

/** What a database's error code means for whoever reads /health or the log, when its message alone does not say
 * it (SQLite's "database is locked" does not say by whom; "database or disk is full" not which). */
const HINTS: Array<[RegExp, string]> = [
  [/^SQLITE_BUSY/, 'another connection or process holds a lock on the database file'],
  [/^SQLITE_LOCKED/, 'locked: a table is in use by another statement'],
  [/^SQLITE_FULL$/, 'disk full (or the database reached its max_page_count)'],
  [/^SQLITE_IOERR/, 'I/O error on the database file or its WAL'],
  [/^SQLITE_READONLY/, 'the database file or its directory is read-only'],
  [/^SQLITE_CANTOPEN$/, 'cannot open the database file (its directory or permissions)'],
  [/^53100$/, 'disk full on the PostgreSQL server'],
  [/^53/, 'the PostgreSQL server is out of resources'],
  [/^57P0/, 'the PostgreSQL server is shutting down or restarting'],
  [/^08/, 'the connection to PostgreSQL failed'],
  [/^(40001|40P01)$/, 'serialization failure or deadlock with another transaction'],
  [/^28/, 'PostgreSQL refused the credentials'],
  [/^ECONNREFUSED$/, 'nothing listens at that address (is the server up?)'],
  [/^(SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|CERT_HAS_EXPIRED|ERR_TLS_CERT_ALTNAME_INVALID)$/, 'the server\'s TLS certificate does not verify (check tls.ca and tls.servername)'],
];

/** The text of an error, with the database's code and what it means when the message does not say it. */
export function describeError(err: unknown): string {
  const e = err as { message?: string; code?: unknown };
  const msg = e?.message || String(err);
  const code = typeof e?.code === 'string' ? e.code : '';
  if (!code) return msg;
  const hint = HINTS.find(([re]) => re.test(code))?.[1];
  const tag = hint ? `${code}: ${hint}` : code;
  return msg.includes(code) && !hint ? msg : `${msg} (${tag})`;
}

/** Whether the database refused this one row for good (retrying cannot fix it: it goes to the dead-letter file),
 * rather than failing itself (unreachable, locked, disk full, I/O, shutting down, a deadlock: retried whole).
 * SQLite: a constraint (NOT NULL, CHECK, a value of the wrong type in a STRICT table), too big, a value the driver
 * cannot bind. PostgreSQL (SQLSTATE classes): 21 cardinality, 22 data exception (invalid input, out of range, a NUL
 * character in text), 23 integrity constraint, 54 program limit (a value too large), 42804 datatype mismatch;
 * every other class (08 connection, 40 serialization/deadlock, 53 insufficient resources, 57 operator intervention,
 * 28 authorization, XX internal ...) is the database's. */
export function refusesRow(dialect: StoreEngine['dialect'], err: unknown): boolean {
  const code = String((err as { code?: unknown })?.code ?? '');
  if (dialect === 'sqlite') {
    if (err instanceof TypeError || err instanceof RangeError) return true;
    return code.startsWith('SQLITE_CONSTRAINT') || code === 'SQLITE_MISMATCH' || code === 'SQLITE_TOOBIG';
  }
  return /^(21|22|23|54)[0-9A-Z]{3}$/.test(code) || code === '42804';
}

/** The column list and conflict clause of an upsert into `table`, shared by both dialects (both speak
 * `ON CONFLICT (...) DO UPDATE SET c = excluded.c ... WHERE`, and `IS DISTINCT FROM`: SQLite since 3.39). */
export function upsertClauses(table: Table): { columns: string; conflict: string } {
  const columns = table.columns.map((c) => c.name).join(', ');
  const rest = table.columns.filter((c) => !table.key.includes(c.name));
  const conditions: string[] = [];
  if (table.unlessSmaller) conditions.push(`coalesce(excluded.${table.unlessSmaller}, 0) >= coalesce(${table.name}.${table.unlessSmaller}, 0)`);
  if (table.touched) {
    const data = rest.filter((c) => c.name !== table.touched).map((c) => `excluded.${c.name} IS DISTINCT FROM ${table.name}.${c.name}`);
    conditions.push(`(${data.join(' OR ')})`);
  }
  const conflict = table.onConflict === 'ignore' || rest.length === 0
    ? `ON CONFLICT (${table.key.join(', ')}) DO NOTHING`
    : `ON CONFLICT (${table.key.join(', ')}) DO UPDATE SET ${rest.map((c) => `${c.name} = excluded.${c.name}`).join(', ')}` +
      (conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '');
  return { columns, conflict };
}
