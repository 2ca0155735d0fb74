// The template of an error-log message: its variable parts masked with `<*>`, as Loghub's EventTemplate writes
// them (https://github.com/logpai/loghub), so that "File does not exist: /var/www/a.png" and "... /b.css" are
// counted as one message while two PHP fatal errors that differ past their 200th character stay two.
//
// Masked: URLs, paths (a token starting with `/`, with its `:line`), IPv4 and IPv6 addresses and host:port,
// hex numbers and ids (0x..., UUIDs, 8+ hex digits), numbers (with a unit: 60s, 10ms, 5MB; versions 2.4.58), and
// quoted strings of one token ("/index.html" -> "<*>", 'id' -> '<*>'). A quoted text with spaces is left as text and masked inside:
// Apache quotes whole nested messages (AH01071: Got error 'PHP message: PHP Fatal error: ...'), and masking those
// would merge every PHP error into one entry. Words are never masked (user names, host names, function names):
// telling a variable word from a constant one needs a trained parser (Drain), not a pattern.
// Checked against Loghub's Apache_2k templates in test/error-log.test.ts.
import { createHash } from 'node:crypto';

/** Longest template kept as a counting key; a longer one is cut and ends with a hash of the whole. */
export const TEMPLATE_MAX = 1000;
const MASK = '<*>';

// One pass of one regular expression: at each position the first alternative that matches wins, so the order
// matters (quoted tokens and URLs before paths, addresses before numbers). On the messages of 200k generated
// error-log lines it gives the same templates as one pass per rule, in 3.5-8.0 µs a message against 4.8-10.3 µs
// (same process, five rounds, load average 10 on 2 cores: a median ratio of 0.96); either costs about what
// parsing the line does, which is why only the levels at or above message_level are templated.
const ALTERNATIVES = [
  // One quoted token (no whitespace inside): "…" or '…', the quotes kept.
  /"[^"\s]+"|'[^'\s]+'/,
  // URLs.
  /\b[a-z][a-z0-9+.-]*:\/\/[^\s'"<>]*/,
  // Paths: / after a start, a space or an opening delimiter; to the next space, quote, comma, ), ] or ;.
  /(?<=^|[\s'"(=[:,])\/[^\s'"(),;\]]*/,
  // UUIDs.
  /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/,
  // IPv4, with a port.
  /(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?(?![\w.])/,
  // IPv6 (and other runs of hex groups with two colons or more, e.g. clock times), with a port.
  /(?<![\w:.])(?=[0-9a-f:]*:[0-9a-f]*:)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?::\d+)?(?![\w:])/,
  // host:port.
  /(?<![\w.-])[a-z0-9][\w.-]*:\d+(?![\w])/,
  // Hex: 0x…, or 8+ hex digits with both a digit and a letter.
  /\b0x[0-9a-f]+\b/,
  /\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b/,
  // Numbers: signed, dotted (versions), with a short unit.
  /(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?:[kmgt]?b|ms|us|µs|s|h|m|%)?(?![\w])/,
];
const VARIABLE = new RegExp(ALTERNATIVES.map((r) => r.source).join('|'), 'gi');
const mask = (m: string) => (m.charCodeAt(0) === 34 /* " */ ? `"${MASK}"` : m.charCodeAt(0) === 39 /* ' */ ? `'${MASK}'` : MASK);

/** The template of `message`: variables masked with <*>; at most TEMPLATE_MAX characters. */
export function messageTemplate(message: string): string {
  const t = message.replace(VARIABLE, mask);
  if (t.length <= TEMPLATE_MAX) return t;
  // Two long messages that agree on their first TEMPLATE_MAX characters stay apart.
  const hash = createHash('sha1').update(t).digest('hex').slice(0, 12);
  return `${t.slice(0, TEMPLATE_MAX - 16)}… #${hash}`;
}
