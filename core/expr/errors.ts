// Compile-time errors of the expression language. Evaluation never throws, so this is the only error it has.

/** A condition or expression that does not compile. `column` is 1-based within the expression text. */
export class ExpressionError extends Error {
  constructor(message: string, readonly column: number) {
    super(message);
    this.name = 'ExpressionError';
  }
}

/** `unexpected ")" at column 12; expected a value`: the one shape of every syntax error. */
export function unexpected(found: string, column: number, expected: string): ExpressionError {
  return new ExpressionError(`unexpected ${found} at column ${column}; expected ${expected}`, column);
}
