// What a `test_script` input emits: the batches the test sends, one `emit` each, until the test ends it.
import type { AckResult, Event } from '../api.js';
import { Wakeup } from '../sleep.js';

/** One acknowledgement a scripted input received: of its `batch`-th batch (counting from 0). */
export interface AckRecord {
  input: string;
  batch: number;
  result: AckResult;
}

interface Item {
  events: Event[];
  batch: number;
  acked: (result: AckResult) => void;
}

/** The test's end of a `test_script` input. It belongs to the test run, not to one pipeline, so an embedder that
 * reloads a pipeline keeps sending through the same object. */
export class ScriptedInput {
  /** Acknowledgements in the order they arrived (not necessarily the order of the batches). */
  readonly acks: AckRecord[] = [];
  private readonly items: Item[] = [];
  private sent = 0;
  private readonly wakeup = new Wakeup();
  private ended = false;
  private failure: Error | undefined;

  constructor(readonly id: string, private readonly onAck: (ack: AckRecord) => void = () => {}) {}

  /** Emit `events` as one batch. Resolves with its acknowledgement: once every component downstream has finished
   * with it (an aggregate that holds acknowledgements releases them when it emits, often only at the end). */
  send(events: Event[]): Promise<AckResult> {
    return new Promise((resolve) => {
      const batch = this.sent++;
      this.items.push({ events, batch, acked: (result) => this.acked({ input: this.id, batch, result }, resolve) });
      this.wakeup.wake();
    });
  }

  private acked(ack: AckRecord, resolve: (result: AckResult) => void): void {
    this.acks.push(ack);
    this.onAck(ack);
    resolve(ack.result);
  }

  /** End of input: once the batches sent so far are emitted, the input returns (a pipeline ends with its inputs). */
  end(): void {
    this.ended = true;
    this.wakeup.wake();
  }

  /** The input's `run` throws `error` once the batches sent so far are emitted (an input failing). */
  fail(error: Error): void {
    this.failure = error;
    this.wakeup.wake();
  }

  /** The next batch to emit, or undefined when the input is to return (ended, or the pipeline stopping). */
  async next(signal: AbortSignal): Promise<Item | undefined> {
    for (;;) {
      if (this.items.length) return this.items.shift();
      if (this.failure) throw this.failure;
      if (this.ended || signal.aborted) return undefined;
      await this.wakeup.wait(signal);
    }
  }
}
