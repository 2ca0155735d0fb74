// Mergeable sketches: a stream split into parts, each summarized, serialized to JSON (through a real
// JSON.stringify/parse round trip) and merged, gives the single-stream sketch: exactly in the exact modes,
// within the stated bounds otherwise.
import assert from 'node:assert/strict';
import { DISTINCT_EXACT_LIMIT, DistinctCounter, PERCENTILE_RELATIVE_ERROR, QuantileSketch, TopCounter } from '../lib/stats/index.js';
import { rng } from './bench/apache-lines.js';

const roundTrip = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Splits values into `parts` streams: by a hash of the value (partitioned, like Kafka keys) or at random. */
function split<T>(values: T[], parts: number, rand: () => number, byKey?: (v: T) => string): T[][] {
  const out: T[][] = Array.from({ length: parts }, () => []);
  for (const v of values) {
    if (byKey) {
      let h = 0;
      for (const c of byKey(v)) h = (Math.imul(h, 31) + c.charCodeAt(0)) | 0;
      out[Math.abs(h) % parts].push(v);
    } else out[Math.floor(rand() * parts)].push(v);
  }
  return out;
}

function truthOf(values: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

describe('mergeable sketches', () => {
  for (const seed of [11, 12, 13]) {
    it(`TopCounter: merged exact partials equal the single-stream counter; partitioned top-N exact with shipped top k (seed ${seed})`, () => {
      const rand = rng(seed);
      const values = Array.from({ length: 30_000 }, () => `c${Math.floor(3000 * rand() ** 3)}`);
      const single = new TopCounter(10_000);
      for (const v of values) single.add(v);
      // Random split, every entry shipped: exact.
      const merged = new TopCounter(10_000);
      for (const part of split(values, 4, rand)) {
        const t = new TopCounter(10_000);
        for (const v of part) t.add(v);
        merged.merge(roundTrip(t.toJSON()));
      }
      assert.deepEqual(merged.top(50), single.top(50));
      assert.equal(merged.errorBound, 0);
      // Split by key, only the top 100 of each part shipped: the top 10 is still exact; the key field's bound stays 0.
      const keyed = new TopCounter(10_000);
      const any = new TopCounter(10_000);
      for (const part of split(values, 4, rand, (v) => v)) {
        const t = new TopCounter(10_000);
        for (const v of part) t.add(v);
        const json = roundTrip(t.toJSON(100));
        assert.equal(json.e.length, Math.min(100, new Set(part).size));
        keyed.merge(json, false);
        any.merge(json);
      }
      assert.deepEqual(keyed.top(10), single.top(10));
      assert.equal(keyed.errorBound, 0);
      // Not treated as the key: the bound adds each part's first omitted count, and every count is within it.
      const truth = truthOf(values);
      assert.ok(any.errorBound > 0);
      for (const { value, count } of any.top(50)) assert.ok(Math.abs(count - truth.get(value)!) <= any.errorBound);
    });

    it(`TopCounter: Space-Saving partials merge within the summed bound, a random split of a non-key field (seed ${seed})`, () => {
      const rand = rng(seed + 100);
      const values = Array.from({ length: 40_000 }, () => `p${Math.floor(5000 * rand() ** 4)}`);
      const truth = truthOf(values);
      const merged = new TopCounter(200);
      for (const part of split(values, 3, rand)) {
        const t = new TopCounter(200);
        for (const v of part) t.add(v);
        assert.ok(t.errorBound > 0, 'each part is past capacity');
        merged.merge(roundTrip(t.toJSON(50)));
      }
      for (const { value, count } of merged.top(20)) {
        const diff = count - (truth.get(value) ?? 0);
        assert.ok(Math.abs(diff) <= merged.errorBound, `${value}: reported ${count}, true ${truth.get(value)}, bound ${merged.errorBound}`);
      }
      // Every value more frequent than twice the bound is listed in a large enough top.
      const listed = new Set(merged.top(150).map((e) => e.value));
      for (const [value, count] of truth) if (count > 2 * merged.errorBound) assert.ok(listed.has(value), value);
    });

    it(`DistinctCounter: union of exact sets and HyperLogLog merge equal the single-stream count (seed ${seed})`, () => {
      const rand = rng(seed + 200);
      for (const distinct of [500, DISTINCT_EXACT_LIMIT - 10, 3000 + DISTINCT_EXACT_LIMIT, 50_000]) {
        const values = Array.from({ length: distinct * 3 }, () => `10.${Math.floor(rand() * distinct)}`);
        const single = new DistinctCounter();
        for (const v of values) single.add(v);
        for (const parts of [2, 4, 7]) {
          const merged = new DistinctCounter();
          for (const part of split(values, parts, rand)) {
            const d = new DistinctCounter();
            for (const v of part) d.add(v);
            merged.merge(roundTrip(d.toJSON()));
          }
          assert.equal(merged.count(), single.count(), `${distinct} distinct in ${parts} parts`);
          assert.equal(merged.exactCount, single.exactCount);
        }
        const truth = new Set(values).size;
        if (single.exactCount) assert.equal(single.count(), truth);
        else assert.ok(Math.abs(single.count() - truth) / truth < 0.05, `HLL within 3 standard errors: ${single.count()} vs ${truth}`);
      }
    });

    it(`QuantileSketch: bucket counts add, merged percentiles equal the single-stream ones (seed ${seed})`, () => {
      const rand = rng(seed + 300);
      const values = Array.from({ length: 20_000 }, () => (rand() < 0.05 ? 0 : rand() < 0.02 ? -rand() * 100 : Math.exp(rand() * 12)));
      const single = new QuantileSketch();
      for (const v of values) single.add(v);
      const merged = new QuantileSketch();
      for (const part of split(values, 5, rand)) {
        const q = new QuantileSketch();
        for (const v of part) q.add(v);
        merged.merge(roundTrip(q.toJSON()));
      }
      const sorted = [...values].sort((a, b) => a - b);
      for (const p of [1, 5, 50, 90, 95, 99, 99.9, 100]) {
        assert.equal(merged.quantile(p), single.quantile(p), `p${p}`);
        const exact = sorted[Math.max(1, Math.ceil((p / 100) * sorted.length)) - 1];
        const got = merged.quantile(p)!;
        assert.ok(Math.abs(got - exact) <= PERCENTILE_RELATIVE_ERROR * Math.abs(exact) + 1e-9, `p${p}: ${got} vs ${exact}`);
      }
    });
  }
});
