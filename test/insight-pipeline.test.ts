// The user_agent and bot filters in whole pipelines: their fields feed window group_by/top, where and alert
// conditions like any parsed field; and a config through the real CLI, validated and run on a small file.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runPipeline } from '../core/testing/index.js';
import { runCli, tempDir } from './support/helpers.js';

const CHROME = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36';
const IPHONE = 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1.2 Mobile/15E148 Safari/604.1';
const SQLMAP = 'sqlmap/1.7.2#stable (https://sqlmap.org)';
const GOOGLEBOT = 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)';

/** Combined-format lines, one a second from `t0`. */
function accessLines(agents: string[], t0 = Date.UTC(2026, 11, 3, 10, 0, 0)): string[] {
  return agents.map((ua, i) => {
    const d = new Date(t0 + i * 1000);
    const ts = `03/Dec/2026:10:${String(d.getUTCMinutes()).padStart(2, '0')}:${String(d.getUTCSeconds()).padStart(2, '0')} +0000`;
    const path = ua === SQLMAP ? "/item.php?id=1'%20OR%201=1" : i % 2 ? '/style.css' : '/';
    return `203.0.113.${10 + (i % 4)} - - [${ts}] "GET ${path} HTTP/1.1" 200 512 "-" "${ua}"`;
  });
}

const AGENTS = [CHROME, CHROME, IPHONE, SQLMAP, GOOGLEBOT, CHROME, SQLMAP, '-'];

describe('user_agent and bot fields in pipelines', () => {
  it('window group_by and top, where and alert conditions read them like any field', async () => {
    const t = await runPipeline({ yaml: `
inputs: { src: { type: test_script } }
filters:
  access: { type: apache_access, inputs: [src], timezone: UTC }
  agents: { type: user_agent, inputs: [access] }
  bots: { type: bot, inputs: [agents] }
  scanners: { type: where, inputs: [bots], condition: 'bot_category == "scanner" and is_bot == true' }
aggregates:
  per_kind:
    type: window
    inputs: [bots]
    window: { type: tumbling, size: 1m }
    group_by: [bot_category, device_type]
    metrics: { bots: count(is_bot == true) }
    top: [{ field: browser, n: 3 }, { field: bot_name, n: 3 }]
  alerts:
    type: alert
    inputs: [bots]
    rules:
      - { name: scanner, when: 'bot_category == "scanner"', severity: critical }
      - { name: mobile, when: 'device_type == "mobile" and os == "iOS"' }
outputs:
  out: { type: test_record, inputs: [scanners, per_kind, alerts] }
  rest: { type: blackhole, inputs: [scanners._rejected] }
` });
    await t.send(accessLines(AGENTS).map((message) => ({ message })));
    await t.end();
    const out = t.events.out;
    const scanners = out.filter((e) => e.bot_name === 'sqlmap' && e.client_ip !== undefined);
    assert.equal(scanners.length, 2);
    const windows = out.filter((e) => e.window_start !== undefined);
    const byGroup = Object.fromEntries(windows.map((w) => [`${w.bot_category}/${w.device_type}`, w]));
    assert.deepEqual(Object.keys(byGroup).sort(), ['null/desktop', 'null/mobile', 'null/unknown', 'scanner/bot', 'search_engine/bot']);
    assert.equal(byGroup['null/desktop'].count, 3);
    assert.deepEqual(byGroup['null/desktop'].top_browser, [{ value: 'Chrome', count: 3 }]);
    assert.equal(byGroup['scanner/bot'].bots, 2);
    assert.deepEqual(byGroup['scanner/bot'].top_bot_name, [{ value: 'sqlmap', count: 2 }]);
    assert.deepEqual(byGroup['search_engine/bot'].top_bot_name, [{ value: 'Googlebot', count: 1 }]);
    const alerts = out.filter((e) => e.kind === 'event');
    assert.deepEqual(alerts.map((a) => [a.name, a.state]).sort(), [['mobile', 'firing'], ['scanner', 'firing'], ['scanner', 'firing']].sort());
  });

  it('user_agent runs in worker threads (service.threads: 2) with the same fields, and its cache counters add up', async function () {
    this.timeout(30000);
    const agents = Array.from({ length: 3000 }, (_, i) => AGENTS[i % AGENTS.length]);
    const fields = async (threads: number) => {
      const t = await runPipeline({ yaml: `
service: { threads: ${threads} }
inputs: { src: { type: test_script } }
filters:
  access: { type: apache_access, inputs: [src], timezone: UTC }
  agents: { type: user_agent, inputs: [access] }
outputs:
  out: { type: test_record, inputs: [agents] }
  rest: { type: blackhole, inputs: [access._unparsed] }
` });
      const lines = accessLines(agents);
      for (let i = 0; i < lines.length; i += 500) await t.send(lines.slice(i, i + 500).map((message) => ({ message })));
      await t.end();
      const c = t.stats('agents').custom;
      assert.equal(c.visor_user_agent_cache_hits_total + c.visor_user_agent_cache_misses_total, agents.filter((a) => a !== '-').length);
      return { logs: t.logs, out: t.events.out.map((e) => [e.browser, e.browser_version, e.os, e.os_version, e.device_type]) };
    };
    const one = await fields(1);
    const two = await fields(2);
    assert.ok(two.logs.some((l) => l.includes('batches go to worker threads') && l.includes('agents')), two.logs.join('\n'));
    assert.deepEqual(two.out, one.out);
  });

  it('a config runs through the real CLI on a small file; a bad pattern is reported by visor validate at its place', async function () {
    this.timeout(30000);
    const tmp = await tempDir();
    try {
      const log = await tmp.file('access.log', accessLines(AGENTS).join('\n') + '\n');
      const config = await tmp.file('insight.yaml', `
inputs: { web: { type: stdin } }
filters:
  access: { type: apache_access, inputs: [web], timezone: UTC }
  agents: { type: user_agent, inputs: [access], cache_size: 100 }
  bots:
    type: bot
    inputs: [agents]
    patterns: [{ pattern: '^sqlmap/', category: scanner, name: sqlmap (ours) }]
    behaviour: { max_clients: 1000, no_assets_after: 0 }
outputs:
  out: { type: stdout, inputs: [bots] }
  rejects: { type: blackhole, inputs: [access._unparsed] }
`);
      const valid = await runCli(['validate', '-c', config]);
      assert.equal(valid.code, 0, valid.stderr + valid.stdout);
      const run = await runCli(['run', '-c', config], { input: readFileSync(log, 'utf8') });
      assert.equal(run.code, 0, run.stderr);
      const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(events.map((e) => [e.browser, e.device_type, e.bot_category, e.bot_name]), [
        ['Chrome', 'desktop', null, null], ['Chrome', 'desktop', null, null], ['Mobile Safari', 'mobile', null, null],
        [null, 'bot', 'scanner', 'sqlmap (ours)'], [null, 'bot', 'search_engine', 'Googlebot'], ['Chrome', 'desktop', null, null],
        [null, 'bot', 'scanner', 'sqlmap (ours)'], [null, 'unknown', null, null],
      ]);

      const bad = await tmp.file('bad.yaml', readFileSync(config, 'utf8').replace("'^sqlmap/'", "'^sqlmap/('"));
      const invalid = await runCli(['validate', '-c', bad]);
      assert.notEqual(invalid.code, 0);
      assert.match(invalid.stderr + invalid.stdout, new RegExp(`${bad.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:9:\\d+: .*invalid regex "\\^sqlmap/\\(": Unterminated group`));
    } finally {
      await tmp.remove();
    }
  });
});
