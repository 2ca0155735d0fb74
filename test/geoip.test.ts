// The geoip filter and lib/insight's lookup: against Debian's mmdblookup (libmaxminddb, an independent reader)
// on the same packaged .mmdb file, the special-purpose ranges, city/ASN databases, and the filter in pipelines.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, runPipeline, testPlugin } from '../core/testing/index.js';
import {
  continentOf, CONTINENT_CODES, GeoLookup, NOT_AN_ADDRESS, packagedCountryDatabase, parseAddress, specialPurpose,
} from '../lib/insight/index.js';
import type { FilterInstance } from '../core/index.js';
import geoipPlugin from '../plugins/filters/geoip.js';
import { pluginContext } from './support/corpora.js';
import { onPath, skipWhenMissing, tempDir } from './support/helpers.js';
import { writeMmdb } from './support/mmdb-writer.js';
import { rng } from './bench/apache-lines.js';

/** What mmdblookup says the country_code of an address is: the code, or null for "Could not find an entry". */
function mmdbCountry(file: string, address: string): string | null {
  const r = spawnSync('mmdblookup', ['--file', file, '--ip', address, 'country_code'], { encoding: 'utf8' });
  if (/Could not find an entry/.test(r.stderr + r.stdout)) return null;
  const m = /"([^"]*)" <utf8_string>/.exec(r.stdout);
  if (r.status !== 0 || !m) throw new Error(`mmdblookup ${address}: status ${r.status}: ${r.stderr}${r.stdout}`);
  return m[1];
}

describe('geoip', function () {
  this.timeout(60000);

  describe('against mmdblookup on the packaged database', () => {
    before(function () {
      skipWhenMissing(this, onPath('mmdblookup') ? undefined : 'mmdblookup is not installed (Debian package mmdb-bin)');
    });

    it('gives the country mmdblookup gives for 300 IPv4 and 200 IPv6 addresses, and IPv4-mapped forms', async () => {
      const geo = await GeoLookup.open({}, 0);
      const rand = rng(18); // seeded: a failure names addresses that can be re-run
      const addresses: string[] = [];
      for (let i = 0; i < 300; i++) addresses.push([0, 0, 0, 0].map(() => Math.floor(rand() * 256)).join('.'));
      // IPv6: in the blocks the RIRs allocate from (2001::/16, 2400::/12 APNIC, 2600::/12 ARIN, 2800::/12 LACNIC,
      // 2a00::/12 RIPE, 2c00::/12 AFRINIC), so that most have an entry; some fall in unallocated space.
      const firsts = [0x2001, 0x2400, 0x2600, 0x2800, 0x2a00, 0x2c00];
      for (let i = 0; i < 200; i++) {
        const first = firsts[i % firsts.length] + (i % firsts.length === 0 ? 0 : Math.floor(rand() * 16));
        const rest = Array.from({ length: 7 }, () => Math.floor(rand() * 65536).toString(16));
        addresses.push([first.toString(16), ...rest].join(':'));
      }
      let compared = 0;
      let found = 0;
      let privates = 0;
      for (const address of addresses) {
        const ours = geo.lookup(address).country;
        if (specialPurpose(parseAddress(address)!) !== null) {
          assert.equal(ours, 'private', address);
          privates++;
          continue;
        }
        const theirs = mmdbCountry(packagedCountryDatabase(), address);
        assert.equal(ours, theirs, `${address}: ours ${ours}, mmdblookup ${theirs}`);
        compared++;
        if (theirs !== null) found++;
        if (address.includes('.') && compared % 10 === 0) assert.equal(geo.lookup(`::ffff:${address}`).country, theirs, `::ffff:${address}`);
      }
      assert.equal(compared + privates, addresses.length);
      assert.ok(compared >= 400, `compared ${compared}`);
      assert.ok(found >= compared * 0.6, `only ${found} of ${compared} had an entry: the comparison would say little`);
      assert.ok(found < compared, 'some addresses have no entry (null)');
      assert.ok(privates > 0, 'the random IPv4 addresses fall in special ranges at times');
    });

    it('reads city and ASN databases in the GeoLite2 layout as mmdblookup does (a database written by the test)', async () => {
      const tmp = await tempDir();
      try {
        const file = path.join(tmp.dir, 'city-asn.mmdb');
        await writeMmdb(file, 'GeoLite2-City', [
          { network: '81.2.69.0/24', data: { city: { geoname_id: 2643743, names: { en: 'London', de: 'London' } }, country: { iso_code: 'GB' }, autonomous_system_number: 20712, autonomous_system_organization: 'Andrews & Arnold Ltd' } },
          { network: '2a02:ff00::/32', data: { city: { names: { de: 'München' } } } },
          { network: '8.8.8.0/24', data: { autonomous_system_number: 15169, autonomous_system_organization: 'GOOGLE' } },
        ]);
        const mmdb = (ip: string, ...keys: string[]) => spawnSync('mmdblookup', ['--file', file, '--ip', ip, ...keys], { encoding: 'utf8' }).stdout;
        // The independent reader agrees with what was written ...
        assert.match(mmdb('81.2.69.160', 'city', 'names', 'en'), /"London"/);
        assert.match(mmdb('2a02:ff00::9', 'city', 'names', 'de'), /"München"/);
        assert.match(mmdb('8.8.8.8', 'autonomous_system_number'), /15169 <uint/);
        // ... and so does the lookup, which takes the country from the packaged database still.
        const geo = await GeoLookup.open({ city: file, asn: file }, 100);
        assert.deepEqual(geo.lookup('81.2.69.160'), { country: 'GB', continent: 'EU', city: 'London', asn: 20712, as_org: 'Andrews & Arnold Ltd' });
        assert.equal(geo.lookup('2a02:ff00::9').city, 'München', 'no English name: another one');
        assert.deepEqual(geo.lookup('8.8.8.8'), { country: 'US', continent: 'NA', city: null, asn: 15169, as_org: 'GOOGLE' });
        assert.deepEqual(geo.lookup('9.9.9.9'), { country: 'US', continent: 'NA', city: null, asn: null, as_org: null });
      } finally {
        await tmp.remove();
      }
    });
  });

  it('private, shared, loopback, link-local, documentation, multicast and reserved addresses are "private", v4 and v6', async () => {
    const geo = await GeoLookup.open({}, 0);
    const privates = [
      '10.0.0.1', '10.255.255.255', '172.16.0.0', '172.31.255.255', '192.168.1.1', '127.0.0.1', '127.255.0.1', '169.254.10.1',
      '100.64.0.0', '100.127.255.255', '0.0.0.0', '0.1.2.3', '192.0.0.1', '192.0.2.33', '198.18.0.1', '198.19.255.255',
      '198.51.100.7', '203.0.113.77', '224.0.0.1', '239.255.255.250', '240.0.0.1', '255.255.255.255', '192.88.99.1',
      '::1', '::', 'fe80::1', 'fe80::1%eth0', 'febf:ffff::1', 'fc00::1', 'fd12:3456::1', 'fec0::1', 'ff02::1', '2001:db8::1',
      '2001:db8:ffff::1', '100::1', '2001:2::1', '3fff::1', '5f00::1', '::ffff:10.1.2.3', '::ffff:127.0.0.1', '64:ff9b:1::1',
    ];
    for (const a of privates) assert.deepEqual(geo.lookup(a), { country: 'private', continent: null, city: null, asn: null, as_org: null }, a);
    // Just outside the blocks, and the globally reachable exceptions inside them: looked up in the database.
    const globals = ['172.15.255.255', '172.32.0.0', '100.63.255.255', '100.128.0.0', '192.167.255.255', '192.169.0.0', '11.0.0.0',
      '9.255.255.255', '192.0.0.9', '192.0.0.10', '198.20.0.0', '223.255.255.255', '2001:4860:4860::8888', '2001:3::1', '2001:20::1',
      '2002:c000:0204::1', 'fe00::1', 'fbff::1', '2001:1::1', '::ffff:8.8.8.8'];
    for (const a of globals) {
      assert.equal(specialPurpose(parseAddress(a)!), null, a);
      assert.notEqual(geo.lookup(a).country, 'private', a);
    }
    assert.equal(geo.lookup('2001:4860:4860::8888').country, 'US');
  });

  it('values that are no address give nulls, not errors', async () => {
    const geo = await GeoLookup.open({}, 10);
    for (const v of ['', '-', 'example.com', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.-4', '1::2::3', '12345::', ':::', 'gggg::1', '::1.2.3', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7']) {
      assert.equal(parseAddress(v), null, v);
      assert.equal(geo.lookup(v), NOT_AN_ADDRESS, v);
    }
    assert.deepEqual(parseAddress('1:2:3:4:5:6:1.2.3.4'), { v6: [1, 2, 3, 4, 5, 6, 0x102, 0x304] });
    assert.deepEqual(parseAddress('::'), { v6: [0, 0, 0, 0, 0, 0, 0, 0] });
  });

  it('every country code of the continent table maps to one of the seven continents', () => {
    assert.deepEqual(CONTINENT_CODES.sort(), ['AF', 'AN', 'AS', 'EU', 'NA', 'OC', 'SA']);
    for (const [c, want] of [['DE', 'EU'], ['de', 'EU'], ['RU', 'EU'], ['CN', 'AS'], ['US', 'NA'], ['BR', 'SA'], ['AU', 'OC'], ['EG', 'AF'], ['AQ', 'AN'], ['ZZ', null], ['EU', null]] as const) {
      assert.equal(continentOf(c), want, c);
    }
  });

  describe('the filter', () => {
    it('adds country and continent, nulls for what is no address, and counts cache hits and misses', async () => {
      const t = await testPlugin('geoip', { options: {} });
      await t.send([
        { client_ip: '8.8.8.8' }, { client_ip: '8.8.8.8' }, { client_ip: '10.0.0.7' }, { client_ip: 'crawler.example.net' },
        { client_ip: null }, { other: 1 }, { client_ip: 42 }, { client_ip: '2a00:1450:4001::1' },
      ]);
      await t.end();
      assert.deepEqual(t.events.out.map((e) => [e.country, e.continent]), [
        ['US', 'NA'], ['US', 'NA'], ['private', null], [null, null], [null, null], [null, null], [null, null], ['IE', 'EU'],
      ]);
      assert.ok(t.events.out.every((e) => !('city' in e) && !('asn' in e)), 'no city/asn fields without their databases');
      const s = t.stats('geoip').custom;
      assert.equal(s.visor_geoip_cache_hits_total, 1);
      assert.equal(s.visor_geoip_cache_misses_total, 4);
      assert.equal(s.visor_geoip_not_an_address_total, 4);
    });

    it('field names another field; cache_size 0 counts every lookup as a miss', async () => {
      const t = await testPlugin('geoip', { options: { field: 'peer', cache_size: 0 } });
      await t.send([{ peer: '1.1.1.1' }, { peer: '1.1.1.1' }, { client_ip: '8.8.8.8' }]);
      await t.end();
      assert.deepEqual(t.events.out.map((e) => e.country), ['AU', 'AU', null]);
      assert.equal(t.stats('geoip').custom.visor_geoip_cache_misses_total, 2);
    });

    it('a missing database, a directory, a file that is no .mmdb and a negative cache_size are refused', async () => {
      const tmp = await tempDir();
      try {
        const file = path.join(tmp.dir, 'pipeline.yaml');
        await mkdir(path.join(tmp.dir, 'adir'));
        await writeFile(path.join(tmp.dir, 'not.mmdb'), 'hello\n');
        const refused = async (options: Record<string, unknown>, pattern: RegExp) => {
          const err = await testPlugin('geoip', { options, file }).then(() => undefined, (e: unknown) => e);
          assert.ok(err instanceof ConfigError, `${JSON.stringify(options)}: ${String(err)}`);
          assert.match(err.message, pattern);
        };
        await refused({ city_database: 'GeoLite2-City.mmdb' }, /pipeline\.yaml:\d+:\d+: .*GeoLite2-City\.mmdb does not exist/);
        await refused({ asn_database: 'adir' }, /pipeline\.yaml:\d+:\d+: .*adir is a directory, not a file/);
        await refused({ cache_size: -1 }, /pipeline\.yaml:\d+:\d+: .*cache_size/);
        // Readable but no MaxMind DB: only opening it tells, when the component is created.
        await assert.rejects(testPlugin('geoip', { options: { country_database: 'not.mmdb' }, file }), /component "geoip" \(geoip\): .*not\.mmdb is not a MaxMind DB \(\.mmdb\) file/);
      } finally {
        await tmp.remove();
      }
    });

    it('window group_by and top, and where, use country', async () => {
      const T0 = Date.UTC(2026, 0, 1);
      const t = await runPipeline({ yaml: `
inputs:  { src: { type: test_script } }
filters:
  geo: { type: geoip, inputs: [src] }
  europe: { type: where, inputs: [geo], condition: 'continent == "EU" or country == "private"' }
aggregates:
  w: { type: window, inputs: [geo], window: { type: tumbling, size: 1m }, group_by: [country], metrics: { hits: 'count()' } }
  t: { type: window, inputs: [geo], window: { type: tumbling, size: 1m }, top: [{ field: country, n: 2 }] }
outputs:
  by_country: { type: test_record, inputs: [w] }
  tops: { type: test_record, inputs: [t] }
  eu: { type: test_record, inputs: [europe] }
` });
      const ips = ['8.8.8.8', '8.8.4.4', '1.1.1.1', '2a00:1450:4001::1', '10.0.0.1', '8.8.8.8'];
      await t.send(ips.map((client_ip, i) => ({ client_ip, timestamp: T0 + i * 1000 })));
      await t.end();
      const counts = Object.fromEntries(t.events.by_country.map((r) => [r.country, r.hits]));
      assert.deepEqual(counts, { US: 3, AU: 1, IE: 1, private: 1 });
      const [top] = t.events.tops;
      assert.deepEqual((top.top_country as Array<{ value: string; count: number }>).map((x) => [x.value, x.count])[0], ['US', 3]);
      assert.deepEqual(t.events.eu.map((e) => e.client_ip), ['2a00:1450:4001::1', '10.0.0.1']);
    });

    it('alert rules use country', async () => {
      const t = await runPipeline({ yaml: `
inputs:  { src: { type: test_script } }
filters:
  geo: { type: geoip, inputs: [src] }
aggregates:
  alerts: { type: alert, inputs: [geo], rules: [{ name: us-not-found, when: 'country == "US" and status == 404', cooldown: 0 }] }
outputs:
  out: { type: test_record, inputs: [alerts] }
` });
      await t.send([{ client_ip: '8.8.8.8', status: 404, path: '/a' }, { client_ip: '1.1.1.1', status: 404, path: '/b' }, { client_ip: '8.8.4.4', status: 200, path: '/c' }]);
      await t.end();
      const firing = t.events.out.filter((a) => a.name === 'us-not-found' && a.state === 'firing');
      assert.equal(firing.length, 1, JSON.stringify(t.events.out));
      assert.match(JSON.stringify(firing[0]), /8\.8\.8\.8|\/a/);
    });

    it('assigns only the fields read downstream (downstreamFields), and looks nothing up when none is read', async () => {
      const make = async (fields: string[]) => (await geoipPlugin.create(
        { field: 'client_ip', cache_size: 10 }, { ...pluginContext('geo', 'geoip'), downstreamFields: new Set(fields) },
      )) as FilterInstance;
      const ctx = { emit: () => undefined };
      const countryOnly = await make(['country', 'status']);
      assert.deepEqual(countryOnly.process([{ client_ip: '8.8.8.8' }], ctx), [{ client_ip: '8.8.8.8', country: 'US' }]);
      const none = await make(['status']);
      assert.deepEqual(none.process([{ client_ip: '8.8.8.8' }], ctx), [{ client_ip: '8.8.8.8' }]);
      assert.deepEqual(geoipPlugin.reads!({ field: 'peer', cache_size: 1 }), ['peer']);
    });
  });
});
