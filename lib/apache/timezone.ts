// Zone-less wall clocks (error logs, %{format}t) to epoch ms, in the zone the `timezone` option names.
import { parseTimeZone } from '../../core/index.js';
import type { WallClockToEpoch } from './strftime.js';

export function wallClockFor(timezone: string): WallClockToEpoch {
  return parseTimeZone(timezone).toEpoch;
}
