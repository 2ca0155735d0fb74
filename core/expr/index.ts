// The expression language of conditions (`where`, alert rules) and computed values (`modify`'s set_expr):
// text is parsed once and compiled into closures. No eval or new Function: user text never becomes code,
// and an expression can only read the event's own fields and call the functions in functions.ts.
import type { Event } from '../api.js';
import { compileNode } from './compile.js';
import { ExpressionError } from './errors.js';
import { parse } from './parser.js';

export { ExpressionError } from './errors.js';
export { functionNames } from './functions.js';
export { getField, hasField, removeField, setField, splitFieldPath } from './fields.js';

/** A compiled condition: true or false for any event; never throws. */
export type Condition = (event: Event) => boolean;
/** A compiled expression: its value for an event (null when a field is missing or an operation has no
 * result, e.g. division by zero); never throws. */
export type Expression = (event: Event) => unknown;

function compileText(text: string) {
  if (typeof text !== 'string') throw new ExpressionError('expected an expression as a string', 1);
  return compileNode(parse(text));
}

/** Compile a condition such as `status >= 500 and path != "/health"`. Throws ExpressionError when it is invalid.
 * The result is true when the value is truthy: not false, 0, "", null or missing. */
export function compileCondition(text: string): Condition {
  const evaluate = compileText(text);
  return (event) => Boolean(evaluate(event));
}

/** Compile an expression such as `floor(status / 100)`. Throws ExpressionError when it is invalid. */
export function compileExpression(text: string): Expression {
  const evaluate = compileText(text);
  return (event) => evaluate(event) ?? null;
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
