// Threshold rules: a condition that fires once it has held for `for`, and resolves when it no longer holds. On
// the fields of incoming events, or (with `over`) an aggregate comparison over a sliding window of raw events,
// kept as 100 buckets of accumulator states.
import { accumulate, mergeAccState, newAccState, type AccState, type Event } from '../../../core/index.js';
import { formatValue, type Alerts } from './alerts.js';
import { formatDuration } from '../../../lib/alerts/index.js';
import type { FieldThresholdRule, Rule, WindowThresholdRule } from './rules.js';

type ThresholdRule = FieldThresholdRule | WindowThresholdRule;
interface ThresholdState { pendingSince?: number; firingSince?: number; value: number | null; buckets: Map<number, Map<string, AccState>> }

const bucketMs = (r: WindowThresholdRule) => Math.max(1, Math.floor(r.over / 100));

export class Thresholds {
  private readonly states = new Map<Rule, ThresholdState>();

  constructor(private readonly alerts: Alerts, rules: readonly Rule[]) {
    for (const r of rules) if (r.kind === 'threshold') this.states.set(r, { value: null, buckets: new Map() });
  }

  process(rule: ThresholdRule, events: Event[], now: number, out: Event[]): void {
    if (rule.mode === 'fields') {
      for (const e of events) {
        if (e.heartbeat === true || !rule.applies(e)) continue;
        this.setCondition(rule, rule.match(e), rule.value(e), now, out);
      }
      return;
    }
    const st = this.states.get(rule)!;
    const b = Math.floor(now / bucketMs(rule));
    let states = st.buckets.get(b);
    if (!states) {
      states = new Map();
      for (const key of rule.accumulators.keys()) states.set(key, newAccState());
      st.buckets.set(b, states);
    }
    for (const e of events) {
      if (e.heartbeat === true) continue;
      for (const acc of rule.accumulators.values()) accumulate(acc, states.get(acc.key)!, e);
    }
    this.evaluateWindow(rule, now, out);
  }

  /** The scheduled check: a window's condition is evaluated again (its oldest events leave it); a `for` may have
   * been reached. */
  check(rule: ThresholdRule, now: number, out: Event[]): void {
    if (rule.mode === 'window') this.evaluateWindow(rule, now, out);
    else this.checkFor(rule, now, out);
  }

  flush(rule: ThresholdRule, now: number, out: Event[]): void {
    const st = this.states.get(rule)!;
    if (st.firingSince !== undefined) out.push(this.alerts.stopped(rule, st.firingSince, now, { value: st.value }));
  }

  private setCondition(rule: ThresholdRule, holds: boolean, value: number | null, now: number, out: Event[]): void {
    const st = this.states.get(rule)!;
    if (holds) {
      st.value = value;
      if (st.pendingSince === undefined) st.pendingSince = now;
    } else {
      if (st.firingSince !== undefined) {
        const lasted = now - st.firingSince;
        out.push(this.alerts.make(rule, 'resolved', `resolved after ${formatDuration(lasted)}: ${rule.text} no longer holds (value ${formatValue(value)})`,
          { value, since: st.firingSince, duration_ms: lasted, duration: formatDuration(lasted) }));
      }
      st.pendingSince = st.firingSince = undefined;
      st.value = value;
    }
    this.checkFor(rule, now, out);
  }

  private checkFor(rule: ThresholdRule, now: number, out: Event[]): void {
    const st = this.states.get(rule)!;
    if (st.pendingSince === undefined || st.firingSince !== undefined || now - st.pendingSince < rule.for) return;
    st.firingSince = st.pendingSince;
    out.push(this.alerts.make(rule, 'firing', `${rule.text} (value ${formatValue(st.value)})` + (rule.for ? ` for ${formatDuration(now - st.pendingSince)}` : '') +
      (rule.mode === 'window' ? ` over the last ${formatDuration(rule.over)}` : ''), { value: st.value, since: st.pendingSince }));
  }

  private evaluateWindow(rule: WindowThresholdRule, now: number, out: Event[]): void {
    const st = this.states.get(rule)!;
    const size = bucketMs(rule);
    const oldest = Math.floor((now - rule.over) / size);
    const merged = new Map<string, AccState>();
    for (const key of rule.accumulators.keys()) merged.set(key, newAccState());
    for (const [b, states] of st.buckets) {
      if (b <= oldest) {
        st.buckets.delete(b);
        continue;
      }
      for (const [key, s] of states) mergeAccState(merged.get(key)!, s);
    }
    const seconds = rule.over / 1000;
    const { left, right, compare } = rule.comparison;
    const l = left(merged, seconds);
    const r = right(merged, seconds);
    this.setCondition(rule, l !== null && r !== null && compare(l, r), l, now, out);
  }
}
