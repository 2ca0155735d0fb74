// The partial event of Visor's scale-out: what `window` (emit: partials) sends per source partition and window
// (or, without a window, as that partition's watermark) and `window_merge` reads back. One definition on both
// sides, so that the two plugins cannot disagree on the format.
import type { Event } from '../../core/index.js';
import type { PartialGroup, Shape } from './shape.js';

/** Bumped when the partial format changes; the merger refuses partials of another version. */
export const PARTIAL_VERSION = 1;

/** The `partial` object of a partial event: who sent it, for which window, and the sender's watermark. A
 * watermark event has no window fields. */
export interface PartialHeader {
  version: number;
  fingerprint: string;
  spec?: unknown;
  topic: unknown;
  partition: unknown;
  window_start?: number;
  window_end?: number;
  offset_from?: number | null;
  offset_to?: number | null;
  watermark?: number | null;
  /** A late partial: events its partition's aggregator read after it had closed this window (an edge lagging the
   * others by more than allowed_lateness); the merger adds them while the window is open, else reports them. */
  late?: boolean;
}

/** A partial event: the header, and for a window's partial its groups (Shape.toPartial). A type alias, not an
 * interface, so that it is an Event as it stands. */
export type PartialEvent = {
  partial: PartialHeader;
  groups?: PartialGroup[];
};

/** The header fields every partial and watermark of one source partition carries. */
export function partialHeader(shape: Shape, topic: unknown, partition: unknown): PartialHeader {
  return { version: PARTIAL_VERSION, fingerprint: shape.fingerprint, spec: shape.spec, topic: topic ?? null, partition: partition ?? null };
}

/** The partial an event holds: the event itself, or its `field` as JSON text (the kafka input's message);
 * undefined when it holds none. The groups are not checked here. */
export function parsePartial(e: Event, field: string): { header: PartialHeader; groups?: PartialGroup[] } | undefined {
  let obj: Event = e;
  if (obj.partial === undefined && typeof e[field] === 'string') {
    try {
      obj = JSON.parse(e[field] as string) as Event;
    } catch {
      return undefined;
    }
  }
  const header = obj.partial as PartialHeader | undefined;
  if (!header || typeof header !== 'object') return undefined;
  return { header, groups: obj.groups as PartialGroup[] | undefined };
}

/** Why a merger of `shape` cannot merge partials with this header (another format version, or a sender
 * configured with other window options), or undefined when it can. */
export function partialMismatch(h: PartialHeader, shape: Shape): string | undefined {
  if (h.version !== PARTIAL_VERSION) return `partial format version ${String(h.version)}, this merger reads version ${PARTIAL_VERSION}`;
  if (h.fingerprint !== shape.fingerprint) {
    return `the aggregator's window options ${JSON.stringify(h.spec)} differ from this merger's ${JSON.stringify(shape.spec)}: give window_merge the same window, group_by, metrics, top, percentiles and distinct as the window aggregators`;
  }
  return undefined;
}
