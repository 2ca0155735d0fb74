// What the traffic panels derive from the raw fields apache_access parses, for events that did not go through the
// enrichment filters (`request`, `geoip`, `user_agent`, `bot`): static or not from the path's extension, the
// referring site from the Referer, the local hour and date from the timestamp, the response time from %D / %T.
import { fileType, GOACCESS_STATIC_EXTENSIONS, responseTimeMs } from '../../insight/index.js';

// GoAccess's static extensions (lib/insight's list, from Debian GoAccess 1.7's goaccess.conf), so the static
// panel counts what GoAccess's does when no `request` filter set is_static.
const STATIC_EXTENSIONS: ReadonlySet<string> = new Set(GOACCESS_STATIC_EXTENSIONS);

/** A request for a static file, from the path alone: a known extension and no query string (GoAccess's default:
 * a static file with a query counts as a request unless --all-static-files). */
export function staticByExtension(path: string, query: unknown): boolean {
  if (typeof query === 'string' && query !== '') return false;
  const ext = fileType(path);
  return ext !== null && STATIC_EXTENSIONS.has(ext);
}

/** The host of a Referer URL ("https://www.google.com/search?q=x" -> "www.google.com"); undefined for "-", an
 * empty value or one without a scheme (GoAccess leaves those out of referring sites too). */
export function referringSite(referer: string): string | undefined {
  const scheme = referer.indexOf('://');
  if (scheme <= 0 || scheme > 32) return undefined;
  const from = scheme + 3;
  let end = referer.length;
  for (let i = from; i < referer.length; i++) {
    const c = referer.charCodeAt(i);
    if (c === 47 || c === 63 || c === 35) { // / ? #
      end = i;
      break;
    }
  }
  const at = referer.lastIndexOf('@', end - 1);
  const start = at >= from ? at + 1 : from;
  const colon = referer.indexOf(':', start);
  const host = referer.slice(start, colon >= 0 && colon < end ? colon : end).toLowerCase();
  return host || undefined;
}

const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

/** Local date and hour of epoch-ms times in the process's time zone (what formatLocalTime shows, and the time
 * Apache writes its logs in), with the UTC offset looked up once per UTC hour: offsets change on hour boundaries
 * in all but a few zones (those on :30 or :45 transitions are then off by up to 45 minutes on one night a year).
 * `new Date(ts).getHours()` per event cost ~0.15 µs; this is an integer division. */
export class LocalClock {
  private hourKey = NaN;
  private offsetMs = 0;

  /** Days since 1970-01-01 in local time. */
  day(ts: number): number {
    return Math.floor((ts - this.offset(ts)) / DAY_MS);
  }

  /** Local hour 0..23. */
  hour(ts: number): number {
    const local = ts - this.offset(ts);
    return Math.floor((local - Math.floor(local / DAY_MS) * DAY_MS) / HOUR_MS);
  }

  private offset(ts: number): number {
    const key = Math.floor(ts / HOUR_MS);
    if (key !== this.hourKey) {
      this.hourKey = key;
      this.offsetMs = new Date(ts).getTimezoneOffset() * 60_000;
    }
    return this.offsetMs;
  }
}

/** "2026-11-25" for a local day number. */
export function dayText(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The response time in ms: the `request` filter's response_time_ms, else what the raw %D / %{ms}T / %T field gives. */
export function responseTime(e: Record<string, unknown>): number | null {
  const ms = e.response_time_ms;
  return typeof ms === 'number' && ms >= 0 ? ms : responseTimeMs(e);
}
