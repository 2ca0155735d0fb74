// The rules a detector runs, from the detect aggregate's options (plugins/aggregates/detect/schema.ts, validated):
// the default pack (unless off) and the user's, minus `disable`, each with its `override` applied, compiled. Shared
// by the aggregate and `visor analyze`, which takes the same options.
import { DEFAULT_PACK } from './pack.js';
import { compileRule, type CompiledRule, type RuleSpec } from './rule.js';

/** The detect aggregate's options, validated (defaults applied, durations in ms). */
export interface DetectSettings {
  rules: readonly RuleSpec[];
  default_pack?: boolean;
  disable: readonly string[];
  override: Readonly<Record<string, Partial<Omit<RuleSpec, 'name' | 'when' | 'description'>>>>;
  allow_networks: readonly string[];
  allow_when?: string;
  /** Allow crawlers verified by reverse DNS (the aggregate annotates crawler_verified before detecting). */
  verify_crawlers?: boolean;
  /** Digests of the matches of each quiet period, when it ends. */
  quiet_digest?: boolean;
  max_clients: number;
  samples: number;
}

/** The rule specs to run, in order (a rule's index is its place here). */
export function ruleSpecsOf(options: Pick<DetectSettings, 'rules' | 'default_pack' | 'disable' | 'override'>): RuleSpec[] {
  const packOn = options.default_pack ?? options.rules.length === 0;
  const specs: RuleSpec[] = [...(packOn ? DEFAULT_PACK : []), ...options.rules];
  const disabled = new Set(options.disable);
  return specs.filter((s) => !disabled.has(s.name)).map((s) => ({ ...s, ...options.override[s.name] }));
}

export function rulesOf(options: Pick<DetectSettings, 'rules' | 'default_pack' | 'disable' | 'override'>): CompiledRule[] {
  return ruleSpecsOf(options).map(compileRule);
}
