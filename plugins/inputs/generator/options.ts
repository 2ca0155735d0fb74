// The generator's options as validated (durations in ms), derived from its schema (schema.ts), and the parts of
// them the traffic and content modules take.
import type { OptionsOf } from '../../../core/index.js';
import type { GENERATOR_SCHEMA } from './schema.js';

export type GeneratorOptions = OptionsOf<typeof GENERATOR_SCHEMA>;

export type GeneratorFormat = GeneratorOptions['format'];

/** A scheduled burst: every `every` ms, for `for` ms, the rate is multiplied by `multiplier`; the first one `start`
 * ms after the start (default: `every`). */
export type ScheduledBurst = GeneratorOptions['bursts']['scheduled'][number];

/** Random bursts: onsets form a Poisson process with mean gap `mean_gap`; each lasts a uniform random time in
 * [min_length, max_length] with a multiplier uniform in [min_multiplier, max_multiplier]. */
export type RandomBursts = NonNullable<GeneratorOptions['bursts']['random']>;

/** A smooth multiplier on the rate: 1 + amplitude * sin(2π (t - phase) / period). */
export type SineProfile = NonNullable<GeneratorOptions['profile']>;

/** The `content` option as written: every part optional. */
export type ContentInput = GeneratorOptions['content'];

/** The content lines are made of: the `content` option over DEFAULT_CONTENT (resolveContent), every part set, and
 * `clients`, `bytes` and `response_time` with each of their keys. Documented in content/defaults.ts. */
export type ContentOptions = {
  [K in keyof ContentInput]-?: K extends 'clients' | 'bytes' | 'response_time' ? Required<NonNullable<ContentInput[K]>> : NonNullable<ContentInput[K]>;
};
