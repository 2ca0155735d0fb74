// Alert rules: validation and compilation of the `rules` option of the alert aggregate.
// Plain conditions use the core expression language; `when` over a sliding window (`over`) is an aggregate
// comparison whose sides are parsed by the window aggregate's metric parser (compileMetric).
import { compileCondition, ExpressionError, type Condition, type Event } from '../../../core/index.js';
import { parse } from '../../../core/expr/parser.js';
import { compileNode } from '../../../core/expr/compile.js';
import { childrenOf, type Node } from '../../../core/expr/ast.js';
import { hasField } from '../../../core/expr/fields.js';
import { compileMetric, type Accumulator, type MetricEval } from '../window/metrics.js';

export interface RuleOptions {
  name: string;
  when?: string;
  where?: string;
  over?: number;
  for?: number;
  cooldown?: number;
  absent?: number;
  severity?: string;
  samples?: number;
  evaluate_every?: number;
}

export const RULE_KEYS = ['name', 'when', 'where', 'over', 'for', 'cooldown', 'absent', 'severity', 'samples', 'evaluate_every'] as const;

interface RuleBase { name: string; severity: string; text: string }
/** Rules checked on a schedule (windows, `for`, absence): every `evaluateEvery` ms. */
interface Scheduled { evaluateEvery: number }
export interface EventRule extends RuleBase { kind: 'event'; match: Condition; cooldown: number; samples: number }
export interface FieldThresholdRule extends RuleBase, Scheduled {
  kind: 'threshold'; mode: 'fields'; match: Condition; applies: (e: Event) => boolean; value: (e: Event) => number | null; for: number;
}
export interface WindowThresholdRule extends RuleBase, Scheduled {
  kind: 'threshold'; mode: 'window'; over: number; for: number;
  accumulators: Map<string, Accumulator>; left: MetricEval; right: MetricEval; compare: (l: number, r: number) => boolean;
}
export interface AbsenceRule extends RuleBase, Scheduled { kind: 'absence'; absent: number; where?: Condition }
export type Rule = EventRule | FieldThresholdRule | WindowThresholdRule | AbsenceRule;

const COMPARE: Record<string, (l: number, r: number) => boolean> = {
  '>=': (l, r) => l >= r, '<=': (l, r) => l <= r, '==': (l, r) => l === r, '!=': (l, r) => l !== r, '>': (l, r) => l > r, '<': (l, r) => l < r,
};

/** Split an aggregate comparison (`count(status >= 500) / count() > 0.05`) at its one top-level comparison. */
function splitComparison(text: string): { left: string; op: string; right: string } | undefined {
  let depth = 0;
  const found: Array<{ at: number; op: string }> = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"' || c === "'") {
      i++;
      while (i < text.length && text[i] !== c) i += text[i] === '\\' ? 2 : 1;
    } else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0) {
      const two = text.slice(i, i + 2);
      if (two === '>=' || two === '<=' || two === '==' || two === '!=') {
        found.push({ at: i, op: two });
        i++;
      } else if (c === '>' || c === '<') found.push({ at: i, op: c });
    }
  }
  if (found.length !== 1) return undefined;
  const { at, op } = found[0];
  return { left: text.slice(0, at).trim(), op, right: text.slice(at + op.length).trim() };
}

/** Compile an aggregate comparison: its accumulators, both sides and the operator. Throws Error with a readable
 * message (no rule name) when it is invalid. */
function compileComparison(when: string): Pick<WindowThresholdRule, 'accumulators' | 'left' | 'right' | 'compare'> {
  const parts = splitComparison(when);
  if (!parts) throw new Error(`with "over", "when" must compare aggregate expressions, e.g. count(status >= 500) / count() > 0.05 (got "${when}")`);
  const accumulators = new Map<string, Accumulator>();
  try {
    const left = compileMetric('when', parts.left, accumulators);
    const right = compileMetric('when', parts.right, accumulators);
    return { accumulators, left, right, compare: COMPARE[parts.op] };
  } catch (err) {
    throw new Error((err as Error).message.replace(/^metric "[^"]*": /, ''));
  }
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

function fieldsOf(node: Node, out: string[][] = []): string[][] {
  if (node.kind === 'field') out.push(node.path);
  for (const child of childrenOf(node)) fieldsOf(child, out);
  return out;
}

const isDuration = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Validate and compile one rule; throws an Error naming the rule. */
export function compileRule(raw: RuleOptions, index: number, defaults: RuleDefaults): Rule {
  const label = typeof raw?.name === 'string' && raw.name ? `rule "${raw.name}"` : `rule #${index + 1}`;
  const fail = (msg: string): never => {
    throw new Error(`alert ${label}: ${msg}`);
  };
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail('expected an object with name and when (or absent)');
  for (const key of Object.keys(raw)) {
    if (!(RULE_KEYS as readonly string[]).includes(key)) fail(`unknown key "${key}" (expected one of ${RULE_KEYS.join(', ')})`);
  }
  if (typeof raw.name !== 'string' || !raw.name.trim()) fail('"name" is required');
  for (const key of ['over', 'for', 'cooldown', 'absent', 'evaluate_every'] as const) {
    if (raw[key] !== undefined && !isDuration(raw[key])) fail(`"${key}" must be a duration such as 30s`);
  }
  const severity = raw.severity ?? 'warning';
  if (typeof severity !== 'string' || !severity) fail('"severity" must be a string');
  if (raw.evaluate_every !== undefined && !(raw.evaluate_every > 0)) fail('"evaluate_every" needs a duration greater than 0');
  const base = { name: raw.name, severity };
  const evaluateEvery = raw.evaluate_every ?? defaults.evaluateEvery;
  const compile = (key: 'when' | 'where', text: unknown): Condition => {
    if (typeof text !== 'string' || !text.trim()) fail(`"${key}" must be a condition such as status >= 500`);
    try {
      return compileCondition(text as string);
    } catch (err) {
      if (err instanceof ExpressionError) fail(`${key}: ${err.message}`);
      throw err;
    }
    return fail('unreachable');
  };

  if (raw.absent !== undefined) {
    for (const key of ['when', 'over', 'for', 'cooldown', 'samples'] as const) {
      if (raw[key] !== undefined) fail(`"${key}" cannot be used with "absent" (an absence rule fires when no event${raw.where ? ' matching where' : ''} arrives)`);
    }
    if (!(raw.absent! > 0)) fail('"absent" needs a duration greater than 0, e.g. absent: 30s');
    const where = raw.where === undefined ? undefined : compile('where', raw.where);
    return { kind: 'absence', ...base, evaluateEvery, absent: raw.absent!, where, text: raw.where ? `no event matching ${raw.where}` : 'no event' };
  }
  if (raw.where !== undefined) fail('"where" is only for absence rules (use "when")');
  if (raw.when === undefined) fail('needs "when" (a condition) or "absent" (a duration)');
  if (typeof raw.when !== 'string' || !raw.when.trim()) fail('"when" must be a condition such as status >= 500');
  const when = raw.when!.trim();

  if (raw.over !== undefined || raw.for !== undefined) {
    if (raw.cooldown !== undefined) fail('"cooldown" is for per-event rules; a threshold rule alerts once when firing and once when resolved');
    if (raw.samples !== undefined) fail('"samples" is for per-event rules');
    if (raw.over !== undefined) {
      if (!(raw.over > 0)) fail('"over" needs a duration greater than 0');
      let comparison: ReturnType<typeof compileComparison> | undefined;
      try {
        comparison = compileComparison(when);
      } catch (err) {
        fail(`when: ${(err as Error).message}`);
      }
      return { kind: 'threshold', mode: 'window', ...base, evaluateEvery, text: when, over: raw.over, for: raw.for ?? 0, ...comparison! };
    }
    const match = compile('when', when);
    const ast = parse(when);
    const fields = fieldsOf(ast);
    const applies = (e: Event) => fields.every((f) => hasField(e, f));
    let value: (e: Event) => number | null = () => null;
    if (ast.kind === 'compare') {
      const left = compileNode(ast.left);
      value = (e) => {
        const v = left(e);
        return typeof v === 'number' && Number.isFinite(v) ? v : null;
      };
    }
    return { kind: 'threshold', mode: 'fields', ...base, evaluateEvery, text: when, match, applies, value, for: raw.for! };
  }
  if (raw.evaluate_every !== undefined) fail('"evaluate_every" is for threshold (for/over) and absence rules; a per-event rule alerts as events arrive');

  const samples = raw.samples ?? defaults.samples;
  if (!Number.isInteger(samples) || samples < 0) fail('"samples" must be an integer >= 0');
  return { kind: 'event', ...base, text: when, match: compile('when', when), cooldown: raw.cooldown ?? 0, samples };
}

/** Compile all rules; names must be unique. */
export interface RuleDefaults { samples: number; evaluateEvery: number }

export function compileRules(raw: unknown, defaults: RuleDefaults): Rule[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new Error('alert: "rules" must be a non-empty list of rules');
  const rules = raw.map((r, i) => compileRule(r as RuleOptions, i, defaults));
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.name)) throw new Error(`alert rule "${r.name}": the name is used by another rule`);
    seen.add(r.name);
  }
  return rules;
}

/** `250ms`, `30s`, `2m`, `1m30s`, `1h5m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  let s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return (h ? `${h}h` : '') + (m ? `${m}m` : '') + (s || (!h && !m) ? `${s}s` : '');
}
