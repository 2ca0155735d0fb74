// Kept strings must not pin the chunks they were cut from (V8 substrings of 13+ characters are views).
import assert from 'node:assert/strict';
import { detachString } from '../core/index.js';
import { TopCounter } from '../lib/stats/index.js';
import { retainedMB } from './support/heap.js';

/** 200 distinct 20-character fields, each cut out of its own ~260 KB "read chunk". */
function fieldsOfChunks(): string[] {
  const out: string[] = [];
  for (let i = 0; i < 200; i++) out.push(('x'.repeat(100) + String(i).padStart(4, '0')).repeat(2600).slice(100, 120) + i);
  return out;
}

describe('detachString', () => {
  it('keeps the text but not the parent: 200 kept fields of 260 KB chunks cost kilobytes, not 52 MB', () => {
    assert.equal(detachString('abc'), 'abc');
    const f = fieldsOfChunks()[7];
    assert.equal(detachString(f), f);
    const sliced = retainedMB(() => fieldsOfChunks());
    const detached = retainedMB(() => fieldsOfChunks().map(detachString));
    assert.ok(sliced > 40, `control: slices pin their chunks (${sliced.toFixed(1)} MB)`);
    assert.ok(detached < 5, `detached: ${detached.toFixed(1)} MB`);
  });

  it('the window/report top-N counter stores detached keys', () => {
    const retained = retainedMB(() => {
      const top = new TopCounter(1000);
      for (const f of fieldsOfChunks()) top.add(f);
      return top;
    });
    assert.ok(retained < 5, `a top counter of 200 fields retains ${retained.toFixed(1)} MB`);
  });
});
