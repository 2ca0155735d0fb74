// The rules a detect aggregate runs: the default pack (unless off) and the user's, minus `disable`, each with its
// `override` applied, compiled.
import { compileRule, DEFAULT_PACK, type CompiledRule, type RuleSpec } from '../../../lib/detect/index.js';
import type { DetectOptions } from './schema.js';

export function rulesOf(options: DetectOptions): CompiledRule[] {
  const packOn = options.default_pack ?? options.rules.length === 0;
  const specs: RuleSpec[] = [...(packOn ? DEFAULT_PACK : []), ...options.rules];
  const disabled = new Set(options.disable);
  return specs.filter((s) => !disabled.has(s.name)).map((s) => compileRule({ ...s, ...options.override[s.name] }));
}
