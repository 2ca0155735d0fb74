// The `metrics` of a window: named aggregate expressions (core's compileAggregate: count(), count(<condition>),
// sum(x), avg(x), min(x), max(x), rate() with arithmetic), their errors prefixed with the metric's name.
import { compileAggregate, ExpressionError, type Accumulator, type AggregateExpression } from '../../core/index.js';

/** Why `text` is not a valid metric (an aggregate expression), or undefined when it is: the check of the schema, so
 * that `visor validate` reports a bad metric at its place in the file. */
export function checkMetric(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined; // left to `type`
  try {
    compileAggregate(text, new Map());
    return undefined;
  } catch (err) {
    if (err instanceof ExpressionError) return err.message;
    throw err;
  }
}

/** Compile a metric; registers its accumulators in `accumulators`. Throws Error naming the metric. */
export function compileMetric(name: string, text: string, accumulators: Map<string, Accumulator>): AggregateExpression {
  try {
    return compileAggregate(text, accumulators);
  } catch (err) {
    if (err instanceof ExpressionError) throw new Error(`metric "${name}": ${err.message}`);
    throw err;
  }
}
