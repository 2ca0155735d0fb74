// The alert aggregate at work: its compiled rules, each handled by the engine of its kind (events.ts,
// thresholds.ts, absence.ts), in the order of the config; scheduled rules (windows, `for`, absence) are checked
// on one timer per distinct `evaluate_every`.
import type { AggregateContext, AggregateProcessContext, Event } from '../../../core/index.js';
import { AbsenceRules } from './absence.js';
import { Alerts } from './alerts.js';
import { EventRules } from './events.js';
import { compileRules, type Rule } from './rules.js';
import type { AlertOptions } from './schema.js';
import { Thresholds } from './thresholds.js';

export class Alerter {
  private readonly rules: Rule[];
  private readonly alerts: Alerts;
  private readonly events: EventRules;
  private readonly thresholds: Thresholds;
  private readonly absence: AbsenceRules;
  private readonly amended: ReturnType<AggregateContext['metrics']['counter']>;

  constructor(options: AlertOptions, private readonly context: AggregateContext) {
    this.rules = compileRules(options.rules, { samples: options.samples, evaluateEvery: options.evaluate_every });
    this.alerts = new Alerts(context);
    this.events = new EventRules(this.alerts, context);
    this.thresholds = new Thresholds(this.alerts, this.rules);
    this.absence = new AbsenceRules(this.alerts);
    this.amended = context.metrics.counter('alert_amended_results_skipped_total', 'Amended window results (amended: true: window_merge corrected a window already emitted) taken by no rule.');
  }

  start(): void {
    this.absence.start(this.rules, Date.now());
    // One timer per distinct interval: each rule is checked on its own schedule.
    const groups = new Map<number, Rule[]>();
    for (const r of this.rules) {
      if (r.kind === 'event') continue;
      const group = groups.get(r.evaluateEvery);
      if (group) group.push(r);
      else groups.set(r.evaluateEvery, [r]);
    }
    for (const [ms, group] of groups) this.context.timers.every(ms, () => this.check(group));
  }

  process(batch: Event[], ctx: AggregateProcessContext): void {
    const now = Date.now();
    // A window result window_merge emitted again for a window its rules already saw (amended: true, corrected for
    // late events) is taken by no rule: a per-event rule that matched the first result would alert twice for one
    // window, a field threshold would take a past window's value for the current one, and an `over` window would
    // count the window once more. Counted, so that it is not silently lost (README, "Edges lagging each other").
    let events = batch;
    if (batch.some((e) => e.amended === true)) {
      events = batch.filter((e) => e.amended !== true);
      this.amended.inc(batch.length - events.length);
    }
    const out: Event[] = [];
    for (const rule of this.rules) {
      if (rule.kind === 'event') this.events.process(rule, events, now, out);
      else if (rule.kind === 'absence') this.absence.process(rule, events, now, out);
      else this.thresholds.process(rule, events, now, out);
    }
    if (out.length) ctx.emit(out);
  }

  async flush(): Promise<void> {
    const out: Event[] = [];
    this.events.flush(out);
    const now = Date.now();
    for (const rule of this.rules) {
      if (rule.kind === 'threshold') this.thresholds.flush(rule, now, out);
      else if (rule.kind === 'absence') this.absence.flush(rule, now, out);
    }
    // Awaited: the runtime closes downstream only after flush, so these reach the outputs before shutdown ends.
    if (out.length) await this.context.emit(out);
  }

  /** Check the scheduled rules of one `evaluate_every` group. */
  private async check(group: Rule[]): Promise<void> {
    const now = Date.now();
    const out: Event[] = [];
    for (const r of group) {
      if (r.kind === 'threshold') this.thresholds.check(r, now, out);
      else if (r.kind === 'absence') this.absence.check(r, now, out);
    }
    if (out.length) await this.context.emit(out);
  }
}
