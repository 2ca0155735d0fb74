// Which table an event reaching the store belongs to, by the fields the aggregates put on their results. The rule,
// first match wins (README, "Storage"):
// 1. `_window` (an object naming its aggregate): a window result of `window` or `window_merge` with `state: true` -> windows;
// 2. `partial` (an object): a partial of `window` with `emit: partials` -> not stored (window_merge's input, not a result);
// 3. `name` and `severity` strings, `state` one of firing/digest/resolved/stopped, `since` a number: an alert -> alerts;
// 4. `report` a string, `window_start`/`window_end` numbers: a report -> reports (kind report);
// 5. `window_start`/`window_end`, `rate`, `client_error_rate` and `server_error_rate` numbers: a summary -> reports (kind summary);
// 6. `window_start` and `window_end` numbers: a window result without `_window` -> not stored (its aggregate and group
//    fields are unknown; set `state: true` on the window aggregate);
// 7. `heartbeat: true`: a liveness event -> not stored;
// 8. anything else: a log event -> events (when `events: true`).
import type { Event } from '../../core/index.js';

export type EventKind = 'window' | 'partial' | 'alert' | 'report' | 'summary' | 'window_without_state' | 'heartbeat' | 'event';

export const ALERT_STATES: ReadonlySet<unknown> = new Set(['firing', 'digest', 'resolved', 'stopped']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

export function classify(e: Event): EventKind {
  if (isObject(e._window) && typeof e._window.aggregate === 'string') return 'window';
  if (isObject(e.partial)) return 'partial';
  if (typeof e.name === 'string' && typeof e.severity === 'string' && ALERT_STATES.has(e.state) && isNumber(e.since)) return 'alert';
  const interval = isNumber(e.window_start) && isNumber(e.window_end);
  if (interval && typeof e.report === 'string') return 'report';
  if (interval && isNumber(e.rate) && isNumber(e.client_error_rate) && isNumber(e.server_error_rate)) return 'summary';
  if (interval) return 'window_without_state';
  if (e.heartbeat === true) return 'heartbeat';
  return 'event';
}
