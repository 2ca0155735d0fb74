// From events to rows: the values of each table's columns, and every row's identity taken from the data itself,
// so that the same data written twice (a replay after kill -9, a rotation, a consumer-group rebalance) lands on
// the same primary key and overwrites instead of adding a row:
// - window: agent + aggregate + resolution + window start + group;
// - alert: agent + rule + group + state + first time (`since`);
// - report: agent + kind + name + interval start;
// - event: `id`, a hash of where the line came from: the tail position (content identity of the file + byte offset,
//   with the agent and the line), else the Kafka topic/partition/offset (no agent: after a rebalance another agent
//   reads the same message), else the agent, time and whole content (identical lines in the same millisecond are
//   then one row: give the tail input a position_field).
import { createHash } from 'node:crypto';
import { getField, splitFieldPath, type Event } from '../../core/index.js';
import type { Row } from './engine.js';
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

export interface MappedRow extends Row {
  table: Table;
  /** The identity (primary key values) as one string, to keep one row per key in a batch. */
  key: string;
}

const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const json = (v: unknown) => JSON.stringify(v ?? null);
const hash = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);

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
  private readonly dropped: Set<string>;

  constructor(private readonly options: RowOptions) {
    this.positionPath = splitFieldPath(options.positionField);
    this.kafkaPath = splitFieldPath(options.kafkaField);
    this.dropped = new Set(options.exclude);
    if (this.positionPath.length === 1) this.dropped.add(this.positionPath[0]);
  }

  private row(name: TableName, values: unknown[], event: Event): MappedRow {
    const table = TABLES[name];
    const key = JSON.stringify(table.key.map((k) => values[table.columns.findIndex((c) => c.name === k)]));
    return { table, values, event, key };
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
    const group = e.group === undefined || e.group === null ? '' : text(e.group)!;
    return this.row('alerts', [
      this.options.agent, e.name, group, e.state, e.since, isNumber(e.time) ? e.time : e.since,
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
    const used = new Set(this.dropped);
    const take = (...fields: string[]): unknown => {
      for (const f of fields) {
        if (e[f] === undefined) continue;
        used.add(f);
        return e[f];
      }
      return undefined;
    };
    // Events without a usable time get 0 (1970-01-01): the time is part of the key, so it must not depend on when
    // the event was stored.
    const time = isNumber(e.timestamp) ? e.timestamp : 0;
    if (isNumber(e.timestamp)) used.add('timestamp');
    const { id, origin } = this.identity(e, time);
    const values = [
      id, time, this.options.agent, origin, text(take('vhost', 'server_name')), text(take('client_ip')), text(take('user')),
      text(take('method')), text(take('path')), text(take('query')), text(take('protocol')), num(take('status')), num(take('bytes')),
      text(take('referer')), text(take('user_agent')), this.durationUs(e, used), text(take('level')), text(take('file')),
    ];
    const extra: Event = {};
    for (const [k, v] of Object.entries(e)) if (!used.has(k)) extra[k] = v;
    values.push(json(extra));
    return this.row('events', values, e);
  }

  /** %D (µs), %{ms}T or %T (s) as microseconds; a field that is not a number stays in `extra`. */
  private durationUs(e: Event, used: Set<string>): unknown {
    for (const [f, factor] of [['duration_us', 1], ['duration_ms', 1000], ['duration_s', 1_000_000]] as const) {
      const v = e[f];
      if (isNumber(v)) {
        used.add(f);
        return factor === 1 ? v : Math.round(v * factor);
      }
    }
    return null;
  }
}
