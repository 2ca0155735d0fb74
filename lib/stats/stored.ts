// `state: true`: each window result also carries `_window`, what a store needs to keep it and to roll it up
// later: the aggregate's id (which the result itself does not name), its group fields, the window size, the
// shape's fingerprint and spec, and the group's mergeable state in the partial codec (exact counts and
// accumulators, top entries with their error bound, quantile sketch, distinct set or HyperLogLog registers).
import type { Event } from '../../core/index.js';
import { fieldName, type GroupState, type Shape } from './shape.js';

export const STATE_OPTION = {
  type: 'boolean',
  default: false,
  description: 'Add `_window` to each result: { aggregate (this component\'s id), group_by (the result fields holding the group values), size (ms), fingerprint, spec, state (the group\'s mergeable state, as in partials) }. The store output needs it to key window rows and to roll them up.',
} as const;

/** Top entries kept per field in the state where no partial_top option says otherwise (window_merge). */
export const STATE_TOP = 1000;

/** The `_window` field of a result (see STATE_OPTION). */
export function storedState(aggregate: string, groupBy: string[], size: number, shape: Shape, g: GroupState, topLimit: number): Event {
  return { aggregate, group_by: groupBy.map(fieldName), size, fingerprint: shape.fingerprint, spec: shape.spec, state: shape.toPartial(g, topLimit) };
}
