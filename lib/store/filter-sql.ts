// A condition of the expression language (the `where` filter's) translated into an SQL WHERE clause over the
// events table, for `visor query`. Every value of the condition reaches the database as a bound parameter, never as
// SQL text. The translation keeps the language's semantics rather than SQL's: no conversion between types (a field
// is compared with a number only when it holds a number), a comparison with a missing value is false whatever the
// operator, and every predicate is two-valued (never NULL), so `not` means what it means in `where`. To that end each
// value is read per type: `as(kind)` is the SQL of the value when it is of that kind and NULL otherwise. What cannot be
// translated with the same meaning (arithmetic other than + - * /, most functions) is an ExpressionError naming the
// column, never a silent approximation.
import { constantValue, ExpressionError, fieldPaths, type ComparisonOperator, type ExpressionNode } from '../../core/index.js';

export type Dialect = 'sqlite' | 'postgres';
type Kind = 'number' | 'string' | 'boolean';
const KINDS: Kind[] = ['number', 'string', 'boolean'];

interface Value {
  /** SQL of the value when it is of this kind, NULL otherwise; undefined when it never is. */
  as(kind: Kind): string | undefined;
  /** SQL true when the value is missing or null. */
  absent: string;
  /** SQL true when the value is an object or a list (true as a condition, though of none of the kinds). */
  composite?: string;
  /** The SQL of a JSON value (a field of `extra`), for list membership (contains). */
  json?: string;
  /** SQL true when the field exists (its value may be null), for exists(). */
  present?: string;
  /** SQL of a predicate (never NULL), when the value is the boolean result of one. */
  predicate?: string;
}

/** Event fields with a column of their own (see rows.ts), the column, and its kind. */
const COLUMNS: Record<string, [column: string, kind: Kind]> = {
  timestamp: ['time', 'number'], vhost: ['vhost', 'string'], client_ip: ['client_ip', 'string'], user: ['remote_user', 'string'],
  method: ['method', 'string'], path: ['path', 'string'], query: ['query', 'string'], protocol: ['protocol', 'string'],
  status: ['status', 'number'], bytes: ['bytes', 'number'], referer: ['referer', 'string'], user_agent: ['user_agent', 'string'],
  duration_us: ['duration_us', 'number'], level: ['level', 'string'], file: ['file', 'string'],
};

export interface SqlFilter {
  sql: string;
  params: unknown[];
}

/** SQLite's named parameters @p1, @p2 ... as better-sqlite3 binds them: one object. */
export function sqliteParams(params: unknown[]): unknown[] {
  return [Object.fromEntries(params.map((v, i) => [`p${i + 1}`, v]))];
}

export class FilterCompiler {
  readonly params: unknown[] = [];
  private readonly F: string;
  private readonly T: string;

  constructor(private readonly dialect: Dialect, private readonly offset = 0) {
    [this.F, this.T] = dialect === 'sqlite' ? ['0', '1'] : ['false', 'true'];
  }

  /** The WHERE clause (without the keyword) selecting the events for which the condition holds. */
  static compile(node: ExpressionNode, dialect: Dialect, paramOffset = 0): SqlFilter {
    const c = new FilterCompiler(dialect, paramOffset);
    const sql = c.truthy(c.value(node));
    if (dialect === 'sqlite') return { sql, params: c.params };
    // PostgreSQL refuses a parameter the statement does not use (it cannot tell its type), and the SQL of a value is
    // built for every type it may have, then kept only where it matters: number the parameters used, in order.
    const params: unknown[] = [];
    const renumbered = new Map<number, number>();
    const text = sql.replace(/\$(\d+)/g, (_, n: string) => {
      const i = Number(n) - paramOffset - 1;
      let j = renumbered.get(i);
      if (j === undefined) renumbered.set(i, (j = params.push(c.params[i]) - 1));
      return `$${paramOffset + j + 1}`;
    });
    return { sql: text, params };
  }

  /** A bound parameter ($N in PostgreSQL, typed since the driver sends text; @pN in SQLite, see sqliteParams). */
  private param(v: unknown, kind?: Kind | 'path'): string {
    // Numbered (SQLite: named @pN), not positional: the SQL of a value is built once and may be used in several places.
    this.params.push(this.dialect === 'sqlite' && typeof v === 'boolean' ? (v ? 1 : 0) : v);
    if (this.dialect === 'sqlite') return `@p${this.offset + this.params.length}`;
    const n = `$${this.offset + this.params.length}`;
    return kind === 'number' ? `${n}::float8` : kind === 'boolean' ? `${n}::boolean` : kind === 'path' ? `${n}::text[]` : `${n}::text`;
  }

  private pred(sql: string): Value {
    return { as: (k) => (k === 'boolean' ? (this.dialect === 'sqlite' ? sql : `(${sql})`) : undefined), absent: this.F, predicate: sql };
  }

  /** SQL never NULL, true where a nullable boolean SQL expression is true. */
  private yes(sql: string): string {
    return `coalesce(${sql}, ${this.F})`;
  }

  private any(parts: string[]): string {
    return parts.length === 0 ? this.F : parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
  }

  private all(parts: string[]): string {
    return parts.length === 0 ? this.T : parts.length === 1 ? parts[0] : `(${parts.join(' AND ')})`;
  }

  truthy(v: Value): string {
    if (v.predicate) return v.predicate;
    const parts: string[] = [];
    const num = v.as('number');
    const str = v.as('string');
    const bool = v.as('boolean');
    if (num) parts.push(this.yes(`${num} <> 0`));
    if (str) parts.push(this.yes(`${str} <> ''`));
    if (bool) parts.push(this.yes(this.dialect === 'sqlite' ? `${bool} = 1` : bool));
    if (v.composite) parts.push(v.composite);
    return this.any(parts);
  }

  value(node: ExpressionNode): Value {
    if (fieldPaths(node).length === 0) return this.constant(constantValue(node), node.column);
    switch (node.kind) {
      case 'field':
        return this.field(node.path, node.column);
      case 'not':
        return this.pred(`(NOT ${this.truthy(this.value(node.operand))})`);
      case 'logical': {
        const parts = node.operands.map((o) => this.truthy(this.value(o)));
        return this.pred(node.operator === 'and' ? this.all(parts) : this.any(parts));
      }
      case 'compare':
        return this.pred(this.compare(node.operator, node.left, node.right));
      case 'in':
        return this.pred(this.membership(node.negated, node.value, node.list));
      case 'match':
        return this.pred(this.match(node.negated, this.value(node.value), node.regex, node.column));
      case 'negate': {
        const n = this.value(node.operand).as('number');
        return n ? this.numberValue(`(-${n})`) : this.constant(null, node.column);
      }
      case 'arithmetic':
        return this.arithmetic(node.operator, this.value(node.left), this.value(node.right), node.column);
      case 'call':
        return this.call(node);
      default:
        throw new ExpressionError(`${node.kind} at column ${node.column} cannot be translated to SQL by visor query`, node.column);
    }
  }

  private constant(v: unknown, column: number): Value {
    if (v === null || v === undefined) return { as: () => undefined, absent: this.T };
    const kind = typeof v === 'number' ? 'number' : typeof v === 'string' ? 'string' : typeof v === 'boolean' ? 'boolean' : undefined;
    if (!kind) throw new ExpressionError(`the value at column ${column} cannot be translated to SQL by visor query`, column);
    let p: string | undefined;
    return { as: (k) => (k === kind ? (p ??= this.param(v, kind)) : undefined), absent: this.F };
  }

  private numberValue(sql: string): Value {
    return { as: (k) => (k === 'number' ? sql : undefined), absent: `${sql} IS NULL` };
  }

  private field(path: string[], column: number): Value {
    const col = path.length === 1 ? COLUMNS[path[0]] : undefined;
    if (col) {
      const [column, kind] = col;
      // PostgreSQL's time column is a timestamptz; the field is epoch milliseconds.
      const name = column === 'time' && this.dialect === 'postgres' ? '(extract(epoch FROM time) * 1000)::float8' : column;
      return { as: (k) => (k === kind ? name : undefined), absent: `${name} IS NULL` };
    }
    // A nested path under a column's field: the column holds the value flattened (as text), not its fields.
    if (COLUMNS[path[0]]) return { as: () => undefined, absent: this.T };
    if (path.some((k) => k.includes('"'))) throw new ExpressionError(`the field at column ${column} has a name with a double quote, which visor query cannot read`, column);
    if (this.dialect === 'sqlite') {
      const jsonPath = '$' + path.map((k) => `."${k}"`).join('');
      const type = () => `json_type(extra, ${this.param(jsonPath)})`;
      const read = () => `json_extract(extra, ${this.param(jsonPath)})`;
      return {
        as: (k) => (k === 'number' ? `(CASE WHEN ${type()} IN ('integer', 'real') THEN ${read()} END)`
          : k === 'string' ? `(CASE WHEN ${type()} = 'text' THEN ${read()} END)`
          : `(CASE ${type()} WHEN 'true' THEN 1 WHEN 'false' THEN 0 END)`),
        absent: `coalesce(${type()}, 'null') = 'null'`,
        composite: `coalesce(${type()} IN ('object', 'array'), 0)`,
        present: `(${type()} IS NOT NULL)`,
        json: jsonPath,
      };
    }
    const j = () => `(extra #> ${this.param(path, 'path')})`;
    const typed = (t: string, cast: string) => { const v = j(); return `(CASE WHEN jsonb_typeof(${v}) = '${t}' THEN (${v} #>> '{}')${cast} END)`; };
    return {
      as: (k) => (k === 'number' ? typed('number', '::float8') : k === 'string' ? typed('string', '') : typed('boolean', '::boolean')),
      absent: `coalesce(jsonb_typeof(${j()}), 'null') = 'null'`,
      composite: `coalesce(jsonb_typeof(${j()}) IN ('object', 'array'), false)`,
      present: `(${j()} IS NOT NULL)`,
      json: JSON.stringify(path),
    };
  }

  private equal(a: Value, b: Value): string {
    return this.any(KINDS.flatMap((k) => {
      const [x, y] = [a.as(k), b.as(k)];
      return x && y ? [this.yes(`${x} = ${y}`)] : [];
    }));
  }

  private notEqual(a: Value, b: Value): string {
    return this.all([`NOT ${a.absent}`, `NOT ${b.absent}`, `NOT ${this.equal(a, b)}`]);
  }

  private compare(op: ComparisonOperator, leftNode: ExpressionNode, rightNode: ExpressionNode): string {
    const isNull = (n: ExpressionNode) => n.kind === 'literal' && n.value === null;
    if ((op === '==' || op === '!=') && (isNull(leftNode) || isNull(rightNode))) {
      const other = this.value(isNull(leftNode) ? rightNode : leftNode);
      return op === '==' ? other.absent : `(NOT ${other.absent})`;
    }
    const [a, b] = [this.value(leftNode), this.value(rightNode)];
    if (op === '==') return this.equal(a, b);
    if (op === '!=') return this.notEqual(a, b);
    // Numbers with numbers, strings with strings; strings by code point (PostgreSQL: whatever the database's collation).
    const parts: string[] = [];
    const [an, bn, as, bs] = [a.as('number'), b.as('number'), a.as('string'), b.as('string')];
    if (an && bn) parts.push(this.yes(`${an} ${op} ${bn}`));
    if (as && bs) parts.push(this.yes(this.dialect === 'sqlite' ? `${as} ${op} ${bs}` : `(${as}) COLLATE "C" ${op} (${bs})`));
    return this.any(parts);
  }

  /** `x in (a, b)` is `x == a or x == b` (true for a missing x only when the list has null); `not in` is `x != a and x != b`. */
  private membership(negated: boolean, valueNode: ExpressionNode, list: ExpressionNode[]): string {
    const v = this.value(valueNode);
    const listsNull = list.some((n) => n.kind === 'literal' && n.value === null);
    const items = list.filter((n) => !(n.kind === 'literal' && n.value === null)).map((n) => this.value(n));
    if (negated) return this.all([`NOT ${v.absent}`, ...items.map((i) => this.notEqual(v, i))]);
    const some = this.any(items.map((i) => this.equal(v, i)));
    return listsNull ? this.any([v.absent, some]) : some;
  }

  /** `=~`: strings, and numbers in decimal. SQLite runs the very JavaScript regex (the engine registers visor_match);
   * PostgreSQL's regexes differ from JavaScript's, so only a literal text with ^ and $ anchors is translated there. */
  private match(negated: boolean, v: Value, regex: RegExp, column: number): string {
    const str = v.as('string');
    const num = v.as('number');
    if (this.dialect === 'sqlite') {
      const text = str && num ? `coalesce(${str}, ${num})` : str ?? num;
      if (!text) return this.F;
      return this.yes(`visor_match(${this.param(regex.source)}, ${this.param(regex.flags)}, ${text}) = ${negated ? 0 : 1}`);
    }
    const literal = /^(\^?)((?:[^\\^$.|?*+()[\]{}]|\\[\\^$.|?*+()[\]{}/-])*)(\$?)$/.exec(regex.source);
    if (!literal || regex.flags) {
      throw new ExpressionError(`the regex at column ${column} cannot be translated to PostgreSQL by visor query (only a literal text with ^ and $ anchors can); use contains(), starts_with() or ends_with()`, column);
    }
    const texts = [str, num && `(${num})::text`].filter((t): t is string => Boolean(t));
    if (!texts.length) return this.F;
    const t = texts.length === 2 ? `coalesce(${texts[0]}, ${texts[1]})` : texts[0];
    const lit = literal[2].replace(/\\(.)/g, '$1');
    const p = this.param(lit, 'string');
    const test = literal[1] && literal[3] ? `${t} = ${p}` : literal[1] ? `left(${t}, length(${p})) = ${p}` : literal[3] ? `right(${t}, length(${p})) = ${p}` : `strpos(${t}, ${p}) > 0`;
    return this.all([`${t} IS NOT NULL`, negated ? `NOT ${this.yes(test)}` : this.yes(test)]);
  }

  private arithmetic(op: string, a: Value, b: Value, column: number): Value {
    const [x, y] = [a.as('number'), b.as('number')];
    if (op === '%') throw new ExpressionError(`% at column ${column} cannot be translated to SQL by visor query (SQL's remainder differs for fractions)`, column);
    let num: string | undefined;
    if (x && y) {
      num = op === '/'
        ? (this.dialect === 'sqlite' ? `(CAST(${x} AS REAL) / nullif(${y}, 0))` : `((${x})::float8 / nullif(${y}, 0))`)
        : `(${x} ${op} ${y})`;
    }
    const [s, t] = [a.as('string'), b.as('string')];
    const str = op === '+' && s && t ? `(${s} || ${t})` : undefined;
    const parts = [num, str].filter((p): p is string => Boolean(p)).map((p) => `${p} IS NULL`);
    return { as: (k) => (k === 'number' ? num : k === 'string' ? str : undefined), absent: parts.length ? this.all(parts) : this.T };
  }

  private call(node: Extract<ExpressionNode, { kind: 'call' }>): Value {
    if (node.name === 'exists') {
      const arg = this.value(node.args[0]);
      // A field of `extra` exists even when null; a column cannot tell a null value from a missing field (both NULL).
      return this.pred(arg.present ?? `(NOT ${arg.absent})`);
    }
    const [a, b] = node.args.map((n) => this.value(n));
    const [s, p] = [a?.as('string'), b?.as('string')];
    switch (node.name) {
      case 'contains': {
        const parts = s && p ? [this.yes(this.dialect === 'sqlite' ? `instr(${s}, ${p}) > 0` : `strpos(${s}, ${p}) > 0`)] : [];
        if (a.json) parts.push(this.listHas(a.json, b));
        return this.pred(this.any(parts));
      }
      case 'starts_with':
        return this.pred(s && p ? this.yes(this.dialect === 'sqlite' ? `substr(${s}, 1, length(${p})) = ${p}` : `left(${s}, length(${p})) = ${p}`) : this.F);
      case 'ends_with':
        return this.pred(s && p ? this.yes(this.dialect === 'sqlite' ? `${s} IS NOT NULL AND (length(${p}) = 0 OR substr(${s}, -length(${p})) = ${p})` : `right(${s}, length(${p})) = ${p}`) : this.F);
      default:
        throw new ExpressionError(`${node.name}() at column ${node.column} cannot be translated to SQL by visor query; it can: contains, starts_with, ends_with, exists (and any function of constants)`, node.column);
    }
  }

  /** Whether the JSON value at `path` is a list with an element equal to `b` (contains() on a list field). */
  private listHas(path: string, b: Value): string {
    const tests: string[] = [];
    if (this.dialect === 'sqlite') {
      const [n, s, x] = [b.as('number'), b.as('string'), b.as('boolean')];
      if (n) tests.push(`(j.type IN ('integer', 'real') AND j.value = ${n})`);
      if (s) tests.push(`(j.type = 'text' AND j.value = ${s})`);
      if (x) tests.push(`(j.type IN ('true', 'false') AND j.value = ${x})`);
      if (!tests.length) return this.F;
      const p1 = this.param(path);
      const p2 = this.param(path);
      return this.yes(`json_type(extra, ${p1}) = 'array' AND EXISTS (SELECT 1 FROM json_each(extra, ${p2}) AS j WHERE ${tests.join(' OR ')})`);
    }
    const [n, s, x] = [b.as('number'), b.as('string'), b.as('boolean')];
    if (n) tests.push(`(jsonb_typeof(j.v) = 'number' AND (j.v #>> '{}')::float8 = ${n})`);
    if (s) tests.push(`(jsonb_typeof(j.v) = 'string' AND j.v #>> '{}' = ${s})`);
    if (x) tests.push(`(jsonb_typeof(j.v) = 'boolean' AND (j.v #>> '{}')::boolean = ${x})`);
    if (!tests.length) return this.F;
    const keys = JSON.parse(path) as string[];
    const p1 = this.param(keys, 'path');
    const p2 = this.param(keys, 'path');
    return `(CASE WHEN jsonb_typeof(extra #> ${p1}) = 'array' THEN EXISTS (SELECT 1 FROM jsonb_array_elements(extra #> ${p2}) AS j(v) WHERE ${tests.join(' OR ')}) ELSE false END)`;
  }
}
