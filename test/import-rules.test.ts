// The layer rules of .dependency-cruiser.mjs (run on the real tree by `npm test`) checked on small trees
// laid out like the repository: the imports they allow pass, and each kind of forbidden import fails
// naming its rule, so the check that guards the tree can itself fail.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ROOT, tempDir } from './support/helpers.js';

const DEPCRUISE = path.join(ROOT, 'node_modules', '.bin', 'depcruise');
const CONFIG = path.join(ROOT, '.dependency-cruiser.mjs');

/** Imports every rule allows: entry points across layers, anything inside one plugin or one lib area, core
 * internals from bin/, and tests reaching anywhere. */
const ALLOWED: Record<string, string> = {
  'core/index.ts': "export * from './api.js';\n",
  'core/api.ts': 'export const api = 1;\n',
  'core/config/load.ts': "import { api } from '../api.js';\nexport const load = api;\n",
  'lib/stats/index.ts': "export { topN } from './top.js';\n",
  'lib/stats/top.ts': "import { api } from '../../core/index.js';\nimport { heap } from './heap.js';\nexport const topN = [api, heap];\n",
  'lib/stats/heap.ts': "import { topN } from './top.js';\nexport const heap = 1;\nexport const both = () => topN;\n",
  'lib/dashboard/index.ts': "import { topN } from '../stats/index.js';\nexport const model = topN;\n",
  'plugins/outputs/dash/index.ts':
    "import { api } from '../../../core/index.js';\nimport { model } from '../../../lib/dashboard/index.js';\n" +
    "import { page } from './page.js';\nexport default [api, model, page];\n",
  'plugins/outputs/dash/page.ts': 'export const page = 1;\n',
  'plugins/filters/where.ts': "import type { api } from '../../core/index.js';\nexport type W = typeof api;\n",
  'plugins/filters/where.test.ts': "import { page } from '../outputs/dash/page.js';\nexport const t = page;\n",
  'bin/commands/run.ts':
    "import { load } from '../../core/config/load.js';\nimport { model } from '../../lib/dashboard/index.js';\n" +
    'export const run = [load, model];\n',
  'test/any.test.ts': "import { topN } from '../lib/stats/top.js';\nexport const t = topN;\n",
};

/** One forbidden import each: a file added to the allowed tree, the rule that must name it, and the module it
 * must be reported reaching (`edge`, for a cycle, is the whole loop as depcruise prints it). */
const VIOLATIONS: { what: string; file: string; text: string; rule: string; to?: string; edge?: string }[] = [
  { what: 'a plugin importing another plugin', file: 'plugins/filters/modify.ts', text: "import { page } from '../outputs/dash/page.js';\nexport const m = page;\n", rule: 'plugin-imports-internals', to: 'plugins/outputs/dash/page.ts' },
  { what: 'a plugin importing a core internal, type-only', file: 'plugins/filters/modify.ts', text: "import type { load } from '../../core/config/load.js';\nexport type M = typeof load;\n", rule: 'plugin-imports-internals', to: 'core/config/load.ts' },
  { what: 'a plugin importing a lib internal', file: 'plugins/filters/modify.ts', text: "import { topN } from '../../lib/stats/top.js';\nexport const m = topN;\n", rule: 'plugin-imports-internals', to: 'lib/stats/top.ts' },
  { what: 'a lib area importing a plugin', file: 'lib/stats/bad.ts', text: "import { page } from '../../plugins/outputs/dash/page.js';\nexport const b = page;\n", rule: 'lib-imports-plugins-or-bin', to: 'plugins/outputs/dash/page.ts' },
  { what: "a lib area importing another area's internal", file: 'lib/dashboard/bad.ts', text: "import { topN } from '../stats/top.js';\nexport const b = topN;\n", rule: 'lib-imports-internals', to: 'lib/stats/top.ts' },
  { what: 'a cycle between two lib areas', file: 'lib/stats/index.ts', text: "export { topN } from './top.js';\nexport { model } from '../dashboard/index.js';\n", rule: 'lib-areas-cycle', edge: 'lib/dashboard/index.ts → lib/stats/index.ts → lib/dashboard/index.ts' },
  { what: 'bin importing a plugin', file: 'bin/commands/bad.ts', text: "import dash from '../../plugins/outputs/dash/index.js';\nexport const b = dash;\n", rule: 'bin-imports-internals', to: 'plugins/outputs/dash/index.ts' },
  { what: 'core importing a lib area', file: 'core/bad.ts', text: "import { topN } from '../lib/stats/index.js';\nexport const b = topN;\n", rule: 'core-imports-upper-layers', to: 'lib/stats/index.ts' },
];

async function cruise(files: Record<string, string>): Promise<{ status: number | null; output: string }> {
  const tmp = await tempDir('visor-layers-');
  try {
    for (const [name, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(tmp.dir, name)), { recursive: true });
      await writeFile(path.join(tmp.dir, name), text);
    }
    const r = spawnSync(DEPCRUISE, ['--config', CONFIG, '--output-type', 'err', '.'], { cwd: tmp.dir, encoding: 'utf8' });
    return { status: r.status, output: r.stdout + r.stderr };
  } finally {
    await tmp.remove();
  }
}

describe('import rules (dependency-cruiser)', function () {
  this.timeout(60000);

  it('allow entry points across layers, anything inside a plugin or lib area (cycles too), core internals from bin, and tests', async () => {
    const r = await cruise(ALLOWED);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /no dependency violations found/);
  });

  for (const v of VIOLATIONS) {
    it(`reject ${v.what}`, async () => {
      const r = await cruise({ ...ALLOWED, [v.file]: v.text });
      assert.notEqual(r.status, 0, r.output);
      // A cycle is printed over several lines; compare with whitespace runs as single spaces.
      assert.ok(r.output.replace(/\s+/g, ' ').includes(`error ${v.rule}: ${v.edge ?? `${v.file} → ${v.to}`}`), r.output);
      assert.match(r.output, /1 dependency violations \(1 errors/);
    });
  }
});
