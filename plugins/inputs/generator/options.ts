// The generator's options (after validation: durations in ms). The schema lives in schema.ts.

export type GeneratorFormat = 'common' | 'combined' | 'vhost_combined' | 'combinedio' | 'error_2.2' | 'error_2.4';

/** A scheduled burst: every `every` ms, for `for` ms, the rate is multiplied by `multiplier`. */
export interface ScheduledBurst {
  every: number;
  for: number;
  multiplier: number;
  /** Offset of the first burst from the start, ms (default: `every`). */
  start?: number;
}

/** Random bursts: onsets form a Poisson process with mean gap `mean_gap`; each lasts a uniform random time in
 * [min_length, max_length] with a multiplier uniform in [min_multiplier, max_multiplier]. */
export interface RandomBursts {
  mean_gap: number;
  min_length: number;
  max_length: number;
  min_multiplier: number;
  max_multiplier: number;
}

/** A smooth multiplier on the rate: 1 + amplitude * sin(2π (t - phase) / period). */
export interface SineProfile {
  type: 'sine';
  period: number;
  amplitude: number;
  phase: number;
}

/** An error-log level stream as the original Visor configured it: the gap between two lines is uniform in
 * [interval[0], interval[1]] normally and in [peak_interval[0], peak_interval[1]] during bursts. */
export interface LevelStream {
  interval: [number, number];
  peak_interval?: [number, number];
}

export interface Heartbeat {
  interval: number;
  message: string;
}

export interface Weighted<T> {
  value: T;
  weight: number;
}

export interface ContentOptions {
  /** Status code -> weight. */
  statuses: Record<string, number>;
  /** Method -> weight. */
  methods: Record<string, number>;
  /** URL paths, most popular first (popularity is Zipf with exponent `zipf_s`). */
  paths: string[];
  zipf_s: number;
  /** Share of requests that carry a query string, and the query strings to pick from. */
  query_ratio: number;
  queries: string[];
  clients: {
    size: number;
    distribution: 'uniform' | 'zipf' | 'binomial';
    /** Zipf exponent. */
    s: number;
    /** Binomial(n, p) over client indexes (n defaults to size - 1). */
    p: number;
    /** Share of IPv6 addresses in the pool. */
    ipv6_ratio: number;
  };
  /** User names; `-` most of the time. */
  users: string[];
  user_ratio: number;
  /** Referers, most common first (picked with Zipf popularity, exponent 1); `-` for none. */
  referers: string[];
  /** User agents, most common first: each client of the pool keeps one, assigned with Zipf popularity (exponent 1). */
  user_agents: string[];
  /** Response size: log-normal with this median (bytes) and sigma. */
  bytes: { median: number; sigma: number };
  vhosts: string[];
  ports: number[];
  /** Error levels -> weight, used when no per-level streams are configured. */
  levels: Record<string, number>;
  modules: string[];
  /** Error messages, each with an optional AH code (`AH00128: File does not exist: {path}` style templates).
   * The full template syntax (tags, errno, placeholders) is documented in content/defaults.ts. */
  error_messages: string[];
  /** Document root written in error messages and %f (default /var/www/html). */
  docroot?: string;
  /** Response time (%D, %T, %{ms}T): log-normal with this median (ms) and sigma (default 18 ms, 1.3). */
  response_time?: { median: number; sigma: number };
}

export interface GeneratorOptions {
  format: GeneratorFormat;
  log_format?: string;
  /** Lines per second, or 'max' (as fast as downstream takes them). */
  rate: number | 'max';
  /** Stop after this many lines (heartbeats not counted); 0 = no limit. */
  count: number;
  /** Stop after this much clock time (simulated or real), ms; 0 = no limit. */
  duration: number;
  bursts: { scheduled: ScheduledBurst[]; random?: RandomBursts };
  profile?: SineProfile;
  /** Error formats: per-level streams replace `rate` (level -> stream). */
  level_streams?: Record<string, LevelStream>;
  heartbeat?: Heartbeat;
  /** Simulated clock: start time (ISO string or epoch ms); absent = real time. */
  start_time?: string | number;
  /** Simulated clock speed (simulated ms per real ms), or 'max' to run as fast as possible. */
  speed: number | 'max';
  /** Time-zone offset written in the lines, e.g. '+0000', '-0700'; 'local' = the machine's. */
  timezone: string;
  seed?: number;
  batch_size: number;
  content: ContentOptions;
}
