// Parsers for the human-friendly units accepted in config files: durations ("1h30m") and sizes ("64KiB").
// Both return undefined for anything they cannot read, so callers choose how to report it.

export const DURATION_HINT = 'use a number of seconds or a string like 250ms, 5s, 1m, 1h';
export const SIZE_HINT = 'use a number of bytes or a string like 512, 64KiB, 10MB, 1.5GiB';

const DURATION_UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;
const PLAIN_NUMBER = /^\d+(?:\.\d+)?$/;

/** Milliseconds for a number of seconds, or a string such as `250ms`, `5s`, `1m`, `1h30m`, `2d`, `5` (seconds). */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (PLAIN_NUMBER.test(text)) return Math.round(Number(text) * 1000);
  if (text === '') return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < text.length) {
    const match = DURATION_PART.exec(text);
    if (!match) return undefined; // sticky regex: anything unparsable between parts fails the whole string
    total += Number(match[1]) * DURATION_UNIT_MS[match[2]];
  }
  return Math.round(total);
}

// Decimal units for the explicit SI spellings; the bare letters follow the common "64k = 64 KiB" habit.
const SIZE_UNIT_BYTES: Record<string, number> = {
  '': 1, b: 1,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
  kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3, tib: 1024 ** 4,
  k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4,
};
const SIZE_PATTERN = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/i;

/** Bytes (an integer) for a number of bytes, or a string such as `512`, `64KiB`, `10MB`, `1.5GiB`, `64k`. */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? Math.round(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const match = SIZE_PATTERN.exec(value.trim());
  if (!match) return undefined;
  const unit = SIZE_UNIT_BYTES[match[2].toLowerCase()];
  return unit === undefined ? undefined : Math.round(Number(match[1]) * unit);
}
