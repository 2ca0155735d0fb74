// Rule conditions specialised to the fields an event lacks. The default pack reads access and error events alike:
// on an access event message_text, error_code, bot_category (without the bot filter) and crawler_verified (without
// verify_crawlers) are missing, yet each rule tested them on every event — error-log-signals and fake-crawler
// whole, and an `or` operand of four other rules. A missing field's value is known (undefined, which every
// operator treats as null: core/expr/values.ts), so each rule is compiled again per shape (the set of the rules'
// fields an event lacks) with those fields as constants of that value, and the compiler folds what no longer reads the
// event: a rule that became false is not asked at all, one that became true matches without a test. The shape is
// found per event by reading the rules' fields once; the plans are made when a shape is first seen, at most
// MAX_SHAPES of them (more shapes are matched with the rules as written). Under callgrind (50,000 events of the
// generated benign day, steady state) the pack's conditions took 8,080 instructions an event as written and
// 5,276 with the error-log parts taken out by hand; the whole Detector, alternating with main's per batch in one
// process (CPU time, 200,000 events, load 3.7), 793 against 972 ns an event with this and the evaluators called
// without their Boolean() closure (0.92-0.95 of main's for the shapes alone, at load 5-7).
import { childrenOf, compileConditionEvaluator, fieldPaths, fieldReader, type Event, type ExpressionEvaluate, type ExpressionNode } from '../../core/index.js';
import type { CompiledRule } from './rule.js';

/** Shapes planned at most (fields beyond MAX_FIELDS are never taken as missing: a plan only gets less specific). */
const MAX_SHAPES = 64;
const MAX_FIELDS = 30;

/** Whether a tree no longer reads the event (no field; an aggregate's argument would read one: conditions hold none). */
const constant = (node: ExpressionNode): boolean => fieldPaths(node).length === 0 && !reads(node);
const reads = (node: ExpressionNode): boolean => node.kind === 'aggregate' || childrenOf(node).some(reads);
const truthy = (node: ExpressionNode): boolean => Boolean(compileConditionEvaluator(node)({}));

/** `node` with each field `missing` names (by its dotted path) as a constant undefined and exists() of it as false,
 * and the operands of `and` / `or` that became constant dropped (`x or false` is x where only truthiness counts:
 * a condition, an operand of and, or, not); the subtrees reading no such field are the same node objects (so field
 * caches keyed by node find them again). */
export function withoutFields(node: ExpressionNode, missing: ReadonlySet<string>): ExpressionNode {
  // undefined, what the field's reader gives, and not the literal null: `==` and `!=` read that one as the test for
  // a missing value (`referer != "-"` is false without a referer; `null != "-"` would be `"-" != null`, true).
  const nullOf = (n: ExpressionNode, value: undefined | false): ExpressionNode => ({ kind: 'literal', value: value as unknown as false, column: n.column });
  const bool = (n: ExpressionNode, value: boolean): ExpressionNode => ({ kind: 'literal', value, column: n.column });
  /** `tested`: only the truthiness of n's value counts. */
  const walk = (n: ExpressionNode, tested = false): ExpressionNode => {
    switch (n.kind) {
      case 'field':
        return missing.has(n.path.join('.')) ? nullOf(n, undefined) : n;
      case 'literal':
      case 'aggregate':
        return n;
      case 'not':
      case 'negate': {
        const operand = walk(n.operand, n.kind === 'not');
        return operand === n.operand ? n : { ...n, operand };
      }
      case 'logical': {
        const walked = n.operands.map((o) => walk(o, true));
        if (walked.every((o, i) => o === n.operands[i])) return n;
        // or: a truthy constant decides it, a falsy one is dropped; and the other way round
        const decides = n.operator === 'or';
        const operands: ExpressionNode[] = [];
        for (const o of walked) {
          if (!constant(o)) operands.push(o);
          else if (truthy(o) === decides) return bool(n, decides);
        }
        if (operands.length === 0) return bool(n, !decides);
        // one operand left: itself where its truthiness is all that counts, else still through and / or (a boolean)
        if (operands.length === 1 && tested) return operands[0]!;
        return { ...n, operands };
      }
      case 'compare':
      case 'arithmetic': {
        const left = walk(n.left);
        const right = walk(n.right);
        return left === n.left && right === n.right ? n : { ...n, left, right };
      }
      case 'in': {
        const value = walk(n.value);
        const list = n.list.map((l) => walk(l));
        return value === n.value && list.every((l, i) => l === n.list[i]) ? n : { ...n, value, list };
      }
      case 'match': {
        const value = walk(n.value);
        return value === n.value ? n : { ...n, value };
      }
      case 'call': {
        // exists() takes a field name, not its value: of a missing field it is false (hasField).
        const [arg] = n.args;
        if (n.name === 'exists' && n.args.length === 1 && arg!.kind === 'field') return missing.has(arg!.path.join('.')) ? nullOf(n, false) : n;
        const args = n.args.map((a) => walk(a));
        return args.every((a, i) => a === n.args[i]) ? n : { ...n, args };
      }
    }
  };
  return walk(node, true);
}

/** A condition's evaluator (its value tested for truthiness) for events lacking the fields `missing` names: true or
 * false when it no longer reads the event. */
export function specialise(root: ExpressionNode, missing: ReadonlySet<string>, compile: (node: ExpressionNode) => ExpressionEvaluate): ExpressionEvaluate | boolean {
  const tree = withoutFields(root, missing);
  if (constant(tree)) return truthy(tree);
  return compile(tree);
}

/** What a shape asks: the rules that may match, in rule order, each with its condition (null: always matches). */
interface Plan {
  rules: number[];
  tests: (ExpressionEvaluate | null)[];
}

export class RuleShapes {
  private readonly names: string[];
  private readonly readers: ((e: Event) => unknown)[];
  private readonly plans = new Map<number, Plan>();
  /** Every rule as written, for shapes beyond MAX_SHAPES. */
  private readonly general: Plan;

  constructor(private readonly rules: readonly CompiledRule[]) {
    const fields = new Map<string, readonly string[]>();
    for (const r of rules) if (r.when) for (const p of fieldPaths(r.when.tree)) fields.set(p.join('.'), p);
    const kept = [...fields].slice(0, MAX_FIELDS);
    this.names = kept.map(([name]) => name);
    this.readers = kept.map(([, path]) => fieldReader(path));
    this.general = { rules: rules.map((_r, i) => i), tests: rules.map((r) => r.match) };
  }

  /** The indexes of the rules `e` matches, in rule order, pushed to `into`. */
  match(e: Event, into: number[]): void {
    const readers = this.readers;
    let shape = 0;
    for (let i = 0; i < readers.length; i++) if (readers[i]!(e) === undefined) shape |= 1 << i;
    const plan = this.plans.get(shape) ?? this.plan(shape);
    const { rules, tests } = plan;
    for (let k = 0; k < rules.length; k++) {
      const test = tests[k]!;
      // a condition holds when its value is truthy (compileConditionEvaluator)
      if (test === null || test(e)) into.push(rules[k]!);
    }
  }

  private plan(shape: number): Plan {
    if (this.plans.size >= MAX_SHAPES) return this.general;
    const missing = new Set(this.names.filter((_n, i) => (shape & (1 << i)) !== 0));
    const plan: Plan = { rules: [], tests: [] };
    this.rules.forEach((r, i) => {
      const test = r.when ? specialise(r.when.tree, missing, r.when.compile) : r.match;
      if (test === false) return;
      plan.rules.push(i);
      plan.tests.push(test === true ? null : test);
    });
    this.plans.set(shape, plan);
    return plan;
  }
}
