// Final shaping of the findings: secrets masked, file order, no repeats.
import { maskSecrets } from '../secrets.js';
import type { Diagnostic } from './model.js';

export function finalizeDiagnostics(diagnostics: readonly Diagnostic[], secrets: readonly string[]): Diagnostic[] {
  const seen = new Set<string>();
  const result: Diagnostic[] = [];
  for (const d of diagnostics) {
    // Messages are built not to show secret values; masking (core/secrets.ts) is the safety net for any that would.
    const message = maskSecrets(d.message, secrets);
    const identity = `${d.line}:${d.col}:${d.severity}:${message}`;
    if (seen.has(identity)) continue;
    seen.add(identity);
    result.push({ ...d, message });
  }
  // Array.prototype.sort is stable: findings at the same place keep the order they were found in.
  return result.sort((a, b) => a.line - b.line || a.col - b.col);
}
