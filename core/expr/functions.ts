// The functions an expression may call. All are pure and total: a wrong type gives null (or false for the
// predicates), never an exception. `exists(field)` is not here: it takes a field, not a value (see compile.ts).
import { finite, isTruthy } from './values.js';

type Fn = (...args: unknown[]) => unknown;
export interface FunctionDef {
  arity: number;
  fn: Fn;
}

const str = (v: unknown): v is string => typeof v === 'string';
const num = (v: unknown): v is number => typeof v === 'number';

const onNumber = (op: (n: number) => number): FunctionDef => ({ arity: 1, fn: (n) => (num(n) ? finite(op(n)) : null) });

export const FUNCTIONS: Readonly<Record<string, FunctionDef>> = Object.freeze({
  // Substring of a string, or element of a list field (e.g. tags).
  contains: { arity: 2, fn: (s, sub) => (str(s) ? str(sub) && s.includes(sub) : Array.isArray(s) && sub !== null && sub !== undefined && s.includes(sub)) },
  starts_with: { arity: 2, fn: (s, prefix) => str(s) && str(prefix) && s.startsWith(prefix) },
  ends_with: { arity: 2, fn: (s, suffix) => str(s) && str(suffix) && s.endsWith(suffix) },
  lower: { arity: 1, fn: (s) => (str(s) ? s.toLowerCase() : null) },
  upper: { arity: 1, fn: (s) => (str(s) ? s.toUpperCase() : null) },
  len: { arity: 1, fn: (v) => (str(v) || Array.isArray(v) ? v.length : null) },
  floor: onNumber(Math.floor),
  ceil: onNumber(Math.ceil),
  round: onNumber(Math.round),
  abs: onNumber(Math.abs),
  // Explicit conversions, since operators never convert: number("503") is 503, number("x") is null.
  number: { arity: 1, fn: (v) => (num(v) ? finite(v) : str(v) && v.trim() !== '' ? finite(Number(v)) : null) },
  string: { arity: 1, fn: (v) => (str(v) ? v : num(v) || typeof v === 'boolean' ? String(v) : null) },
  // A choice by value, e.g. a ban duration per severity: if(severity == "critical", "24h", "4h"). Both
  // branches are evaluated (they are pure), the condition by the usual truth rules.
  if: { arity: 3, fn: (cond, then, otherwise) => (isTruthy(cond) ? then : otherwise) },
  // Epoch milliseconds (the `time`, `first`, `last` of alert events) as ISO 8601 UTC text, for lines read by
  // other tools (fail2ban's datepattern, CrowdSec); null for a non-number or a time Date cannot hold.
  iso_time: { arity: 1, fn: (ms) => (num(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : null) },
});

/** `exists(field)` takes a field reference rather than a value. */
export const EXISTS = 'exists';

export function functionNames(): string[] {
  return [...Object.keys(FUNCTIONS), EXISTS].sort();
}

export function isKnownFunction(name: string): boolean {
  return Object.hasOwn(FUNCTIONS, name);
}
