// The example plugin's test, written as its author would: mocha and the test kit, imported by the package name.
// In this repository `visor/testing` is the package itself (package.json "exports"), i.e. dist/: build first
// (`npm test` does). Elsewhere it is node_modules/visor, built when installed.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ConfigError, runPipeline, testPlugin } from 'visor/testing';
import anonymizeIp from './anonymize_ip.js';

describe('anonymize_ip (the example external plugin, through visor/testing)', () => {
  it('masks the addresses in the given fields, passes the rest on as it is, and counts what it masked', async () => {
    const t = await testPlugin(anonymizeIp, { options: { fields: ['client_ip', 'forwarded_for'] } });
    const ack = await t.send([
      { client_ip: '203.0.113.77', forwarded_for: '2001:db8:1:2::5', path: '/' },
      { client_ip: '', path: '/health' },
    ]);
    await t.end();
    assert.equal(ack.status, 'delivered');
    assert.deepEqual(t.events.out, [
      { client_ip: '203.0.113.0', forwarded_for: '2001:db8:1::', path: '/' },
      { client_ip: '', path: '/health' },
    ]);
    assert.equal(t.stats('anonymize_ip').custom.visor_anonymize_ip_masked_total, 2);
  });

  it('keep_octets out of range is a config error, located', async () => {
    await assert.rejects(testPlugin(anonymizeIp, { options: { keep_octets: 5 } }), (err) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /pipeline\.yaml:\d+:\d+: invalid value 5 for keep_octets/);
      return true;
    });
  });

  it('loads by path from service.plugins, as configs/anonymize.yaml loads it', async () => {
    const t = await runPipeline({
      file: fileURLToPath(new URL('../pipeline.yaml', import.meta.url)), // relative paths resolve from configs/
      yaml: `
service: { plugins: [./plugins/anonymize_ip.js] }
inputs: { lines: { type: test_script } }
filters: { masked: { type: anonymize_ip, inputs: [lines], fields: [message], keep_octets: 2 } }
outputs: { out: { type: test_record, inputs: [masked] } }
`,
    });
    await t.send([{ message: 'GET / from 198.51.100.23' }]);
    await t.end();
    assert.deepEqual(t.events.out, [{ message: 'GET / from 198.51.0.0' }]);
  });
});
