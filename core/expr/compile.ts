// Syntax tree → one closure per node, built once. Evaluating a condition is then a few nested function calls
// with no tree walking, no lookups by operator and no allocation. Sub-expressions without fields are computed
// here, once (`60 * 60` becomes 3600, `x in (...)` over constants becomes a Set lookup).
import type { Event } from '../api.js';
import type { ComparisonOperator, Node } from './ast.js';
import { ExpressionError } from './errors.js';
import { fieldReader, hasField } from './fields.js';
import { EXISTS, FUNCTIONS, functionNames, isKnownFunction } from './functions.js';
import { ARITHMETIC, equal, finite, isAbsent, isTruthy, matchable, notEqual, ordered, ORDERINGS } from './values.js';

export type Evaluate = (event: Event) => unknown;
/** Given each node that reads the event, and its evaluator, returns the evaluator to use in its place: a caller's
 * way to add e.g. a cache of its results (lib/detect/memo.ts) without its own copy of the compiler. */
export type Wrap = (node: Node, evaluate: Evaluate) => Evaluate;

interface Compiled {
  evaluate: Evaluate;
  /** True when the value does not depend on the event. */
  constant: boolean;
}

/** Compiles a child node (and records it, so the parent knows whether it is constant). */
type Part = (child: Node) => Compiled;

const NO_EVENT: Event = Object.freeze({});

export function compileNode(node: Node, wrap?: Wrap): Evaluate {
  return compile(node, wrap).evaluate;
}

function compile(node: Node, wrap: Wrap | undefined): Compiled {
  if (node.kind === 'literal') return constant(node.value);
  if (node.kind === 'field') return { evaluate: fieldReader(node.path), constant: false };
  if (node.kind === 'call' && node.name === EXISTS) return { evaluate: wrap ? wrap(node, compileExists(node)) : compileExists(node), constant: false };
  const parts: Compiled[] = [];
  const part: Part = (child) => {
    const compiled = compile(child, wrap);
    parts.push(compiled);
    return compiled;
  };
  const evaluate = compileComposite(node, part);
  // Every other node is pure: without fields below it, its value is the same for every event.
  const isConstant = parts.every((p) => p.constant);
  if (isConstant) return constant(evaluate(NO_EVENT));
  return { evaluate: wrap ? wrap(node, evaluate) : evaluate, constant: false };
}

function constant(value: unknown): Compiled {
  return { evaluate: () => value, constant: true };
}

function compileComposite(node: Node, compilePart: Part): Evaluate {
  const part = (child: Node) => compilePart(child).evaluate;
  switch (node.kind) {
    case 'not': {
      const operand = part(node.operand);
      return (e) => !isTruthy(operand(e));
    }
    case 'negate': {
      const operand = part(node.operand);
      return (e) => {
        const v = operand(e);
        return typeof v === 'number' ? finite(-v) : null;
      };
    }
    case 'logical':
      return compileLogical(node.operator, node.operands.map(part));
    case 'arithmetic': {
      const left = part(node.left);
      const right = part(node.right);
      const apply = ARITHMETIC[node.operator];
      return (e) => apply(left(e), right(e));
    }
    case 'compare':
      return compileComparison(node.operator, node.left, node.right, compilePart);
    case 'in':
      return compileMembership(node.negated, part(node.value), node.list, compilePart);
    case 'match': {
      const value = part(node.value);
      const { regex, negated } = node;
      return (e) => {
        const text = matchable(value(e));
        return text !== undefined && regex.test(text) !== negated;
      };
    }
    case 'call':
      return compileCall(node, part);
    default:
      throw new Error(`not a composite node: ${node.kind}`);
  }
}

/** Short-circuit `and` / `or`; the result is always a boolean. */
function compileLogical(operator: 'and' | 'or', operands: Evaluate[]): Evaluate {
  if (operands.length === 2) {
    const [a, b] = operands;
    return operator === 'and' ? (e) => isTruthy(a(e)) && isTruthy(b(e)) : (e) => isTruthy(a(e)) || isTruthy(b(e));
  }
  // Loops, not every()/some(): those take a new closure per evaluation (detect's exploit-strings is a 5-way `or`
  // asked of every event).
  const n = operands.length;
  if (operator === 'and') {
    return (e) => {
      for (let i = 0; i < n; i++) if (!isTruthy(operands[i]!(e))) return false;
      return true;
    };
  }
  return (e) => {
    for (let i = 0; i < n; i++) if (isTruthy(operands[i]!(e))) return true;
    return false;
  };
}

const isNullLiteral = (node: Node) => node.kind === 'literal' && node.value === null;

function compileComparison(operator: ComparisonOperator, leftNode: Node, rightNode: Node, part: Part): Evaluate {
  // `x == null` / `x != null` are the one way to ask whether a field is missing (or null).
  if ((operator === '==' || operator === '!=') && (isNullLiteral(leftNode) || isNullLiteral(rightNode))) {
    const other = part(isNullLiteral(leftNode) ? rightNode : leftNode).evaluate;
    return operator === '==' ? (e) => isAbsent(other(e)) : (e) => !isAbsent(other(e));
  }
  const left = part(leftNode);
  const right = part(rightNode);
  // The usual shape, `field OP constant`, gets a closure of its own: one call less and no operator lookup.
  if (!left.constant && right.constant) {
    const fast = compareWithConstant(operator, left.evaluate, right.evaluate(NO_EVENT));
    if (fast) return fast;
  }
  const [l, r] = [left.evaluate, right.evaluate];
  if (operator === '==') return (e) => equal(l(e), r(e));
  if (operator === '!=') return (e) => notEqual(l(e), r(e));
  const order = ORDERINGS[operator];
  return (e) => ordered(order, l(e), r(e));
}

/** Same semantics as equal/notEqual/ordered, specialised for a constant number or string on the right. */
function compareWithConstant(operator: ComparisonOperator, left: Evaluate, c: unknown): Evaluate | undefined {
  if (typeof c !== 'number' && typeof c !== 'string') return undefined;
  const type = typeof c;
  switch (operator) {
    case '==':
      return (e) => left(e) === c;
    case '!=':
      return (e) => {
        const a = left(e);
        return a !== c && !isAbsent(a);
      };
    case '<':
      return (e) => {
        const a = left(e);
        return typeof a === type && (a as typeof c) < c;
      };
    case '<=':
      return (e) => {
        const a = left(e);
        return typeof a === type && (a as typeof c) <= c;
      };
    case '>':
      return (e) => {
        const a = left(e);
        return typeof a === type && (a as typeof c) > c;
      };
    case '>=':
      return (e) => {
        const a = left(e);
        return typeof a === type && (a as typeof c) >= c;
      };
  }
}

/** `x in (a, b)` is `x == a or x == b`; `x not in (a, b)` is `x != a and x != b` — with the same rules for null. */
function compileMembership(negated: boolean, value: Evaluate, list: Node[], part: Part): Evaluate {
  const listsNull = list.some(isNullLiteral);
  const items = list.filter((n) => !isNullLiteral(n)).map(part);
  if (items.every((item) => item.constant)) {
    const values = items.map((item) => item.evaluate(NO_EVENT));
    const set = new Set(values.filter((v) => !isAbsent(v)));
    // A constant that is null without being the literal null (e.g. 1 / 0) equals nothing and differs from nothing.
    const hasAbsent = values.some(isAbsent);
    if (negated) return hasAbsent ? () => false : (e) => { const v = value(e); return !isAbsent(v) && !set.has(v); };
    return (e) => {
      const v = value(e);
      return isAbsent(v) ? listsNull : set.has(v);
    };
  }
  const evaluators = items.map((item) => item.evaluate);
  if (negated) {
    return (e) => {
      const v = value(e);
      return !isAbsent(v) && evaluators.every((item) => notEqual(v, item(e)));
    };
  }
  return (e) => {
    const v = value(e);
    return isAbsent(v) ? listsNull : evaluators.some((item) => equal(v, item(e)));
  };
}

function compileExists(node: Extract<Node, { kind: 'call' }>): Evaluate {
  const [arg] = node.args;
  if (node.args.length !== 1 || arg.kind !== 'field') {
    const column = arg?.column ?? node.column;
    throw new ExpressionError(`exists() at column ${column} takes one field name; expected e.g. exists(user_agent)`, column);
  }
  const path = arg.path;
  return (e) => hasField(e, path);
}

function compileCall(node: Extract<Node, { kind: 'call' }>, part: (child: Node) => Evaluate): Evaluate {
  if (!isKnownFunction(node.name)) {
    throw new ExpressionError(`unknown function "${node.name}" at column ${node.column}; expected one of: ${functionNames().join(', ')}`, node.column);
  }
  const { arity, fn } = FUNCTIONS[node.name];
  if (node.args.length !== arity) {
    throw new ExpressionError(`wrong number of arguments for ${node.name}() at column ${node.column}; expected ${arity}, got ${node.args.length}`, node.column);
  }
  const args = node.args.map(part);
  if (arity === 1) {
    const [a] = args;
    return (e) => fn(a(e));
  }
  if (arity === 2) {
    const [a, b] = args;
    return (e) => fn(a(e), b(e));
  }
  const [a, b, c] = args;
  return (e) => fn(a(e), b(e), c(e));
}
