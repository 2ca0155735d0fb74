// Converting a wall-clock time written without a zone (error logs, %{format}t) to epoch ms.
import type { WallClockToEpoch } from './strftime.js';

/** `local` (the agent's zone), `UTC`, a fixed offset (`+0100`, `-05:00`) or an IANA name (`Europe/Paris`). */
export function wallClockFor(timezone: string): WallClockToEpoch {
  const tz = timezone.trim();
  if (tz === '' || tz.toLowerCase() === 'local') return (y, mo, d, h, m, s) => new Date(y, mo, d, h, m, s).getTime();
  if (/^(utc|gmt|z)$/i.test(tz)) return (y, mo, d, h, m, s) => Date.UTC(y, mo, d, h, m, s);
  const fixed = /^([+-])(\d\d):?(\d\d)$/.exec(tz);
  if (fixed) {
    const offsetMs = (fixed[1] === '-' ? -1 : 1) * (Number(fixed[2]) * 60 + Number(fixed[3])) * 60000;
    return (y, mo, d, h, m, s) => Date.UTC(y, mo, d, h, m, s) - offsetMs;
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  } catch {
    throw new Error(`unknown time zone "${timezone}": use local, UTC, an offset like +0100, or an IANA name like Europe/Paris`);
  }
  const offsetAt = (utcMs: number): number => {
    const p = Object.fromEntries(format.formatToParts(new Date(utcMs)).map((x) => [x.type, Number(x.value)]));
    return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(utcMs / 1000) * 1000;
  };
  return (y, mo, d, h, m, s) => {
    const asUtc = Date.UTC(y, mo, d, h, m, s);
    // Two passes settle the offset across DST changes.
    const first = asUtc - offsetAt(asUtc);
    return asUtc - offsetAt(first);
  };
}
