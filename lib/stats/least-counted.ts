// The least-alerted entry of the attacks counter (AttackCounter), found without scanning them all: a min-heap on
// (alerts, admission order), updated lazily. Counts only grow (an alert adds one), so a count the heap holds is at
// most the entry's true one: when the top's held count is current it is the true least (every other held count is
// at or above it and below the truth); when it is stale, it is refreshed and sunk, a step paid for by the increments
// since it was last placed. Each admission and each increment thus costs O(log n) amortised, where a scan of the
// map cost O(capacity) per admission at capacity. Ties go to the entry admitted first, as the map's insertion order
// (the scan's) had it.

/** The heap's own view of one entry: its count when last placed and its admission number. */
interface Held<T> { key: string; entry: T; count: number; seq: number }

export class LeastCounted<T extends { alerts: number }> {
  private readonly heap: Array<Held<T>> = [];
  private seq = 0;

  get size(): number {
    return this.heap.length;
  }

  /** A newly admitted entry (admitted after every entry held), by its key. */
  add(key: string, entry: T): void {
    this.heap.push({ key, entry, count: entry.alerts, seq: this.seq++ });
    this.up(this.heap.length - 1);
  }

  /** Removes the least-alerted entry, the first admitted among equals, and returns its key and count; undefined
   * when empty. */
  take(): { key: string; alerts: number } | undefined {
    const h = this.heap;
    while (h.length > 0) {
      const top = h[0]!;
      if (top.count === top.entry.alerts) {
        const last = h.pop()!;
        if (h.length > 0) {
          h[0] = last;
          this.down(0);
        }
        return { key: top.key, alerts: top.count };
      }
      top.count = top.entry.alerts;
      this.down(0);
    }
    return undefined;
  }

  private less(a: Held<T>, b: Held<T>): boolean {
    return a.count < b.count || (a.count === b.count && a.seq < b.seq);
  }

  private up(i: number): void {
    const h = this.heap;
    const x = h[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(x, h[p]!)) break;
      h[i] = h[p]!;
      i = p;
    }
    h[i] = x;
  }

  private down(i: number): void {
    const h = this.heap;
    const n = h.length;
    const x = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      if (c + 1 < n && this.less(h[c + 1]!, h[c]!)) c++;
      if (!this.less(h[c]!, x)) break;
      h[i] = h[c]!;
      i = c;
    }
    h[i] = x;
  }
}
