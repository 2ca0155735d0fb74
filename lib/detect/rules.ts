// The rules a detector runs, from the detect aggregate's options (plugins/aggregates/detect/schema.ts, validated):
// the default pack (unless off) and the user's, minus `disable`, each with its `override` applied, compiled. Shared
// by the aggregate and `visor analyze`, which takes the same options.
import { fieldPaths, parseCondition } from '../../core/index.js';
import { FieldMemos } from './memo.js';
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

/** The rules compiled, sharing one set of field caches (lib/detect/memo.ts: one lookup per field and event). */
export function rulesOf(options: Pick<DetectSettings, 'rules' | 'default_pack' | 'disable' | 'override'>): CompiledRule[] {
  const memos = new FieldMemos();
  return ruleSpecsOf(options).map((s) => compileRule(s, memos));
}

/** What detect reads besides its conditions: the bucket key and time (Detector), heartbeats, and the evidence
 * (lib/alerts' describeEvent: the raw line, else these fields). */
const ALWAYS_READ = ['client_ip', 'vhost', 'timestamp', 'heartbeat', 'message', 'method', 'url', 'status', 'user_agent', 'message_text'];

/** The fields detect reads of its input events (Plugin.reads): a parser before it need cut out no others. */
export function detectReads(options: Pick<DetectSettings, 'rules' | 'allow_when' | 'override'>): string[] {
  const texts = [...DEFAULT_PACK, ...options.rules].flatMap((r) => [r.when, ...(r.distinct === undefined ? [] : [r.distinct])]);
  if (options.allow_when !== undefined) texts.push(options.allow_when);
  for (const o of Object.values(options.override)) if (o.distinct !== undefined) texts.push(o.distinct);
  return [...new Set([...ALWAYS_READ, ...texts.flatMap((t) => fieldPaths(parseCondition(t)).map((p) => p.join('.')))])];
}
