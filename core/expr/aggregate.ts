// Aggregate expressions evaluated over groups of events (a window's group, a sliding window): each aggregate
// call feeds an accumulator with the group's events, and the expression is computed from the accumulated
// states. States merge (two parts of a stream give the state of the whole), so windows can be split into
// buckets or partitions and combined. The syntax is aggregate-parser.ts's.
import type { Event } from '../api.js';
import { parseAggregate, parseAggregateComparison, counts } from './aggregate-parser.js';
import { fieldPaths, type AggregateFunction, type ComparisonOperator, type Node } from './ast.js';
import { ARITHMETIC, finite, ORDERINGS } from './values.js';

/** One accumulator, shared by every call of the same kind on the same argument (e.g. `count()` in two ratios). */
export interface Accumulator {
  key: string;
  kind: 'count' | 'numeric';
  /** count: does the event match; numeric: the value read from the event. */
  read: (event: Event) => unknown;
}

/** Per-group state of one accumulator. */
export interface AccState { count: number; sum: number; n: number; min: number | null; max: number | null }
export const newAccState = (): AccState => ({ count: 0, sum: 0, n: 0, min: null, max: null });

/** Adds one event to the state; numeric accumulators skip values that are not finite numbers. */
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

/** Adds `from` into `into` (counts and sums add, min/max combine): merging the states of two parts of a stream
 * gives the state of the whole (sums of integers exactly; of fractions up to floating-point rounding). */
export function mergeAccState(into: AccState, from: AccState): void {
  into.count += from.count;
  into.sum += from.sum;
  into.n += from.n;
  if (from.min !== null && (into.min === null || from.min < into.min)) into.min = from.min;
  if (from.max !== null && (into.max === null || from.max > into.max)) into.max = from.max;
}

/** A compiled aggregate expression: its value from a group's accumulator states (by key) and the window length;
 * null when it has none (division by zero, avg/min/max of no values, a result that is not finite). */
export type AggregateExpression = (states: Map<string, AccState>, windowSeconds: number) => number | null;

/** A compiled aggregate comparison: both sides, and the test between their values. */
export interface AggregateComparison {
  left: AggregateExpression;
  right: AggregateExpression;
  compare: (left: number, right: number) => boolean;
}

/** Compile an aggregate expression such as `count(status >= 500) / count()`, registering the accumulators it reads
 * in `accumulators`. Throws ExpressionError when it is invalid. */
export function compileAggregate(text: string, accumulators: Map<string, Accumulator>): AggregateExpression {
  return compileTree(parseAggregate(text), accumulators);
}

/** The fields (as `a.b` paths) the calls of an aggregate expression read from each event. Throws ExpressionError
 * when it is invalid. */
export function aggregateFields(text: string): string[] {
  return fieldPaths(parseAggregate(text)).map((p) => p.join('.'));
}

/** The fields (as `a.b` paths) both sides of an aggregate comparison read from each event. Throws ExpressionError
 * when it is invalid. */
export function aggregateComparisonFields(text: string): string[] {
  const { left, right } = parseAggregateComparison(text);
  return [...fieldPaths(left), ...fieldPaths(right)].map((p) => p.join('.'));
}

/** Compile an aggregate comparison such as `count(status >= 500) / count() > 0.05`, registering the accumulators
 * of both sides in `accumulators`. Throws ExpressionError when it is invalid. */
export function compileAggregateComparison(text: string, accumulators: Map<string, Accumulator>): AggregateComparison {
  const { left, operator, right } = parseAggregateComparison(text);
  return { left: compileTree(left, accumulators), right: compileTree(right, accumulators), compare: COMPARE[operator] };
}

const COMPARE: Record<ComparisonOperator, (left: number, right: number) => boolean> = {
  ...ORDERINGS, '==': (l, r) => l === r, '!=': (l, r) => l !== r,
};

const VALUE: Record<AggregateFunction, (state: AccState, windowSeconds: number) => number | null> = {
  count: (s) => s.count,
  rate: (s, seconds) => (seconds > 0 ? s.count / seconds : null),
  sum: (s) => s.sum,
  avg: (s) => (s.n ? s.sum / s.n : null),
  min: (s) => s.min,
  max: (s) => s.max,
};

function compileTree(root: Node, accumulators: Map<string, Accumulator>): AggregateExpression {
  const evaluate = compileNode(root, accumulators);
  return (states, seconds) => {
    const v = evaluate(states, seconds);
    return v === null || !Number.isFinite(v) ? null : v;
  };
}

/** The nodes aggregate-parser.ts produces: numbers, unary minus, arithmetic (with the language's semantics, values.ts)
 * and aggregate calls. */
function compileNode(node: Node, accumulators: Map<string, Accumulator>): AggregateExpression {
  switch (node.kind) {
    case 'literal': {
      const value = node.value as number;
      return () => value;
    }
    case 'negate': {
      const operand = compileNode(node.operand, accumulators);
      return (states, seconds) => {
        const v = operand(states, seconds);
        return v === null ? null : finite(-v);
      };
    }
    case 'arithmetic': {
      const left = compileNode(node.left, accumulators);
      const right = compileNode(node.right, accumulators);
      const apply = ARITHMETIC[node.operator];
      return (states, seconds) => apply(left(states, seconds), right(states, seconds)) as number | null;
    }
    case 'aggregate': {
      const { fn, key, read } = node;
      if (!accumulators.has(key)) accumulators.set(key, { key, kind: counts(fn) ? 'count' : 'numeric', read });
      const value = VALUE[fn];
      return (states, seconds) => value(states.get(key)!, seconds);
    }
    default:
      throw new Error(`not a node of an aggregate expression: ${node.kind}`);
  }
}
