// JSON schema of the generator's options: the single source of its validation, defaults and docs. Its checks are
// those of the parts that build the traffic and the lines, so `visor validate` refuses what they would refuse.
import { checkByParsing, timezoneSchema, type CheckProblem, type OptionSchema } from '../../../core/index.js';
import { accessContentProblems, compileAccessFormat } from './content/access.js';
import { resolveContent } from './content/defaults.js';
import { errorContentProblems } from './content/error.js';
import { gapRangeProblem, heartbeatIntervalProblem, profileProblems } from './traffic.js';
import { randomBurstsProblems, scheduledBurstProblems } from './traffic-bursts.js';

/** `start_time` as epoch ms; throws for a value that is no date (the schema checks it with this). */
export function parseStart(v: string | number): number {
  const ms = typeof v === 'number' ? v : Date.parse(v);
  if (!Number.isFinite(ms)) throw new Error(`not a date: use ISO 8601 (2026-11-25T00:00:00Z) or epoch ms`);
  return ms;
}

/** Whether these options write error-log lines (else access-log lines). */
export function writesErrorLog(o: { format?: unknown; log_format?: unknown }): boolean {
  return o.log_format === undefined && typeof o.format === 'string' && o.format.startsWith('error_');
}

const isMap = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** What the line maker would refuse in `content` (with the defaults it fills in), for the log these options write:
 * the schema's root check. Parts of the wrong type are left to the schema. */
function contentProblems(value: unknown): CheckProblem[] {
  if (!isMap(value) || (value.content !== undefined && !isMap(value.content))) return [];
  const content = resolveContent(value.content as Parameters<typeof resolveContent>[0]);
  if (writesErrorLog(value)) {
    const wellTyped = (content.levels === undefined || isMap(content.levels)) && Array.isArray(content.error_messages) && content.error_messages.every((m) => typeof m === 'string');
    return wellTyped ? errorContentProblems(content) : [];
  }
  return isMap(content.statuses) && isMap(content.methods) ? accessContentProblems(content) : [];
}

const positive = { type: 'number', exclusiveMinimum: 0 } as const;
const range = (description: string) => ({ type: 'array', items: { duration: true }, minItems: 2, maxItems: 2, check: gapRangeProblem, description }) as const;

export const GENERATOR_SCHEMA = {
  type: 'object',
  check: contentProblems,
  properties: {
    format: {
      enum: ['common', 'combined', 'vhost_combined', 'combinedio', 'error_2.2', 'error_2.4'],
      default: 'combined',
      description: 'What the lines look like: an access-log LogFormat nickname, or an Apache 2.2 / 2.4 error log.',
    },
    log_format: {
      type: 'string', minLength: 1,
      check: checkByParsing((v) => { if (typeof v === 'string') compileAccessFormat(v); }),
      description: 'Any Apache LogFormat string apache_access supports (overrides format).',
    },
    rate: {
      anyOf: [positive, { const: 'max' }],
      default: 10,
      description: 'Lines per second (before bursts and profile), or max: as fast as downstream takes them.',
    },
    count: { type: 'integer', minimum: 0, default: 0, description: 'Stop after this many lines (heartbeats not counted); 0: no limit.' },
    duration: { duration: true, default: '0s', description: 'Stop after this much clock time (simulated when start_time is set); 0: no limit.' },
    bursts: {
      type: 'object',
      additionalProperties: false,
      default: {},
      description: 'Traffic peaks on top of rate.',
      properties: {
        scheduled: {
          type: 'array',
          default: [],
          description: 'Regular peaks: every `every`, for `for`, the rate is multiplied by `multiplier`.',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['every', 'for', 'multiplier'],
            check: scheduledBurstProblems,
            properties: {
              every: { duration: true },
              for: { duration: true },
              multiplier: positive,
              start: { duration: true, description: 'First burst this long after the start (default: every).' },
            },
          },
        },
        random: {
          type: 'object',
          additionalProperties: false,
          description: 'Random peaks: Poisson onsets with mean gap mean_gap; length and height uniform in their ranges.',
          required: ['mean_gap'],
          check: randomBurstsProblems,
          properties: {
            mean_gap: { duration: true },
            min_length: { duration: true, default: '5s' },
            max_length: { duration: true, default: '30s' },
            min_multiplier: { ...positive, default: 2 },
            max_multiplier: { ...positive, default: 10 },
          },
        },
      },
    },
    profile: {
      type: 'object',
      additionalProperties: false,
      description: 'A smooth multiplier on rate: 1 + amplitude * sin(2π (t - phase) / period), e.g. a daily cycle. t counts from the Unix epoch, so a 24h period follows the UTC day and phase 6h peaks at 12:00 UTC.',
      check: profileProblems,
      properties: {
        type: { const: 'sine', default: 'sine' },
        period: { duration: true, default: '24h' },
        amplitude: { type: 'number', minimum: 0, maximum: 1, default: 0.5 },
        phase: { duration: true, default: '0s' },
      },
    },
    level_streams: {
      type: 'object',
      description: 'Error formats: one stream per level (replaces rate), as the original Visor configured them: the gap between lines is uniform in interval, and in peak_interval during bursts. E.g. { error: { interval: [2s, 5s], peak_interval: [100ms, 300ms] } }.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['interval'],
        properties: { interval: range('[min, max] gap'), peak_interval: range('[min, max] gap during bursts') },
      },
    },
    heartbeat: {
      type: 'object',
      additionalProperties: false,
      description: 'Heartbeat lines at a fixed interval, marked heartbeat: true so aggregates never count them as traffic.',
      required: ['interval'],
      properties: {
        interval: { duration: true, check: heartbeatIntervalProblem },
        message: { type: 'string', default: 'visor heartbeat' },
      },
    },
    start_time: {
      anyOf: [{ type: 'string', minLength: 1 }, { type: 'number' }],
      check: checkByParsing((v) => (typeof v === 'string' || typeof v === 'number' ? parseStart(v) : undefined)), // other types: left to anyOf
      description: 'Use a simulated clock starting at this time (ISO 8601 or epoch ms), e.g. to write a day of traffic in seconds. Absent: real time.',
    },
    speed: {
      anyOf: [positive, { const: 'max' }],
      default: 1,
      description: 'Simulated clock only: simulated seconds per real second, or max (as fast as downstream takes them).',
    },
    timezone: timezoneSchema('local', 'Zone whose UTC offset the lines carry (DST aware for an IANA name)'),
    seed: { type: 'integer', description: 'Same seed and options, same bytes. Absent: a random seed (logged).' },
    batch_size: { type: 'integer', minimum: 1, default: 1000, description: 'Most lines per batch.' },
    content: {
      type: 'object',
      default: {},
      description: 'What the traffic contains; every part has a realistic default (see the README).',
      additionalProperties: false,
      properties: {
        statuses: { type: 'object', additionalProperties: { type: 'number', minimum: 0 }, description: 'Status code -> weight.' },
        methods: { type: 'object', additionalProperties: { type: 'number', minimum: 0 }, description: 'Method -> weight.' },
        paths: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'URL paths, most popular first (Zipf popularity).' },
        zipf_s: { type: 'number', exclusiveMinimum: 0, description: 'Zipf exponent of path popularity.' },
        query_ratio: { type: 'number', minimum: 0, maximum: 1, description: 'Share of requests with a query string.' },
        queries: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Query strings to pick from (without ?).' },
        clients: {
          type: 'object',
          additionalProperties: false,
          description: 'The client address pool.',
          properties: {
            size: { type: 'integer', minimum: 1, description: 'Number of distinct clients.' },
            distribution: { enum: ['uniform', 'zipf', 'binomial'], description: 'How often each client appears.' },
            s: { type: 'number', exclusiveMinimum: 0, description: 'Zipf exponent.' },
            p: { type: 'number', minimum: 0, maximum: 1, description: 'Binomial(size - 1, p) over client indexes, as the original Visor.' },
            ipv6_ratio: { type: 'number', minimum: 0, maximum: 1, description: 'Share of IPv6 clients.' },
          },
        },
        users: { type: 'array', items: { type: 'string' }, description: 'Authenticated user names.' },
        user_ratio: { type: 'number', minimum: 0, maximum: 1, description: 'Share of requests with a user.' },
        referers: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Referers ("-" for none).' },
        user_agents: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'User agents.' },
        bytes: {
          type: 'object',
          additionalProperties: false,
          description: 'Response size: log-normal.',
          properties: { median: { type: 'number', exclusiveMinimum: 0 }, sigma: { type: 'number', minimum: 0 } },
        },
        vhosts: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Virtual hosts (vhost formats).' },
        ports: { type: 'array', items: { type: 'integer' }, minItems: 1, description: 'Server ports (vhost formats).' },
        levels: { type: 'object', additionalProperties: { type: 'number', minimum: 0 }, description: 'Error level -> weight (without level_streams).' },
        modules: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Modules named in 2.4 error lines.' },
        error_messages: { type: 'array', items: { type: 'string' }, minItems: 1, description: 'Error message templates.' },
        docroot: { type: 'string', description: 'Document root named in error messages.' },
        response_time: {
          type: 'object',
          additionalProperties: false,
          description: 'Time taken (%D, %T): log-normal, in ms.',
          properties: { median: { type: 'number', exclusiveMinimum: 0 }, sigma: { type: 'number', minimum: 0 } },
        },
      },
    },
  },
} as const satisfies OptionSchema;
