// strftime rendering (glibc's spelling, second resolution) of an instant's wall clock in a fixed-offset zone.
// Used by the generator (Apache's %{format}t) and by path/topic templates.
import { formatOffset } from './timezone.js';

export const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const FULL_MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
export const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const FULL_DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

export function pad2(n: number): string {
  return n < 10 ? '0' + n : '' + n;
}

function pad3(n: number): string {
  return n < 10 ? '00' + n : n < 100 ? '0' + n : '' + n;
}

export function pad6(n: number): string {
  const s = '' + n;
  return '000000'.slice(s.length) + s;
}

/** The wall clock of `ts` in a zone `offsetMinutes` east of UTC, as a Date read with its UTC getters. */
export function wallClock(ts: number, offsetMinutes: number): Date {
  return new Date(Math.floor(ts / 1000) * 1000 + offsetMinutes * 60000);
}

type Piece = (d: Date, ts: number, offset: number) => string;

/** The strftime directives Apache's %{format}t parser reads back (lib/apache/strftime.ts). */
const PIECES: Record<string, Piece> = {
  Y: (d) => '' + d.getUTCFullYear(),
  y: (d) => pad2(d.getUTCFullYear() % 100),
  m: (d) => pad2(d.getUTCMonth() + 1),
  d: (d) => pad2(d.getUTCDate()),
  e: (d) => (d.getUTCDate() < 10 ? ' ' : '') + d.getUTCDate(),
  H: (d) => pad2(d.getUTCHours()),
  k: (d) => (d.getUTCHours() < 10 ? ' ' : '') + d.getUTCHours(),
  I: (d) => pad2(d.getUTCHours() % 12 || 12),
  l: (d) => { const h = d.getUTCHours() % 12 || 12; return (h < 10 ? ' ' : '') + h; },
  M: (d) => pad2(d.getUTCMinutes()),
  S: (d) => pad2(d.getUTCSeconds()),
  j: (d) => pad3(Math.floor((d.getTime() - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000) + 1),
  s: (_d, ts) => '' + Math.floor(ts / 1000),
  b: (d) => MONTHS[d.getUTCMonth()],
  h: (d) => MONTHS[d.getUTCMonth()],
  B: (d) => FULL_MONTHS[d.getUTCMonth()],
  a: (d) => DAYS[d.getUTCDay()],
  A: (d) => FULL_DAYS[d.getUTCDay()],
  // A zone abbreviation is not knowable from an offset; UTC is exact, others get a neutral word.
  Z: (_d, _ts, offset) => (offset === 0 ? 'UTC' : 'LT'),
  p: (d) => (d.getUTCHours() < 12 ? 'AM' : 'PM'),
  z: (_d, _ts, offset) => formatOffset(offset),
  n: () => '\n',
  t: () => '\t',
  '%': () => '%',
};

const COMPOSITES: Record<string, string> = { T: '%H:%M:%S', R: '%H:%M', D: '%m/%d/%y', F: '%Y-%m-%d', c: '%a %b %e %H:%M:%S %Y' };

/** A renderer for a strftime format (second resolution); throws on an unsupported directive. */
export function compileStrftimeRenderer(format: string): (ts: number, offsetMinutes: number) => string {
  const pieces: Array<string | Piece> = [];
  const expand = (f: string): void => {
    for (let i = 0; i < f.length; i++) {
      const c = f[i];
      if (c !== '%' || i + 1 >= f.length) {
        if (typeof pieces[pieces.length - 1] === 'string') pieces[pieces.length - 1] += c;
        else pieces.push(c);
        continue;
      }
      const d = f[++i];
      if (COMPOSITES[d]) expand(COMPOSITES[d]);
      else if (PIECES[d]) pieces.push(PIECES[d]);
      else throw new Error(`unsupported time format directive %${d} in "${format}"`);
    }
  };
  expand(format);
  return (ts, offset) => {
    const d = wallClock(ts, offset);
    let out = '';
    for (const p of pieces) out += typeof p === 'string' ? p : p(d, ts, offset);
    return out;
  };
}

/** `ts` (epoch ms) as this server's local wall clock with its offset, the way people read times in mails and
 * reports: `2026-12-02 07:41:05 +01:00` (the offset of that instant, so summer time is right; the zone is the
 * process's, i.e. TZ or the system's). */
export function formatLocalTime(ts: number): string {
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return String(ts);
  const off = -d.getTimezoneOffset();
  const a = Math.abs(off);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} `
    + `${off < 0 ? '-' : '+'}${pad2(Math.floor(a / 60))}:${pad2(a % 60)}`;
}
