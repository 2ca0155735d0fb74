// Splits expression text into tokens, each with the column it starts at (for error messages).
import { ExpressionError, unexpected } from './errors.js';

export type TokenKind = 'number' | 'string' | 'name' | 'quoted_name' | 'operator' | 'end';

export interface Token {
  kind: TokenKind;
  /** The source text of the token (for messages and operators). */
  text: string;
  /** Numbers and strings: the value; names: the name (backtick quotes and escapes removed). */
  value: string | number;
  /** 1-based. */
  column: number;
}

// Longest first, so that `<=` is not read as `<` then `=`.
const OPERATORS = ['==', '!=', '<=', '>=', '=~', '!~', '&&', '||', '<', '>', '!', '+', '-', '*', '/', '%', '(', ')', ',', '.'];
const NUMBER = /(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const NAME = /[A-Za-z_][A-Za-z0-9_]*/y;
const SPACE = /\s+/y;

// Only these escapes are translated. Any other backslash is kept as written, so a regex reads as usual:
// "^/api/\d+$" means the regex ^/api/\d+$ (no need to double every backslash).
const ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '0': '\0', '\\': '\\', '"': '"', "'": "'", '`': '`' };

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const matchAt = (re: RegExp): string | undefined => {
    re.lastIndex = i;
    return re.exec(text)?.[0];
  };
  while (true) {
    i += matchAt(SPACE)?.length ?? 0;
    const column = i + 1;
    if (i >= text.length) {
      tokens.push({ kind: 'end', text: '', value: '', column });
      return tokens;
    }
    const c = text[i];
    // `.5` is a number, except after a name, where a dot continues a field path (`tags.0` is reported as such).
    const previous = tokens[tokens.length - 1]?.kind;
    const number = c === '.' && (previous === 'name' || previous === 'quoted_name') ? undefined : matchAt(NUMBER);
    const name = number === undefined ? matchAt(NAME) : undefined;
    if (number !== undefined) {
      tokens.push({ kind: 'number', text: number, value: Number(number), column });
      i += number.length;
    } else if (name !== undefined) {
      tokens.push({ kind: 'name', text: name, value: name, column });
      i += name.length;
    } else if (c === '"' || c === "'" || c === '`') {
      const { value, end } = readQuoted(text, i);
      tokens.push({ kind: c === '`' ? 'quoted_name' : 'string', text: text.slice(i, end), value, column });
      i = end;
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      // A lone `=` (as in SQL) is the most common slip: name the fix.
      if (op === undefined && c === '=') throw unexpected('"="', column, '"==" to compare or "=~" to match a regex');
      if (op === undefined) throw unexpected(`character ${JSON.stringify(c)}`, column, 'a value or an operator');
      tokens.push({ kind: 'operator', text: op, value: op, column });
      i += op.length;
    }
  }
}

/** A quoted string or name starting at `start` (the quote): its value and the index after the closing quote. */
function readQuoted(text: string, start: number): { value: string; end: number } {
  const quote = text[start];
  let value = '';
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === quote) return { value, end: i + 1 };
    if (c !== '\\') {
      value += c;
      continue;
    }
    const next = text[i + 1];
    if (next === 'u') {
      const hex = /^\{([0-9a-fA-F]{1,6})\}|^([0-9a-fA-F]{4})/.exec(text.slice(i + 2));
      const code = hex ? parseInt(hex[1] ?? hex[2], 16) : NaN;
      if (!(code <= 0x10ffff)) throw new ExpressionError(`invalid escape at column ${i + 1}; expected \\uXXXX or \\u{X...}`, i + 1);
      value += String.fromCodePoint(code);
      i += 1 + hex![0].length;
    } else if (next !== undefined && next in ESCAPES) {
      value += ESCAPES[next];
      i++;
    } else {
      value += c; // kept as written (see ESCAPES)
    }
  }
  const what = quote === '`' ? 'name' : 'string';
  throw new ExpressionError(`unterminated ${what} at column ${start + 1}; expected a closing ${quote}`, start + 1);
}
