// Entries due at an instant, taken in the order they fall due: a binary min-heap on `due`. The detector keeps its
// quiet periods with matches waiting for a digest here, one entry per bucket, and takes those that have ended as
// event time (the newest event seen) passes them. Quiet lengths differ per rule, so a queue in insertion order
// would hold a short quiet behind a long one.
export class DueQueue<T extends { due: number }> {
  private readonly heap: T[] = [];

  get size(): number {
    return this.heap.length;
  }

  push(entry: T): void {
    const h = this.heap;
    let i = h.push(entry) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent].due <= entry.due) break;
      h[i] = h[parent];
      i = parent;
    }
    h[i] = entry;
  }

  /** The entry that falls due first, without taking it. */
  peek(): T | undefined {
    return this.heap[0];
  }

  /** Takes the entry that falls due first. */
  pop(): T | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= h.length) break;
      const c = l + 1 < h.length && h[l + 1].due < h[l].due ? l + 1 : l;
      if (h[c].due >= last.due) break;
      h[i] = h[c];
      i = c;
    }
    h[i] = last;
    return top;
  }
}
