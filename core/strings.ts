// Strings an aggregate keeps for long must not share memory with what they were cut from.

/** A copy of `s` that shares no memory with the string it was cut from. V8 makes substrings of 13+
 * characters views that keep their whole parent alive, and parsers cut fields out of lines that were cut out
 * of 256 KiB read chunks: a top-N key or an alert sample kept for a window's life would otherwise hold a
 * whole chunk (200 such keys: 56 MB instead of 3 MB of heap). Call it when storing, not per event. */
export function detachString(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}
