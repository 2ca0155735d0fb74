// TopCounter: exact up to capacity, then Space-Saving's stream summary with its guarantees.
import assert from 'node:assert/strict';
import { TopCounter } from '../lib/stats/index.js';
import { rng } from './bench/apache-lines.js';


function exactTop(truth: Map<string, number>, n: number) {
  return [...truth].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n).map(([value, count]) => ({ value, count }));
}

describe('TopCounter', () => {
  it('equals a brute-force count while within capacity', () => {
    const r = rng(1);
    const top = new TopCounter(500);
    const truth = new Map<string, number>();
    for (let i = 0; i < 20000; i++) {
      const v = `v${Math.floor(400 * r() ** 2)}`;
      top.add(v);
      truth.set(v, (truth.get(v) ?? 0) + 1);
    }
    assert.deepEqual(top.top(25), exactTop(truth, 25));
    assert.equal(top.errorBound, 0);
  });

  for (const seed of [2, 3, 4]) {
    it(`past capacity keeps Space-Saving's guarantees on skewed streams (seed ${seed})`, () => {
      const r = rng(seed);
      const capacity = 100;
      const top = new TopCounter(capacity);
      const truth = new Map<string, number>();
      const N = 50000;
      for (let i = 0; i < N; i++) {
        // A heavy head of 20 values over a long tail of ~20,000 distinct ones.
        const v = r() < 0.6 ? `h${Math.floor(20 * r() ** 2)}` : `t${Math.floor(20000 * r())}`;
        top.add(v);
        truth.set(v, (truth.get(v) ?? 0) + 1);
      }
      assert.ok(top.errorBound > 0 && top.errorBound <= N / capacity, `error bound ${top.errorBound} <= N/capacity`);
      const reported = top.top(capacity);
      assert.equal(reported.length, capacity);
      for (const { value, count } of reported) {
        const t = truth.get(value) ?? 0;
        assert.ok(count >= t && count <= t + top.errorBound, `${value}: reported ${count}, true ${t}, bound ${top.errorBound}`);
      }
      // Every value more frequent than the bound is reported, and the top 10 are the true top 10.
      const names = new Set(reported.map((e) => e.value));
      for (const [value, t] of truth) if (t > top.errorBound) assert.ok(names.has(value), `${value} (${t}) missing`);
      assert.deepEqual(top.top(10).map((e) => e.value), exactTop(truth, 10).map((e) => e.value));
      // Descending counts, ties by value.
      for (let i = 1; i < reported.length; i++) {
        const [a, b] = [reported[i - 1], reported[i]];
        assert.ok(a.count > b.count || (a.count === b.count && a.value < b.value));
      }
    });
  }

  it('a flood of distinct values keeps exactly capacity entries and a bound of N / capacity at most', () => {
    const top = new TopCounter(1000);
    for (let i = 0; i < 200000; i++) top.add(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
    const all = top.top(5000);
    assert.equal(all.length, 1000);
    assert.ok(top.errorBound <= 200);
    assert.equal(all.reduce((s, e) => s + e.count, 0), 200000, 'Space-Saving counts sum to the stream length');
  });
});
