// The window aggregate's open windows must not keep closed windows alive in the young-generation GC: on the
// 1M-line P1 pipeline a chain of V8's hash tables behind a long-lived Map once promoted 170 MB of closed windows
// (windows.ts, takeDue). Measured here without a full GC: what a churn of windows leaves in the old generation.
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';
import { Windows, type WindowState } from '../plugins/aggregates/window/windows.js';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as (options?: { type: 'major' | 'minor' }) => void;
const oldSpaceUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;

/** A closed window's weight: ~45 KB of strings of its own. */
function windowAt(start: number): WindowState {
  const values = Array.from({ length: 400 }, (_, i) => `/path/${start}/${i}/`.padEnd(100, 'x'));
  return { start, groups: new Map([['', values as never]]), holds: new Set(), offsetFrom: Infinity, offsetTo: -Infinity };
}

describe('window: open windows and the GC', () => {
  it('windows closed by takeDue die young: 2,000 closed windows (~90 MB) add under 8 MB to the old generation', () => {
    const size = 60_000;
    const windows = new Windows(size);
    windows.open.set(0, windowAt(0));
    // Two full GCs promote the Windows, its Map and the Map's table, as a long run's start-up does.
    gc();
    gc();
    const before = oldSpaceUsed();
    for (let i = 1; i <= 2000; i++) {
      windows.open.set(i * size, windowAt(i * size));
      assert.equal(windows.takeDue(i * size)?.length, 1);
    }
    const grown = (oldSpaceUsed() - before) / 1e6;
    assert.equal(windows.open.size, 1);
    assert.ok(grown < 8, `the old generation grew by ${grown.toFixed(1)} MB while windows opened and closed`);
  });
});
