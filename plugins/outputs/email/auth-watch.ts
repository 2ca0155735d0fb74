// Whether the mail went out authenticated. nodemailer skips AUTH without a word when the server does not offer it
// (its EHLO lists no AUTH), so credentials that are configured but never used would go unnoticed. Its log records
// say what happened per SMTP session (`sid`): `action: 'authenticated'` after a login, `tnx: 'message'` when a
// message was sent. A message sent in a session that never logged in went out unauthenticated.
// Only these fields of each record are read; nothing nodemailer logs is passed on (its records name the user).

interface LogRecord { sid?: unknown; tnx?: unknown; action?: unknown }

/** A nodemailer `logger` that calls `onUnauthenticated(first)` for each message sent in an SMTP session that never
 * logged in; `first` is true for the first such message of the session (warn once per connection, count each). */
export function watchAuth(onUnauthenticated: (first: boolean) => void): Record<string, (...args: unknown[]) => void> {
  const authed = new Set<unknown>();
  const warned = new Set<unknown>();
  const read = (data: unknown): void => {
    if (!data || typeof data !== 'object') return;
    const r = data as LogRecord;
    if (r.sid === undefined) return;
    if (r.action === 'authenticated') authed.add(r.sid);
    else if (r.tnx === 'message' && !authed.has(r.sid)) {
      const first = !warned.has(r.sid);
      warned.add(r.sid);
      onUnauthenticated(first);
    }
    // A few session ids per reconnect are all this keeps; bounded anyway.
    if (authed.size > 1000) authed.clear();
    if (warned.size > 1000) warned.clear();
  };
  const level = (data?: unknown): void => read(data);
  return { trace: level, debug: level, info: level, warn: level, error: level, fatal: level };
}
