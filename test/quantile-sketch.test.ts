// QuantileSketch counts positive buckets in a dense array over one span of buckets, and those too far from it in a
// Map. Whatever the spread of the values, its percentiles and its JSON must be those of one Map of buckets (the
// sketch as it was before, kept here as the model): the same buckets, listed in the order they were first counted.
import assert from 'node:assert/strict';
import { QuantileSketch, type QuantileJSON } from '../lib/stats/index.js';
import { rng } from './bench/apache-lines.js';

const GAMMA = 1.01 / 0.99;
const LOG_GAMMA = Math.log(GAMMA);

/** Every bucket in a Map, sorted for each percentile. */
class MapSketch {
  readonly positive = new Map<number, number>();
  readonly negative = new Map<number, number>();
  zeros = 0;
  n = 0;
  add(x: number): void {
    this.n++;
    if (x === 0) this.zeros++;
    else {
      const m = x > 0 ? this.positive : this.negative;
      const k = Math.ceil(Math.log(Math.abs(x)) / LOG_GAMMA);
      m.set(k, (m.get(k) ?? 0) + 1);
    }
  }
  toJSON(): QuantileJSON {
    return { n: this.n, z: this.zeros, p: [...this.positive].flat(), m: [...this.negative].flat() };
  }
  quantile(p: number): number | null {
    if (this.n === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * this.n));
    const value = (k: number) => (2 * GAMMA ** k) / (GAMMA + 1);
    let seen = 0;
    for (const k of [...this.negative.keys()].sort((a, b) => b - a)) {
      seen += this.negative.get(k)!;
      if (seen >= rank) return -value(k);
    }
    seen += this.zeros;
    if (seen >= rank) return 0;
    for (const k of [...this.positive.keys()].sort((a, b) => a - b)) {
      seen += this.positive.get(k)!;
      if (seen >= rank) return value(k);
    }
    return null;
  }
}

const PERCENTILES = [0, 0.1, 1, 5, 25, 50, 75, 90, 95, 99, 99.9, 100];

function assertSame(got: QuantileSketch, want: MapSketch, what: string): void {
  for (const p of PERCENTILES) assert.equal(got.quantile(p), want.quantile(p), `${what}: p${p}`);
  // JSON through text, as partials travel: -0 and 0 are one bucket.
  assert.deepEqual(JSON.parse(JSON.stringify(got.toJSON())), JSON.parse(JSON.stringify(want.toJSON())), `${what}: JSON`);
}

/** Values whose buckets lie farther apart than the dense span: 1e-40 to 1e40 is ~9,200 buckets. */
const spreads: Record<string, (r: () => number) => number> = {
  'bytes-like (one span)': (r) => Math.floor(200 + r() ** 4 * 2e6),
  'fractions below 1': (r) => r() * 0.01,
  '1e-40 to 1e40': (r) => 10 ** (80 * r() - 40),
  'mostly 1e3, sometimes 1e-35 or 1e38': (r) => (r() < 0.01 ? 1e-35 : r() < 0.01 ? 1e38 : 1000 + r() * 1000),
  'rising: each value larger than the last': (() => { let x = 1e-30; return () => (x *= 1.2); })(),
  'falling: each value smaller than the last': (() => { let x = 1e30; return () => (x /= 1.2); })(),
  'zeros and negatives among them': (r) => (r() < 0.1 ? 0 : r() < 0.2 ? -r() * 500 : r() * 500),
};

describe('QuantileSketch: dense buckets', () => {
  for (const [name, draw] of Object.entries(spreads)) {
    it(`gives a Map of buckets' percentiles and JSON: ${name}`, () => {
      const rand = rng(name.length);
      const values = Array.from({ length: 3000 }, () => draw(rand));
      const got = new QuantileSketch();
      const want = new MapSketch();
      for (const v of values) {
        got.add(v);
        want.add(v);
      }
      assertSame(got, want, name);
      // Merged from JSON in parts (its far buckets among them): the single sketch, in the single sketch's order.
      const merged = new QuantileSketch();
      for (let from = 0; from < values.length; from += 700) {
        const part = new QuantileSketch();
        for (const v of values.slice(from, from + 700)) part.add(v);
        merged.merge(JSON.parse(JSON.stringify(part.toJSON())) as QuantileJSON);
      }
      assert.equal(merged.n, values.length);
      for (const p of PERCENTILES) assert.equal(merged.quantile(p), want.quantile(p), `${name} merged: p${p}`);
      assert.deepEqual(QuantileSketch.fromJSON(got.toJSON()).toJSON(), got.toJSON(), `${name}: fromJSON(toJSON())`);
    });
  }

  it('is empty (null) until a value comes, and counts a value met again in its bucket', () => {
    const q = new QuantileSketch();
    assert.equal(q.quantile(50), null);
    assert.deepEqual(q.toJSON(), { n: 0, z: 0, p: [], m: [] });
    for (const v of [5, 5, 1e39, 5, 1e39]) q.add(v);
    const want = new MapSketch();
    for (const v of [5, 5, 1e39, 5, 1e39]) want.add(v);
    assertSame(q, want, 'two far-apart buckets');
    assert.deepEqual(q.toJSON().p.filter((_, i) => i % 2 === 1), [3, 2]);
  });
});
