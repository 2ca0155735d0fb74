// `visor query`: events of a store matching a condition of the expression language (translated by filter-sql.ts,
// values bound, never pasted), window rows of an aggregate, or a read-only SQL statement; in a time range. The
// engine is opened read-only and the rows come back with times as ISO text and JSON columns parsed.
import { parseCondition } from '../../core/index.js';
import type { StoreEngine } from './engine.js';
import { FilterCompiler, sqliteParams } from './filter-sql.js';
import { TABLES, type TableName } from './schema.js';

export interface QueryRequest {
  /** Epoch ms, inclusive / exclusive; on the event time (events) or the window start (windows). */
  since?: number;
  until?: number;
  /** A condition on events (the `where` language). */
  expression?: string;
  /** List the window rows of this aggregate instead of events. */
  windows?: string;
  /** With windows: only this resolution (e.g. 1m). */
  resolution?: string;
  /** A read-only SQL statement, run as it is. */
  sql?: string;
  limit: number;
}

export interface QueryResult {
  columns: string[];
  rows: Record<string, unknown>[];
}

const EVENT_COLUMNS = TABLES.events.columns.map((c) => c.name);
const WINDOW_COLUMNS = ['agent', 'aggregate', 'resolution', 'window_start', 'window_end', 'group_values', 'count', 'metrics'];

export async function runQuery(engine: StoreEngine, req: QueryRequest): Promise<QueryResult> {
  if (req.sql !== undefined) {
    const rows = (await engine.query(req.sql)).slice(0, req.limit).map(plain);
    return { columns: rows.length ? Object.keys(rows[0]) : [], rows };
  }
  const pg = engine.dialect === 'postgres';
  const where: string[] = [];
  const params: unknown[] = [];
  const bind = (v: unknown, cast = '') => {
    params.push(v);
    return pg ? `$${params.length}${cast}` : `@p${params.length}`;
  };
  const time = (ms: number) => (pg ? bind(new Date(ms).toISOString(), '::timestamptz') : bind(ms));
  const table: TableName = req.windows !== undefined ? 'windows' : 'events';
  const timeColumn = table === 'windows' ? 'window_start' : 'time';
  if (table === 'windows') {
    where.push(`aggregate = ${bind(req.windows, '::text')}`);
    if (req.resolution !== undefined) where.push(`resolution = ${bind(req.resolution, '::text')}`);
  }
  if (req.since !== undefined) where.push(`${timeColumn} >= ${time(req.since)}`);
  if (req.until !== undefined) where.push(`${timeColumn} < ${time(req.until)}`);
  if (req.expression !== undefined && req.expression.trim() !== '') {
    const filter = FilterCompiler.compile(parseCondition(req.expression), engine.dialect, params.length);
    where.push(filter.sql);
    params.push(...filter.params);
  }
  const columns = table === 'windows' ? WINDOW_COLUMNS : EVENT_COLUMNS;
  const order = table === 'windows' ? 'window_start, resolution, group_key, agent' : 'time, id';
  const sql = `SELECT ${columns.join(', ')} FROM ${table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${bind(req.limit, '::bigint')}`;
  const rows = (await engine.query(sql, pg ? params : sqliteParams(params))).map((r) => typed(table, r));
  return { columns, rows };
}

/** A stored row as people read it: times as ISO text, numbers as numbers, JSON parsed. */
function typed(table: TableName, row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of TABLES[table].columns) {
    if (!(c.name in row)) continue;
    const v = row[c.name];
    if (v === null || v === undefined) out[c.name] = null;
    else if (c.type === 'time') out[c.name] = new Date(v instanceof Date ? v.getTime() : Number(v)).toISOString();
    else if (c.type === 'int' || c.type === 'real') out[c.name] = Number(v);
    else if (c.type === 'json') out[c.name] = typeof v === 'string' ? JSON.parse(v) : v;
    else out[c.name] = v;
  }
  return out;
}

/** A row of arbitrary SQL: dates as ISO text, big integers as numbers when exact, bytes as hex. */
function plain(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) {
    out[k] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : String(v)) : Buffer.isBuffer(v) ? v.toString('hex') : v;
  }
  return out;
}
