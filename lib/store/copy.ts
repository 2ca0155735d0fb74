// Rows in PostgreSQL's COPY text format (one line per row, tab-separated, \N for NULL, backslash escapes),
// for the PostgreSQL engine's bulk path and the benchmark's plain COPY loop.
import type { ColumnType, Table } from './schema.js';

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const SPECIAL = /[\\\t\n\r]/g;
/** Without the g flag: test() of a global regex keeps state between calls. */
const HAS_SPECIAL = /[\\\t\n\r]/;

/** One value: time (epoch ms) as ISO 8601, everything else as its text. */
export function copyValue(type: ColumnType, v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  const s = type === 'time' && typeof v === 'number' ? new Date(v).toISOString() : String(v);
  return HAS_SPECIAL.test(s) ? s.replace(SPECIAL, (c) => ESCAPES[c]!) : s;
}

/** The COPY text of `rows` (values in the order of `table.columns`). */
export function copyText(table: Table, rows: Array<{ values: unknown[] }>): string {
  const types = table.columns.map((c) => c.type);
  let text = '';
  for (const r of rows) {
    let line = '';
    for (let i = 0; i < types.length; i++) line += (i ? '\t' : '') + copyValue(types[i], r.values[i]);
    text += line + '\n';
  }
  return text;
}
