// Aggregate metric expressions: arithmetic (+ - * /, parentheses, numbers) over aggregate calls
// count(), count(<condition>), sum(x), avg(x), min(x), max(x), rate(). Conditions and the arguments of
// sum/avg/min/max are parsed by the core expression language (compileCondition / compileExpression).
import { compileCondition, compileExpression, ExpressionError, type Event } from '../../../core/index.js';

export type AggFn = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'rate';
const FUNCTIONS: readonly AggFn[] = ['count', 'sum', 'avg', 'min', 'max', 'rate'];

/** One accumulator shared by every metric that uses the same call (e.g. `count()` in two ratios). */
export interface Accumulator {
  key: string;
  kind: 'count' | 'numeric';
  /** count: does the event match; numeric: the value read from the event. */
  read: (event: Event) => unknown;
}

/** Per-group state of one accumulator. */
export interface AccState { count: number; sum: number; n: number; min: number | null; max: number | null }
export const newAccState = (): AccState => ({ count: 0, sum: 0, n: 0, min: null, max: null });

export function accumulate(acc: Accumulator, state: AccState, event: Event): void {
  if (acc.kind === 'count') {
    if (acc.read(event)) state.count++;
    return;
  }
  const v = acc.read(event);
  if (typeof v !== 'number' || !Number.isFinite(v)) return;
  state.sum += v;
  state.n++;
  if (state.min === null || v < state.min) state.min = v;
  if (state.max === null || v > state.max) state.max = v;
}

/** Evaluates a metric from the group's accumulator states (by key) and the window length. */
export type MetricEval = (states: Map<string, AccState>, windowSeconds: number) => number | null;

type Node =
  | { t: 'num'; v: number }
  | { t: 'call'; fn: AggFn; acc: string }
  | { t: 'bin'; op: '+' | '-' | '*' | '/'; l: Node; r: Node }
  | { t: 'neg'; e: Node };

/** Why `text` is not a valid metric (an aggregate expression), or undefined when it is: the check of the schema, so
 * that `visor validate` reports a bad metric at its place in the file. */
export function checkMetric(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined; // left to `type`
  try {
    compileMetric('', text, new Map());
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^metric "": /, '');
  }
}

/** Parse a metric; registers its accumulators in `accumulators`. Throws Error with a readable message. */
export function compileMetric(name: string, text: string, accumulators: Map<string, Accumulator>): MetricEval {
  if (typeof text !== 'string' || !text.trim()) throw new Error(`metric "${name}": expected an aggregate expression such as count()`);
  let pos = 0;
  const fail = (msg: string): never => {
    throw new Error(`metric "${name}": ${msg} at column ${pos + 1} of "${text}"`);
  };
  const skip = () => {
    while (pos < text.length && /\s/.test(text[pos])) pos++;
  };

  const primary = (): Node => {
    skip();
    const c = text[pos];
    if (c === '(') {
      pos++;
      const e = sum();
      skip();
      if (text[pos] !== ')') fail('expected ")"');
      pos++;
      return e;
    }
    if (c === '-') {
      pos++;
      return { t: 'neg', e: primary() };
    }
    const num = /^(\d+(\.\d+)?|\.\d+)/.exec(text.slice(pos));
    if (num) {
      pos += num[0].length;
      return { t: 'num', v: Number(num[0]) };
    }
    const id = /^[A-Za-z_]\w*/.exec(text.slice(pos));
    if (!id) return fail(c === undefined ? 'unexpected end; expected a number or an aggregate call' : `unexpected "${c}"; expected a number or an aggregate call`);
    const fn = id[0] as AggFn;
    if (!FUNCTIONS.includes(fn)) fail(`unknown aggregate "${id[0]}" (expected one of ${FUNCTIONS.join(', ')}; fields are only read inside a call, e.g. sum(bytes))`);
    pos += id[0].length;
    skip();
    if (text[pos] !== '(') fail(`expected "(" after ${fn}`);
    const start = ++pos;
    // Find the matching parenthesis, skipping over string literals inside the argument.
    let depth = 1;
    while (pos < text.length && depth > 0) {
      const ch = text[pos];
      if (ch === '"' || ch === "'") {
        pos++;
        while (pos < text.length && text[pos] !== ch) pos += text[pos] === '\\' ? 2 : 1;
      } else if (ch === '(') depth++;
      else if (ch === ')') depth--;
      pos++;
    }
    if (depth > 0) fail(`unclosed "(" of ${fn}`);
    const arg = text.slice(start, pos - 1).trim();
    return { t: 'call', fn, acc: accumulatorFor(fn, arg) };
  };

  const accumulatorFor = (fn: AggFn, arg: string): string => {
    if ((fn === 'rate') && arg) fail('rate() takes no argument');
    if ((fn === 'sum' || fn === 'avg' || fn === 'min' || fn === 'max') && !arg) fail(`${fn}() needs a field or expression, e.g. ${fn}(bytes)`);
    const kind = fn === 'count' || fn === 'rate' ? 'count' : 'numeric';
    const key = kind === 'count' ? `count(${arg})` : `value(${arg})`;
    if (!accumulators.has(key)) {
      let read: (event: Event) => unknown;
      try {
        if (kind === 'count') read = arg ? compileCondition(arg) : () => true;
        else read = compileExpression(arg);
      } catch (err) {
        if (err instanceof ExpressionError) fail(`in ${fn}(${arg}): ${err.message}`);
        throw err;
      }
      accumulators.set(key, { key, kind, read: read! });
    }
    return key;
  };

  const product = (): Node => {
    let l = primary();
    for (;;) {
      skip();
      const op = text[pos];
      if (op !== '*' && op !== '/') return l;
      pos++;
      l = { t: 'bin', op, l, r: primary() };
    }
  };
  const sum = (): Node => {
    let l = product();
    for (;;) {
      skip();
      const op = text[pos];
      if (op !== '+' && op !== '-') return l;
      pos++;
      l = { t: 'bin', op, l, r: product() };
    }
  };

  const root = sum();
  skip();
  if (pos < text.length) fail(`unexpected "${text[pos]}"`);

  const evaluate = (node: Node, states: Map<string, AccState>, seconds: number): number | null => {
    switch (node.t) {
      case 'num':
        return node.v;
      case 'neg': {
        const v = evaluate(node.e, states, seconds);
        return v === null ? null : -v;
      }
      case 'call': {
        const s = states.get(node.acc)!;
        switch (node.fn) {
          case 'count': return s.count;
          case 'rate': return seconds > 0 ? s.count / seconds : null;
          case 'sum': return s.sum;
          case 'avg': return s.n ? s.sum / s.n : null;
          case 'min': return s.min;
          case 'max': return s.max;
        }
        return null;
      }
      case 'bin': {
        const l = evaluate(node.l, states, seconds);
        const r = evaluate(node.r, states, seconds);
        if (l === null || r === null) return null;
        switch (node.op) {
          case '+': return l + r;
          case '-': return l - r;
          case '*': return l * r;
          case '/': return r === 0 ? null : l / r;
        }
      }
    }
  };
  return (states, seconds) => {
    const v = evaluate(root, states, seconds);
    return v === null || !Number.isFinite(v) ? null : v;
  };
}

/** Adds `from` into `into` (counts and sums add, min/max combine): merging the states of two parts of a stream
 * gives the state of the whole (sums of integers exactly; of fractions up to floating-point rounding). */
export function mergeAccState(into: AccState, from: AccState): void {
  into.count += from.count;
  into.sum += from.sum;
  into.n += from.n;
  if (from.min !== null && (into.min === null || from.min < into.min)) into.min = from.min;
  if (from.max !== null && (into.max === null || from.max > into.max)) into.max = from.max;
}
