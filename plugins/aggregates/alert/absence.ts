// Absence rules: firing when no event (matching `where`, when given; else no event but heartbeats) arrived for the
// `absent` duration, resolved when one arrives again.
import { formatLocalTime, type Event } from '../../../core/index.js';
import type { Alerts } from './alerts.js';
import { formatDuration } from '../../../lib/alerts/index.js';
import type { AbsenceRule, Rule } from './rules.js';

interface AbsenceState { last: number; firingSince?: number }

export class AbsenceRules {
  private readonly states = new Map<AbsenceRule, AbsenceState>();

  constructor(private readonly alerts: Alerts) {}

  /** Absence is counted from the start. */
  start(rules: readonly Rule[], now: number): void {
    for (const r of rules) if (r.kind === 'absence') this.states.set(r, { last: now });
  }

  process(rule: AbsenceRule, events: Event[], now: number, out: Event[]): void {
    let st = this.states.get(rule);
    if (!st) this.states.set(rule, (st = { last: now }));
    if (!events.some((e) => (rule.where ? rule.where(e) : e.heartbeat !== true))) return;
    if (st.firingSince !== undefined) {
      const lasted = now - st.firingSince;
      out.push(this.alerts.make(rule, 'resolved', `events are back after ${formatDuration(lasted)} (${rule.text} since ${formatLocalTime(st.firingSince)})`,
        { since: st.firingSince, duration_ms: lasted, duration: formatDuration(lasted) }));
      st.firingSince = undefined;
    }
    st.last = now;
  }

  check(rule: AbsenceRule, now: number, out: Event[]): void {
    const st = this.states.get(rule)!;
    if (st.firingSince !== undefined || now - st.last < rule.absent) return;
    st.firingSince = st.last;
    out.push(this.alerts.make(rule, 'firing', `${rule.text} for ${formatDuration(now - st.last)}`, { count: 0, since: st.last }));
  }

  flush(rule: AbsenceRule, now: number, out: Event[]): void {
    const st = this.states.get(rule);
    if (st?.firingSince !== undefined) out.push(this.alerts.stopped(rule, st.firingSince, now, { count: 0 }));
  }
}
