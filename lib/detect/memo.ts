// Rule conditions with a cache of what their sub-conditions over one field give: a sub-condition that reads one
// field only (`user_agent =~ "(?i)(sqlmap|nikto|...)"`, `path !~ STATIC`, the url guards and their regex) is a pure
// function of that field's value, and those values repeat: in the Elastic example access log (10,000 lines of a
// real site) 559 user agents, 1,368 paths and 1,498 urls. The default pack tests ten such sub-conditions per
// event over four fields, each a regex of 50 to 190 ns (measured per rule on the generated day).
//
// One cache per field, shared by every rule compiled with the same FieldMemos: a value's entry holds the result
// of each sub-condition on it (computed when first asked), so an event costs one Map lookup per field, not one per
// sub-condition (per sub-condition, the lookups were 29% of the detect profile: each hashes and compares the
// whole string); the other sub-conditions on the same event find the entry by `===` on the same string, which
// V8 answers by identity. Only string values are cached, in a RecentCache (keys detached, MEMO_ENTRIES at most);
// a field whose values stop repeating (a period of lookups with fewer than half hits) is evaluated directly for a
// while, then tried again: caching a value seen once costs more than the regex.
import {
  childrenOf, compileConditionTree, fieldPaths, fieldReader, parseCondition, type Condition, type Event, type ExpressionEvaluate, type ExpressionNode, type ExpressionWrap,
} from '../../core/index.js';
import { RecentCache } from '../insight/index.js';

/** Distinct values kept per field (two generations of half that). */
export const MEMO_ENTRIES = 4096;
/** Lookups per period: a period with fewer than MIN_HITS hits turns the cache off for OFF_PERIODS periods, then it
 * is tried again. Misses cost: with every path, url and user agent unique the pack took 1,532 instead of 1,322 ns
 * per event (test/bench/detect-process.ts, 200,000 events, mostly the first period's misses of each field). */
const PERIOD = 8192;
const MIN_HITS = PERIOD / 2;
const OFF_PERIODS = 32;

const hasRegex = (node: ExpressionNode): boolean => node.kind === 'match' || childrenOf(node).some(hasRegex);

/** The largest sub-conditions of `root` reading exactly one field and testing a regex: those worth caching. */
export function cachedParts(root: ExpressionNode): Set<ExpressionNode> {
  const out = new Set<ExpressionNode>();
  const visit = (node: ExpressionNode): void => {
    const fields = new Set(fieldPaths(node).map((p) => JSON.stringify(p)));
    if (fields.size === 1 && node.kind !== 'field' && hasRegex(node)) out.add(node);
    else for (const child of childrenOf(node)) visit(child);
  };
  visit(root);
  return out;
}

/** The cache of one field: per value, the results of the sub-conditions on it (undefined: not computed yet). */
class FieldMemo {
  readonly read: (e: Event) => unknown;
  /** Sub-conditions registered: the length of an entry. */
  parts = 0;
  private readonly cache = new RecentCache<string, unknown[]>(MEMO_ENTRIES);
  private lastKey: string | undefined;
  private lastEntry: unknown[] | undefined;
  private lookups = 0;
  private hitsBefore = 0;
  private off = 0;

  constructor(path: readonly string[]) {
    this.read = fieldReader(path);
  }

  /** The entry of `key`, or undefined while the cache is off. */
  entry(key: string): unknown[] | undefined {
    if (this.off > 0) {
      this.off--;
      return undefined;
    }
    if (key === this.lastKey) return this.lastEntry;
    let entry = this.cache.lookup(key);
    if (entry === undefined) this.cache.set(key, (entry = new Array(this.parts)));
    if (++this.lookups === PERIOD) {
      // off counts calls of entry(), one per sub-condition asked
      if (this.cache.hits - this.hitsBefore < MIN_HITS) this.off = PERIOD * OFF_PERIODS * this.parts;
      this.lookups = 0;
      this.hitsBefore = this.cache.hits;
    }
    // Held until the next value: one string, whatever it was cut from.
    this.lastKey = key;
    this.lastEntry = entry;
    return entry;
  }

  cached(evaluate: ExpressionEvaluate): ExpressionEvaluate {
    const index = this.parts++;
    return (e) => {
      const key = this.read(e);
      if (typeof key !== 'string') return evaluate(e);
      const entry = this.entry(key);
      if (entry === undefined) return evaluate(e);
      let value = entry[index];
      // undefined and null are the same value to every operator (core/expr/values.ts); undefined means "not computed"
      if (value === undefined) entry[index] = value = evaluate(e) ?? null;
      return value;
    };
  }
}

/** The field caches shared by the conditions of one rule set (one detect aggregate). */
export class FieldMemos {
  private readonly byField = new Map<string, FieldMemo>();

  /** `text` compiled as compileCondition does, its sub-conditions over one field cached (same results). */
  condition(text: string): Condition {
    const root = parseCondition(text);
    const parts = cachedParts(root);
    const wrap: ExpressionWrap = (node, evaluate) => {
      if (!parts.has(node)) return evaluate;
      const path = fieldPaths(node)[0];
      const id = JSON.stringify(path);
      let memo = this.byField.get(id);
      if (!memo) this.byField.set(id, (memo = new FieldMemo(path)));
      return memo.cached(evaluate);
    };
    return compileConditionTree(root, wrap);
  }
}
