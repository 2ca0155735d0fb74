// Time zones as users write them in options: `local`, `UTC`, fixed offsets (`+0100`, `-05:30`) or IANA
// names (`Europe/Paris`, DST aware). Parsers turn zone-less wall clocks into instants; the generator does
// the reverse. Exported for plugin authors, with the schema of a `timezone` option.
import type { OptionSchema } from './option-types.js';
import { checkByParsing } from './config/schema.js';

export interface TimeZone {
  /** Minutes east of UTC at the instant `utcMs` (+120 for +0200). */
  offsetMinutes(utcMs: number): number;
  /** Epoch ms of a wall-clock time in this zone (month 0-11). */
  toEpoch(year: number, month: number, day: number, h: number, m: number, s: number): number;
}

const HINT = 'use local, UTC, an offset like +0100 or -05:30, or an IANA name like Europe/Paris';

export function parseTimeZone(text: string): TimeZone {
  const tz = text.trim();
  if (tz === '' || tz.toLowerCase() === 'local') {
    return {
      // getTimezoneOffset is minutes west of UTC; pre-1900 local mean times carry seconds: round them.
      offsetMinutes: (ts) => -Math.round(new Date(ts).getTimezoneOffset()) || 0,
      toEpoch: (y, mo, d, h, m, s) => new Date(y, mo, d, h, m, s).getTime(),
    };
  }
  if (/^(utc|gmt|z)$/i.test(tz)) return fixedOffset(0);
  const fixed = /^([+-])(\d\d)(?::?(\d\d))?$/.exec(tz);
  if (fixed) {
    const hours = Number(fixed[2]);
    const minutes = Number(fixed[3] ?? 0);
    if (hours > 23 || minutes > 59) throw new Error(`invalid time-zone offset "${text}": hours 00-23, minutes 00-59`);
    return fixedOffset((fixed[1] === '-' ? -1 : 1) * (hours * 60 + minutes));
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  } catch {
    throw new Error(`unknown time zone "${text}": ${HINT}`);
  }
  const offsetMinutes = (ts: number): number => {
    const p: Record<string, number> = {};
    for (const part of format.formatToParts(new Date(ts))) p[part.type] = Number(part.value);
    const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    return Math.round((wall - Math.floor(ts / 1000) * 1000) / 60000);
  };
  return {
    offsetMinutes,
    toEpoch: (y, mo, d, h, m, s) => {
      const asUtc = Date.UTC(y, mo, d, h, m, s);
      // Two passes settle the offset across DST changes.
      const first = asUtc - offsetMinutes(asUtc) * 60000;
      return asUtc - offsetMinutes(first) * 60000;
    },
  };
}

function fixedOffset(minutes: number): TimeZone {
  return { offsetMinutes: () => minutes, toEpoch: (y, mo, d, h, m, s) => Date.UTC(y, mo, d, h, m, s) - minutes * 60000 };
}

/** `+0200`, `-0530`: an offset as Apache writes it in %t and %z. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  const h = Math.floor(m / 60);
  const r = m % 60;
  return sign + (h < 10 ? '0' : '') + h + (r < 10 ? '0' : '') + r;
}

/** The forms a time zone may be written in, as option descriptions list them. */
export const TIME_ZONE_FORMS = "local (the agent's), UTC, an offset such as +0100 or -05:30, or an IANA name such as Europe/Paris";

/** Schema of a time-zone option (`timezone`), the same in every plugin: a string checked with the config, so a zone
 * that does not exist (`Mars/Olympus`) is reported by `visor validate` at its FILE:LINE:COL. `purpose` starts the
 * description (what the zone applies to); the accepted forms follow it. Parse the option with parseTimeZone. */
export function timezoneSchema(defaultZone: string, purpose: string) {
  return {
    type: 'string',
    default: defaultZone,
    description: `${purpose}: ${TIME_ZONE_FORMS}.`,
    check: checkByParsing((value) => parseTimeZone(String(value))),
  } as const satisfies OptionSchema;
}
