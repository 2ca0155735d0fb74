// Every example pipeline under configs/ must load as written (the README and the issues point users at them).
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { loadConfigFile } from '../core/config/load.js';
import { formatDiagnostic } from '../core/config/model.js';
import { ROOT } from './support/helpers.js';

describe('example configs', () => {
  const dir = path.join(ROOT, 'configs');
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    it(`${name} is valid with its documented defaults`, async () => {
      const result = await loadConfigFile(path.join(dir, name));
      const errors = result.diagnostics.filter((d) => d.severity === 'error');
      assert.deepEqual(errors.map(formatDiagnostic), []);
      assert.ok(result.config && result.config.components.length > 0);
    });
  }
});
