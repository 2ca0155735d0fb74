// The decisions recipe (configs/decisions.yaml) run for real through `visor run`, its log read by Debian's
// fail2ban-regex with the shipped filter (configs/fail2ban/), its JSON checked against the shape
// `cscli decisions import` unmarshals (an array of {duration, origin, reason, scope, type, value}).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { parse, stringify } from 'yaml';
import { onPath, ROOT, runCli, skipWhenMissing, tempDir } from './support/helpers.js';

const run = promisify(execFile);
const FILTER = path.join(ROOT, 'configs', 'fail2ban', 'filter.d', 'visor.conf');

const line = (ip: string, time: string, path: string, status = 404) =>
  `${ip} - - [03/Dec/2026:${time} +0000] "GET ${path} HTTP/1.1" ${status} 512 "-" "curl/8.4.0"`;

// Three attackers (one IPv6), benign traffic and near-misses that must not become decisions. The detect pack's
// sensitive-files rule fires on a client's third such request within a minute; path-traversal on the first.
const ACCESS = [
  line('203.0.113.7', '10:00:01', '/.env'),
  line('198.51.100.20', '10:00:02', '/index.html', 200),
  line('2001:db8::66', '10:00:03', '/.git/config', 403),
  line('192.0.2.44', '10:00:04', '/docs/.envoy.html', 200), // near-miss: not /.env at the root
  line('203.0.113.7', '10:00:05', '/.htpasswd'),
  line('203.0.113.7', '10:00:06', '/.git/HEAD'),
  line('2001:db8::66', '10:00:07', '/.env'),
  line('192.0.2.45', '10:00:08', '/cgi-bin/.%2e/.%2e/.%2e/etc/passwd', 400),
  line('2001:db8::66', '10:00:09', '/wp-config.php~'),
  line('192.0.2.46', '10:00:10', '/.env'), // one request for a secret: below the rule's threshold
  line('203.0.113.7', '10:00:11', '/.svn/entries'), // in the quiet period after its alert: a digest, not a second ban
  'not an access line',
].join('\n') + '\n';

describe('decisions for fail2ban and CrowdSec (configs/decisions.yaml)', function () {
  this.timeout(60_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let decisionsLog: string;
  let jsonl: string;
  const fail2banRegex = onPath('fail2ban-regex');

  before(async () => {
    tmp = await tempDir('visor-decisions-');
    // The shipped recipe as written, with stdin in place of tail so the run ends at end of input.
    const config = parse(await readFile(path.join(ROOT, 'configs', 'decisions.yaml'), 'utf8'));
    config.inputs = { access_log: { type: 'stdin' } };
    // Every detect event as well, to see the digest the recipe must not turn into a decision.
    config.outputs.detect_events = { type: 'file', inputs: ['detect'], path: path.join(tmp.dir, 'detect.jsonl'), format: 'json' };
    const file = await tmp.file('decisions.yaml', stringify(config));
    const out = path.join(tmp.dir, 'out');
    const r = await runCli(['run', '-c', file], { input: ACCESS, env: { VISOR_DECISIONS_DIR: out, VISOR_DATA_DIR: path.join(tmp.dir, 'data') } });
    assert.equal(r.code, 0, r.stderr);
    decisionsLog = path.join(out, 'decisions.log');
    jsonl = await readFile(path.join(out, 'decisions.jsonl'), 'utf8');
  });
  after(() => tmp?.remove());

  it('writes one documented line per detect alert, times in ISO 8601 UTC, duration by severity', async () => {
    const lines = (await readFile(decisionsLog, 'utf8')).trimEnd().split('\n');
    assert.equal(lines.length, 3, lines.join('\n'));
    // The line's date is when the decision was made (the alert's time); first and last are the requests' own times.
    assert.match(lines[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z visor-decision ban ip=203\.0\.113\.7 rule=sensitive-files severity=warning duration=4h count=3 first=2026-12-03T10:00:01\.000Z last=2026-12-03T10:00:06\.000Z$/);
    assert.match(lines[1]!, / visor-decision ban ip=192\.0\.2\.45 rule=path-traversal severity=critical duration=24h count=1 first=2026-12-03T10:00:08\.000Z last=2026-12-03T10:00:08\.000Z$/);
    assert.deepEqual(lines.map((l) => /ip=(\S+)/.exec(l)?.[1]), ['203.0.113.7', '192.0.2.45', '2001:db8::66']);
  });

  it('a digest (the quiet-period matches of an alert) is no second decision: only state: firing bans', async () => {
    const events = (await readFile(path.join(tmp.dir, 'detect.jsonl'), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(events.map((e) => `${e.state} ${e.rule} ${e.client_ip}`), [
      'firing sensitive-files 203.0.113.7', 'firing path-traversal 192.0.2.45', 'firing sensitive-files 2001:db8::66', 'digest sensitive-files 203.0.113.7',
    ]);
    const lines = (await readFile(decisionsLog, 'utf8')).trimEnd().split('\n');
    assert.equal(lines.filter((l) => l.includes('ip=203.0.113.7 ')).length, 1, lines.join('\n'));
  });

  it('JSON decisions in the shape cscli decisions import reads, one per line (jq -s makes the array it wants)', () => {
    const decisions = jsonl.trimEnd().split('\n').map((l) => JSON.parse(l));
    assert.equal(decisions.length, 3);
    for (const d of decisions) assert.deepEqual(Object.keys(d).sort(), ['duration', 'origin', 'reason', 'scope', 'type', 'value']);
    assert.deepEqual(decisions[1], { duration: '24h', origin: 'visor', reason: 'visor/path-traversal', scope: 'ip', type: 'ban', value: '192.0.2.45' });
    assert.deepEqual(decisions[2], { duration: '4h', origin: 'visor', reason: 'visor/sensitive-files', scope: 'ip', type: 'ban', value: '2001:db8::66' });
    // What `jq -s .` hands to cscli: one JSON array (cscli json.Unmarshal-s the file into a slice).
    assert.ok(Array.isArray(JSON.parse(`[${jsonl.trimEnd().split('\n').join(',')}]`)));
  });

  describe('read by fail2ban-regex with configs/fail2ban/filter.d/visor.conf', () => {
    before(function () {
      skipWhenMissing(this, fail2banRegex ? undefined : 'fail2ban-regex not installed (apt-get install -y --no-install-recommends fail2ban)');
    });

    it('matches every line Visor wrote, with its date, and bans exactly the attacking clients', async () => {
      const { stdout } = await run(fail2banRegex!, [decisionsLog, FILTER]);
      assert.match(stdout, /Lines: 3 lines, 0 ignored, 3 matched, 0 missed/, stdout);
      assert.match(stdout, /\[3\] \^Year-Month-DayT24hour:Minute:Second\\\.MicrosecondsZone offset/, stdout);
      const ips = await run(fail2banRegex!, ['-o', 'ip', decisionsLog, FILTER]);
      assert.deepEqual(ips.stdout.trim().split('\n'), ['203.0.113.7', '192.0.2.45', '2001:db8::66']);
      const rules = await run(fail2banRegex!, ['-o', 'rule', decisionsLog, FILTER]);
      assert.deepEqual([...new Set(rules.stdout.trim().split('\n'))], ['sensitive-files', 'path-traversal']);
    });

    it('misses lines not in the exact format: no date, other text before the marker, a field missing or moved', async () => {
      const forged = await tmp.file('forged.log', [
        'visor-decision ban ip=192.0.2.1 rule=r severity=critical duration=4h count=1 first=a last=b',
        '2026-12-03T10:00:01.000Z GET /x visor-decision ban ip=192.0.2.2 rule=r severity=critical duration=4h count=1 first=a last=b',
        '2026-12-03T10:00:01.000Z visor-decision ban ip=192.0.2.3 rule=r severity=critical count=1 first=a last=b',
        '2026-12-03T10:00:01.000Z visor-decision ban rule=ip=192.0.2.4 ip=x severity=critical duration=4h count=1 first=a last=b',
        '2026-12-03T10:00:01.000Z visor-decision ban ip=192.0.2.5 rule=r severity=critical duration=4h count=1 first=a last=b',
      ].join('\n') + '\n');
      const { stdout } = await run(fail2banRegex!, ['-o', 'ip', forged, FILTER]);
      assert.deepEqual(stdout.trim().split('\n'), ['192.0.2.5']);
    });
  });
});
