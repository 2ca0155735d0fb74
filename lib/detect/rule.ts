// One detection rule: a condition in Visor's expression language (core/expr, the `where` language) selecting the
// events it counts, and a CrowdSec-style leaky bucket per client and vhost deciding when they are too many.
// capacity 0 makes a one-shot trigger (the first matching event fires); `distinct` pours an event only when its
// value is new to the bucket (e.g. distinct paths); `quiet` keeps a client's bucket from firing again for a while.
import { compileConditionEvaluator, compileExpression, parseCondition, type Condition, type Expression, type ExpressionEvaluate, type ExpressionNode } from '../../core/index.js';
import type { FieldMemos } from './memo.js';

/** A rule as written in the config (durations in ms) or in the default pack. */
export interface RuleSpec {
  name: string;
  /** What the rule catches, and its false-positive trade-off (documentation). */
  description?: string;
  when: string;
  severity?: string;
  /** Events the bucket holds without firing: the (capacity + 1)th within the leak fires. 0 = trigger. */
  capacity?: number;
  /** One event leaks out of the bucket every `leak` ms. */
  leak?: number;
  /** Pour an event only when this expression's value is new in the bucket. */
  distinct?: string;
  /** After firing, the same client (and vhost) does not fire this rule again for this long (ms). */
  quiet?: number;
}

export interface CompiledRule {
  name: string;
  description: string;
  severity: string;
  match: Condition;
  /** The condition's tree and how it was compiled (with the same field caches; its value is tested for
   * truthiness), for RuleShapes (shape.ts) to compile it again for events lacking some of its fields. */
  when?: { tree: ExpressionNode; compile: (node: ExpressionNode) => ExpressionEvaluate };
  distinct?: Expression;
  capacity: number;
  leak: number;
  quiet: number;
}

export const RULE_DEFAULTS = { severity: 'warning', capacity: 0, leak: 60_000, quiet: 600_000 } as const;

/** Compiles a validated rule; throws ExpressionError (with its column) for a bad condition. With `memos` (shared by
 * the rules of one detect aggregate), its sub-conditions over one field are cached there (memo.ts); without, it is
 * evaluated as compileCondition does (the tests compare the two). */
export function compileRule(spec: RuleSpec, memos?: FieldMemos): CompiledRule {
  const tree = parseCondition(spec.when);
  const compile = memos ? (node: ExpressionNode) => memos.evaluatorTree(node) : (node: ExpressionNode) => compileConditionEvaluator(node);
  const evaluate = compile(tree);
  return {
    name: spec.name,
    description: spec.description ?? '',
    severity: spec.severity ?? RULE_DEFAULTS.severity,
    match: (e) => Boolean(evaluate(e)),
    when: { tree, compile },
    distinct: spec.distinct === undefined ? undefined : compileExpression(spec.distinct),
    capacity: spec.capacity ?? RULE_DEFAULTS.capacity,
    leak: spec.leak ?? RULE_DEFAULTS.leak,
    quiet: spec.quiet ?? RULE_DEFAULTS.quiet,
  };
}
