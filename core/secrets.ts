// The one policy for secret values (options marked `secret: true`: passwords, tokens, passphrases) in what
// Visor prints, its log lines and `visor validate`'s diagnostics alike:
// - mask the exact secret values, wherever they appear (and as they appear inside a JSON string), and nothing
//   else: no guessing by key names, no partial matches;
// - refuse, at validation, a secret too short to be masked safely. Masking every occurrence of a short value
//   mangles ordinary text (a password `on` turned "config reloaded components=3" into
//   "c***figurati*** reloaded comp***ents=3") and the mangled text shows the secret to anyone who reads it.
//   Not masking it would print it. So a short secret is a configuration error, not something to print around.

/** Shortest secret accepted. Eight characters: shorter strings turn up by chance in log text (words, numbers,
 * field names), and eight is the usual minimum length of a password (NIST SP 800-63B). */
export const MIN_SECRET_LENGTH = 8;

/** What a secret value is replaced by. */
export const SECRET_MASK = '***';

/** `text` with every occurrence of each secret replaced by ***, also where it was written JSON-escaped (a
 * quote or backslash in a password inside a JSON log line). Values shorter than MIN_SECRET_LENGTH are left
 * alone, since masking them would mangle the text (the very message refusing one included): a config cannot
 * hold one (validation refuses it) and diagnostics never show a secret option's value in the first place. */
export function maskSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    if (out.includes(secret)) out = out.split(secret).join(SECRET_MASK);
    const escaped = JSON.stringify(secret).slice(1, -1);
    if (escaped !== secret && out.includes(escaped)) out = out.split(escaped).join(SECRET_MASK);
  }
  return out;
}

/** Why a secret value is refused (too short to be masked safely), or undefined. Empty is accepted: it hides
 * nothing and means "none" (no password, no token), as in `${SMTP_PASS:-}`. The message never shows the value. */
export function refuseShortSecret(value: string): string | undefined {
  if (value === '' || value.length >= MIN_SECRET_LENGTH) return undefined;
  return `a secret must have at least ${MIN_SECRET_LENGTH} characters to be masked safely in logs ` +
    `(shorter values occur in ordinary text): use a longer one, or leave it empty for none`;
}
