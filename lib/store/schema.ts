// The store's schema: the tables as the one code path above the engines sees them (columns in order, with a
// logical type, and the key every upsert conflicts on), and the numbered migrations that create them in each
// dialect. A migration's SQL is frozen once released: a later change is a new migration, never an edit, so a
// database created by any version reaches the current schema by applying the migrations it has not seen.
// `schema_version` holds one row per applied migration. test/store-sqlite.test.ts checks that the tables the
// migrations create have exactly the columns and keys declared here.

/** time: epoch milliseconds in JavaScript; INTEGER (epoch ms) in SQLite, timestamptz in PostgreSQL.
 * json: JSON text in JavaScript; TEXT in SQLite (its json functions read it), jsonb in PostgreSQL. */
export type ColumnType = 'text' | 'int' | 'real' | 'time' | 'json';

export interface Column {
  name: string;
  type: ColumnType;
}

export interface Table {
  name: TableName;
  columns: Column[];
  /** The row's identity: the primary key, and the conflict target of every write. */
  key: string[];
  /** update: a row written again replaces the stored one (a replay overwrites); ignore: the first one stays. */
  onConflict: 'update' | 'ignore';
  /** With update: the stored row is replaced only when the new one's value of this column is not smaller. */
  unlessSmaller?: string;
  /** With update: a column saying when the row was written, not part of its data. A row written again with the same
   * data in every other column leaves the stored row as it is (this column included): a replay, or a second
   * `visor analyze --store` of the same files, changes nothing. */
  touched?: string;
}

export type TableName = 'windows' | 'aggregates' | 'alerts' | 'reports' | 'events';

const col = (spec: string): Column[] => spec.trim().split(/\s*,\s*/).map((c) => {
  const [name, type] = c.split(':') as [string, ColumnType];
  return { name, type };
});

export const TABLES: Record<TableName, Table> = {
  windows: {
    name: 'windows',
    columns: col(`agent:text, aggregate:text, resolution:text, window_start:time, window_end:time, group_key:text, group_values:json,
      count:int, metrics:json, sketches:json, fingerprint:text, stored_at:time`),
    key: ['agent', 'aggregate', 'resolution', 'window_start', 'group_key'],
    onConflict: 'update',
    // A replay after a crash can start inside a window that was already delivered (the batch that straddles two
    // windows is acknowledged only when both were): that window is then computed again from a suffix of its events
    // only, and must not overwrite the complete row. A replay only ever holds a subset of a delivered window's
    // events, so the complete result is the one with the largest count.
    unlessSmaller: 'count',
    touched: 'stored_at',
  },
  aggregates: {
    name: 'aggregates',
    columns: col('agent:text, aggregate:text, fingerprint:text, spec:json, first_seen:time'),
    key: ['agent', 'aggregate', 'fingerprint'],
    onConflict: 'ignore',
  },
  alerts: {
    name: 'alerts',
    columns: col(`agent:text, rule:text, grp:text, state:text, first_time:time, last_time:time, count:int, severity:text, kind:text,
      message:text, value:real, payload:json`),
    key: ['agent', 'rule', 'grp', 'state', 'first_time'],
    onConflict: 'update',
  },
  reports: {
    name: 'reports',
    columns: col('agent:text, kind:text, name:text, window_start:time, window_end:time, requests:int, errors:int, payload:json'),
    key: ['agent', 'kind', 'name', 'window_start'],
    onConflict: 'update',
  },
  events: {
    name: 'events',
    columns: col(`id:text, time:time, agent:text, origin:text, vhost:text, client_ip:text, remote_user:text, method:text, path:text,
      query:text, protocol:text, status:int, bytes:int, referer:text, user_agent:text, duration_us:int, level:text, file:text, extra:json`),
    key: ['id', 'time'],
    onConflict: 'update',
  },
};

export interface Migration {
  version: number;
  description: string;
  sqlite: string[];
  postgres: string[];
}

/** Every migration, oldest first. Append only. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'windows, aggregates, alerts, reports, events (day-partitioned in PostgreSQL)',
    sqlite: [
      `CREATE TABLE windows (
        agent TEXT NOT NULL, aggregate TEXT NOT NULL, resolution TEXT NOT NULL, window_start INTEGER NOT NULL, window_end INTEGER NOT NULL,
        group_key TEXT NOT NULL, group_values TEXT NOT NULL, count INTEGER, metrics TEXT NOT NULL, sketches TEXT, fingerprint TEXT,
        stored_at INTEGER NOT NULL,
        PRIMARY KEY (agent, aggregate, resolution, window_start, group_key)) STRICT`,
      'CREATE INDEX windows_by_time ON windows (aggregate, resolution, window_start)',
      `CREATE TABLE aggregates (
        agent TEXT NOT NULL, aggregate TEXT NOT NULL, fingerprint TEXT NOT NULL, spec TEXT NOT NULL, first_seen INTEGER NOT NULL,
        PRIMARY KEY (agent, aggregate, fingerprint)) STRICT`,
      `CREATE TABLE alerts (
        agent TEXT NOT NULL, rule TEXT NOT NULL, grp TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('firing', 'digest', 'resolved', 'stopped')),
        first_time INTEGER NOT NULL, last_time INTEGER NOT NULL, count INTEGER, severity TEXT, kind TEXT, message TEXT, value REAL,
        payload TEXT NOT NULL,
        PRIMARY KEY (agent, rule, grp, state, first_time)) STRICT`,
      'CREATE INDEX alerts_by_time ON alerts (first_time)',
      `CREATE TABLE reports (
        agent TEXT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL, window_start INTEGER NOT NULL, window_end INTEGER NOT NULL,
        requests INTEGER, errors INTEGER, payload TEXT NOT NULL,
        PRIMARY KEY (agent, kind, name, window_start)) STRICT`,
      'CREATE INDEX reports_by_time ON reports (window_start)',
      `CREATE TABLE events (
        id TEXT NOT NULL, time INTEGER NOT NULL, agent TEXT NOT NULL, origin TEXT NOT NULL, vhost TEXT, client_ip TEXT, remote_user TEXT,
        method TEXT, path TEXT, query TEXT, protocol TEXT, status INTEGER, bytes INTEGER, referer TEXT, user_agent TEXT,
        duration_us INTEGER, level TEXT, file TEXT, extra TEXT NOT NULL,
        PRIMARY KEY (id, time)) STRICT`,
      'CREATE INDEX events_by_time ON events (time)',
    ],
    postgres: [
      `CREATE TABLE windows (
        agent text NOT NULL, aggregate text NOT NULL, resolution text NOT NULL, window_start timestamptz NOT NULL, window_end timestamptz NOT NULL,
        group_key text NOT NULL, group_values jsonb NOT NULL, count bigint, metrics jsonb NOT NULL, sketches jsonb, fingerprint text,
        stored_at timestamptz NOT NULL,
        PRIMARY KEY (agent, aggregate, resolution, window_start, group_key))`,
      'CREATE INDEX windows_by_time ON windows (aggregate, resolution, window_start)',
      `CREATE TABLE aggregates (
        agent text NOT NULL, aggregate text NOT NULL, fingerprint text NOT NULL, spec jsonb NOT NULL, first_seen timestamptz NOT NULL,
        PRIMARY KEY (agent, aggregate, fingerprint))`,
      `CREATE TABLE alerts (
        agent text NOT NULL, rule text NOT NULL, grp text NOT NULL,
        state text NOT NULL CHECK (state IN ('firing', 'digest', 'resolved', 'stopped')),
        first_time timestamptz NOT NULL, last_time timestamptz NOT NULL, count bigint, severity text, kind text, message text,
        value double precision, payload jsonb NOT NULL,
        PRIMARY KEY (agent, rule, grp, state, first_time))`,
      'CREATE INDEX alerts_by_time ON alerts (first_time)',
      `CREATE TABLE reports (
        agent text NOT NULL, kind text NOT NULL, name text NOT NULL, window_start timestamptz NOT NULL, window_end timestamptz NOT NULL,
        requests bigint, errors bigint, payload jsonb NOT NULL,
        PRIMARY KEY (agent, kind, name, window_start))`,
      'CREATE INDEX reports_by_time ON reports (window_start)',
      // One partition per UTC day (events_pYYYYMMDD), created by the engine before the first row of a day is written:
      // retention drops whole days, and a query for a time range reads only the days it covers.
      `CREATE TABLE events (
        id text NOT NULL, time timestamptz NOT NULL, agent text NOT NULL, origin text NOT NULL, vhost text, client_ip text, remote_user text,
        method text, path text, query text, protocol text, status bigint, bytes bigint, referer text, user_agent text,
        duration_us bigint, level text, file text, extra jsonb NOT NULL,
        PRIMARY KEY (id, time)) PARTITION BY RANGE (time)`,
      'CREATE INDEX events_by_time ON events (time)',
    ],
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The name of the PostgreSQL partition of `events` holding the UTC day of `ms`, and that day's bounds. */
export function eventPartition(ms: number): { name: string; from: string; to: string } {
  const day = Math.floor(ms / 86_400_000) * 86_400_000;
  const from = new Date(day).toISOString();
  return { name: `events_p${from.slice(0, 10).replaceAll('-', '')}`, from, to: new Date(day + 86_400_000).toISOString() };
}
