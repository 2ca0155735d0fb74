// Attack detection on Apache logs (issue 19): rules in Visor's expression language over leaky buckets per client
// and vhost, the default rule pack, and allow-lists. Used by the detect aggregate.
export { AllowList, networkProblem } from './allow.js';
export { Bucket, type Overflow } from './bucket.js';
export { Detector, type Detection, type DetectorOptions } from './detector.js';
export { evidenceOf } from './evidence.js';
export { cachedParts, FieldMemos, MEMO_ENTRIES } from './memo.js';
export { DEFAULT_PACK } from './pack.js';
export { compileRule, RULE_DEFAULTS, type CompiledRule, type RuleSpec } from './rule.js';
