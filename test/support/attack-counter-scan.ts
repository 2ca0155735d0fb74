// The attacks counter as it was before its LeastCounted heap: at capacity each admission scans the map for the
// least-alerted entry (the first in insertion order among equals). The reference the heap's results are compared
// with (test/attacks.test.ts), and the "before" of test/bench/attacks-admit.ts.
import { AttackCounter } from '../../lib/stats/index.js';

export class ScanningAttackCounter extends AttackCounter {
  protected override admit<T extends { alerts: number }>(m: Map<string, T>, _least: unknown, key: string, make: () => T): T {
    const entry = make();
    if (m.size >= this.capacity) {
      let minKey: string | undefined;
      let min = Infinity;
      for (const [k, v] of m) if (v.alerts < min) { min = v.alerts; minKey = k; }
      m.delete(minKey!);
      entry.alerts = min;
      if (min > this.bound) this.bound = min;
    }
    m.set(key, entry);
    return entry;
  }
}
