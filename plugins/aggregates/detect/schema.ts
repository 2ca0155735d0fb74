// The detect aggregate's options: every check of them, so that `visor validate` reports each problem at its place
// in the file (exit 78) — rule names unique and not the pack's, `disable` and `override` naming rules that exist,
// networks that parse, conditions that compile.
import { type CheckProblem, type OptionSchema, type OptionsOf } from '../../../core/index.js';
import { DEFAULT_PACK, dnsServerProblem, networkProblem } from '../../../lib/detect/index.js';

const PACK_NAMES = DEFAULT_PACK.map((r) => r.name);

const BUCKET_PROPERTIES = {
  severity: { type: 'string', minLength: 1, description: 'Severity label of its alerts (default warning; the pack\'s rules have their own).' },
  capacity: { type: 'integer', minimum: 0, maximum: 1_000_000, description: 'Events the bucket holds without firing: the next one within the leak fires. 0: the first matching event fires (a one-shot trigger).' },
  leak: { duration: true, exclusiveMinimum: 0, description: 'One event leaks out of the bucket every this long (event time). Default 1m.' },
  distinct: { type: 'string', expression: true, description: 'Pour an event only when the value of this expression is new in the bucket, e.g. path (distinct paths).' },
  quiet: { duration: true, minimum: 0, description: 'After firing, the same client and vhost do not fire this rule again for this long (event time); matches meanwhile are reported by one digest when it ends (quiet_digest), else counted into the next alert\'s quiet_matches. Default 10m.' },
} as const;

const NAME = { type: 'string', minLength: 1, pattern: '^[A-Za-z0-9_.-]+$', description: 'Rule name (letters, digits, _ . -), the `rule` and `name` of its alerts.' } as const;

function optionsProblems(value: unknown): CheckProblem[] {
  const o = value as { rules?: { name?: unknown }[]; disable?: unknown[]; override?: Record<string, unknown>; default_pack?: boolean } | null;
  if (!o || typeof o !== 'object') return [];
  const rules = Array.isArray(o.rules) ? o.rules : [];
  const packOn = o.default_pack ?? rules.length === 0;
  const known = new Set<string>(packOn ? PACK_NAMES : []);
  const problems: CheckProblem[] = [];
  const first = new Map<string, number>();
  rules.forEach((rule, i) => {
    const name = rule?.name;
    if (typeof name !== 'string') return;
    if (packOn && PACK_NAMES.includes(name)) problems.push({ at: ['rules', i, 'name'], message: `"${name}" is a rule of the default pack; tune it with override.${name}, or give your rule another name` });
    else if (first.has(name)) problems.push({ at: ['rules', i, 'name'], message: `rules[${i}] has the name of rules[${first.get(name)}] ("${name}"); give each rule a name of its own` });
    else first.set(name, i);
    known.add(name);
  });
  const list = () => [...known].join(', ') || '(none: the default pack is off and no rules are listed)';
  (Array.isArray(o.disable) ? o.disable : []).forEach((name, i) => {
    if (typeof name === 'string' && !known.has(name)) problems.push({ at: ['disable', i], message: `no rule is named "${name}"; the rules are: ${list()}` });
  });
  for (const name of Object.keys(o.override && typeof o.override === 'object' ? o.override : {})) {
    if (!known.has(name)) problems.push({ at: ['override', name], message: `no rule is named "${name}"; the rules are: ${list()}` });
  }
  const v = value as { verify_crawlers?: unknown; dns_servers?: unknown };
  if (v.verify_crawlers !== true && Array.isArray(v.dns_servers) && v.dns_servers.length) problems.push({ at: 'dns_servers', message: 'dns_servers is for verify_crawlers, which is off: set verify_crawlers: true, or remove dns_servers' });
  if (!packOn && rules.length === 0) problems.push({ at: 'default_pack', message: 'with default_pack: false, list your own rules (rules: [...]), or there is nothing to detect' });
  return problems;
}

export const DETECT_SCHEMA = {
  type: 'object',
  check: optionsProblems,
  properties: {
    rules: {
      type: 'array',
      default: [],
      description: 'Your own rules {name, when, description, severity, capacity, leak, distinct, quiet}, in addition to the default pack (which is on when no rules are listed; see default_pack).',
      items: {
        type: 'object',
        required: ['name', 'when'],
        properties: {
          name: NAME,
          when: { type: 'string', expression: true, description: 'The events this rule counts, a condition like those of where, e.g. status == 404 and path =~ "^/cgi-bin/".' },
          description: { type: 'string', description: 'What the rule catches (shown in nothing but docs and your config).' },
          ...BUCKET_PROPERTIES,
        },
      },
    },
    default_pack: { type: 'boolean', description: 'Run the built-in rules (see "Attack detection" in the README). Default: on when no rules are listed, off otherwise.' },
    disable: { type: 'array', default: [], uniqueItems: true, items: { type: 'string' }, description: 'Names of rules not to run, e.g. [aggressive-crawl].' },
    override: {
      type: 'object',
      default: {},
      description: 'Settings replacing a rule\'s own, by rule name, e.g. {probing: {capacity: 30}}.',
      additionalProperties: { type: 'object', additionalProperties: false, minProperties: 1, properties: BUCKET_PROPERTIES },
    },
    allow_networks: {
      type: 'array', default: [], items: { type: 'string', check: networkProblem },
      description: 'Clients (client_ip) never counted by any rule: addresses or CIDRs, IPv4 or IPv6, e.g. [127.0.0.1, 10.0.0.0/8, 2001:db8::/32] (your monitoring, your own scanners).',
    },
    allow_when: { type: 'string', expression: true, description: 'Events never counted by any rule when this condition holds, e.g. user_agent == "MyMonitor/1.0" or vhost == "status.example.com".' },
    verify_crawlers: {
      type: 'boolean', default: false,
      description: 'Allow the search-engine crawlers whose address passes their operator\'s reverse DNS check (PTR in the operator\'s domains, and that name resolving back to the address): Googlebot, bingbot, Applebot, YandexBot, Baiduspider, Amazonbot. Each claiming event gets crawler and crawler_verified (true, false, null when no answer came in time); a failed check fires fake-crawler. Off by default: it sends the clients\' addresses to the resolver, and a user agent alone allows nothing.',
    },
    dns_servers: {
      type: 'array', default: [], items: { type: 'string', check: dnsServerProblem },
      description: 'verify_crawlers: the resolvers asked (IP or IP:port, [IPv6]:port); the system\'s (/etc/resolv.conf) when empty.',
    },
    dns_timeout: { duration: true, exclusiveMinimum: 0, maximum: 60_000, default: '1s', description: 'verify_crawlers: how long a batch waits for the lookups it needs (and each query\'s timeout); a claim still unanswered then is unverified (not allowed, not fake) and its answer, when it comes, is cached for the next events.' },
    dns_max_lookups: { type: 'integer', minimum: 1, maximum: 10_000, default: 64, description: 'verify_crawlers: lookups in flight at most; a claim beyond is unverified for that batch (metric detect_dns_skipped_total).' },
    dns_cache_size: { type: 'integer', minimum: 0, maximum: 10_000_000, default: 10_000, description: 'verify_crawlers: verdicts (per operator and address) kept.' },
    dns_cache_ttl: { duration: true, minimum: 0, default: '1h', description: 'verify_crawlers: how long a verdict (verified or fake) is kept.' },
    dns_error_ttl: { duration: true, minimum: 0, default: '1m', description: 'verify_crawlers: how long a failed lookup (timeout, server failure, unreachable server) is kept before the address is asked again.' },
    max_clients: { type: 'integer', minimum: 1, maximum: 10_000_000, default: 100_000, description: 'Clients (address and vhost) whose buckets are kept; beyond, the least recently seen are forgotten, so memory stays bounded under a flood of addresses. Metrics: detect_clients, detect_clients_max.' },
    samples: { type: 'integer', minimum: 0, maximum: 100, default: 3, description: 'Evidence lines (the raw log lines) kept per alert.' },
    quiet_digest: { type: 'boolean', default: true, description: 'When a quiet period with matches ends (event time: an event past its end arrives; on a server gone idle, by the clock, see idle_timeout; or the agent stops), emit one state: digest alert for that rule and client with their count, first, last and samples, as alert digests the matches of a cooldown. A line of that period arriving after its digest (late) makes the digest again, amended: true, with every match of the period and the same since, so the store overwrites its row; a digested period is held for that for the rule\'s quiet after its end (metric detect_digests_held, at most max_clients). false: they are only counted into the next firing\'s quiet_matches (never reported when none follows).' },
    idle_timeout: { duration: true, exclusiveMinimum: 0, default: '1m', description: 'quiet_digest on a server gone idle: once no event (heartbeats aside) has arrived for this long (processing time), event time runs on with the clock from the newest event\'s, so a quiet period ending meanwhile gets its digest when it ends by the clock (within a second; at the earliest this long after the last event), not at the next request. While events come closer together than this (a replay, any traffic), only their times count. A line arriving after the clock ended its quiet period (Apache writes a line when its request ends, stamped with its start) makes that period\'s digest again, amended (amended: true, the same since: one stored row), at the next tick or newer event, when it comes within the rule\'s quiet after the period\'s end; a later one starts a digest of its own.' },
  },
} as const satisfies OptionSchema;

export type DetectOptions = OptionsOf<typeof DETECT_SCHEMA>;
