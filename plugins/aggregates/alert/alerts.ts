// The alert events every rule engine emits (events.ts, thresholds.ts, absence.ts): their common fields, and the
// `stopped` alert of a rule still firing when the agent stops.
import { formatLocalTime, type Counter, type Event, type PluginContext } from '../../../core/index.js';
import { formatDuration } from '../../../lib/alerts/index.js';
import type { Rule } from './rules.js';

export type AlertState = 'firing' | 'resolved' | 'digest' | 'stopped';

/** Makes alert events, counting them. */
export class Alerts {
  private readonly fired: Counter;

  constructor(context: PluginContext) {
    this.fired = context.metrics.counter('alert_events_total', 'Alert events emitted.');
  }

  make(rule: Rule, state: AlertState, message: string, extra: Partial<Event> & { since: number }): Event {
    this.fired.inc(1);
    return {
      name: rule.name,
      severity: rule.severity,
      kind: rule.kind,
      state,
      message: `[${rule.severity}] ${rule.name}: ${message}`,
      time: Date.now(),
      count: 1,
      samples: [],
      ...extra,
    };
  }

  /** An alert firing since `since` will never be resolved by this run: say so rather than leave it open. */
  stopped(rule: Rule, since: number, now: number, extra: Partial<Event> = {}): Event {
    const lasted = now - since;
    return this.make(rule, 'stopped', `the agent stopped while the alert was firing since ${formatLocalTime(since)} (${rule.text}), so its resolution will not be reported`,
      { since, duration_ms: lasted, duration: formatDuration(lasted), ...extra });
  }
}

/** A measured value in a message. */
export const formatValue = (v: number | null): string => (v === null ? 'n/a' : Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4))));
