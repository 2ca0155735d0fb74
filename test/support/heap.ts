// Heap retained by what a test builds: whether kept strings pin the chunks they were cut from.
import assert from 'node:assert/strict';
import v8 from 'node:v8';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Heap growth (MB) after collecting, while `build()`'s result is alive. */
export function retainedMB(build: () => unknown): number {
  gc();
  const before = process.memoryUsage().heapUsed;
  const kept = build();
  gc();
  const after = process.memoryUsage().heapUsed;
  assert.ok(kept);
  return (after - before) / 1e6;
}
