// Apache's escaping of logged values (ap_escape_logitem): `"` and `\` are backslashed, control characters
// become \n \t \r \b \v or \xhh, and bytes outside printable ASCII (UTF-8 sequences included) become \xhh.
// Our parsers undo exactly this (unescapeApache), so values survive a round trip.

const SIMPLE: Record<number, string> = { 34: '\\"', 92: '\\\\', 10: '\\n', 9: '\\t', 13: '\\r', 8: '\\b', 11: '\\v' };

function needsEscape(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 32 || c >= 127 || c === 34 || c === 92) return true;
  }
  return false;
}

export function escapeLogItem(s: string): string {
  if (!needsEscape(s)) return s;
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte >= 32 && byte < 127 && byte !== 34 && byte !== 92) out += String.fromCharCode(byte);
    else out += SIMPLE[byte] ?? '\\x' + byte.toString(16).padStart(2, '0');
  }
  return out;
}
