// The fields the alert aggregate reads of its input events (Plugin.reads): what its rules' conditions name, heartbeats
// (no rule counts one), `amended` (window_merge's corrected results, which no rule takes: alerter.ts) and, for per-event rules, what an alert's description shows (lib/alerts' describeEvent). A
// parser before it then cuts out no other field. Without this, apache_access filled every field of every line: with
// one rule on status and path, tail -> apache_access -> alert cost 6,600-6,730 instructions a line more than the same
// pipeline into a blackhole (callgrind, 100,000 lines minus a 1-line run, 2 runs), and 3,560-3,710 with it.
import { aggregateComparisonFields, fieldPaths, parseCondition } from '../../../core/index.js';
import { describeReads } from '../../../lib/alerts/index.js';
import { kindOf } from './rules.js';
import type { AlertOptions } from './schema.js';

const conditionFields = (text: string) => fieldPaths(parseCondition(text)).map((p) => p.join('.'));

export function alertReads(options: AlertOptions): string[] {
  const fields = new Set(['heartbeat', 'amended']);
  for (const rule of options.rules) {
    const kind = kindOf(rule);
    const read = kind === 'absence'
      ? (rule.where === undefined ? [] : conditionFields(rule.where))
      : rule.over !== undefined ? aggregateComparisonFields(rule.when!) : conditionFields(rule.when!);
    if (kind === 'event') read.push(...describeReads('short'));
    for (const f of read) fields.add(f);
  }
  return [...fields];
}
