// The semantics of operators on event values, in one place. None of these throw, whatever they are given.
// Missing fields arrive as `undefined`; `undefined` and `null` behave the same everywhere.

/** Missing or null. */
export function isAbsent(value: unknown): value is null | undefined {
  return value === null || value === undefined;
}

/** What `and`, `or`, `not` and a condition's result test: false, 0, "", null and missing are false. */
export function isTruthy(value: unknown): boolean {
  return Boolean(value);
}

/** `==` between two operands neither of which is the literal `null`: strict, and false if either is absent. */
export function equal(a: unknown, b: unknown): boolean {
  return !isAbsent(a) && !isAbsent(b) && a === b;
}

/** `!=` likewise: a comparison with an absent value is false, whichever the operator. */
export function notEqual(a: unknown, b: unknown): boolean {
  return !isAbsent(a) && !isAbsent(b) && a !== b;
}

type Order = (a: number | string, b: number | string) => boolean;
export const ORDERINGS: Record<'<' | '<=' | '>' | '>=', Order> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

/** Ordering: numbers with numbers, strings with strings (by UTF-16 code units); anything else is false. */
export function ordered(order: Order, a: unknown, b: unknown): boolean {
  if (typeof a === 'number') return typeof b === 'number' && order(a, b);
  if (typeof a === 'string') return typeof b === 'string' && order(a, b);
  return false;
}

/** A number result, or null instead of Infinity or NaN. */
export function finite(n: number): number | null {
  return Number.isFinite(n) ? n : null;
}

type Arithmetic = (a: unknown, b: unknown) => unknown;
export const ARITHMETIC: Record<'+' | '-' | '*' | '/' | '%', Arithmetic> = {
  // `+` also joins two strings; a number and a string give null (convert with string() or number()).
  '+': (a, b) => (typeof a === 'number' && typeof b === 'number' ? finite(a + b) : typeof a === 'string' && typeof b === 'string' ? a + b : null),
  '-': (a, b) => (typeof a === 'number' && typeof b === 'number' ? finite(a - b) : null),
  '*': (a, b) => (typeof a === 'number' && typeof b === 'number' ? finite(a * b) : null),
  '/': (a, b) => (typeof a === 'number' && typeof b === 'number' && b !== 0 ? finite(a / b) : null),
  '%': (a, b) => (typeof a === 'number' && typeof b === 'number' && b !== 0 ? finite(a % b) : null),
};

/** The text a regex is matched against: strings, and numbers in decimal (`status =~ "^5"`); otherwise none. */
export function matchable(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}
