// Rendering times as Apache writes them: %t, %{format}t (strftime, in core), and the error log's ctime-like stamps.
// Each renders the wall clock of the instant shifted by the zone's offset at that instant.
import { DAYS, MONTHS, pad2, wallClock } from '../../../../core/index.js';
import { formatOffset } from './timezone.js';

export { compileStrftimeRenderer, pad6 } from '../../../../core/index.js';

/** `10/Oct/2000:13:55:36 -0700` (Apache's %t without its brackets). */
export function clfTime(ts: number, offsetMinutes: number): string {
  const d = wallClock(ts, offsetMinutes);
  return pad2(d.getUTCDate()) + '/' + MONTHS[d.getUTCMonth()] + '/' + d.getUTCFullYear() + ':'
    + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds()) + ' ' + formatOffset(offsetMinutes);
}

/** `Wed Oct 11 14:32:52` and ` 2000`: the error log's stamp around where 2.4 puts the microseconds. */
export function ctimeParts(ts: number, offsetMinutes: number): [string, string] {
  const d = wallClock(ts, offsetMinutes);
  return [
    DAYS[d.getUTCDay()] + ' ' + MONTHS[d.getUTCMonth()] + ' ' + pad2(d.getUTCDate()) + ' '
      + pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes()) + ':' + pad2(d.getUTCSeconds()),
    ' ' + d.getUTCFullYear(),
  ];
}

