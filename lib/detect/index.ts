// Attack detection on Apache logs (issue 19): rules in Visor's expression language over leaky buckets per client
// and vhost, the default rule pack, and allow-lists (with crawlers verified by reverse DNS). Used by the detect aggregate
// and `visor analyze`.
export { alertOfResult, detectionAlert, digestAlert } from './alert.js';
export { AllowList, networkProblem } from './allow.js';
export { CrawlerClaims, inDomains, VERIFIABLE_CRAWLERS, type CrawlerOperator } from './crawlers.js';
export { arpaName, dnsServerProblem, ReverseDns, type ReverseDnsOptions, type ReverseDnsStats, type Verdict } from './rdns.js';
export { CrawlerVerifier, type ClaimCounts } from './verify.js';
export { Bucket, type DigestedMatches, type Overflow, type QuietMatches } from './bucket.js';
export { Detector, digestIdentity, eventTime, keyOf, type Detection, type DetectorOptions, type DetectorResult, type QuietDigest } from './detector.js';
export { cachedParts, FieldMemos, MEMO_ENTRIES } from './memo.js';
export { DEFAULT_PACK } from './pack.js';
export { compileRule, RULE_DEFAULTS, type CompiledRule, type RuleSpec } from './rule.js';
export { detectReads, ruleSpecsOf, rulesOf, type DetectSettings } from './rules.js';
