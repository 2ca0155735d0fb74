import assert from 'node:assert/strict';
import path from 'node:path';
import { Agent } from '../core/runtime/agent.js';
import { probe, testRegistry } from './support/pipeline-harness.js';
import { ROOT, tempDir } from './support/helpers.js';

describe('agent', () => {
  it('never logs a secret option, even when a plugin prints it', async () => {
    const tmp = await tempDir();
    try {
      const file = await tmp.file('p.yaml', `service:
  plugins: [${path.join(ROOT, 'test/fixtures/secret-plugin.js')}]
  log_format: json
inputs:
  src: { type: test_counter, total: 10 }
outputs:
  out: { type: secret_sink, inputs: [src], password: "\${SINK_PASSWORD}" }
`);
      const logs: string[] = [];
      const registry = await testRegistry();
      const agent = new Agent(file, {
        env: { SINK_PASSWORD: 'pa"ss-w0rd-42' },
        writeLog: (l) => void logs.push(l),
        registryFor: async (plugins, dir) => {
          for (const p of plugins) await registry.loadModule(p, dir);
          return registry;
        },
      });
      await agent.start();
      await agent.finished();
      await agent.stop();
      const text = logs.join('');
      assert.match(text, /connecting with password \*\*\*/);
      assert.match(text, /"password":"\*\*\*"/);
      assert.doesNotMatch(text, /w0rd-42/);
      assert.equal(probe('src').acks.length, 1);
    } finally {
      await tmp.remove();
    }
  });
});
