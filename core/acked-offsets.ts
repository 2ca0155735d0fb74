// The offset a file's checkpoint may advance to: the end of the last line of the longest run of batches,
// from the start, that every output has acknowledged. Batches may be settled out of order.
const PENDING = 0;
const DELIVERED = 1;

interface Entry { end: number; state: number }

export class AckedOffsets {
  private queue: Entry[] = [];
  private head = 0;
  /** Set by a failed batch: the checkpoint stays before it for the rest of this run (re-read on restart). */
  private pinned = false;
  /** Called when a failure pins the offset, once. */
  onPinned?: () => void;

  constructor(public committed: number) {}

  /** A failure has held the offset back for the rest of this run. */
  get isPinned(): boolean {
    return this.pinned;
  }

  get pending(): number {
    return this.queue.length - this.head;
  }

  /** Register a batch ending at `end` (bytes); returns the callback to call with its outcome. */
  track(end: number): (delivered: boolean) => void {
    const entry: Entry = { end, state: PENDING };
    this.queue.push(entry);
    return (delivered) => {
      if (!delivered) {
        if (!this.pinned) this.onPinned?.();
        this.pinned = true;
      }
      entry.state = delivered ? DELIVERED : 2;
      this.advance();
    };
  }

  private advance(): void {
    while (this.head < this.queue.length && this.queue[this.head].state !== PENDING) {
      if (!this.pinned) this.committed = this.queue[this.head].end;
      this.head++;
    }
    if (this.head > 256 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
