// End-to-end acknowledgement by reference counting. A batch emitted by an input owns one AckGroup;
// every copy of (part of) it queued for a downstream component holds one reference, released when
// that component has finished with it. When the count reaches zero the input hears the outcome.
import type { AckHold, AckResult } from '../api.js';

export class AckGroup {
  private pending = 1; // the emitter's own reference, dropped once routing is done
  private error: Error | undefined;
  private failed = false;

  constructor(private readonly onDone?: (result: AckResult) => void) {}

  retain(n = 1): void {
    this.pending += n;
  }

  release(error?: Error): void {
    if (error && !this.failed) {
      this.failed = true;
      this.error = error;
    }
    if (--this.pending === 0 && this.onDone) {
      const onDone = this.onDone;
      const result: AckResult = this.failed ? { status: 'failed', error: this.error } : { status: 'delivered' };
      // Input callbacks must never break the component that happened to finish last.
      try { onDone(result); } catch { /* reported by the input's own error handling */ }
    }
  }
}

export function retainAll(acks: readonly AckGroup[], n: number): void {
  for (let i = 0; i < acks.length; i++) acks[i].retain(n);
}

export function releaseAll(acks: readonly AckGroup[], error?: Error): void {
  for (let i = 0; i < acks.length; i++) acks[i].release(error);
}

/** An aggregate's hold on a batch it absorbed: one reference on each of the batch's groups. */
export class Hold implements AckHold {
  private done = false;
  constructor(readonly acks: readonly AckGroup[]) {
    retainAll(acks, 1);
  }
  release(): void {
    if (this.done) return;
    this.done = true;
    releaseAll(this.acks);
  }
  fail(error = new Error('aggregate failed the held events')): void {
    if (this.done) return;
    this.done = true;
    releaseAll(this.acks, error);
  }
}
