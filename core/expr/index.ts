// The expression language of conditions (`where`, alert rules) and computed values (`modify`'s set_expr), and
// its aggregate expressions over groups of events (window metrics, alert rules over a window, aggregate.ts):
// text is parsed once and compiled into closures. No eval or new Function: user text never becomes code,
// and an expression can only read the event's own fields and call the functions in functions.ts.
import type { Event } from '../api.js';
import { fieldPaths, type Node } from './ast.js';
import { compileNode, type Evaluate, type Wrap } from './compile.js';
import { ExpressionError } from './errors.js';
import { hasField } from './fields.js';
import { parse } from './parser.js';

export { ExpressionError } from './errors.js';
export { isAggregateComparison } from './aggregate-parser.js';
export {
  accumulate, aggregateComparisonFields, aggregateFields, compileAggregate, compileAggregateComparison, mergeAccState, newAccState,
  type Accumulator, type AccState, type AggregateComparison, type AggregateExpression,
} from './aggregate.js';
export { functionNames } from './functions.js';
export type { Evaluate, Wrap } from './compile.js';
export { fieldReader, getField, hasField, removeField, setField, splitFieldPath } from './fields.js';
export { childrenOf, fieldPaths, type ComparisonOperator, type Literal, type Node } from './ast.js';

/** A compiled condition: true or false for any event; never throws. */
export type Condition = (event: Event) => boolean;
/** A compiled expression: its value for an event (null when a field is missing or an operation has no
 * result, e.g. division by zero); never throws. */
export type Expression = (event: Event) => unknown;

function parseText(text: string) {
  if (typeof text !== 'string') throw new ExpressionError('expected an expression as a string', 1);
  return parse(text);
}

function compileText(text: string) {
  return compileNode(parseText(text));
}

/** Compile a condition such as `status >= 500 and path != "/health"`. Throws ExpressionError when it is invalid.
 * The result is true when the value is truthy: not false, 0, "", null or missing. */
export function compileCondition(text: string): Condition {
  const evaluate = compileText(text);
  return (event) => Boolean(evaluate(event));
}

/** Compile a condition from its syntax tree (parseCondition's), each node's evaluator replaced by what `wrap`
 * returns for it (compile.ts's Wrap): for callers that cache what some sub-conditions give (lib/detect/memo.ts). */
export function compileConditionTree(node: Node, wrap?: Wrap): Condition {
  const evaluate = compileNode(node, wrap);
  return (event) => Boolean(evaluate(event));
}

/** compileConditionTree's evaluator itself, for a caller that tests the truthiness of its value (a condition is
 * true when it is truthy): lib/detect/shape.ts asks every rule of every event, and the Boolean() closure around
 * each was one more call V8 cannot inline (one closure literal serves every condition). */
export function compileConditionEvaluator(node: Node, wrap?: Wrap): Evaluate {
  return compileNode(node, wrap);
}

/** Compile an expression such as `floor(status / 100)`. Throws ExpressionError when it is invalid. */
export function compileExpression(text: string): Expression {
  const evaluate = compileText(text);
  return (event) => evaluate(event) ?? null;
}

/** A condition read as a threshold on the fields of each event, e.g. `error_rate > 0.05` (alert rules with `for`). */
export interface Threshold {
  holds: Condition;
  /** Whether the event has every field the condition names: only such an event says whether it holds. */
  applies: Condition;
  /** What the condition measures: the value of its comparison's left side (null when it is no comparison). */
  measure: Expression;
}

/** Compile a threshold condition. Throws ExpressionError when it is invalid. */
export function compileThreshold(text: string): Threshold {
  const node = parseText(text);
  const evaluate = compileNode(node);
  const fields = fieldPaths(node);
  const measured = node.kind === 'compare' ? compileNode(node.left) : () => null;
  return {
    holds: (event) => Boolean(evaluate(event)),
    applies: (event) => fields.every((path) => hasField(event, path)),
    measure: (event) => measured(event) ?? null,
  };
}

/** The syntax tree of a condition, for translating it into another language (SQL in lib/store): parsed and
 * compiled, so it has passed every check a condition passes (known functions, their arity, `exists` of a field). */
export function parseCondition(text: string): Node {
  const node = parseText(text);
  compileNode(node);
  return node;
}

/** The value of a node that reads no field (e.g. `60 * 60`, `-1`, `lower("A")`), as a condition computes it. */
export function constantValue(node: Node): unknown {
  return compileNode(node)({}) ?? null;
}

/** Why `text` does not compile (e.g. `unexpected ")" at column 12; expected a value`), or undefined when it does. */
export function validateExpression(text: string): string | undefined {
  try {
    compileText(text);
    return undefined;
  } catch (err) {
    if (err instanceof ExpressionError) return err.message;
    throw err;
  }
}
