// Rule conditions with a cache of what their sub-conditions over one field give: a sub-condition that reads one
// field only (`user_agent =~ "(?i)(sqlmap|nikto|...)"`, `path !~ STATIC`, the url guards and their regex) is a pure
// function of that field's value, and those values repeat: in the Elastic example access log (10,000 lines of a
// real site) 559 user agents, 1,368 paths and 1,498 urls. The default pack tests ten such sub-conditions per
// event over four fields, each a regex of 50 to 190 ns (measured per rule on the generated day).
//
// One cache of values, shared by every field and rule compiled with the same FieldMemos: a value's entry holds the
// result of each sub-condition on it (computed when first asked), so an event costs at most one Map lookup per
// field, not one per sub-condition (per sub-condition, the lookups were 29% of the detect profile: each hashes and
// compares the whole string); the other sub-conditions on the same event find the entry by `===` on the same
// string. Shared, because a url without a query string (85% of the generated day's) is its path: the url's
// sub-conditions find the path's entry by `===` (same characters, compared without hashing) and skip a lookup of
// ~80 ns. A field whose only cached sub-conditions are guarded by a test without a regex (the referer's
// `(contains(referer, "{") or contains(referer, "%7")) and referer =~ ...`) is not cached: the guard (35 ns on
// the generated day) costs less than the lookup (76 ns). A long value (a user agent) is found by a hash of a few of
// its characters and then compared, since Map hashes every character of a fresh string (sampleHash). Only string values are cached, in a RecentCache (keys
// detached, MEMO_ENTRIES at most); a field whose values stop repeating (a period of lookups with fewer than half
// hits) is evaluated directly for a while, then tried again: caching a value seen once costs more than the regex.
import {
  childrenOf, compileConditionEvaluator, detachString, fieldPaths, fieldReader, parseCondition, type Condition, type Event, type ExpressionEvaluate, type ExpressionNode, type ExpressionWrap,
} from '../../core/index.js';
import { RecentCache } from '../insight/index.js';

/** Distinct values kept (each cache two generations of half its share): 4,096 for each of the four fields the pack
 * cached, a quarter of them long (LONG: user agents). */
export const MEMO_ENTRIES = 16384;
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

/** Values at least this long are found by a hash of a few of their characters (LongValues), not by Map's own. */
const LONG = 48;
/** Values kept per hash of LongValues (the oldest goes): with a few, an attacker's values that share a hash cost a
 * few comparisons each, never a growing list. */
const PER_HASH = 4;

/** Length and about 9 characters spread over the string, from its end: cheap (V8's own hash reads every character,
 * which is most of a lookup of a 112-character user agent: 208 ns against 80 ns this way, on the generated day). */
function sampleHash(s: string): number {
  const n = s.length;
  const step = (n >> 3) + 1;
  let h = n;
  for (let i = n - 1; i >= 0; i -= step) h = (Math.imul(h, 31) + s.charCodeAt(i)) | 0;
  return h;
}

/** The long values sharing one hash, and their entries. */
class SameHash {
  readonly keys: string[] = [];
  readonly entries: unknown[][] = [];
}

/** The values of every field, each with the results of the sub-conditions on it (undefined: not computed yet). */
class ValueCache {
  /** Sub-conditions registered: the length of an entry. */
  parts = 0;
  private readonly cache = new RecentCache<string, unknown[]>((MEMO_ENTRIES * 3) / 4);
  private readonly long = new RecentCache<number, SameHash>(MEMO_ENTRIES / 4 / PER_HASH);
  private lastKey: string | undefined;
  private lastEntry: unknown[] | undefined;
  /** Whether the last entry() found its value (a hit). */
  hit = false;

  entry(key: string): unknown[] {
    if (key === this.lastKey) {
      this.hit = true;
      return this.lastEntry!;
    }
    let entry = key.length >= LONG ? this.longEntry(key) : this.cache.lookup(key);
    this.hit = entry !== undefined;
    if (entry === undefined) {
      entry = new Array(this.parts);
      if (key.length < LONG) this.cache.set(key, entry);
      else {
        const same = this.same!;
        if (same.keys.length >= PER_HASH) {
          same.keys.shift();
          same.entries.shift();
        }
        // detached: the key is cut out of a read chunk, which a kept view would keep alive
        same.keys.push(detachString(key));
        same.entries.push(entry);
      }
    }
    // Held until the next value: one string, whatever it was cut from.
    this.lastKey = key;
    this.lastEntry = entry;
    return entry;
  }

  /** The values sharing the hash of the last long key looked up (where a new one is added). */
  private same: SameHash | undefined;

  private longEntry(key: string): unknown[] | undefined {
    const h = sampleHash(key);
    let same = this.long.lookup(h);
    if (same === undefined) this.long.set(h, (same = new SameHash()));
    this.same = same;
    for (let i = 0; i < same.keys.length; i++) if (same.keys[i] === key) return same.entries[i];
    return undefined;
  }
}

/** One field's use of the shared cache: its last value, and whether its values repeat enough to be worth it. */
class FieldMemo {
  readonly read: (e: Event) => unknown;
  /** Whether a sub-condition without a regex-free guard was registered: then the value is looked up anyway. */
  unguarded = false;
  private lastKey: string | undefined;
  private lastEntry: unknown[] | undefined;
  /** Sub-conditions of this field registered. */
  parts = 0;
  private lookups = 0;
  private hits = 0;
  private off = 0;

  constructor(path: readonly string[], private readonly values: ValueCache) {
    this.read = fieldReader(path);
  }

  /** The entry of `key`, or undefined while the cache is off. */
  entry(key: string): unknown[] | undefined {
    if (this.off > 0) {
      this.off--;
      return undefined;
    }
    if (key === this.lastKey) return this.lastEntry;
    const entry = this.values.entry(key);
    if (this.values.hit) this.hits++;
    if (++this.lookups === PERIOD) {
      // off counts calls of entry(), one per sub-condition asked
      if (this.hits < MIN_HITS) this.off = PERIOD * OFF_PERIODS * this.parts;
      this.lookups = 0;
      this.hits = 0;
    }
    this.lastKey = key;
    this.lastEntry = entry;
    return entry;
  }

  /** `evaluate` (of the sub-condition numbered `index` in the value cache's entries) cached. */
  cached(evaluate: ExpressionEvaluate, index: number): ExpressionEvaluate {
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

/** `a and ...` whose first operand holds no regex (contains(), a comparison): a guard cheaper than a lookup. */
const guardedByPlainTest = (node: ExpressionNode): boolean => node.kind === 'logical' && node.operator === 'and' && !hasRegex(node.operands[0]!);

/** The field caches shared by the conditions of one rule set (one detect aggregate). */
export class FieldMemos {
  private readonly values = new ValueCache();
  private readonly byField = new Map<string, FieldMemo>();
  /** The entry index of each sub-condition cached: a tree compiled again (RuleShapes, shape.ts, keeps the nodes
   * that read no missing field) shares its results with the first. */
  private readonly indexes = new Map<ExpressionNode, number>();

  /** `text` compiled as compileCondition does, its sub-conditions over one field cached (same results). */
  condition(text: string): Condition {
    return this.conditionTree(parseCondition(text));
  }

  /** A parsed condition compiled as compileConditionTree does, its sub-conditions over one field cached. */
  conditionTree(root: ExpressionNode): Condition {
    const evaluate = this.evaluatorTree(root);
    return (e) => Boolean(evaluate(e));
  }

  /** conditionTree's evaluator, its value tested for truthiness by the caller (compileConditionEvaluator). */
  evaluatorTree(root: ExpressionNode): ExpressionEvaluate {
    const parts = cachedParts(root);
    const wrap: ExpressionWrap = (node, evaluate) => {
      if (!parts.has(node)) return evaluate;
      const path = fieldPaths(node)[0];
      const id = JSON.stringify(path);
      let memo = this.byField.get(id);
      if (!memo) this.byField.set(id, (memo = new FieldMemo(path, this.values)));
      let index = this.indexes.get(node);
      if (index === undefined) {
        this.indexes.set(node, (index = this.values.parts++));
        memo.parts++;
      }
      const cached = memo.cached(evaluate, index);
      if (!guardedByPlainTest(node)) {
        memo.unguarded = true;
        return cached;
      }
      // Decided per event, since a later rule may register an unguarded sub-condition on the same field.
      const m = memo;
      return (e) => (m.unguarded ? cached(e) : evaluate(e));
    };
    return compileConditionEvaluator(root, wrap);
  }
}
