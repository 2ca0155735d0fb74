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
    it(`${name} is valid with its documented defaults, without warnings (nothing it reads is discarded unseen)`, async () => {
      const result = await loadConfigFile(path.join(dir, name));
      assert.deepEqual(result.diagnostics.map(formatDiagnostic), []);
      assert.ok(result.config && result.config.components.length > 0);
    });
  }
});

describe('network options are checked with the config', () => {
  it('bad listen addresses, broker lists and an unprotected dashboard are located errors that say what to write', async () => {
    const { loadConfigText } = await import('../core/config/load.js');
    const yaml = `inputs:
  t: { type: tcp, listen: "bad host:70000" }
  k: { type: kafka, brokers: ["nohostport", "a:1,b"], topics: [a], group_id: g }
outputs:
  o: { type: tcp, inputs: [t], address: "[::1" }
  d: { type: dashboard, inputs: [k], listen: "0.0.0.0:8080" }
  ok: { type: kafka, inputs: [t], brokers: ["a:9092,b:9092", "[::1]:9092"], topic: x }
`;
    const result = await loadConfigText(yaml, '/tmp/n.yaml');
    const errors = result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic);
    assert.equal(errors.length, 5, errors.join('\n'));
    assert.match(errors[0], /^\/tmp\/n\.yaml:2:27: invalid value "bad host:70000" for listen — .*"bad host" is not a valid host name/);
    assert.match(errors[1], /^\/tmp\/n\.yaml:3:31: .*"nohostport" is not host:port; write each broker as host:port/);
    assert.match(errors[2], /^\/tmp\/n\.yaml:3:45: .*"b" is not host:port/);
    assert.match(errors[3], /^\/tmp\/n\.yaml:5:41: invalid value "\[::1" for address/);
    assert.match(errors[4], /^\/tmp\/n\.yaml:6:6: refusing to serve the dashboard on 0\.0\.0\.0:8080 without a token.*Set token/);
  });
});

describe('configs/alerts-webhook.yaml', () => {
  it('posts firings and digests, not a digest made again for late lines (amended), as the email output does', async () => {
    const { parse } = await import('yaml');
    const { readFileSync } = await import('node:fs');
    const { testPlugin } = await import('../core/testing/index.js');
    const config = parse(readFileSync(path.join(ROOT, 'configs/alerts-webhook.yaml'), 'utf8')) as {
      filters: Record<string, { type: string; inputs: string[]; condition: string }>;
      outputs: Record<string, { inputs: string[] }>;
    };
    assert.deepEqual(config.outputs.webhook.inputs, ['to_post']);
    const { type, condition } = config.filters.to_post;
    assert.deepEqual(config.filters.to_post.inputs, ['alerts', 'attacks']);
    const t = await testPlugin(type, { options: { condition } });
    await t.send([
      { rule: 'scanner-user-agent', state: 'firing' },
      { rule: 'scanner-user-agent', state: 'digest', count: 3 },
      { rule: 'scanner-user-agent', state: 'digest', count: 4, amended: true },
      { rule: 'server-error', state: 'firing', amended: false },
    ]);
    await t.end();
    assert.deepEqual(t.events.out.map((e) => [e.state, e.count ?? null]), [['firing', null], ['digest', 3], ['firing', null]]);
  });
});
