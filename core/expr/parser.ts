// Recursive-descent parser: expression text → syntax tree, or an ExpressionError naming the column and what was
// expected there. Precedence, loosest first:
//   or ||   and &&   not !   comparisons (== != < <= > >= in, not in, =~ !~; not chainable)   + -   * / %   unary -
import { childrenOf, type ArithmeticOperator, type ComparisonOperator, type Node } from './ast.js';
import { ExpressionError, unexpected } from './errors.js';
import { tokenize, type Token } from './lexer.js';

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null']);
const COMPARISONS = new Set(['==', '!=', '<', '<=', '>', '>=']);
/** Deep enough for any real condition; shallow enough that neither parsing, compiling nor evaluating (all
 * recursive) can overflow the stack. Parentheses, calls, unary and binary operators each add a level; a chain of
 * and/or is a single level. */
const MAX_DEPTH = 100;

export function parse(text: string): Node {
  return parseTokens(tokenize(text));
}

/** Parse tokens of the lexer (or a run of them, see aggregate-parser.ts). */
export function parseTokens(tokens: Token[]): Node {
  return new Parser(tokens).parseAll();
}

/** The grammar of conditions and expressions; AggregateParser extends it with aggregate calls. */
export class Parser {
  protected position = 0;
  /** Current recursion depth of the parser. */
  private depth = 0;
  /** Depth of each tree built so far (a long `a or b or c ...` chain is deep without any recursion while parsing). */
  private readonly treeDepth = new WeakMap<Node, number>();

  constructor(protected readonly tokens: Token[]) {}

  parseAll(): Node {
    const node = this.parseOr();
    const next = this.peek();
    if (isWord(next, 'not')) {
      const after = this.tokens[this.position + 1];
      throw unexpected(describe(after), after.column, '"in" after "not"');
    }
    if (next.kind !== 'end') throw unexpected(describe(next), next.column, 'an operator or the end of the expression');
    return node;
  }

  private parseOr(): Node {
    return this.parseLogical('or', '||', () => this.parseAnd());
  }

  private parseAnd(): Node {
    return this.parseLogical('and', '&&', () => this.parseNot());
  }

  /** `a or b or c` (and `||`): one node for the whole chain. */
  private parseLogical(word: 'and' | 'or', symbol: string, parseOperand: () => Node): Node {
    const first = parseOperand();
    const operands = [first];
    let column = 0;
    for (let op = this.peek(); isWord(op, word) || (op.kind === 'operator' && op.text === symbol); op = this.peek()) {
      this.position++;
      column ||= op.column;
      operands.push(parseOperand());
    }
    return operands.length === 1 ? first : this.node({ kind: 'logical', operator: word, operands, column });
  }

  /** `not` and `!` are the same operator: looser than comparisons, so `not a == b` is `not (a == b)`. */
  private parseNot(): Node {
    const op = this.peek();
    if (isWord(op, 'not') || (op.kind === 'operator' && op.text === '!')) {
      this.position++;
      return this.nested(op, () => this.node({ kind: 'not', operand: this.parseNot(), column: op.column }));
    }
    return this.parseComparison();
  }

  private parseComparison(): Node {
    const left = this.parseAdditive();
    const node = this.parseComparisonTail(left);
    if (node === left) return node;
    const next = this.peek();
    if (isComparisonStart(next, this.tokens[this.position + 1])) {
      throw unexpected(describe(next), next.column, 'and/or between comparisons (they cannot be chained)');
    }
    return node;
  }

  /** The operator and right side of a comparison after `left`, or `left` itself when none follows. */
  private parseComparisonTail(left: Node): Node {
    const op = this.peek();
    if (op.kind === 'operator' && COMPARISONS.has(op.text)) {
      this.position++;
      return this.node({ kind: 'compare', operator: op.text as ComparisonOperator, left, right: this.parseAdditive(), column: op.column });
    }
    if (op.kind === 'operator' && (op.text === '=~' || op.text === '!~')) {
      this.position++;
      return this.node({ kind: 'match', negated: op.text === '!~', value: left, regex: this.parseRegex(), column: op.column });
    }
    if (isWord(op, 'in')) {
      this.position++;
      return this.node({ kind: 'in', negated: false, value: left, list: this.parseList(op), column: op.column });
    }
    if (isWord(op, 'not') && isWord(this.tokens[this.position + 1], 'in')) {
      this.position += 2;
      return this.node({ kind: 'in', negated: true, value: left, list: this.parseList(op), column: op.column });
    }
    return left;
  }

  private parseRegex(): RegExp {
    const token = this.peek();
    if (token.kind !== 'string') throw unexpected(describe(token), token.column, 'a regex in quotes, e.g. "^/api/"');
    this.position++;
    return compileRegex(String(token.value), token.column);
  }

  /** `( value, value, ... )` after `in`. */
  private parseList(inToken: Token): Node[] {
    this.expectOperator('(', `"(" after "${inToken.text === 'not' ? 'not in' : 'in'}", e.g. in ("GET", "HEAD")`);
    const items = [this.parseAdditive()];
    while (this.peek().text === ',' && this.peek().kind === 'operator') {
      this.position++;
      items.push(this.parseAdditive());
    }
    this.expectOperator(')', '"," or ")" to end the list');
    return items;
  }

  protected parseAdditive(): Node {
    let left = this.parseMultiplicative();
    for (let op = this.peek(); op.kind === 'operator' && (op.text === '+' || op.text === '-'); op = this.peek()) {
      this.position++;
      left = this.node({ kind: 'arithmetic', operator: op.text as ArithmeticOperator, left, right: this.parseMultiplicative(), column: op.column });
    }
    return left;
  }

  private parseMultiplicative(): Node {
    let left = this.parseUnary();
    for (let op = this.peek(); op.kind === 'operator' && (op.text === '*' || op.text === '/' || op.text === '%'); op = this.peek()) {
      this.position++;
      left = this.node({ kind: 'arithmetic', operator: op.text as ArithmeticOperator, left, right: this.parseUnary(), column: op.column });
    }
    return left;
  }

  private parseUnary(): Node {
    const op = this.peek();
    if (op.kind === 'operator' && op.text === '-') {
      this.position++;
      return this.nested(op, () => {
        const operand = this.parseUnary();
        // Fold `-5` into a literal, so that `x in (-1, 1)` stays a list of constants.
        if (operand.kind === 'literal' && typeof operand.value === 'number') return { ...operand, value: -operand.value, column: op.column };
        return this.node({ kind: 'negate', operand, column: op.column });
      });
    }
    return this.parsePrimary();
  }

  protected parsePrimary(): Node {
    const token = this.peek();
    switch (token.kind) {
      case 'number':
      case 'string':
        this.position++;
        return { kind: 'literal', value: token.value, column: token.column };
      case 'quoted_name':
        return this.parseField();
      case 'name':
        if (token.text === 'true' || token.text === 'false') {
          this.position++;
          return { kind: 'literal', value: token.text === 'true', column: token.column };
        }
        if (token.text === 'null') {
          this.position++;
          return { kind: 'literal', value: null, column: token.column };
        }
        if (KEYWORDS.has(token.text)) break;
        if (this.tokens[this.position + 1].text === '(' && this.tokens[this.position + 1].kind === 'operator') return this.parseCall();
        return this.parseField();
      case 'operator':
        if (token.text === '(') {
          this.position++;
          const inner = this.nested(token, () => this.parseOr());
          this.expectOperator(')', `")" to close the "(" at column ${token.column}`);
          return inner;
        }
        break;
    }
    throw unexpected(describe(token), token.column, 'a value');
  }

  /** `name`, `` `odd-name` ``, `a.b.c`: one path segment per level. */
  private parseField(): Node {
    const first = this.peek();
    const path = [String(first.value)];
    this.position++;
    while (this.peek().kind === 'operator' && this.peek().text === '.') {
      this.position++;
      const segment = this.peek();
      // After a dot any name is a field, keywords included (`request.in`).
      if (segment.kind !== 'name' && segment.kind !== 'quoted_name') throw unexpected(describe(segment), segment.column, 'a field name after "."');
      path.push(String(segment.value));
      this.position++;
    }
    return { kind: 'field', path, column: first.column };
  }

  private parseCall(): Node {
    const name = this.peek();
    this.position += 2; // the name and "("
    const args: Node[] = [];
    if (!(this.peek().kind === 'operator' && this.peek().text === ')')) {
      args.push(this.nested(name, () => this.parseOr()));
      while (this.peek().kind === 'operator' && this.peek().text === ',') {
        this.position++;
        args.push(this.nested(name, () => this.parseOr()));
      }
    }
    this.expectOperator(')', `"," or ")" to end the arguments of ${name.text}()`);
    return this.node({ kind: 'call', name: name.text, args, column: name.column });
  }

  private expectOperator(text: string, expected: string): void {
    const token = this.peek();
    if (token.kind !== 'operator' || token.text !== text) throw unexpected(describe(token), token.column, expected);
    this.position++;
  }

  /** Record a new node's depth, refusing trees too deep to compile and evaluate safely. */
  protected node(node: Node): Node {
    let depth = 1;
    for (const child of childrenOf(node)) depth = Math.max(depth, (this.treeDepth.get(child) ?? 1) + 1);
    if (depth > MAX_DEPTH) throw tooDeep(node.column);
    this.treeDepth.set(node, depth);
    return node;
  }

  protected nested<T>(at: Token, parseInner: () => T): T {
    if (++this.depth > MAX_DEPTH) throw tooDeep(at.column);
    try {
      return parseInner();
    } finally {
      this.depth--;
    }
  }

  protected peek(): Token {
    return this.tokens[this.position];
  }
}

function tooDeep(column: number): ExpressionError {
  return new ExpressionError(`expression nested too deeply at column ${column}; expected at most ${MAX_DEPTH} levels`, column);
}

function isWord(token: Token | undefined, word: string): boolean {
  return token?.kind === 'name' && token.text === word;
}

function isComparisonStart(token: Token, next: Token | undefined): boolean {
  if (token.kind === 'operator') return COMPARISONS.has(token.text) || token.text === '=~' || token.text === '!~';
  return isWord(token, 'in') || (isWord(token, 'not') && isWord(next, 'in'));
}

/** How a token is named in a message. */
function describe(token: Token): string {
  if (token.kind === 'end') return 'end of expression';
  return token.kind === 'string' ? `string ${token.text}` : `"${token.text}"`;
}

/** `(?i)` at the start makes the regex case-insensitive (JavaScript has no inline flags). */
function compileRegex(source: string, column: number): RegExp {
  const caseless = source.startsWith('(?i)');
  try {
    return new RegExp(caseless ? source.slice(4) : source, caseless ? 'i' : '');
  } catch (err) {
    const reason = (err as Error).message.replace(/^.*: /, '');
    throw new ExpressionError(`invalid regex ${JSON.stringify(source)} at column ${column}: ${reason}`, column);
  }
}
