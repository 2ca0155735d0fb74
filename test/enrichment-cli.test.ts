// The geoip and request filters through the real CLI: `visor validate` and `visor run` on a small access log.
import assert from 'node:assert/strict';
import path from 'node:path';
import { runCli, tempDir } from './support/helpers.js';

const LINES = [
  '8.8.8.8 - - [03/Dec/2026:10:00:00 +0000] "GET /caf%C3%A9/menu.PDF?lang=fr HTTP/1.1" 200 5120 "-" "Mozilla/5.0 Firefox/120.0" 1534',
  '10.0.0.5 - - [03/Dec/2026:10:00:01 +0000] "GET /health HTTP/1.1" 200 2 "-" "kube-probe/1.29" 80',
  '2a00:1450:4001::1 - - [03/Dec/2026:10:00:02 +0000] "POST /api/items HTTP/1.1" 201 77 "-" "curl/8.4.0" 25000',
];

const config = (log: string, extra = '') => `service: { data_dir: ${JSON.stringify(path.join(path.dirname(log), 'data'))} }
inputs:
  log: { type: tail, path: [${JSON.stringify(log)}], read_from: beginning, exit_on_eof: true }
filters:
  access: { type: apache_access, inputs: [log], log_format: '%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D', timezone: UTC }
  geo: { type: geoip, inputs: [access]${extra} }
  req: { type: request, inputs: [geo], decode: true, visitor: true, timezone: UTC }
  public: { type: where, inputs: [req], condition: 'country != "private"' }
outputs:
  out: { type: stdout, inputs: [public], format: json }
`;

describe('geoip and request through the CLI', function () {
  this.timeout(30000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => { tmp = await tempDir(); });
  afterEach(async () => { await tmp.remove(); });

  it('validate accepts the pipeline; run enriches the lines and where drops the private address', async () => {
    const log = await tmp.file('access.log', LINES.join('\n') + '\n');
    const file = await tmp.file('p.yaml', config(log));
    const v = await runCli(['validate', '-c', file]);
    assert.equal(v.code, 0, v.stderr);
    const r = await runCli(['run', '-c', file]);
    assert.equal(r.code, 0, r.stderr);
    const events = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(events.map((e) => [e.client_ip, e.country, e.continent, e.path, e.query, e.path_decoded, e.file_type, e.is_static, e.response_time_ms]), [
      ['8.8.8.8', 'US', 'NA', '/caf%C3%A9/menu.PDF', 'lang=fr', '/café/menu.PDF', 'pdf', true, 1.534],
      ['2a00:1450:4001::1', 'IE', 'EU', '/api/items', null, '/api/items', null, false, 25],
    ]);
    assert.deepEqual(events.map((e) => e.visitor), ['2026-12-03|8.8.8.8|Mozilla/5.0 Firefox/120.0', '2026-12-03|2a00:1450:4001::1|curl/8.4.0']);
  });

  it('validate: a city database that does not exist is located in the file and exits 78; run refuses it too', async () => {
    const log = await tmp.file('access.log', LINES.join('\n') + '\n');
    const file = await tmp.file('p.yaml', config(log, ', city_database: GeoLite2-City.mmdb'));
    for (const command of ['validate', 'run']) {
      const r = await runCli([command, '-c', file]);
      assert.equal(r.code, 78, `${command}: ${r.stderr}`);
      assert.match(r.stderr, new RegExp(`${file}:6:\\d+: .*city_database .*GeoLite2-City\\.mmdb does not exist`));
    }
  });
});
