// The one secret-masking policy (core/secrets.ts) as the agent's log and validate's diagnostics apply it:
// exact values masked, nothing else touched; secrets too short to mask are refused at validation.
import assert from 'node:assert/strict';
import { finalizeDiagnostics } from '../core/config/diagnostics.js';
import { createLogger, createLogSink } from '../core/runtime/logger.js';
import { MIN_SECRET_LENGTH, maskSecrets } from '../core/secrets.js';
import { runCli, tempDir } from './support/helpers.js';

describe('secret masking', () => {
  it('masks exact secret values, also JSON-escaped, and nothing else', () => {
    assert.equal(maskSecrets('user=visor pass=comp-pass-42 again comp-pass-42', ['comp-pass-42']), 'user=visor pass=*** again ***');
    assert.equal(maskSecrets('{"pass":"sa\\"y-h\\\\ello"}', ['sa"y-h\\ello']), '{"pass":"***"}');
    assert.equal(maskSecrets('nothing secret here', ['', 'comp-pass-42']), 'nothing secret here');
  });

  it('log lines: the secret is masked and the rest of the line is as written', () => {
    for (const format of ['text', 'json'] as const) {
      const lines: string[] = [];
      const sink = createLogSink('info', format, (l) => void lines.push(l));
      sink.secrets.add('components-pass');
      createLogger(sink).info('config reloaded', { components: 3, auth: 'components-pass' });
      assert.equal(lines.length, 1);
      assert.ok(!lines[0]!.includes('components-pass'), lines[0]);
      assert.match(lines[0]!, format === 'text' ? / INFO  config reloaded components=3 auth=\*\*\*\n$/ : /"msg":"config reloaded","components":3,"auth":"\*\*\*"\}\n$/);
    }
  });

  it('diagnostics: the same policy', () => {
    const [d] = finalizeDiagnostics([{ file: 'cfg.yaml', line: 1, col: 2, severity: 'error', message: 'bad value "components-pass" for components' }], ['components-pass']);
    assert.equal(d!.message, 'bad value "***" for components');
  });

  it(`a secret shorter than ${MIN_SECRET_LENGTH} characters is refused by validate, located, without showing it; empty means none`, async () => {
    const tmp = await tempDir();
    try {
      const config = await tmp.file('short.yaml', `inputs:
  in: { type: stdin }
outputs:
  mail: { type: email, inputs: [in], host: 127.0.0.1, from: a@example.com, to: [b@example.com], auth: { user: visor, pass: "\${SMTP_PASS}" } }
`);
      const refused = await runCli(['validate', '-c', config], { env: { SMTP_PASS: 'on' } });
      assert.equal(refused.code, 78, refused.stderr);
      assert.equal(refused.stderr.split('\n')[0], `${config}:4:124: invalid value for auth.pass — a secret must have at least 8 characters to be masked safely in logs (shorter values occur in ordinary text): use a longer one, or leave it empty for none`);
      for (const pass of ['', 'long-enough']) {
        const ok = await runCli(['validate', '-c', config], { env: { SMTP_PASS: pass } });
        assert.equal(ok.code, 0, `${JSON.stringify(pass)}: ${ok.stderr}`);
      }
    } finally {
      await tmp.remove();
    }
  });
});
