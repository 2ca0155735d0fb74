// Unique visitors as GoAccess counts them: requests from the same client IP, on the same date, with the same
// user agent are one visitor (GoAccess's VISITORS panel: its key is date|IP|user agent). The date is the
// wall-clock date in a time zone: GoAccess reads the date as written in the log, which is the server's local
// time, so use the zone the server logs in to get its numbers.
import type { TimeZone } from '../../core/index.js';

/** Whether GoAccess counts a request of this status among unique visitors: by default (4xx-to-unique-count
 * false) it leaves 4xx responses out; a status that is no number counts. */
export function countsAsVisit(status: unknown): boolean {
  return !(typeof status === 'number' && status >= 400 && status < 500);
}

/** `YYYY-MM-DD` of an epoch-ms timestamp in a time zone (parseTimeZone). */
export function visitorDate(timestampMs: number, zone: TimeZone): string {
  const d = new Date(timestampMs + zone.offsetMinutes(timestampMs) * 60000);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth() + 1;
  const day = d.getUTCDate();
  return `${y}-${m < 10 ? '0' : ''}${m}-${day < 10 ? '0' : ''}${day}`;
}

/** visitorDate for timestamps that mostly come in order: the date is worked out once per quarter hour. Exact for
 * every zone of today's tz database, whose offsets (and DST changes) fall on quarter hours, so that no local
 * midnight falls inside a quarter hour of UTC; an IANA zone's offset costs an Intl.DateTimeFormat call, which a
 * per-event visitorDate would pay on every request. */
export class VisitorDates {
  private quarter = NaN;
  private date = '';

  constructor(private readonly zone: TimeZone) {}

  of(timestampMs: number): string {
    const quarter = Math.floor(timestampMs / 900_000);
    if (quarter !== this.quarter) {
      this.quarter = quarter;
      this.date = visitorDate(timestampMs, this.zone);
    }
    return this.date;
  }
}

/** The key one visitor's requests share: date, client IP and user agent (a missing one counts as empty, as
 * GoAccess counts a `-` user agent), joined by `|` as GoAccess joins them: neither a date nor an address holds
 * one, so the user agent, last, may. */
export function visitorKey(date: string, clientIp: unknown, userAgent: unknown): string {
  return `${date}|${clientIp == null ? '' : String(clientIp)}|${userAgent == null ? '' : String(userAgent)}`;
}

/** Distinct visitors per date, exactly (a Set of keys per date: memory grows with the visitors, for reports of a
 * bounded period such as `visor analyze` of a file). */
export class UniqueVisitors {
  private readonly byDate = new Map<string, Set<string>>();
  private readonly dates: VisitorDates;

  constructor(zone: TimeZone) {
    this.dates = new VisitorDates(zone);
  }

  /** Counts one request; false when its timestamp is no number (it then belongs to no date) or, as GoAccess
   * does by default, when its status is a 4xx (countsAsVisit). */
  add(timestampMs: unknown, clientIp: unknown, userAgent: unknown, status?: unknown): boolean {
    if (typeof timestampMs !== 'number' || !Number.isFinite(timestampMs) || !countsAsVisit(status)) return false;
    const date = this.dates.of(timestampMs);
    let keys = this.byDate.get(date);
    if (!keys) this.byDate.set(date, (keys = new Set()));
    keys.add(visitorKey(date, clientIp, userAgent));
    return true;
  }

  /** Visitors per date, dates in order. */
  perDate(): Array<{ date: string; visitors: number }> {
    return [...this.byDate].sort(([a], [b]) => (a < b ? -1 : 1)).map(([date, keys]) => ({ date, visitors: keys.size }));
  }

  /** Over every date: a visitor on two dates counts twice, as in GoAccess's total. */
  get total(): number {
    let n = 0;
    for (const keys of this.byDate.values()) n += keys.size;
    return n;
  }
}
