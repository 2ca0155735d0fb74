// Rows as `visor query` prints them: an aligned table (the default), a JSON array (one row per line), or CSV (RFC 4180).
import type { QueryResult } from './query.js';

export type RowFormat = 'table' | 'json' | 'csv';

const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

export function formatRows({ columns, rows }: QueryResult, format: RowFormat): string {
  if (format === 'json') return rows.length ? `[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n` : '[]\n';
  if (format === 'csv') {
    const quote = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
    return [columns, ...rows.map((r) => columns.map((c) => cell(r[c])))].map((line) => line.map(quote).join(',')).join('\r\n') + '\r\n';
  }
  // Columns empty in every row are left out of the table (the other formats keep them): events rarely fill them all.
  const shown = rows.length ? columns.filter((c) => rows.some((r) => cell(r[c]) !== '')) : columns;
  const texts = rows.map((r) => shown.map((c) => cell(r[c]).replace(/[\r\n\t]/g, ' ')));
  const widths = shown.map((c, i) => Math.min(60, Math.max(c.length, ...texts.map((t) => t[i].length))));
  const line = (values: string[]) => values.map((v, i) => (v.length > widths[i] ? v.slice(0, widths[i] - 1) + '…' : v.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(shown), line(widths.map((w) => '-'.repeat(w))), ...texts.map(line), `(${rows.length} row${rows.length === 1 ? '' : 's'})`].join('\n') + '\n';
}
