// The store: window results, alerts, reports and (opt-in) raw events kept in SQLite or PostgreSQL, one schema and
// one code path above a small engine interface, every row keyed by the identity of its data (exactly once).
export type { StoreEngine, Row, TableRows, RejectedRow, ExpireTarget } from './engine.js';
export { describeError, refusesRow, upsertClauses } from './engine.js';
export { copyText, copyValue } from './copy.js';
export { TABLES, MIGRATIONS, SCHEMA_VERSION, eventPartition, type Table, type TableName, type Column, type ColumnType, type Migration } from './schema.js';
export { classify, ALERT_STATES, type EventKind } from './classify.js';
export { RowMapper, formatResolution, type RowOptions, type MappedRow } from './rows.js';
export { SqliteEngine, type SqliteOptions } from './sqlite.js';
export { PostgresEngine, type PostgresOptions } from './postgres.js';
export { createEngine, type EngineOptions } from './open.js';
export { StoreWriter, type StoreWriterOptions } from './writer.js';
export { FilterCompiler, sqliteParams, type Dialect, type SqlFilter } from './filter-sql.js';
export { runQuery, type QueryRequest, type QueryResult } from './query.js';
export { formatRows, type RowFormat } from './format.js';
export { Rollup } from './rollup.js';
export { Retention, type RetentionOptions } from './retention.js';
export { storeReaders, storeReader, type StoreReader } from './history.js';
