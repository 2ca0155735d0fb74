// Aggregate expressions are the arithmetic of the expression language (+ - * / %, unary -, parentheses,
// numbers) over aggregate calls: count(), count(<condition>), sum(x), avg(x), min(x), max(x), rate(). The same
// lexer and parser read them: AggregateParser replaces only the primary values (an aggregate call where a
// field or a function would be), and each call's argument is an ordinary condition or expression, parsed by
// the base parser from its own run of tokens.
// Errors name the aggregate expression they are in: `<problem> at column N of "<aggregate expression>"`, N
// counted in that text (for a comparison, in its side), and an argument's own error counted in the argument.
import { fieldPaths, type AggregateFunction, type ComparisonOperator, type Node } from './ast.js';
import { compileNode, type Evaluate } from './compile.js';
import { ExpressionError } from './errors.js';
import { tokenize, type Token } from './lexer.js';
import { Parser, parseTokens } from './parser.js';

export const AGGREGATE_FUNCTIONS: readonly AggregateFunction[] = ['count', 'sum', 'avg', 'min', 'max', 'rate'];
const COMPARISONS = new Set(['>=', '<=', '==', '!=', '>', '<']);

/** count() and rate() count the events (matching the condition); the others read a number from each. */
export const counts = (fn: AggregateFunction): boolean => fn === 'count' || fn === 'rate';

/** An aggregate expression, e.g. `count(status >= 500) / count()`. Throws ExpressionError when it is invalid. */
export function parseAggregate(text: string): Node {
  return new AggregateParser(tokenize(text), text).parseAll();
}

/** `<aggregate expression> <comparison> <aggregate expression>`, e.g. `count(status >= 500) / count() > 0.05`.
 * Throws ExpressionError when it is invalid. */
export function parseAggregateComparison(text: string): { left: Node; operator: ComparisonOperator; right: Node } {
  const tokens = tokenize(text);
  const found = topLevelComparisons(tokens);
  if (found.length !== 1) {
    throw new ExpressionError(`expected one comparison of aggregate expressions, e.g. count(status >= 500) / count() > 0.05 (got "${text}")`, 1);
  }
  const [at] = found;
  const side = (from: number, to: number) => {
    const run = excerpt(tokens, from, to, text);
    return new AggregateParser(run.tokens, run.text).parseAll();
  };
  return { left: side(0, at), operator: tokens[at].text as ComparisonOperator, right: side(at + 1, tokens.length - 1) };
}

/** Whether `text` has exactly one comparison outside parentheses: the shape of an aggregate comparison. */
export function isAggregateComparison(text: string): boolean {
  return topLevelComparisons(tokenize(text)).length === 1;
}

/** Indexes of the comparison operators outside parentheses. */
function topLevelComparisons(tokens: Token[]): number[] {
  const found: number[] = [];
  let depth = 0;
  tokens.forEach((token, i) => {
    if (token.kind !== 'operator') return;
    if (token.text === '(') depth++;
    else if (token.text === ')') depth--;
    else if (depth === 0 && COMPARISONS.has(token.text)) found.push(i);
  });
  return found;
}

/** tokens[from, to) as the tokens of their own text: the source they span (so without surrounding spaces), columns
 * counted from its start, and an end token. */
function excerpt(tokens: Token[], from: number, to: number, source: string): { tokens: Token[]; text: string } {
  if (from >= to) return { tokens: [{ kind: 'end', text: '', value: '', column: 1 }], text: '' };
  const start = tokens[from].column;
  const last = tokens[to - 1];
  const text = source.slice(start - 1, last.column - 1 + last.text.length);
  const run = tokens.slice(from, to).map((token) => ({ ...token, column: token.column - start + 1 }));
  run.push({ kind: 'end', text: '', value: '', column: text.length + 1 });
  return { tokens: run, text };
}

const isOperator = (token: Token, text: string) => token.kind === 'operator' && token.text === text;

class AggregateParser extends Parser {
  /** `tokens` are those of `text`, which messages quote. */
  constructor(tokens: Token[], private readonly text: string) {
    super(tokens);
  }

  override parseAll(): Node {
    if (!this.text.trim()) throw new ExpressionError('expected an aggregate expression such as count()', 1);
    const node = this.parseAdditive();
    const next = this.peek();
    if (next.kind !== 'end') throw this.error(`unexpected "${next.text[0]}"`, next.column);
    return node;
  }

  /** A number, a parenthesised aggregate expression or an aggregate call (unary minus is the base parser's). */
  protected override parsePrimary(): Node {
    const token = this.peek();
    if (token.kind === 'number') {
      this.position++;
      return { kind: 'literal', value: token.value, column: token.column };
    }
    if (isOperator(token, '(')) {
      this.position++;
      const inner = this.nested(token, () => this.parseAdditive());
      const close = this.peek();
      if (!isOperator(close, ')')) throw this.error('expected ")"', close.column);
      this.position++;
      return inner;
    }
    if (token.kind === 'name') return this.parseAggregateCall(token);
    const found = token.kind === 'end' ? 'end' : `"${token.text[0]}"`;
    throw this.error(`unexpected ${found}; expected a number or an aggregate call`, token.column);
  }

  private parseAggregateCall(name: Token): Node {
    const fn = name.text as AggregateFunction;
    if (!AGGREGATE_FUNCTIONS.includes(fn)) {
      throw this.error(`unknown aggregate "${name.text}" (expected one of ${AGGREGATE_FUNCTIONS.join(', ')}; fields are only read inside a call, e.g. sum(bytes))`, name.column);
    }
    const open = this.tokens[this.position + 1];
    if (!isOperator(open, '(')) throw this.error(`expected "(" after ${fn}`, open.column);
    const from = this.position + 2;
    const to = this.closingParenthesis(from);
    if (to === undefined) throw this.error(`unclosed "(" of ${fn}`, this.tokens[this.tokens.length - 1].column);
    this.position = to + 1;
    const after = this.tokens[to].column + 1;
    const arg = excerpt(this.tokens, from, to, this.text);
    if (fn === 'rate' && arg.text) throw this.error('rate() takes no argument', after);
    if (!counts(fn) && !arg.text) throw this.error(`${fn}() needs a field or expression, e.g. ${fn}(bytes)`, after);
    let read: Evaluate = () => true; // count(): every event
    let fields: string[][] = [];
    try {
      if (arg.text) {
        const parsed = parseTokens(arg.tokens);
        read = compileNode(parsed);
        fields = fieldPaths(parsed);
      }
    } catch (err) {
      if (err instanceof ExpressionError) throw this.error(`in ${fn}(${arg.text}): ${err.message}`, after);
      throw err;
    }
    // The key is the argument's text: partials name their accumulators by it (window_merge checks they agree).
    return { kind: 'aggregate', fn, key: `${counts(fn) ? 'count' : 'value'}(${arg.text})`, read, fields, column: name.column };
  }

  /** The index of the ")" closing the "(" before `from`, if any. */
  private closingParenthesis(from: number): number | undefined {
    let depth = 1;
    for (let i = from; i < this.tokens.length; i++) {
      const token = this.tokens[i];
      if (isOperator(token, '(')) depth++;
      else if (isOperator(token, ')') && --depth === 0) return i;
    }
    return undefined;
  }

  private error(problem: string, column: number): ExpressionError {
    return new ExpressionError(`${problem} at column ${column} of "${this.text}"`, column);
  }
}
