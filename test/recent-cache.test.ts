// lib/insight's RecentCache: bounded, and what is used survives a turnover; its string keys never pin the chunks
// they were cut from.
import assert from 'node:assert/strict';
import { detachString } from '../core/index.js';
import { RecentCache } from '../lib/insight/index.js';
import { retainedMB } from './support/heap.js';

/** 200 distinct 20-character keys, each a slice (a view) of its own ~270 KB "read chunk". */
function slicedKeys(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 200; i++) out.push(('x'.repeat(100) + String(i).padStart(4, '0')).repeat(2600).slice(100, 120));
  return out;
}

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

  it('size counts an entry moved to the current generation once; a max of 0 stores nothing', () => {
    const cache = new RecentCache<string, number>(4);
    cache.set('a', 1); cache.set('b', 2); cache.set('c', 3); // c turns {a, b} into the previous generation
    assert.equal(cache.lookup('a'), 1);
    assert.equal(cache.size, 3);
    const off = new RecentCache<string, number>(0);
    off.set('a', 1);
    assert.deepEqual([off.lookup('a'), off.size, off.misses], [undefined, 0, 1]);
  });

  it('stores copies of string keys, also when a hit moves an entry out of the previous generation', () => {
    const control = retainedMB(() => new Map(slicedKeys().map((k, i) => [k, i])));
    assert.ok(control > 40, `control: a Map of the slices pins their chunks (${control.toFixed(1)} MB)`);
    const set = retainedMB(() => {
      const cache = new RecentCache<string, number>(1000);
      for (const [i, k] of slicedKeys().entries()) cache.set(k, i);
      return cache;
    });
    assert.ok(set < 5, `set: ${set.toFixed(1)} MB`);
    const cache = new RecentCache<string, number>(400);
    for (const [i, k] of slicedKeys().map(detachString).entries()) cache.set(k, i);
    cache.set('turnover', -1); // the 200 keys are now the previous generation
    const moved = retainedMB(() => {
      for (const [i, k] of slicedKeys().entries()) assert.equal(cache.lookup(k), i);
      return cache;
    });
    assert.equal(cache.hits, 200);
    assert.ok(moved < 5, `moved on a hit: ${moved.toFixed(1)} MB`);
  });
});
