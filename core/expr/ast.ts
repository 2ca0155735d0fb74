// The syntax tree the parser produces and the compiler turns into closures. Every node keeps its column.
import type { Event } from '../api.js';

export type Literal = string | number | boolean | null;

export type ComparisonOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type ArithmeticOperator = '+' | '-' | '*' | '/' | '%';
/** The calls of an aggregate expression (aggregate-parser.ts). */
export type AggregateFunction = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'rate';

export type Node =
  | { kind: 'literal'; value: Literal; column: number }
  /** A field of the event; `path` has one entry per level of nesting (`a.b` → ['a', 'b']). */
  | { kind: 'field'; path: string[]; column: number }
  | { kind: 'not'; operand: Node; column: number }
  | { kind: 'negate'; operand: Node; column: number }
  /** `a or b or c` is one node with three operands, so a long chain does not make a deep tree. */
  | { kind: 'logical'; operator: 'and' | 'or'; operands: Node[]; column: number }
  | { kind: 'compare'; operator: ComparisonOperator; left: Node; right: Node; column: number }
  | { kind: 'arithmetic'; operator: ArithmeticOperator; left: Node; right: Node; column: number }
  | { kind: 'in'; negated: boolean; value: Node; list: Node[]; column: number }
  /** `=~` / `!~`: the regex is compiled by the parser, once. */
  | { kind: 'match'; negated: boolean; value: Node; regex: RegExp; column: number }
  | { kind: 'call'; name: string; args: Node[]; column: number }
  /** An aggregate call, only in aggregate expressions (`count(status >= 500)`, `sum(bytes)`, `rate()`). Its argument
   * is read from each event, not from the tree: the parser compiles it into `read` (like a regex, once), and `key`
   * names the accumulator it feeds, shared by every call of the same kind on the same argument text. */
  | { kind: 'aggregate'; fn: AggregateFunction; key: string; read: (event: Event) => unknown; fields: string[][]; column: number };

/** The direct sub-expressions of a node. */
export function childrenOf(node: Node): Node[] {
  switch (node.kind) {
    case 'literal':
    case 'field':
    case 'aggregate':
      return [];
    case 'not':
    case 'negate':
      return [node.operand];
    case 'logical':
      return node.operands;
    case 'compare':
    case 'arithmetic':
      return [node.left, node.right];
    case 'in':
      return [node.value, ...node.list];
    case 'match':
      return [node.value];
    case 'call':
      return node.args;
  }
}

/** The fields an expression reads, each as its path. */
export function fieldPaths(node: Node, out: string[][] = []): string[][] {
  if (node.kind === 'field') out.push(node.path);
  else if (node.kind === 'aggregate') out.push(...node.fields); // what its argument reads from each event
  for (const child of childrenOf(node)) fieldPaths(child, out);
  return out;
}
