// lib/insight's RecentCache: bounded, and what is used survives a turnover.
import assert from 'node:assert/strict';
import { RecentCache } from '../lib/insight/index.js';

describe('RecentCache', () => {
  it('keeps at most max entries, keeps what was used since the last turnover, and counts hits and misses', () => {
    const cache = new RecentCache<number, string>(4);
    let made = 0;
    const make = (k: number) => { made++; return `v${k}`; };
    for (let k = 0; k < 100; k++) {
      assert.equal(cache.get(k, make), `v${k}`);
      assert.equal(cache.get(0, make), 'v0', 'the key used every time is never evicted');
      assert.ok(cache.size <= 4, `size ${cache.size}`);
    }
    assert.equal(cache.misses, 100);
    assert.equal(cache.hits, 100);
    assert.equal(made, 100);
    assert.equal(cache.get(50, make), 'v50');
    assert.equal(made, 101, 'an entry unused for a whole generation was dropped');
    assert.equal(cache.get(99, make), 'v99');
    assert.equal(made, 101, 'the last one is still there');
    assert.equal(cache.lookup(12345), undefined);
    cache.set(12345, 'x');
    assert.equal(cache.lookup(12345), 'x');
  });
});
