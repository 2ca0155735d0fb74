// The UTC offset the generated lines carry: a fixed offset, UTC, the machine's zone, or an IANA zone.

export interface TimeZone {
  /** Minutes east of UTC at the instant `tsMs` (epoch ms): +120 for +0200. */
  offsetMinutes(tsMs: number): number;
}

/**
 * `+0000`, `-0700`, `+05:30`, `+05` (fixed offsets), `UTC` / `GMT` / `Z`, `local` (the machine's zone at
 * each instant, DST aware), or an IANA name such as `Europe/Paris` (DST aware, like the parsers accept).
 * Throws with a message saying what is accepted.
 */
export function tzFromOption(tz: string): TimeZone {
  const text = tz.trim();
  if (text === '' || text.toLowerCase() === 'local') {
    // getTimezoneOffset is minutes *west* of UTC; pre-1900 local mean times can carry seconds: round them.
    return { offsetMinutes: (ts) => -Math.round(new Date(ts).getTimezoneOffset()) || 0 };
  }
  if (/^(utc|gmt|z)$/i.test(text)) return { offsetMinutes: () => 0 };
  const fixed = /^([+-])(\d\d)(?::?(\d\d))?$/.exec(text);
  if (fixed) {
    const hours = Number(fixed[2]);
    const minutes = Number(fixed[3] ?? 0);
    if (hours > 23 || minutes > 59) throw new Error(`invalid time-zone offset "${tz}": hours 00-23, minutes 00-59`);
    const offset = (fixed[1] === '-' ? -1 : 1) * (hours * 60 + minutes);
    return { offsetMinutes: () => offset };
  }
  let format: Intl.DateTimeFormat;
  try {
    format = new Intl.DateTimeFormat('en-US', { timeZone: text, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
  } catch {
    throw new Error(`unknown time zone "${tz}": use local, UTC, an offset like +0100 or -05:30, or an IANA name like Europe/Paris`);
  }
  return {
    offsetMinutes(ts) {
      const p: Record<string, number> = {};
      for (const part of format.formatToParts(new Date(ts))) p[part.type] = Number(part.value);
      const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
      return Math.round((wall - Math.floor(ts / 1000) * 1000) / 60000);
    },
  };
}

/** `+0200`, `-0530`: the offset as Apache writes it in %t and %z. */
export function formatOffset(minutes: number): string {
  const sign = minutes < 0 ? '-' : '+';
  const m = Math.abs(minutes);
  const h = Math.floor(m / 60);
  const r = m % 60;
  return sign + (h < 10 ? '0' : '') + h + (r < 10 ? '0' : '') + r;
}
