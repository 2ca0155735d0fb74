// Node's process warnings (MaxListenersExceededWarning, deprecations, experimental features) are printed on
// stderr as free text by Node's own listener, outside the structured log: whoever reads the log as JSON never
// sees them. The CLI routes them through the agent's logger instead, as one structured line each.
import type { Logger } from '../api.js';

/** Replaces Node's warning printer with `logger.warn`; the returned function puts Node's printer back. */
export function logProcessWarnings(logger: Logger): () => void {
  const printers = process.listeners('warning');
  for (const p of printers) process.removeListener('warning', p);
  const onWarning = (w: Error & { code?: string; detail?: string }): void => {
    logger.warn(`process warning: ${w.message}`, { warning: w.name, code: w.code, detail: w.detail });
  };
  process.on('warning', onWarning);
  return () => {
    process.removeListener('warning', onWarning);
    for (const p of printers) process.on('warning', p);
  };
}
