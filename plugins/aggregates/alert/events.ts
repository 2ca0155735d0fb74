// Per-event rules: the first matching event alerts at once; matches within `cooldown` after it are counted into
// one digest, emitted when the cooldown ends (or at flush).
import type { AggregateContext, Event } from '../../../core/index.js';
import { describeEvent, formatDuration } from '../../../lib/alerts/index.js';
import type { Alerts } from './alerts.js';
import type { EventRule } from './rules.js';

interface EventState { until: number; count: number; samples: string[]; first: number; timer?: { cancel(): void } }

export class EventRules {
  /** In order of each rule's first match. */
  private readonly states = new Map<EventRule, EventState>();

  constructor(private readonly alerts: Alerts, private readonly context: AggregateContext) {}

  process(rule: EventRule, events: Event[], now: number, out: Event[]): void {
    for (const e of events) if (e.heartbeat !== true && rule.match(e)) this.onMatch(rule, e, now, out);
  }

  /** Matches still waiting for their digest are reported, never dropped. */
  flush(out: Event[]): void {
    for (const [rule, st] of this.states) {
      st.timer?.cancel();
      const d = this.digestOf(rule, st);
      if (d) out.push(d);
    }
  }

  private onMatch(rule: EventRule, e: Event, now: number, out: Event[]): void {
    let st = this.states.get(rule);
    if (!st) this.states.set(rule, (st = { until: 0, count: 0, samples: [], first: 0 }));
    if (rule.cooldown > 0 && now < st.until) {
      if (st.count === 0) st.first = now;
      st.count++;
      if (st.samples.length < rule.samples) st.samples.push(describeEvent(e));
      return;
    }
    const desc = describeEvent(e);
    out.push(this.alerts.make(rule, 'firing', `${rule.text} — ${desc}`, { samples: [desc], since: now }));
    if (rule.cooldown > 0) {
      st.until = now + rule.cooldown;
      const s = st;
      s.timer = this.context.timers.after(rule.cooldown, async () => {
        s.timer = undefined;
        const d = this.digestOf(rule, s);
        if (d) await this.context.emit([d]);
      });
    }
  }

  private digestOf(rule: EventRule, st: EventState): Event | undefined {
    if (st.count === 0) return undefined;
    const e = this.alerts.make(rule, 'digest', `${st.count} more match${st.count === 1 ? '' : 'es'} of ${rule.text} in ${formatDuration(rule.cooldown)} after the alert` +
      (st.samples.length ? ` — e.g. ${st.samples[0]}` : ''), { count: st.count, samples: st.samples, since: st.first, cooldown: formatDuration(rule.cooldown) });
    st.count = 0;
    st.samples = [];
    return e;
  }
}
