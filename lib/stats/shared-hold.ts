// One input batch's hold split among the window results holding its events (used by `window` and `window_merge`).
import type { AckHold } from '../../core/index.js';

/** A batch's hold shared by the windows the batch touched: released once every one of their results is delivered. */
export class SharedHold {
  pending = 0;
  private failed = false;
  constructor(private readonly hold: AckHold) {}
  /** One hold per window result, passed in that result's `acks`. */
  part(): AckHold {
    let settled = false;
    return {
      release: () => {
        if (settled) return;
        settled = true;
        if (--this.pending === 0 && !this.failed) this.hold.release();
      },
      fail: (error?: Error) => {
        if (settled) return;
        settled = true;
        this.pending--;
        if (!this.failed) {
          this.failed = true;
          this.hold.fail(error);
        }
      },
    };
  }
}
