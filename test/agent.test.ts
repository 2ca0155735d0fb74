import assert from 'node:assert/strict';
import path from 'node:path';
import { Agent } from '../core/runtime/agent.js';
import { writeFile } from 'node:fs/promises';
import { probesOf, testBench } from './support/pipeline-harness.js';
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
      const bench = testBench();
      const agent = new Agent(file, {
        env: { SINK_PASSWORD: 'pa"ss-w0rd-42' },
        writeLog: (l) => void logs.push(l),
        registryFor: (plugins, dir) => bench.registry(plugins, dir),
      });
      await agent.start();
      await agent.finished();
      await agent.stop();
      const text = logs.join('');
      assert.match(text, /connecting with password \*\*\*/);
      assert.match(text, /"password":"\*\*\*"/);
      assert.doesNotMatch(text, /w0rd-42/);
      const probe = probesOf(agent.current!);
      assert.equal(probe('src').acks.length, 1);
    } finally {
      await tmp.remove();
    }
  });

  it('warns at start-up about a side output nobody reads, and counts its discards as losses over a reload', async () => {
    const tmp = await tempDir();
    try {
      const file = await tmp.file('p.yaml', `service:
  data_dir: ${tmp.dir}
inputs:
  src: { type: test_script }
filters:
  p: { type: test_tag, inputs: [src], unparsed_every: 2 }
  r: { type: test_tag, inputs: [src], unparsed_every: 2 }
outputs:
  out: { type: test_record, inputs: [p, r] }
`);
      const logs: string[] = [];
      // The bench's test_script and test_record keep their state across the reload: the same `src`, one `out`.
      const bench = testBench();
      const script = (id: string) => bench.input(id);
      const probe = (id: string) => ({ written: bench.output(id).events });
      const agent = new Agent(file, { writeLog: (l) => void logs.push(l), registryFor: () => bench.registry() });
      await agent.start();
      assert.match(logs.join(''), new RegExp(`WARN +${file}:6:3: warning: "p" sends events it cannot tag to "p\\._unparsed", which no component reads: they are counted and discarded; add "p\\._unparsed" to some component's inputs to keep them\n`));
      const src = script('src');
      await src.send([{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
      const lost = (...ids: string[]) => ids.map((component) => ({ component, what: 'discarded', reason: 'unread_output__unparsed', count: 2 }));
      assert.deepEqual(agent.losses(), lost('p', 'r'));

      // The new pipeline keeps p, whose counters go on (counted once), and has no r: r's losses are kept all the same.
      await writeFile(file, `service:
  data_dir: ${tmp.dir}
inputs:
  src: { type: test_script }
filters:
  p: { type: test_tag, inputs: [src], unparsed_every: 2 }
outputs:
  out: { type: test_record, inputs: [p, p._unparsed] }
`);
      await agent.reload();
      assert.match(logs.join(''), /configuration reloaded/);
      await src.send([{ n: 4 }, { n: 5 }]);
      src.end();
      await agent.finished();
      await agent.stop();
      assert.deepEqual([...agent.losses()].sort((a, b) => a.component.localeCompare(b.component)), lost('p', 'r'));
      assert.equal(probe('out').written.length, 2 + 2 + 2);
    } finally {
      await tmp.remove();
    }
  });
});
