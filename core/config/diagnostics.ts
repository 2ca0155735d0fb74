// Final shaping of the findings: secrets scrubbed, file order, no repeats.
import type { Diagnostic } from './model.js';

/** Secrets shorter than this are only scrubbed where they appear quoted: replacing every "ab" in prose would
 * mangle messages, and quoting is how values are shown. */
const MIN_BARE_SECRET_LENGTH = 6;

export function finalizeDiagnostics(diagnostics: readonly Diagnostic[], secrets: readonly string[]): Diagnostic[] {
  const seen = new Set<string>();
  const result: Diagnostic[] = [];
  for (const d of diagnostics) {
    const message = scrub(d.message, secrets);
    const identity = `${d.line}:${d.col}:${d.severity}:${message}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    result.push({ ...d, message });
  }
  // Array.prototype.sort is stable: findings at the same place keep the order they were found in.
  return result.sort((a, b) => a.line - b.line || a.col - b.col);
}

/** Messages are built not to show secret values; this is the safety net for any path that would. */
function scrub(message: string, secrets: readonly string[]): string {
  let out = message;
  for (const secret of secrets) {
    if (secret === '') continue;
    out = out.split(JSON.stringify(secret)).join('"***"');
    if (secret.length >= MIN_BARE_SECRET_LENGTH) out = out.split(secret).join('***');
  }
  return out;
}
