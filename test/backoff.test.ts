// The one retry schedule (core/backoff.ts): doubling up to the cap, shortened by bounded jitter, reset on success.
import assert from 'node:assert/strict';
import { Backoff } from '../core/index.js';

const take = (b: Backoff, n: number) => Array.from({ length: n }, () => b.next());

describe('backoff', () => {
  it('doubles from initial up to max and starts again after reset (no jitter)', () => {
    const b = new Backoff({ initial: 100, max: 1000, jitter: 0 });
    assert.deepEqual(take(b, 6), [100, 200, 400, 800, 1000, 1000]);
    b.reset();
    assert.deepEqual(take(b, 2), [100, 200]);
  });

  it('the first delay is initial even when max is smaller; other factors', () => {
    assert.deepEqual(take(new Backoff({ initial: 1000, max: 300, jitter: 0 }), 3), [1000, 300, 300]);
    assert.deepEqual(take(new Backoff({ initial: 10, max: 1000, factor: 3, jitter: 0 }), 4), [10, 30, 90, 270]);
  });

  it('jitter only shortens a delay, by at most its fraction (20% by default)', () => {
    assert.deepEqual(take(new Backoff({ initial: 100, max: 400, random: () => 0.5 }), 4), [90, 180, 360, 360]);
    assert.deepEqual(take(new Backoff({ initial: 100, max: 400, random: () => 0.999999 }), 3), [80, 160, 320]);
    const b = new Backoff({ initial: 1000, max: 8000 });
    const seen = new Set<number>();
    for (const [i, d] of take(b, 200).entries()) {
      const nominal = Math.min(1000 * 2 ** i, 8000);
      assert.ok(d >= nominal * 0.8 && d <= nominal, `${d} outside [${nominal * 0.8}, ${nominal}]`);
      if (nominal === 8000) seen.add(d);
    }
    assert.ok(seen.size > 10, 'delays at the cap differ from one another (attempts are spread)');
  });
});
