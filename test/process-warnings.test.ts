// Node's process warnings in a running agent (the CLI, spawned as a user runs it) are structured log lines like
// every other: a MaxListenersExceededWarning from a plugin reaches whoever reads the log as JSON.
import assert from 'node:assert/strict';
import path from 'node:path';
import { ROOT, runCli, tempDir } from './support/helpers.js';

describe('process warnings', function () {
  this.timeout(30_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => { tmp = await tempDir(); });
  afterEach(async () => { await tmp.remove(); });

  it('a warning emitted in a running agent is logged by the agent\'s logger as a structured line, not printed by Node', async () => {
    const config = await tmp.file('warn.yaml', `service:
  log_format: json
  plugins: [${path.join(ROOT, 'test/fixtures/warning-filter.js')}]
inputs:
  in: { type: stdin }
filters:
  f: { type: warn_once, inputs: [in] }
outputs:
  out: { type: stdout, inputs: [f], format: text }
`);
    const r = await runCli(['run', '-c', config], { input: 'a\nb\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'a\nb\n');
    const lines = r.stderr.split('\n').filter(Boolean);
    assert.deepEqual(lines.filter((l) => !l.startsWith('{')), [], 'every stderr line is a JSON log record (no "(node:PID) ..." text)');
    const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const warnings = records.filter((l) => String(l.msg).startsWith('process warning: '));
    const leak = warnings.find((w) => w.warning === 'MaxListenersExceededWarning');
    assert.ok(leak, r.stderr);
    assert.equal(leak.level, 'warn');
    assert.match(String(leak.msg), /11 abort listeners added to \[AbortSignal\]/);
    const own = warnings.find((w) => w.warning === 'VisorTestWarning');
    assert.deepEqual(own && { level: own.level, msg: own.msg, code: own.code }, { level: 'warn', msg: 'process warning: a plugin says hello', code: 'VISOR_TEST' });
  });
});
