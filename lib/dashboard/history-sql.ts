// The SQL of the dashboard's history that differs between SQLite and PostgreSQL (time values, JSON access,
// bucketing), with the parameters bound so far, and the values as both drivers return them.

/** Values as both drivers return them: SQLite INTEGER/TEXT; PostgreSQL Date, jsonb (parsed), bigint (text). */
export const ms = (v: unknown) => (v instanceof Date ? v.getTime() : Number(v));
export const num = (v: unknown) => (v === null || v === undefined ? 0 : Number(v));
export const parsed = (v: unknown): unknown => (typeof v === 'string' ? JSON.parse(v) : v);

/** The SQL that differs between the engines, and the parameters bound so far. */
export class Sql {
  readonly params: unknown[] = [];
  constructor(readonly pg: boolean) {}
  bind(v: unknown, cast = ''): string {
    this.params.push(v);
    return this.pg ? `$${this.params.length}${cast}` : '?';
  }
  time(msValue: number): string {
    return this.pg ? this.bind(new Date(msValue).toISOString(), '::timestamptz') : this.bind(msValue);
  }
  text(v: string): string {
    return this.bind(v, '::text');
  }
  int(v: number): string {
    return this.bind(v, '::bigint');
  }
  /** A JSON member as text. */
  jsonText(column: string, key: string): string {
    return this.pg ? `${column}->>${this.text(key)}` : `json_extract(${column}, ${this.bind(`$."${key}"`)})`;
  }
  /** Several JSON members as one JSON array (parsed(): an array): SQLite parses the JSON text once for all of them
   * (json_extract with several paths), where one json_extract each parsed it once each. */
  jsonArray(column: string, keys: string[]): string {
    if (this.pg) return `json_build_array(${keys.map((k) => `${column}->${this.text(k)}`).join(', ')})`;
    return `json_extract(${column}, ${keys.map((k) => this.bind(`$."${k}"`)).join(', ')})`;
  }
  /** The start of the bucket of `width` ms a time column falls in, as epoch ms. */
  bucket(column: string, width: number): string {
    if (!this.pg) return `(${column} / ${this.int(width)}) * ${this.int(width)}`;
    return `(floor(extract(epoch from ${column}) * 1000 / ${this.int(width)}) * ${this.int(width)})::bigint`;
  }
}
