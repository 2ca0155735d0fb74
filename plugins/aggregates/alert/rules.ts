// Alert rules: the schema of the `rules` option of the alert aggregate (every check of a rule, so that `visor validate`
// reports each problem at its place in the file) and the compilation of validated rules.
// Plain conditions use the core expression language; `when` over a sliding window (`over`) is an aggregate
// comparison (core's compileAggregateComparison, the syntax of window metrics).
import {
  compileAggregateComparison, compileCondition, compileThreshold, isAggregateComparison, positiveDuration,
  type Accumulator, type AggregateComparison, type CheckProblem, type Condition, type Event, type OptionSchema, type OptionsOf,
} from '../../../core/index.js';

/** One rule as validated by RULE_SCHEMA (durations in ms). */
export type RuleOptions = OptionsOf<typeof RULE_SCHEMA>;

interface RuleBase { name: string; severity: string; text: string }
/** Rules checked on a schedule (windows, `for`, absence): every `evaluateEvery` ms. */
interface Scheduled { evaluateEvery: number }
export interface EventRule extends RuleBase { kind: 'event'; match: Condition; cooldown: number; samples: number }
export interface FieldThresholdRule extends RuleBase, Scheduled {
  kind: 'threshold'; mode: 'fields'; match: Condition; applies: (e: Event) => boolean; value: (e: Event) => number | null; for: number;
}
export interface WindowThresholdRule extends RuleBase, Scheduled {
  kind: 'threshold'; mode: 'window'; over: number; for: number;
  accumulators: Map<string, Accumulator>; comparison: AggregateComparison;
}
export interface AbsenceRule extends RuleBase, Scheduled { kind: 'absence'; absent: number; where?: Condition }
export type Rule = EventRule | FieldThresholdRule | WindowThresholdRule | AbsenceRule;

/** Compile an aggregate comparison and the accumulators it reads. Throws Error with a readable message (no rule
 * name) when it is invalid. */
function compileComparison(when: string): Pick<WindowThresholdRule, 'accumulators' | 'comparison'> {
  if (!isAggregateComparison(when)) throw new Error(`with "over", "when" must compare aggregate expressions, e.g. count(status >= 500) / count() > 0.05 (got "${when}")`);
  const accumulators = new Map<string, Accumulator>();
  return { accumulators, comparison: compileAggregateComparison(when, accumulators) };
}

/** Why `text` is not a valid aggregate comparison (the `when` of a rule with `over`), or undefined when it is.
 * Used by the options schema, so that `visor validate` reports it at its place in the file. */
export function checkAggregateComparison(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined; // left to `type`
  if (!text.trim()) return 'expected an aggregate comparison such as count(status >= 500) / count() > 0.05';
  try {
    compileComparison(text.trim());
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

export type RuleKind = 'event' | 'threshold' | 'absence';

/** What kind of rule these keys make: `absent` makes an absence rule, `over` or `for` a threshold, else per event. */
export function kindOf(rule: Partial<RuleOptions>): RuleKind {
  if (rule.absent !== undefined) return 'absence';
  return rule.over !== undefined || rule.for !== undefined ? 'threshold' : 'event';
}

/** Keys that belong to other kinds of rule, and what to say about each. */
function misplacedKeys(rule: Partial<RuleOptions>, kind: RuleKind): CheckProblem[] {
  const present = (keys: readonly (keyof RuleOptions)[]) => keys.filter((k) => rule[k] !== undefined);
  switch (kind) {
    case 'absence': {
      const fires = `an absence rule fires when no event${rule.where !== undefined ? ' matching where' : ''} arrives for the absent duration`;
      return present(['when', 'over', 'for', 'cooldown', 'samples']).map((k) => ({ at: k, message: `"${k}" cannot be used with "absent" (${fires}): remove ${k}, or absent` }));
    }
    case 'threshold': {
      const on = rule.over !== undefined ? 'over' : 'for';
      return [
        ...present(['cooldown']).map((k) => ({ at: k, message: `"cooldown" is for per-event rules; a threshold rule (with ${on}) alerts once when firing and once when resolved: remove cooldown, or ${on}` })),
        ...present(['samples']).map((k) => ({ at: k, message: `"samples" is for per-event rules (a digest's sample messages); a threshold rule (with ${on}) has none: remove samples, or ${on}` })),
        ...present(['where']).map((k) => ({ at: k, message: '"where" is only for absence rules (with absent); a threshold rule tests "when": remove where, or put the condition in when' })),
      ];
    }
    case 'event':
      return [
        ...present(['where']).map((k) => ({ at: k, message: '"where" is only for absence rules (with absent); use "when" for the condition of a per-event rule' })),
        ...present(['evaluate_every']).map((k) => ({ at: k, message: '"evaluate_every" is for threshold (for/over) and absence rules; a per-event rule alerts as events arrive: remove evaluate_every' })),
      ];
  }
}

/** Every problem of one rule that its keys' own schemas cannot see: a rule's keys must fit its kind, and a rule
 * that is not an absence rule needs `when`. Reported at the offending key. */
export function ruleProblems(value: unknown): CheckProblem[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return []; // left to `type`
  const rule = value as Partial<RuleOptions>;
  const kind = kindOf(rule);
  const problems = misplacedKeys(rule, kind);
  if (typeof rule.name === 'string' && rule.name.length > 0 && !rule.name.trim()) problems.push({ at: 'name', message: 'the name is blank; name the rule, e.g. name: server-errors (it is shown in alerts)' });
  if (kind !== 'absence' && rule.when === undefined) {
    problems.push({ message: 'needs "when" (a condition such as status >= 500, or with over an aggregate comparison) or "absent" (a duration)' });
  }
  return problems;
}

/** Rule names are unique: each duplicate is reported at its name. */
export function ruleNameProblems(value: unknown): CheckProblem[] {
  if (!Array.isArray(value)) return [];
  const first = new Map<string, number>();
  const problems: CheckProblem[] = [];
  value.forEach((rule, index) => {
    const name = (rule as Partial<RuleOptions> | null)?.name;
    if (typeof name !== 'string') return;
    const earlier = first.get(name);
    if (earlier === undefined) first.set(name, index);
    else problems.push({ at: [index, 'name'], message: `rules[${index}] has the name of rules[${earlier}] ("${name}"); give each rule a name of its own` });
  });
  return problems;
}


/** The schema of one rule: the only validation rules get (create() compiles what it accepted). */
export const RULE_SCHEMA = {
  type: 'object',
  required: ['name'],
  additionalProperties: false,
  // `when` is checked where it is written: an aggregate comparison with `over`, else a condition.
  if: { required: ['over'] },
  then: { properties: { when: { check: checkAggregateComparison } } },
  else: { properties: { when: { expression: true } } },
  check: ruleProblems,
  properties: {
    name: { type: 'string', minLength: 1, description: 'Rule name, shown in alerts; unique among the rules.' },
    when: { type: 'string', description: 'Condition; with `over`, an aggregate comparison such as count(status >= 500) / count() > 0.05.' },
    where: { type: 'string', expression: true, description: 'Absence rules: only events matching this condition count.' },
    over: { duration: true, check: positiveDuration('over: 5m'), description: 'Sliding window of raw events for an aggregate `when`.' },
    for: { duration: true, description: 'Fire only when the condition held continuously this long.' },
    cooldown: { duration: true, description: 'Per-event rules: matches within this time after an alert go into one digest.' },
    absent: { duration: true, check: positiveDuration('absent: 30s'), description: 'Absence rule: fire when no (matching) event arrived for this long.' },
    severity: { type: 'string', minLength: 1, default: 'warning', description: 'Severity label.' },
    samples: { type: 'integer', minimum: 0, description: 'Per-event rules: sample messages kept in a digest (default: the samples option).' },
    evaluate_every: { duration: true, check: positiveDuration('evaluate_every: 10s'), description: 'Threshold and absence rules: how often this rule is checked (default: the evaluate_every option).' },
  },
} as const satisfies OptionSchema;

/** Compile one rule, validated by RULE_SCHEMA. */
export function compileRule(raw: RuleOptions, defaults: RuleDefaults): Rule {
  const base = { name: raw.name, severity: raw.severity ?? 'warning' };
  const evaluateEvery = raw.evaluate_every ?? defaults.evaluateEvery;
  switch (kindOf(raw)) {
    case 'absence': {
      const where = raw.where === undefined ? undefined : compileCondition(raw.where);
      return { kind: 'absence', ...base, evaluateEvery, absent: raw.absent!, where, text: raw.where ? `no event matching ${raw.where}` : 'no event' };
    }
    case 'threshold': {
      const when = raw.when!.trim();
      if (raw.over !== undefined) {
        return { kind: 'threshold', mode: 'window', ...base, evaluateEvery, text: when, over: raw.over, for: raw.for ?? 0, ...compileComparison(when) };
      }
      const { holds, applies, measure } = compileThreshold(when);
      const value = (e: Event) => {
        const v = measure(e);
        return typeof v === 'number' && Number.isFinite(v) ? v : null;
      };
      return { kind: 'threshold', mode: 'fields', ...base, evaluateEvery, text: when, match: holds, applies, value, for: raw.for! };
    }
    case 'event': {
      const when = raw.when!.trim();
      return { kind: 'event', ...base, text: when, match: compileCondition(when), cooldown: raw.cooldown ?? 0, samples: raw.samples ?? defaults.samples };
    }
  }
}

export interface RuleDefaults { samples: number; evaluateEvery: number }

/** Compile the rules of validated options (RULE_SCHEMA, unique names). */
export function compileRules(raw: readonly RuleOptions[], defaults: RuleDefaults): Rule[] {
  return raw.map((r) => compileRule(r, defaults));
}
