// Locations inside the installed package, independent of the working directory.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** dist/bin/paths.js -> package root. */
export const PACKAGE_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const DEFAULT_CONFIG = path.join(PACKAGE_ROOT, 'configs', 'default.yaml');

/** Exit code for an invalid configuration (sysexits EX_CONFIG), as Vector uses. */
export const EXIT_CONFIG = 78;

/** Exit code of a finite run (stdin at end of input, tail with exit_on_eof) that did not deliver everything: events
 * discarded, batches failed, an input or a final flush failed (see core/runtime/losses.ts). */
export const EXIT_LOSSES = 3;
