// The `store` output: window results, alerts, reports and (events: true) raw events into SQLite (default) or
// PostgreSQL, exactly once per identity; see lib/store.
import os from 'node:os';
import path from 'node:path';
import { definePlugin, tlsClientSchema, type CheckProblem } from '../../../core/index.js';
import { createEngine, Retention, storeReader, storeReaders, StoreWriter, type EngineOptions, type RetentionOptions } from '../../../lib/store/index.js';

interface StoreOptions extends EngineOptions {
  agent?: string;
  events: boolean;
  event_exclude: string[];
  position_field: string;
  kafka_field: string;
  batch_size: number;
  batch_timeout: number;
  rollups: number[];
  retention: RetentionOptions;
  retention_interval: number;
}

/** The ssl parameters of a PostgreSQL url: node-postgres lets them replace the tls option whole (sslmode=require
 * verifies against the system roots, ignoring tls.ca; sslmode=disable connects in plain text). */
function urlSslParams(url: unknown): string[] {
  if (typeof url !== 'string') return [];
  try {
    const params = new URL(url).searchParams;
    return ['ssl', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey'].filter((k) => params.has(k));
  } catch {
    return [];
  }
}

/** Options that belong to the other engine, each at its key. */
function engineProblems(value: unknown): CheckProblem[] {
  const o = (value ?? {}) as Partial<Record<keyof StoreOptions, unknown>>;
  const problems: CheckProblem[] = [];
  if (o.engine === 'postgres') {
    if (o.url === undefined) problems.push({ at: 'engine', message: 'engine: postgres needs url (e.g. url: ${VISOR_PG_URL})' });
    if (o.path !== undefined) problems.push({ at: 'path', message: 'path is the SQLite file: remove it, or use engine: sqlite' });
    const ssl = o.tls !== undefined ? urlSslParams(o.url) : [];
    if (ssl.length) problems.push({ at: 'tls', message: `the url's ${ssl.join(', ')} would replace tls (its ca and certificates ignored): remove ${ssl.join(', ')} from the url, or remove tls` });
  } else {
    for (const k of ['url', 'tls'] as const) if (o[k] !== undefined) problems.push({ at: k, message: `${k} is for engine: postgres: add engine: postgres, or remove ${k}` });
  }
  return problems;
}

export default definePlugin<StoreOptions, 'output'>({
  kind: 'output',
  name: 'store',
  description: 'Keeps window results (window/window_merge with state: true), alerts, reports and summaries, and with events: true the raw events (typed Apache columns plus JSON), in SQLite (a file, the default) or PostgreSQL, under a documented versioned schema. Every row is keyed by its data\'s identity and written by upsert in one transaction per batch, acknowledged after the commit: a replay overwrites, never duplicates. Rows the database refuses go to rejected.jsonl in the data directory.',
  schema: {
    type: 'object',
    check: engineProblems,
    properties: {
      engine: { enum: ['sqlite', 'postgres'], default: 'sqlite', description: 'sqlite: an embedded database file; postgres: a PostgreSQL server (url).' },
      path: { type: 'string', minLength: 1, description: 'SQLite: the database file, relative to the config file (default: visor.db in the component\'s data directory, <data_dir>/<id>/visor.db).' },
      url: { type: 'string', minLength: 1, secret: true, description: 'PostgreSQL: connection URL, postgres://user:password@host:5432/db (typically ${VISOR_PG_URL}).' },
      tls: tlsClientSchema(),
      agent: { type: 'string', minLength: 1, description: 'Name of this agent in every row (several agents can share one PostgreSQL). Default: the host name.' },
      events: { type: 'boolean', default: false, description: 'Store raw events (the events table). When false, raw events reaching the store are counted as discarded.' },
      event_exclude: { type: 'array', items: { type: 'string' }, default: [], description: 'Fields of raw events not kept in their extra column, e.g. [message] when the parsed fields are enough.' },
      position_field: { type: 'string', default: 'position', description: 'Field holding the tail input\'s position { file, offset } (set the tail\'s position_field to the same name): the identity of stored events.' },
      kafka_field: { type: 'string', default: 'kafka', description: 'Field holding the kafka input\'s { topic, partition, offset }: the identity of stored events that have no position.' },
      synchronous: { enum: ['full', 'normal'], default: 'full', description: 'SQLite: full fsyncs each commit before acknowledging it (survives a power loss); normal survives a crash of the agent only.' },
      busy_timeout: { duration: true, default: '100ms', description: 'SQLite: how long a write waits for a lock held by another process before it fails and is retried.' },
      timeout: { duration: true, default: '10s', description: 'PostgreSQL: longest a connection attempt or statement may take before the write fails and is retried.' },
      batch_size: { type: 'integer', minimum: 1, default: 2000, description: 'Most events per transaction (queued batches are merged up to this).' },
      batch_timeout: { duration: true, default: '50ms', description: 'How long to wait for more queued events to fill a transaction.' },
      rollups: { type: 'array', items: { duration: true }, default: ['1h', '1d'], description: 'Coarser resolutions window rows are rolled up to after each batch, each from the one below it (1m -> 1h -> 1d), by merging their stored mergeable states: exact counts and metrics, top-N with bounds, distinct counts, percentiles. [] for none. Tumbling windows only.' },
      retention: {
        type: 'object',
        default: {},
        propertyNames: { pattern: '^(events|[0-9]+(ms|s|m|h|d))$' },
        additionalProperties: { anyOf: [{ const: 'forever' }, { duration: true }] },
        description: 'How long rows are kept: events (raw events, by time) and each resolution as the windows table names it (by window end), a duration or forever, e.g. { events: 7d, 1m: 14d, 1h: 400d, 1d: forever }. Absent: forever. Deleted in batches of 1000 rows.',
      },
      retention_interval: { duration: true, default: '10m', description: 'How often expired rows are deleted (and once at start).' },
    },
  },
  async create(options, context) {
    const engine = await createEngine(options, { baseDir: context.configDir, dataDir: () => context.dataDir() });
    const writer = new StoreWriter(engine, {
      agent: options.agent ?? os.hostname(),
      events: options.events,
      exclude: options.event_exclude,
      positionField: options.position_field,
      kafkaField: options.kafka_field,
      deadLetter: path.join(await context.dataDir(), 'rejected.jsonl'),
      rollups: options.rollups,
    }, context);
    const retention = new Retention(engine, options.retention, context.logger);
    // For readers in the same pipeline (the dashboard's `store: ID`): a read-only connection of their own.
    const reader = storeReader(context.id, options.engine, options.events,
      () => createEngine(options, { baseDir: context.configDir, dataDir: () => context.dataDir() }, true));
    storeReaders(context).set(context.id, reader);
    return {
      batch: { max_events: options.batch_size, timeout_ms: options.batch_timeout },
      start: async () => { await writer.open(); retention.start(options.retention_interval); },
      write: (events) => writer.write(events),
      health: () => writer.health(),
      close: async () => { await retention.stop(); await reader.close(); await engine.close(); },
      retention,
    };
  },
});
