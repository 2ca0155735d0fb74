// Events a component sends to an output nobody reads: the node counts them as discarded (metrics); this says so in
// the agent's log — at once for the first, then at most once a minute per output with the number since the last
// line, and a last line at close for what was not reported yet. Side outputs declared `unread: 'drop'` (where's
// _rejected) are left unread by design: nothing is logged for them.
import type { AnyPlugin, Logger } from '../api.js';
import { sideOutput, UNDESCRIBED, type SideOutput } from '../side-outputs.js';
import type { Clock } from './clock.js';

/** At most one warning per output in this period. */
export const UNREAD_WARNING_INTERVAL_MS = 60_000;

/** The `discarded` reason of events sent to an output nobody reads (`''` is the main output). */
export function unreadReason(output: string): string {
  return output ? `unread_output_${output}` : 'unread_output';
}

interface OutputState {
  output: SideOutput | undefined;
  pending: number;
  total: number;
  lastWarning: number;
  timer: { cancel(): void } | undefined;
}

export class UnreadOutputWarnings {
  private readonly outputs = new Map<string, OutputState>();

  constructor(private readonly id: string, private readonly plugin: AnyPlugin, private readonly logger: Logger, private readonly clock: Clock) {}

  /** Whether events left on this output count as lost (false for side outputs dropped by design). */
  isLoss(output: string): boolean {
    return output === '' || sideOutput(this.plugin, output).unread === 'warn';
  }

  discarded(output: string, n: number): void {
    let s = this.outputs.get(output);
    if (!s) {
      const side = output === '' ? undefined : sideOutput(this.plugin, output);
      if (side?.unread === 'drop') return;
      this.outputs.set(output, (s = { output: side, pending: 0, total: 0, lastWarning: -Infinity, timer: undefined }));
    }
    s.pending += n;
    s.total += n;
    if (s.timer) return;
    const wait = s.lastWarning + UNREAD_WARNING_INTERVAL_MS - this.clock.now();
    if (wait <= 0) this.warn(s);
    else s.timer = this.clock.after(wait, () => this.warn(s));
  }

  /** Report what was discarded since the last warning, and stop the timers. */
  close(): void {
    for (const s of this.outputs.values()) {
      s.timer?.cancel();
      if (s.pending > 0) this.warn(s);
    }
  }

  private warn(s: OutputState): void {
    s.timer = undefined;
    if (s.pending === 0) return;
    const first = s.lastWarning === -Infinity;
    s.lastWarning = this.clock.now();
    const count = s.pending;
    s.pending = 0;
    const ref = s.output ? `${this.id}.${s.output.name}` : this.id;
    const where = s.output ? `"${ref}"${s.output.description === UNDESCRIBED ? '' : ` (${s.output.description})`}` : 'its main output';
    const events = `${count} ${first ? '' : 'more '}event${count === 1 ? '' : 's'}`;
    const since = first ? '' : ` since the last warning, ${s.total} in all`;
    const later = first ? ' (further discards are logged at most once a minute)' : '';
    this.logger.warn(
      `discarded ${events} sent to ${where}${since}: no component reads it; add "${ref}" to some component's inputs to keep them${later}`,
      { output: ref, discarded: count, total: s.total },
    );
  }
}
