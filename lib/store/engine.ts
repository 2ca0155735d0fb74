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
  /** Upserts every row in one transaction and resolves after it committed. Rows the database refuses for good are
   * left out of it and returned; the others are committed. Rejects (nothing committed) when the database fails. */
  write(batch: TableRows[]): Promise<RejectedRow[]>;
  /** A read-only query with bound parameters ($1, $2 ... in PostgreSQL, ? in SQLite). */
  query(sql: string, params?: unknown[]): Promise<Record<string, unknown>[]>;
  /** Deletes at most `limit` rows older than `before` (epoch ms) in one short statement and resolves with how many:
   * window rows of one resolution whose window ended before it, or events whose time is before it (PostgreSQL first
   * drops the day partitions of events that are wholly before it). */
  expire(target: ExpireTarget, before: number, limit: number): Promise<number>;
  close(): Promise<void>;
}

export type ExpireTarget = { table: 'events' } | { table: 'windows'; resolution: string };

/** The text of an error, with the database's code when it has one. */
export function describeError(err: unknown): string {
  const e = err as { message?: string; code?: string };
  const msg = e?.message ?? String(err);
  return e?.code && !msg.includes(e.code) ? `${msg} (${e.code})` : msg;
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
