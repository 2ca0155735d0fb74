// Alerting on the event stream: per-event rules (alert at once, then a digest per cooldown), thresholds
// (on fields of incoming events, or an aggregate expression over a sliding window of raw events, with `for`)
// and absence (no matching event for a duration). Results are alert events meant for a human (email, console).
// Scheduled rules (windows, `for`, absence) are checked every `evaluate_every`, the aggregate's or the rule's own.
// At shutdown, alerts still firing are reported as `stopped`: their resolution will never come.
import { accumulate, definePlugin, detachString, mergeAccState, newAccState, type AccState, type Event } from '../../../core/index.js';
import { compileRules, formatDuration, positiveDuration, RULE_SCHEMA, ruleNameProblems, type AbsenceRule, type EventRule, type FieldThresholdRule, type Rule, type RuleOptions, type WindowThresholdRule } from './rules.js';

interface AlertOptions {
  rules: RuleOptions[];
  evaluate_every: number;
  samples: number;
}

const DURATION = { duration: true } as const;

/** A short readable description of an event for alert messages and samples. */
export function describeEvent(e: Event): string {
  const parts = ['client_ip', 'method', 'path', 'status'].map((f) => e[f]).filter((v) => typeof v === 'string' || typeof v === 'number');
  if (e.path !== undefined || e.status !== undefined) {
    if (parts.length) return parts.join(' ');
  }
  if (typeof e.message === 'string' && e.message) return (typeof e.level === 'string' ? `[${e.level}] ` : '') + e.message.slice(0, 500);
  const json = JSON.stringify(e);
  return json.length > 300 ? `${json.slice(0, 297)}...` : json;
}

const fmtValue = (v: number | null) => (v === null ? 'n/a' : Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4))));

export default definePlugin<AlertOptions, 'aggregate'>({
  kind: 'aggregate',
  name: 'alert',
  description: 'Alert rules over events: per-event (alert at once, then one digest per cooldown), thresholds (on event fields or an aggregate expression over a sliding window, with `for`) and absence, each checked every evaluate_every (per rule or aggregate). Emits alert events {name, severity, kind, state (firing, resolved, digest, or stopped: still firing when the agent stopped, so no resolution will follow), message, time, count, samples, value, since}.',
  schema: {
    type: 'object',
    required: ['rules'],
    properties: {
      rules: {
        type: 'array',
        minItems: 1,
        description: 'Alert rules: {name, when, cooldown, severity, samples} per event; {name, when, for, over, evaluate_every} thresholds; {name, absent, where, evaluate_every} absence.',
        check: ruleNameProblems,
        items: RULE_SCHEMA,
      },
      evaluate_every: { ...DURATION, default: '1s', check: positiveDuration('evaluate_every: 1s'), description: 'How often window thresholds, `for` durations and absence are checked (processing time), for rules without their own evaluate_every.' },
      samples: { type: 'integer', minimum: 0, default: 5, description: 'Default number of sample messages in a digest.' },
    },
  },
  create(options, context) {
    const rules: Rule[] = compileRules(options.rules, { samples: options.samples, evaluateEvery: options.evaluate_every });
    const fired = context.metrics.counter('alert_events_total', 'Alert events emitted.');

    const alert = (rule: Rule, state: 'firing' | 'resolved' | 'digest' | 'stopped', message: string, extra: Partial<Event> & { since: number }): Event => {
      fired.inc(1);
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
    };

    // ---- per-event rules
    interface EventState { until: number; count: number; samples: string[]; first: number; timer?: { cancel(): void } }
    const eventStates = new Map<EventRule, EventState>();
    const digestOf = (rule: EventRule, st: EventState): Event | undefined => {
      if (st.count === 0) return undefined;
      const e = alert(rule, 'digest', `${st.count} more match${st.count === 1 ? '' : 'es'} of ${rule.text} in ${formatDuration(rule.cooldown)} after the alert` +
        (st.samples.length ? ` — e.g. ${st.samples[0]}` : ''), { count: st.count, samples: st.samples, since: st.first });
      st.count = 0;
      st.samples = [];
      return e;
    };
    const onEventMatch = (rule: EventRule, e: Event, now: number, out: Event[]) => {
      let st = eventStates.get(rule);
      if (!st) eventStates.set(rule, (st = { until: 0, count: 0, samples: [], first: 0 }));
      if (rule.cooldown > 0 && now < st.until) {
        if (st.count === 0) st.first = now;
        st.count++;
        if (st.samples.length < rule.samples) st.samples.push(detachString(describeEvent(e)));
        return;
      }
      const desc = describeEvent(e);
      out.push(alert(rule, 'firing', `${rule.text} — ${desc}`, { samples: [desc], since: now }));
      if (rule.cooldown > 0) {
        st.until = now + rule.cooldown;
        const s = st;
        s.timer = context.timers.after(rule.cooldown, async () => {
          s.timer = undefined;
          const d = digestOf(rule, s);
          if (d) await send([d]);
        });
      }
    };

    // ---- thresholds
    interface ThresholdState { pendingSince?: number; firingSince?: number; value: number | null; buckets: Map<number, Map<string, AccState>> }
    const thresholdStates = new Map<Rule, ThresholdState>();
    for (const r of rules) if (r.kind === 'threshold') thresholdStates.set(r, { value: null, buckets: new Map() });
    const bucketMs = (r: WindowThresholdRule) => Math.max(1, Math.floor(r.over / 100));

    const setCondition = (rule: FieldThresholdRule | WindowThresholdRule, holds: boolean, value: number | null, now: number, out: Event[]) => {
      const st = thresholdStates.get(rule)!;
      if (holds) {
        st.value = value;
        if (st.pendingSince === undefined) st.pendingSince = now;
      } else {
        if (st.firingSince !== undefined) {
          const lasted = now - st.firingSince;
          out.push(alert(rule, 'resolved', `resolved after ${formatDuration(lasted)}: ${rule.text} no longer holds (value ${fmtValue(value)})`,
            { value, since: st.firingSince, duration_ms: lasted, duration: formatDuration(lasted) }));
        }
        st.pendingSince = st.firingSince = undefined;
        st.value = value;
      }
      checkFor(rule, now, out);
    };
    const checkFor = (rule: FieldThresholdRule | WindowThresholdRule, now: number, out: Event[]) => {
      const st = thresholdStates.get(rule)!;
      if (st.pendingSince === undefined || st.firingSince !== undefined || now - st.pendingSince < rule.for) return;
      st.firingSince = st.pendingSince;
      out.push(alert(rule, 'firing', `${rule.text} (value ${fmtValue(st.value)})` + (rule.for ? ` for ${formatDuration(now - st.pendingSince)}` : '') +
        (rule.mode === 'window' ? ` over the last ${formatDuration(rule.over)}` : ''), { value: st.value, since: st.pendingSince }));
    };
    const evaluateWindow = (rule: WindowThresholdRule, now: number, out: Event[]) => {
      const st = thresholdStates.get(rule)!;
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
      setCondition(rule, l !== null && r !== null && compare(l, r), l, now, out);
    };

    // ---- absence
    interface AbsenceState { last: number; firingSince?: number }
    const absenceStates = new Map<AbsenceRule, AbsenceState>();
    const checkAbsence = (rule: AbsenceRule, st: AbsenceState, now: number, out: Event[]) => {
      if (st.firingSince !== undefined || now - st.last < rule.absent) return;
      st.firingSince = st.last;
      out.push(alert(rule, 'firing', `${rule.text} for ${formatDuration(now - st.last)}`, { count: 0, since: st.last }));
    };

    const send = async (events: Event[]) => {
      if (events.length) await context.emit(events);
    };

    /** Check the scheduled rules of one `evaluate_every` group. */
    const tick = async (group: Rule[]) => {
      const now = Date.now();
      const out: Event[] = [];
      for (const r of group) {
        if (r.kind === 'threshold') {
          if (r.mode === 'window') evaluateWindow(r, now, out);
          else checkFor(r, now, out);
        } else if (r.kind === 'absence') checkAbsence(r, absenceStates.get(r)!, now, out);
      }
      await send(out);
    };

    return {
      start() {
        const now = Date.now();
        for (const r of rules) if (r.kind === 'absence') absenceStates.set(r, { last: now });
        // One timer per distinct interval: each rule is checked on its own schedule.
        const groups = new Map<number, Rule[]>();
        for (const r of rules) {
          if (r.kind === 'event') continue;
          const group = groups.get(r.evaluateEvery);
          if (group) group.push(r);
          else groups.set(r.evaluateEvery, [r]);
        }
        for (const [ms, group] of groups) context.timers.every(ms, () => tick(group));
      },
      process(events, ctx) {
        const now = Date.now();
        const out: Event[] = [];
        for (const rule of rules) {
          switch (rule.kind) {
            case 'event':
              for (const e of events) if (e.heartbeat !== true && rule.match(e)) onEventMatch(rule, e, now, out);
              break;
            case 'absence': {
              let st = absenceStates.get(rule);
              if (!st) absenceStates.set(rule, (st = { last: now }));
              let seen = false;
              for (const e of events) {
                if (rule.where ? rule.where(e) : e.heartbeat !== true) {
                  seen = true;
                  break;
                }
              }
              if (!seen) break;
              if (st.firingSince !== undefined) {
                const lasted = now - st.firingSince;
                out.push(alert(rule, 'resolved', `events are back after ${formatDuration(lasted)} (${rule.text} since ${new Date(st.firingSince).toISOString()})`,
                  { since: st.firingSince, duration_ms: lasted, duration: formatDuration(lasted) }));
                st.firingSince = undefined;
              }
              st.last = now;
              break;
            }
            case 'threshold':
              if (rule.mode === 'fields') {
                for (const e of events) {
                  if (e.heartbeat === true || !rule.applies(e)) continue;
                  setCondition(rule, rule.match(e), rule.value(e), now, out);
                }
              } else {
                const st = thresholdStates.get(rule)!;
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
                evaluateWindow(rule, now, out);
              }
              break;
          }
        }
        if (out.length) ctx.emit(out);
      },
      async flush() {
        // Matches still waiting for their digest are reported, never dropped.
        const out: Event[] = [];
        for (const [rule, st] of eventStates) {
          st.timer?.cancel();
          const d = digestOf(rule, st);
          if (d) out.push(d);
        }
        // Alerts still firing will never be resolved by this run: say so rather than leave them open.
        const now = Date.now();
        const stopped = (rule: Rule, since: number, extra: Partial<Event> = {}) => {
          const lasted = now - since;
          out.push(alert(rule, 'stopped', `the agent stopped while the alert was firing since ${new Date(since).toISOString()} (${rule.text}), so its resolution will not be reported`,
            { since, duration_ms: lasted, duration: formatDuration(lasted), ...extra }));
        };
        for (const rule of rules) {
          if (rule.kind === 'threshold') {
            const st = thresholdStates.get(rule)!;
            if (st.firingSince !== undefined) stopped(rule, st.firingSince, { value: st.value });
          } else if (rule.kind === 'absence') {
            const st = absenceStates.get(rule);
            if (st?.firingSince !== undefined) stopped(rule, st.firingSince, { count: 0 });
          }
        }
        // Awaited: the runtime closes downstream only after flush, so these reach the outputs before shutdown ends.
        if (out.length) await context.emit(out);
      },
    };
  },
});
