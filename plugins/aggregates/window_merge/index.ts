// The merger of Visor's scale-out: combines the partials that `window` aggregators (emit: partials) computed per
// source partition into global window results, with exactly the shape a single `window` produces. A window is
// emitted once every known partition's watermark has passed its end; duplicate partials (a successor
// re-reading from an older committed offset) are recognised by their offset ranges and discarded; the input
// (the partials) is acknowledged only when the global result holding it was delivered. Delivered windows are
// journaled in the data directory, with the offset ranges they merged, before their partials are acknowledged,
// so after a restart the merger knows exactly which windows it already delivered and from which partials
// (re-read partials of those are dropped as duplicates; every other window is merged and emitted whole). An emitted
// window's merged state is kept for `amend_for` (amend.ts): a late partial for it, or a normal one of a partition
// it was emitted without (timed out), is merged in and the window's corrected result emitted again (`amended: true`,
// `revision`), journaled with that partial's range. Late events for a window nothing was emitted for make its first
// result, within amend_for.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { appendDurableSync, definePlugin, writeFileAtomicSync, type AckHold, type Event } from '../../../core/index.js';
import { AmendableWindows, mergeGroups } from './amend.js';
import { compileShape, parsePartial, partialMismatch, shapeSchema, SharedHold, STATE_OPTION, STATE_TOP, storedState, type GroupState, type PartialGroup, type PartialHeader } from '../../../lib/stats/index.js';

interface Range { from: number; to: number }
interface Accepted extends Range { groups: PartialGroup[] }

interface MergeWindow {
  start: number;
  end: number;
  /** Accepted partials per partition id, with non-overlapping offset ranges. */
  parts: Map<string, Accepted[]>;
  holds: Set<SharedHold>;
}

interface PartitionInfo {
  topic: unknown;
  partition: unknown;
  watermark: number;
  /** Windows ending before this may have been sent before this merger (re)started: it cannot emit them. */
  completeFrom: number;
  lastSeen: number;
  timedOut: boolean;
}

const eventsOf = (groups: PartialGroup[]) => groups.reduce((n, g) => n + (Number.isFinite(g.count) ? g.count : 0), 0);
const contains = (a: Range, b: Range) => a.from <= b.from && b.to <= a.to;
const overlaps = (a: Range, b: Range) => a.from <= b.to && b.from <= a.to;

export default definePlugin({
  kind: 'aggregate',
  name: 'window_merge',
  description: 'Merges the partials of window aggregators (emit: partials, one per source partition and window) into global window results with exactly the shape of a single window: a window is emitted once every known partition\'s watermark passed its end; duplicate partials are discarded by offset range; input acknowledged when the result is delivered. A late partial for a window already emitted (and kept: amend_for), or a normal one of a partition it was emitted without (timed out), is merged in and the corrected results of the groups it touched are emitted again with amended: true and revision; late events for a window nothing was emitted for make its first result (within amend_for).',
  schema: {
    type: 'object',
    required: ['window'],
    properties: {
      window: shapeSchema.window,
      group_by: shapeSchema.group_by,
      metrics: shapeSchema.metrics,
      top: shapeSchema.top,
      percentiles: shapeSchema.percentiles,
      distinct: shapeSchema.distinct,
      partition_key: { type: 'string', description: 'The field the source topic is keyed by (e.g. client_ip): its top-N is exact although partials ship only their top partial_top entries (each value lives in one partition).' },
      expected_partitions: { type: 'integer', minimum: 0, default: 0, description: 'Emit nothing until partials or watermarks of this many source partitions were seen (the source topics\' partition count; at most partition_timeout after start), so that the first windows do not close before every partition is known. 0: wait for discovery instead.' },
      discovery: { duration: true, default: '5s', description: 'Without expected_partitions: after start, emit nothing for this long (time for every aggregator\'s watermarks to arrive).' },
      partition_timeout: { duration: true, default: '5m', description: 'A partition that sent nothing (no partial, no watermark) for this long is logged and no longer waited for; its later partials for emitted windows amend them while kept (amend_for), else are counted as late and dropped.' },
      field: { type: 'string', default: 'message', description: 'Field holding the partial as JSON text (the kafka input\'s message), when the event is not a partial object itself.' },
      dedupe_retention: { duration: true, default: '1h', description: 'How long (in event time, behind the newest watermark) the offset ranges of emitted windows are kept to recognise duplicate partials.' },
      amend_for: { duration: true, default: '1h', description: 'How long (in event time, behind the newest watermark; at most dedupe_retention) an emitted window\'s merged state is kept: a late partial for it is merged in and the corrected result of its groups emitted again, with amended: true and revision (1, 2 ...). 0: never amended (late events for emitted windows are only counted missing).' },
      amend_max_windows: { type: 'integer', minimum: 0, default: 60, description: 'Most emitted windows kept for amending (the oldest goes first; 60: an hour of one-minute windows): each costs what it held while open (250-370 KiB for 2 groups with top-10 client and path of capacity 1000, percentiles and distinct clients).' },
      state: { ...STATE_OPTION, description: `${STATE_OPTION.description} At most ${STATE_TOP} top entries per field.` },
    },
  },
  async create(options, context) {
    const shape = compileShape(options);
    const journal = await DeliveredJournal.open(path.join(await context.dataDir(), 'delivered-windows.jsonl'), shape.fingerprint);
    const exactTop = options.top.map((t) => t.field === options.partition_key);
    const log = context.logger;
    const duplicates = context.metrics.counter('window_merge_duplicate_partials_total', 'Partials discarded because merged partials of the same partition and window already covered their offset range.');
    const latePartials = context.metrics.counter('window_merge_late_partials_total', 'Partials for a window already emitted (not covered by what was merged): dropped.');
    const lateMerged = context.metrics.counter('window_merge_late_events_merged_total', 'Events an aggregator read after closing their window (late partials) merged before the window\'s first result: while it was open here (its result is complete), or making its first result (no partial had reached it before every partition passed it; within amend_for).');
    const lateMissing = context.metrics.counter('window_merge_late_events_missing_total', 'Events an aggregator read after closing their window (late partials) for a window already emitted here: its result lacks them.');
    const overlapping = context.metrics.counter('window_merge_overlapping_partials_total', 'Partials whose offset range overlaps a merged one without containing it or being contained: dropped.');
    const skipped = context.metrics.counter('window_merge_skipped_windows_total', 'Windows not emitted because they were delivered before this merger restarted (their partials were read again).');
    const results = context.metrics.counter('window_merge_results_total', 'Global window results emitted (one per window and group).');
    const lateAmended = context.metrics.counter('window_merge_late_events_amended_total', 'Events an aggregator read after closing their window (late partials) for a window already emitted here but still kept (amend_for): merged, and the window\'s corrected result emitted again.');
    const unwaitedAmended = context.metrics.counter('window_merge_unwaited_events_amended_total', 'Events of a normal partial from a partition the window was emitted without (timed out: partition_timeout, or not yet known) for a window still kept (amend_for): merged, and the window\'s corrected result emitted again.');
    const amendedResults = context.metrics.counter('window_merge_amended_results_total', 'Corrected window results emitted again (amended: true; one per window and group the late events touched).');
    const amendableGauge = context.metrics.gauge('window_merge_amendable_windows', 'Emitted windows whose merged state is kept for amending (at most amend_max_windows).');
    const partitionsGauge = context.metrics.gauge('window_merge_partitions', 'Partitions waited for (known and not timed out).');
    const invalid = context.metrics.discarded('invalid_partial');
    const mismatched = context.metrics.discarded('config_mismatch');

    let emitting: Promise<void> = Promise.resolve();
    const partitions = new Map<string, PartitionInfo>();
    const windows = new Map<number, MergeWindow>();
    /** Emitted windows (by start): end and the merged offset ranges per partition, for duplicates. `unknown`: a
     * window delivered before this merger started whose merged ranges it cannot know (no journal of them). */
    const emitted = new Map<number, { end: number; ranges: Map<string, Range[]>; unknown?: boolean; skipped?: boolean }>();
    let mismatch: string | undefined;
    // Kept no longer than the ranges that tell a late partial's copy from a new one (dedupe_retention).
    const amendable = new AmendableWindows(Math.min(options.amend_for, options.dedupe_retention), options.amend_max_windows);
    /** The newest watermark of any partition (what amend_for and dedupe_retention count back from). */
    let newestWatermark = -Infinity;

    const partitionId = (h: PartialHeader) => `${String(h.topic)}\0${String(h.partition)}`;

    /** Per partition of the partials topic: was it read from its first offset (a fresh start), or resumed? */
    const resumed = new Map<string, boolean>();
    const inputResumed = (e: Event): boolean => {
      const meta = e.kafka as { topic?: unknown; partition?: unknown; offset?: unknown } | undefined;
      if (!meta || typeof meta.offset !== 'number') return false;
      const k = `${String(meta.topic)}\0${String(meta.partition)}`;
      let r = resumed.get(k);
      if (r === undefined) resumed.set(k, (r = meta.offset > 0));
      return r;
    };

    const seen = (id: string, h: PartialHeader, now: number, resumedInput: boolean): PartitionInfo => {
      let p = partitions.get(id);
      if (!p) {
        // The first event read from a partition after resuming from a committed offset: windows whose partials came
        // before it were emitted before the restart (or are incomplete here): they are not emitted again.
        const completeFrom = !resumedInput ? -Infinity : h.window_end !== undefined ? h.window_end : (h.watermark ?? -Infinity) + 1;
        partitions.set(id, (p = { topic: h.topic, partition: h.partition, watermark: -Infinity, completeFrom, lastSeen: now, timedOut: false }));
        log.info('partition seen', { topic: h.topic, partition: h.partition });
      }
      if (p.timedOut) {
        p.timedOut = false;
        log.warn('partition sends again after its timeout; waited for again', { topic: p.topic, partition: p.partition });
      }
      p.lastSeen = now;
      if (typeof h.watermark === 'number' && h.watermark > p.watermark) p.watermark = h.watermark;
      return p;
    };

    /** A late partial whose window was emitted without it and cannot be amended (`why`): its events are missing
     * from that result. */
    const lateTooLate = (h: PartialHeader, groups: PartialGroup[], why: string) => {
      const events = eventsOf(groups);
      latePartials.inc();
      lateMissing.inc(events);
      log.warn(`late events for a window already emitted: its result lacks them (an edge lagged the others by more than allowed_lateness; not amended: ${why})`, { topic: h.topic, partition: h.partition, window_start: h.window_start, window_end: h.window_end, events, offset_from: h.offset_from, offset_to: h.offset_to });
    };

    /** Adds an accepted partial; returns its window when it was kept, or when it duplicates one of the window's
     * merged partials: the batch holding a duplicate is acknowledged with the window too. (After a rebalance of
     * the merger's group the kafka input re-reads from the committed offset and commits with fresh offsets: were
     * the re-read copy acknowledged at once, the commit would pass the partials of a window not yet delivered and
     * a restart would never see them again.) */
    const accept = (id: string, h: PartialHeader, groups: PartialGroup[], amends: Map<number, PartialGroup[][]>): MergeWindow | undefined => {
      const start = h.window_start!;
      const range: Range = { from: h.offset_from ?? -Infinity, to: h.offset_to ?? Infinity };
      const noOffsets = h.offset_from === null || h.offset_from === undefined;
      const done = emitted.get(start);
      if (done) {
        if (!noOffsets && (done.ranges.get(id) ?? []).some((r) => contains(r, range))) duplicates.inc();
        else if (done.unknown) {
          // Delivered before this merger started, by a result whose partials it has no record of (no journal): a
          // copy re-read after a rebalance of the aggregators cannot be told from a late partial; taken as a copy.
          duplicates.inc();
          log.info('partial of a window delivered before this merger started (its merged offsets are not journaled): dropped as a duplicate', { topic: h.topic, partition: h.partition, window_start: start, offset_from: h.offset_from, offset_to: h.offset_to });
        } else {
          const kept = amendable.get(start);
          const merged = done.ranges.get(id) ?? [];
          if (kept && (noOffsets || !merged.some((r) => overlaps(r, range)))) {
            // Late, or a normal partial of a partition the window was emitted without (timed out, or not yet known):
            // amended alike. Its range joins the window's at once: a copy of it (in this batch or later) is a duplicate.
            if (!noOffsets) done.ranges.set(id, [...merged, range]);
            amends.set(start, [...(amends.get(start) ?? []), groups]);
            (h.late ? lateAmended : unwaitedAmended).inc(eventsOf(groups));
          } else if (h.late) lateTooLate(h, groups, kept ? 'its offset range overlaps one merged into the window' : amendable.whyNot(done.end, newestWatermark, done.skipped === true));
          else {
            latePartials.inc();
            log.warn('partial for a window already emitted: dropped', { topic: h.topic, partition: h.partition, window_start: start, offset_from: h.offset_from, offset_to: h.offset_to });
          }
        }
        return undefined;
      }
      // A late partial of a window not open here that every waited-for partition has passed: no partial had reached it
      // (an emitted one would be known, above, for dedupe_retention), or it was emitted longer ago than that. Within
      // amend_for (at most dedupe_retention) it is the first: opened below and emitted by closeReady at once.
      if (h.late && !windows.has(start) && [...partitions.values()].every((p) => p.timedOut || p.watermark >= h.window_end!)) {
        // Read again after a restart, of a window delivered with it (the journal has its range): a copy.
        if (!noOffsets && (journal.rangesOf(start)?.get(id) ?? []).some((r) => contains(r, range))) {
          duplicates.inc();
          return undefined;
        }
        const why = journal.has(start) ? 'delivered before this merger started' : amendable.whyNoFirstResult(h.window_end!, newestWatermark);
        if (why) {
          lateTooLate(h, groups, why);
          return undefined;
        }
      }
      let w = windows.get(start);
      if (!w) windows.set(start, (w = { start, end: h.window_end!, parts: new Map(), holds: new Set() }));
      const list = w.parts.get(id) ?? [];
      if (!noOffsets) {
        if (list.some((r) => contains(r, range))) {
          duplicates.inc();
          return w;
        }
        const inside = list.filter((r) => contains(range, r));
        if (list.some((r) => overlaps(r, range) && !contains(range, r))) {
          overlapping.inc();
          log.warn('partial overlaps a merged one of the same partition and window without covering it: dropped', { topic: h.topic, partition: h.partition, window_start: start, offset_from: h.offset_from, offset_to: h.offset_to });
          return undefined;
        }
        // A partial covering merged ones (a complete recomputation) replaces them.
        duplicates.inc(inside.length);
        for (const r of inside) list.splice(list.indexOf(r), 1);
      }
      list.push({ ...range, groups });
      w.parts.set(id, list);
      if (h.late) lateMerged.inc(eventsOf(groups));
      return w;
    };

    /** The results of a window's groups (with `_window` when state: true). */
    const resultsOf = (start: number, end: number, groups: Iterable<GroupState>): Event[] => {
      const out: Event[] = [];
      for (const g of groups) {
        const r = shape.result(start, end, g);
        if (options.state) r._window = storedState(context.id, options.group_by, end - start, shape, g, STATE_TOP);
        out.push(r);
      }
      return out;
    };

    /** Emits results after those already queued (windows and amendments in the order they were prepared). */
    const deliver = (out: Event[], acks: AckHold[]) => {
      emitting = emitting.then(async () => {
        if (out.length) await context.emit(out, acks.length ? { acks } : undefined);
        else for (const a of acks) a.release();
      });
    };

    /** Merges a batch's late partials for an emitted, kept window into its state and emits the corrected results
     * of the groups they touched, journaled with the window's ranges as they now are (the late ranges included). */
    const amend = (start: number, partials: PartialGroup[][], hold: SharedHold) => {
      const kept = amendable.get(start)!;
      const done = emitted.get(start)!;
      const touched = new Set<string>();
      for (const groups of partials) for (const k of mergeGroups(shape, kept.groups, groups, exactTop)) touched.add(k);
      const revision = ++kept.revision;
      const out = resultsOf(start, kept.end, [...touched].map((k) => kept.groups.get(k)!));
      for (const r of out) {
        r.amended = true;
        r.revision = revision;
      }
      amendedResults.inc(out.length);
      log.info('late events merged into an emitted window: its corrected result emitted again', { window_start: start, window_end: kept.end, revision, groups: out.length, events: partials.reduce((n, g) => n + eventsOf(g), 0) });
      deliver(out, [journal.hold(start, kept.end, done.ranges), hold.part()]);
    };

    /** Emits, in order of start, every window all waited-for partitions have passed. */
    const startedAt = Date.now();
    const closeReady = (now: number): Promise<void> => {
      const running = now - startedAt;
      if (options.expected_partitions > 0 ? partitions.size < options.expected_partitions && running < options.partition_timeout : running < options.discovery) return emitting;
      const waited: PartitionInfo[] = [];
      let newest = -Infinity;
      for (const p of partitions.values()) {
        if (!p.timedOut && now - p.lastSeen >= options.partition_timeout) {
          p.timedOut = true;
          log.warn('partition sent nothing for partition_timeout: no longer waited for (its later partials for emitted windows amend them while kept, amend_for, else are dropped)', { topic: p.topic, partition: p.partition, watermark: p.watermark });
        }
        if (!p.timedOut) waited.push(p);
        if (p.watermark > newest) newest = p.watermark;
      }
      partitionsGauge.set(waited.length);
      if (!waited.length) return emitting;
      let due: MergeWindow[] | undefined;
      for (const w of windows.values()) if (waited.every((p) => p.watermark >= w.end)) (due ??= []).push(w);
      if (due) {
        due.sort((a, b) => a.start - b.start);
        // Prepared now, not when the chain gets to them: from here on a late partial finds the window emitted (and,
        // for amending, its merged state), and the results are fixed before any amendment merges into that state.
        for (const w of due) {
          windows.delete(w.start);
          const acks: AckHold[] = [...w.holds].map((h) => h.part());
          const ranges = new Map<string, Range[]>();
          for (const [id, list] of w.parts) ranges.set(id, list.map(({ from, to }) => ({ from, to })));
          // Delivered before a restart (its partials were read again from an older committed offset): drop it.
          // Without a journal (a new data directory), fall back on the offsets: a window that some partition's
          // first partial read comes after was (probably) emitted before from these same partials.
          const incomplete = journal.known
            ? undefined
            : [...partitions.entries()].find(([, p]) => w.end < p.completeFrom && p.watermark >= w.end);
          const delivered = journal.rangesOf(w.start);
          // The delivered result's ranges too: a partial of it whose original lay before the committed offset
          // (so not read again here) can still come as a copy (an aggregator's successor re-reading a sub-range,
          // after this run's watermark passed the window) and is a duplicate of what was delivered, not late.
          if (delivered) for (const [id, list] of delivered) ranges.set(id, [...(ranges.get(id) ?? []), ...list]);
          const skip = journal.has(w.start) || incomplete !== undefined;
          emitted.set(w.start, { end: w.end, ranges, unknown: incomplete !== undefined || (journal.has(w.start) && !delivered), skipped: skip });
          if (skip) {
            skipped.inc();
            log.info('window not emitted: it was delivered before this merger started', { window_start: w.start, ...(incomplete ? { topic: incomplete[1].topic, partition: incomplete[1].partition } : {}) });
            for (const a of acks) a.release();
            continue;
          }
          // Journaled first (released first), before any partial of it is acknowledged and committed.
          acks.unshift(journal.hold(w.start, w.end, ranges));
          const groups = new Map<string, GroupState>();
          for (const list of w.parts.values()) for (const part of list) mergeGroups(shape, groups, part.groups, exactTop);
          const out = resultsOf(w.start, w.end, groups.values());
          amendable.keep(w.start, w.end, groups);
          results.inc(out.length);
          deliver(out, acks);
        }
        amendableGauge.set(amendable.size);
      }
      // Forget the ranges of windows far behind the newest watermark.
      for (const [start, e] of emitted) if (e.end < newest - options.dedupe_retention) emitted.delete(start);
      journal.forget(newest - options.dedupe_retention);
      amendable.forget(newest);
      amendableGauge.set(amendable.size);
      if (newest > newestWatermark) newestWatermark = newest;
      return emitting;
    };

    return {
      start() {
        context.timers.every(1000, () => closeReady(Date.now()));
      },
      async process(events, ctx) {
        const now = Date.now();
        const touched = new Set<MergeWindow>();
        /** Late partials of this batch for emitted windows still kept, by window start. */
        const amends = new Map<number, PartialGroup[][]>();
        for (const e of events) {
          const fromResumed = inputResumed(e);
          const parsed = parsePartial(e, options.field);
          if (!parsed) {
            invalid.inc();
            continue;
          }
          const { header: h, groups } = parsed;
          const why = partialMismatch(h, shape);
          if (why) {
            mismatched.inc();
            if (mismatch !== why) log.error(`partials from ${String(h.topic)}/${String(h.partition)} cannot be merged: ${why}`);
            mismatch = why;
            // Not acknowledged: once the configurations agree, a restart reads these partials again.
            ctx.hold().fail(new Error(`window_merge: ${why}`));
            return;
          }
          const id = partitionId(h);
          seen(id, h, now, fromResumed);
          if (h.window_start === undefined) continue; // a watermark
          if (!Array.isArray(groups)) {
            invalid.inc();
            continue;
          }
          const w = accept(id, h, groups, amends);
          if (w) touched.add(w);
        }
        if (touched.size || amends.size) {
          // Acknowledged once every window the batch touched was delivered, amended ones included.
          const shared = new SharedHold(ctx.hold());
          shared.pending = touched.size + amends.size;
          for (const w of touched) w.holds.add(shared);
          for (const [start, partials] of amends) amend(start, partials, shared);
        }
        await closeReady(now);
      },
      async flush() {
        // Windows still waiting for partitions are not emitted: their partials stay unacknowledged and are read
        // again after a restart.
        await closeReady(Date.now());
      },
      health() {
        if (mismatch) return { healthy: false, reason: `partials cannot be merged: ${mismatch}` };
        return { healthy: true, details: { partitions: partitions.size, open_windows: windows.size, amendable_windows: amendable.size } };
      },
    };
  },
});

/** A journal line: a delivered window, with the offset ranges of the partials merged into it per source
 * partition ([partition id, from, to]; partials without offsets left out). Lines written before ranges were
 * journaled have none. */
interface JournalEntry { start: number; end: number; fingerprint: string; ranges?: Array<[string, number, number]> }

const isJournalRange = (r: unknown): r is [string, number, number] =>
  Array.isArray(r) && r.length === 3 && typeof r[0] === 'string' && Number.isFinite(r[1]) && Number.isFinite(r[2]);

/** The windows this merger delivered, one JSON line each in its data directory: written synchronously and
 * durably (core's appendDurableSync: fdatasync'd) when a window's result is delivered, before its partials are
 * acknowledged (the kafka input commits later); compacted with writeFileAtomicSync. */
class DeliveredJournal {
  private readonly delivered = new Map<number, JournalEntry>();
  private lines = 0;

  /** `known`: the journal existed, so absence from it means "not delivered" (else the merger guesses). */
  private constructor(private readonly file: string, private readonly fingerprint: string, readonly known: boolean) {}

  static async open(file: string, fingerprint: string): Promise<DeliveredJournal> {
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const journal = new DeliveredJournal(file, fingerprint, text !== undefined);
    for (const line of text?.split('\n') ?? []) {
      if (!line) continue;
      try {
        const entry = JSON.parse(line) as JournalEntry;
        // Windows of other options are other windows; a torn last line (crash mid-write) is skipped.
        if (entry.fingerprint !== fingerprint) continue;
        // Ranges not of the written form are not trusted (the window counts as delivered, its ranges unknown).
        if (entry.ranges !== undefined && !(Array.isArray(entry.ranges) && entry.ranges.every(isJournalRange))) delete entry.ranges;
        journal.delivered.set(entry.start, entry);
      } catch { /* torn line */ }
    }
    journal.rewrite();
    return journal;
  }

  has(start: number): boolean {
    return this.delivered.has(start);
  }

  /** The merged offset ranges of a delivered window, per partition id; undefined when not delivered or when its
   * line has none (written before ranges were journaled). */
  rangesOf(start: number): Map<string, Range[]> | undefined {
    const entry = this.delivered.get(start);
    if (!entry?.ranges) return undefined;
    const out = new Map<string, Range[]>();
    for (const [id, from, to] of entry.ranges) out.set(id, [...(out.get(id) ?? []), { from, to }]);
    return out;
  }

  /** A hold that journals the window and its merged ranges (as they are now) when released (when its result, or
   * its amendment, was delivered): the newest line of a window is the one read back. */
  hold(start: number, end: number, merged: Map<string, Range[]>): AckHold {
    // The ranges as they are now: a late partial's range joins the window's before its amendment is delivered, and
    // must not be journaled with the result that lacks it (a restart would then drop its re-read copy).
    const ranges: Array<[string, number, number]> = [];
    for (const [id, list] of merged) for (const r of list) if (Number.isFinite(r.from) && Number.isFinite(r.to)) ranges.push([id, r.from, r.to]);
    return {
      release: () => {
        const entry: JournalEntry = { start, end, fingerprint: this.fingerprint, ranges };
        this.delivered.set(start, entry);
        appendDurableSync(this.file, JSON.stringify(entry) + '\n');
        if (++this.lines > 4 * Math.max(256, this.delivered.size)) this.rewrite();
      },
      fail: () => {},
    };
  }

  /** Forget windows that ended before `before` (beyond dedupe_retention: their partials can no longer come). */
  forget(before: number): void {
    for (const [start, entry] of this.delivered) if (entry.end < before) this.delivered.delete(start);
  }

  private rewrite(): void {
    let text = '';
    for (const entry of this.delivered.values()) text += JSON.stringify(entry) + '\n';
    writeFileAtomicSync(this.file, text);
    this.lines = this.delivered.size;
  }
}
