// The rules a detect aggregate runs: the default pack (unless off) and the user's, minus `disable`, each with its
// `override` applied, compiled.
import { compileRule, DEFAULT_PACK, FieldMemos, type CompiledRule, type RuleSpec } from '../../../lib/detect/index.js';
import { fieldPaths, parseCondition } from '../../../core/index.js';
import type { DetectOptions } from './schema.js';

/** What detect reads besides its conditions: the bucket key and time (Detector), heartbeats, and the evidence
 * (lib/detect/evidence.ts: the raw line, else these fields). */
const ALWAYS_READ = ['client_ip', 'vhost', 'timestamp', 'heartbeat', 'message', 'method', 'url', 'status', 'user_agent', 'message_text'];

/** The fields detect reads of its input events (Plugin.reads): a parser before it need cut out no others. */
export function detectReads(options: DetectOptions): string[] {
  const texts = [...DEFAULT_PACK, ...options.rules].flatMap((r) => [r.when, ...(r.distinct === undefined ? [] : [r.distinct])]);
  if (options.allow_when !== undefined) texts.push(options.allow_when);
  for (const o of Object.values(options.override)) if (o.distinct !== undefined) texts.push(o.distinct);
  return [...new Set([...ALWAYS_READ, ...texts.flatMap((t) => fieldPaths(parseCondition(t)).map((p) => p.join('.')))])];
}

export function rulesOf(options: DetectOptions): CompiledRule[] {
  const packOn = options.default_pack ?? options.rules.length === 0;
  const specs: RuleSpec[] = [...(packOn ? DEFAULT_PACK : []), ...options.rules];
  const disabled = new Set(options.disable);
  const memos = new FieldMemos();
  return specs.filter((s) => !disabled.has(s.name)).map((s) => compileRule({ ...s, ...options.override[s.name] }, memos));
}
