// The offset generated lines carry: see parseTimeZone in core (local, UTC, fixed offsets, IANA names).
export { formatOffset, parseTimeZone as tzFromOption, type TimeZone } from '../../../../core/index.js';
