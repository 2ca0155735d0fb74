// What a request asked for: static file or dynamic page, its file type, its path without the query, the path
// percent-decoded, and its response time in milliseconds from whichever duration the LogFormat logged.

/** GoAccess 1.7's default `static-file` list (its goaccess.conf), without the dots: with it, `is_static` counts
 * what GoAccess's "Static Requests" panel counts (GoAccess matches the extension at the end of the request,
 * query included unless all-static-files is on; Visor looks at the path, so `/app.js?v=3` is static here). */
export const GOACCESS_STATIC_EXTENSIONS = [
  'css', 'js', 'jpg', 'png', 'gif', 'ico', 'jpeg', 'pdf', 'csv', 'mpeg', 'mpg', 'swf', 'woff', 'woff2', 'xls', 'xlsx',
  'doc', 'docx', 'ppt', 'pptx', 'txt', 'zip', 'ogg', 'mp3', 'mp4', 'exe', 'iso', 'gz', 'rar', 'svg', 'bmp', 'tar',
  'tgz', 'tiff', 'tif', 'ttf', 'flv', 'dmg', 'xz', 'zst',
] as const;

/** The request filter's default: GoAccess's list and the asset types of today's sites it lacks. */
export const DEFAULT_STATIC_EXTENSIONS: readonly string[] = [
  ...GOACCESS_STATIC_EXTENSIONS, 'webp', 'avif', 'mjs', 'map', 'eot', 'otf', 'webm', 'wasm', 'avi',
];

/** Content types of static files (`%{Content-Type}o`), by prefix: media, fonts, style sheets and scripts. */
const STATIC_TYPE_PREFIXES = ['image/', 'font/', 'audio/', 'video/', 'text/css', 'text/javascript', 'application/javascript', 'application/x-javascript', 'application/wasm', 'application/font-', 'application/pdf', 'application/zip', 'application/gzip'];

/** The lowercased extension of the path's last segment (`/a/B.PNG` -> `png`), or null: none, a dot file
 * (`/.env`), a trailing dot (`/a.`), or path info after a script (`/index.php/x` -> null). Segment parameters
 * end it (`/a.jsp;jsessionid=1` -> `jsp`). */
export function fileType(path: string): string | null {
  const slash = path.lastIndexOf('/');
  const semi = path.indexOf(';', slash + 1);
  const end = semi < 0 ? path.length : semi;
  const dot = path.lastIndexOf('.', end - 1);
  if (dot <= slash + 1 || dot >= end - 1) return null;
  return path.slice(dot + 1, end).toLowerCase();
}

/** Whether a content type (`text/css; charset=utf-8`) is one of a static file. */
export function isStaticContentType(contentType: string): boolean {
  const type = contentType.trimStart().toLowerCase();
  for (const prefix of STATIC_TYPE_PREFIXES) if (type.startsWith(prefix)) return true;
  return false;
}

/** `/a?b=c` -> [`/a`, `b=c`]; without a `?`, [text, null]. */
export function splitQuery(text: string): [string, string | null] {
  const q = text.indexOf('?');
  return q < 0 ? [text, null] : [text.slice(0, q), text.slice(q + 1)];
}

const HEX = (c: number): number => (c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1);
const UTF8 = new TextDecoder('utf-8', { fatal: false });

/**
 * Percent-decodes a path (RFC 3986 2.1): each `%XX` becomes the byte XX and the bytes are read as UTF-8. Never
 * throws, unlike decodeURIComponent:
 * - an invalid escape (`%` not followed by two hex digits: `%zz`, `%4`, a `%` at the end) stays as it is;
 * - bytes that are not valid UTF-8 (`%C3%28`, Latin-1 `%E9`) become U+FFFD (the replacement character);
 * - `%2F` / `%2f` (an encoded `/`) stay encoded, so the decoded path has the same segments as the one requested
 *   (Apache itself refuses them in paths by default: AllowEncodedSlashes Off);
 * - `+` stays `+` (it means a space only in form-encoded queries, not in paths).
 */
export function decodePath(path: string): string {
  if (path.indexOf('%') < 0) return path;
  let out = '';
  let bytes: number[] = [];
  const flush = () => {
    if (bytes.length) out += UTF8.decode(Uint8Array.from(bytes));
    bytes = [];
  };
  let from = 0;
  for (let i = path.indexOf('%'); i >= 0; i = path.indexOf('%', i)) {
    const hi = i + 2 < path.length ? HEX(path.charCodeAt(i + 1)) : -1;
    const lo = hi >= 0 ? HEX(path.charCodeAt(i + 2)) : -1;
    const byte = hi * 16 + lo;
    if (lo < 0 || byte === 0x2f) {
      i++;
      continue; // left as it is, copied with the text around it
    }
    if (i > from) {
      flush();
      out += path.slice(from, i);
    }
    bytes.push(byte);
    i += 3;
    from = i;
  }
  flush();
  return out + path.slice(from);
}

/** The response time in ms from the fields `%D` (duration_us), `%{ms}T` (duration_ms) and `%T` / `%{s}T`
 * (duration_s, whole seconds) give, the most precise one present first; null when none is a number. */
export function responseTimeMs(event: Record<string, unknown>): number | null {
  const us = event.duration_us;
  if (typeof us === 'number') return us / 1000;
  const ms = event.duration_ms;
  if (typeof ms === 'number') return ms;
  const s = event.duration_s;
  if (typeof s === 'number') return s * 1000;
  return null;
}
