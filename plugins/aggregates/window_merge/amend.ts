// The merged group states of window_merge's windows: built from accepted partials when a window is emitted, and
// kept after that for `amend_for` (event time behind the newest watermark), at most `amend_max_windows` windows,
// so that a late partial for an emitted window can be merged into it and the window's corrected result emitted
// again (an amendment) instead of the events being lost. A window's state is what a window holds while open (its
// groups' counters, tops, sketches, distinct sets): keeping N windows costs about N open windows' memory (heap after
// gc, 200 kept windows of 2 groups with count/sum metrics, top client and path of capacity 1000, 3 percentiles and
// distinct clients: 249 KiB per window filled with 1,000 events a group, 370 KiB with 10,000), hence the cap.
import type { GroupState, PartialGroup, Shape } from '../../../lib/stats/index.js';

/** Merges partial groups into `groups` (by group values); returns the keys of the groups it touched. */
export function mergeGroups(shape: Shape, groups: Map<string, GroupState>, partials: PartialGroup[], exactTop: boolean[]): Set<string> {
  const touched = new Set<string>();
  for (const pg of partials) {
    const k = JSON.stringify(pg.values);
    let g = groups.get(k);
    if (!g) groups.set(k, (g = shape.newGroup(pg.values)));
    shape.merge(g, pg, exactTop);
    touched.add(k);
  }
  return touched;
}

export interface KeptWindow {
  end: number;
  groups: Map<string, GroupState>;
  /** Amendments emitted so far (the next amended result carries revision + 1). */
  revision: number;
}

/** Why a late partial for an emitted window could not be amended (the warning names it). */
export type NotKept = 'amend_for is 0' | 'amend_max_windows is 0' | 'older than amend_for' | 'beyond amend_max_windows' | 'delivered before this merger started';

export class AmendableWindows {
  /** By window start, in order of emission (windows are emitted in order of start): the first is the oldest. */
  private readonly kept = new Map<number, KeptWindow>();
  /** The newest end of a window evicted for the cap, not for age: a late partial for a window ending by then (and
   * within amend_for) is "beyond amend_max_windows". */
  private cappedEnd = -Infinity;

  constructor(private readonly amendFor: number, private readonly max: number) {}

  get size(): number {
    return this.kept.size;
  }

  /** Keeps an emitted window's merged groups (no-op with amend_for 0); the oldest goes beyond the cap. */
  keep(start: number, end: number, groups: Map<string, GroupState>): void {
    if (this.amendFor <= 0 || this.max <= 0) return;
    this.kept.set(start, { end, groups, revision: 0 });
    for (const [s, k] of this.kept) {
      if (this.kept.size <= this.max) break;
      this.kept.delete(s);
      if (k.end > this.cappedEnd) this.cappedEnd = k.end;
    }
  }

  get(start: number): KeptWindow | undefined {
    return this.kept.get(start);
  }

  /** Why the emitted window ending at `end` is not kept (it was emitted by this merger, or `restarted`). */
  whyNot(end: number, newest: number, restarted: boolean): NotKept {
    if (this.amendFor <= 0) return 'amend_for is 0';
    if (this.max <= 0) return 'amend_max_windows is 0';
    if (restarted) return 'delivered before this merger started';
    if (end <= this.cappedEnd && end >= newest - this.amendFor) return 'beyond amend_max_windows';
    return 'older than amend_for';
  }

  /** Why late events for a window nothing was emitted for (no partial had reached it before every partition passed
   * it), ending at `end`, cannot make its first result now; undefined when they can (within amend_for: were it
   * emitted, it would still be known, so it was not). Needs no kept state, so amend_max_windows does not apply. */
  whyNoFirstResult(end: number, newest: number): NotKept | undefined {
    if (this.amendFor <= 0) return 'amend_for is 0';
    return end < newest - this.amendFor ? 'older than amend_for' : undefined;
  }

  /** Forgets windows that ended more than amend_for behind `newest` (the newest watermark). */
  forget(newest: number): void {
    for (const [start, k] of this.kept) if (k.end < newest - this.amendFor) this.kept.delete(start);
  }
}
