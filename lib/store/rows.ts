// From events to rows: the values of each table's columns, and every row's identity taken from the data itself,
// so that the same data written twice (a replay after kill -9, a rotation, a consumer-group rebalance) lands on
// the same primary key and overwrites instead of adding a row:
// - window: agent + aggregate + resolution + window start + group;
// - alert: agent + rule + group (detect's: client and vhost) + state + first time (`since`);
// - report: agent + kind + name + interval start;
// - event: `id`, a hash of where the line came from: the tail position (content identity of the file + byte offset,
//   with the agent and the line), else the Kafka topic/partition/offset (no agent: after a rebalance another agent
//   reads the same message), else the agent, time and whole content (identical lines in the same millisecond are
//   then one row: give the tail input a position_field).
import { hash as digest } from 'node:crypto';
import { getField, splitFieldPath, type Event } from '../../core/index.js';
import type { KeyedRow } from './engine.js';
import { TABLES, type Table, type TableName } from './schema.js';

export interface RowOptions {
  agent: string;
  /** Field holding the tail input's position { file, offset } (its position_field). */
  positionField: string;
  /** Field holding the kafka input's { topic, partition, offset }. */
  kafkaField: string;
  /** Fields of events not kept in `extra`. */
  exclude: string[];
}

/** A row with its table and its identity (`key`: the primary key values as one string, to keep one row per key in a batch). */
export interface MappedRow extends KeyedRow {
  table: Table;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const json = (v: unknown) => JSON.stringify(v ?? null);
// One-shot crypto.hash: a quarter of the cost of createHash().update().digest() per event. The parts joined (one flat
// string): concatenating them instead saved ~0.1 µs of CPU alone but, in the pipeline, raised scavenge time from
// 2.6-4.1 to 5.1-8.0 µs per event (3 interleaved runs each).
const hash = (...parts: string[]) => digest('sha256', parts.join('\0'), 'hex').slice(0, 32);

/** 60000 -> '1m', 3600000 -> '1h', 90000 -> '90s', 1500 -> '1500ms': the largest unit the size is a whole number of. */
export function formatResolution(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/** A value for a text column: strings as they are, other scalars as text, objects as JSON. */
const text = (v: unknown): string | null => (v === undefined || v === null ? null : typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));
/** A value for a number column: numbers and strings go to the database as they are (it refuses what is not a
 * number of the column's type, and the row goes to the dead-letter file); booleans as 1/0; objects as JSON. */
const num = (v: unknown): unknown => (v === undefined || v === null ? null : typeof v === 'boolean' ? (v ? 1 : 0) : typeof v === 'object' ? JSON.stringify(v) : v);

export class RowMapper {
  private readonly positionPath: string[];
  private readonly kafkaPath: string[];
  /** Fields never kept in `extra`: those with a column of their own, the excluded ones and the position. */
  private readonly notExtra: Set<string>;

  constructor(private readonly options: RowOptions) {
    this.positionPath = splitFieldPath(options.positionField);
    this.kafkaPath = splitFieldPath(options.kafkaField);
    this.notExtra = new Set([...COLUMN_FIELDS, ...options.exclude]);
    if (this.positionPath.length === 1) this.notExtra.add(this.positionPath[0]);
  }

  private row(name: TableName, values: unknown[], event: Event): MappedRow {
    const table = TABLES[name];
    return { table, values, event, key: JSON.stringify(KEY_AT[name].map((i) => values[i])) };
  }

  /** The row of a window result (`_window` set by the window aggregate's state option), and the row recording
   * its aggregate's spec (needed to merge the sketches later). */
  window(e: Event, now: number): MappedRow[] {
    const meta = e._window as { aggregate: string; group_by?: unknown; size?: unknown; fingerprint?: unknown; spec?: unknown; state?: unknown };
    const groupFields = Array.isArray(meta.group_by) ? meta.group_by.filter((f): f is string => typeof f === 'string') : [];
    const start = e.window_start as number;
    const end = e.window_end as number;
    const size = isNumber(meta.size) ? meta.size : end - start;
    const values = groupFields.map((f) => e[f] ?? null);
    const metrics: Event = {};
    const skip = new Set(['window_start', 'window_end', 'count', '_window', ...groupFields]);
    for (const [k, v] of Object.entries(e)) if (!skip.has(k)) metrics[k] = v;
    const fingerprint = typeof meta.fingerprint === 'string' ? meta.fingerprint : null;
    const { agent } = this.options;
    const rows = [this.row('windows', [
      agent, meta.aggregate, formatResolution(size), start, end, JSON.stringify(values),
      json(Object.fromEntries(groupFields.map((f, i) => [f, values[i]]))), num(e.count), json(metrics),
      meta.state === undefined ? null : json(meta.state), fingerprint, now,
    ], e)];
    if (fingerprint && meta.spec !== undefined) rows.push(this.row('aggregates', [agent, meta.aggregate, fingerprint, json(meta.spec), now], e));
    return rows;
  }

  alert(e: Event): MappedRow {
    const since = e.since as number;
    // Whole milliseconds, as events' times: detect's alert on Apache 2.4 error-log lines starts at a time with
    // microseconds, which SQLite's STRICT INTEGER column refused (the alert went to rejected.jsonl).
    const first = Math.floor(since);
    return this.row('alerts', [
      this.options.agent, e.name, alertGroup(e), e.state, first, Math.floor(isNumber(e.time) ? e.time : since),
      num(e.count), text(e.severity), text(e.kind), text(e.message), isNumber(e.value) ? e.value : null, json(e),
    ], e);
  }

  report(e: Event, kind: 'report' | 'summary'): MappedRow {
    const report = kind === 'report';
    return this.row('reports', [
      this.options.agent, kind, report ? e.report : '', e.window_start, e.window_end,
      num(report ? e.requests : e.count), report ? num(e.errors) : null, json(e),
    ], e);
  }

  /** Where an event came from, and its id (see the top of this file). */
  identity(e: Event, time: number): { id: string; origin: string } {
    const { agent } = this.options;
    const pos = getField(e, this.positionPath);
    if (isObject(pos) && typeof pos.file === 'string' && isNumber(pos.offset)) {
      const origin = `tail:${pos.file}:${pos.offset}`;
      return { id: hash(agent, origin, text(e.message) ?? ''), origin };
    }
    const k = getField(e, this.kafkaPath);
    if (isObject(k) && typeof k.topic === 'string' && isNumber(k.partition) && isNumber(k.offset)) {
      const origin = `kafka:${k.topic}/${k.partition}@${k.offset}`;
      return { id: hash(origin), origin };
    }
    return { id: hash(agent, String(time), JSON.stringify(e)), origin: 'content' };
  }

  event(e: Event): MappedRow {
    const time = eventTime(e);
    const { id, origin } = this.identity(e, time);
    const vhostField = e.vhost !== undefined ? 'vhost' : 'server_name';
    const duration = DURATIONS.find(([f]) => isNumber(e[f]));
    // Everything that has no column of its own (and is not excluded) stays, as it is, in `extra`.
    const extra: Event = {};
    for (const k in e) {
      if (!Object.hasOwn(e, k) || this.notExtra.has(k)) continue;
      if ((k === 'timestamp' && time !== 0) || k === vhostField || (duration && k === duration[0])) continue;
      extra[k] = e[k];
    }
    // extra in the literal, not pushed after it: the push grew the array's store (~380 of the mapping's 2,170 bytes
    // allocated per event, measured).
    return new EventRow([
      id, time, this.options.agent, origin, text(e[vhostField]), text(e.client_ip), text(e.user),
      text(e.method), text(e.path), text(e.query), text(e.protocol), num(e.status), num(e.bytes),
      text(e.referer), text(e.user_agent), duration ? (duration[1] === 1 ? e[duration[0]] : Math.round((e[duration[0]] as number) * duration[1])) : null,
      text(e.level), text(e.file), json(extra),
    ], e);
  }
}

/** An event's row. Its key (id, time) without row(): an id is hex, so id + ' ' + time is as unique as the pair (a
 * generic key cost ~0.5 µs of the event's ~3 µs of mapping, measured), and made only when read: SQLite's upserts and
 * PostgreSQL's direct COPY never read it (only a batch upserted from staging does). */
class EventRow implements MappedRow {
  readonly table = TABLES.events;
  constructor(readonly values: unknown[], readonly event: Event) {}
  get key(): string {
    return `${this.values[0] as string} ${this.values[1] as number}`;
  }
}

/** The time column of an event's row (epoch ms). Events without a usable time get 0 (1970-01-01): the time is part
 * of the key, so it must not depend on when the event was stored. Whole milliseconds: Apache 2.4 error-log times
 * carry microseconds (a fractional ms), which SQLite's STRICT INTEGER column refused, so every such line went to
 * rejected.jsonl. */
export const eventTime = (e: Event): number => (isNumber(e.timestamp) ? Math.floor(e.timestamp) : 0);

/** An alert's group (part of its key): its `group`; for an alert about one client and vhost without one (detect's:
 * one per rule and client), those two. Without them in the key, two clients whose alerts on one rule began in the
 * same second (Apache's log times are whole seconds) were one row, the second overwriting the first. */
function alertGroup(e: Event): string {
  if (e.group !== undefined && e.group !== null) return text(e.group)!;
  if (typeof e.client_ip !== 'string' && typeof e.vhost !== 'string') return '';
  return JSON.stringify({ client_ip: e.client_ip ?? null, vhost: e.vhost ?? null });
}

/** Per table, where its key columns are in its values. */
const KEY_AT = Object.fromEntries(Object.values(TABLES).map((t) => [t.name, t.key.map((k) => t.columns.findIndex((c) => c.name === k))])) as Record<TableName, number[]>;
/** Fields of events with a column of their own, whatever their value (null or absent: a NULL column). */
const COLUMN_FIELDS = new Set(['client_ip', 'user', 'method', 'path', 'query', 'protocol', 'status', 'bytes', 'referer', 'user_agent', 'level', 'file']);
/** %D (µs), %{ms}T and %T (s), as microseconds in duration_us: the first that is a number (the others stay in extra). */
const DURATIONS: Array<[string, number]> = [['duration_us', 1], ['duration_ms', 1000], ['duration_s', 1_000_000]];
