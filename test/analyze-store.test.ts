// `visor analyze --store` as a user runs it (the built CLI, real files), read back with Debian's sqlite3 CLI and
// psql: the rows equal a brute-force recount done here with regular expressions (events per status, window counts
// per minute and status or level, roll-ups per hour and day), a second run leaves every table byte-identical
// (sqlite3 .dump; in PostgreSQL a checksum of every table), the events are row for row those a `visor run` tailing the
// same file writes (so a backfill and a tail, in either order, never duplicate a line: CRLF, UTF-8, blank lines, the
// same file gzipped), unparsed lines are counted and not stored, and a missing file or a store that cannot be opened
// exits 1.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { corpus, readLines } from './support/corpora.js';
import { onPath, runCli, skipWhenMissing, tempDir } from './support/helpers.js';
import { PostgresServer, postgresMissing } from './support/postgres.js';
import { accessLog, assertStored, recount as storeRecount, storeConfig, writeLog } from './support/store.js';

const SQLITE3 = onPath('sqlite3');
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ACCESS = /^\S+ \S+ \S+ \[(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)\] "(?:[^"\\]|\\.)*" (\d{3}) /;
const ERROR = /^\[\w{3} (\w{3}) ([ \d]\d) (\d\d):(\d\d):(\d\d)(?:\.\d+)? (\d{4})\] \[(?:[\w-]+:)?(\w+)\] /;

function sq<T = Record<string, unknown>>(file: string, sql: string): T[] {
  const out = execFileSync(SQLITE3!, ['-json', '-readonly', '-cmd', '.timeout 10000', file, sql], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
  return out.trim() ? (JSON.parse(out) as T[]) : [];
}
const dump = (file: string) => execFileSync(SQLITE3!, ['-readonly', file, '.dump'], { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 });
const count = (file: string, sql: string) => Number(Object.values(sq(file, sql)[0]!)[0]);

/** Per minute: requests by status (access lines, times with their offset) and lines by level (error lines, read as
 * UTC as the CLI is told to); and requests by status overall. */
function recount(files: string[]): { minutes: Map<string, number>; statuses: Map<number, number>; parsed: number } {
  const minutes = new Map<string, number>();
  const statuses = new Map<number, number>();
  let parsed = 0;
  const add = (t: number, what: string) => {
    const k = `${Math.floor(t / 60_000) * 60_000}|${what}`;
    minutes.set(k, (minutes.get(k) ?? 0) + 1);
  };
  for (const f of files) {
    for (const line of readLines(f)) {
      const a = ACCESS.exec(line);
      if (a) {
        const offset = (a[7] === '-' ? -1 : 1) * (Number(a[8]) * 60 + Number(a[9])) * 60_000;
        const t = Date.UTC(Number(a[3]), MONTHS.indexOf(a[2]!), Number(a[1]), Number(a[4]), Number(a[5]), Number(a[6])) - offset;
        const status = Number(a[10]);
        add(t, `s${status}`);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        parsed++;
        continue;
      }
      const e = ERROR.exec(line);
      if (e) {
        add(Date.UTC(Number(e[6]), MONTHS.indexOf(e[1]!), Number(e[2]), Number(e[3]), Number(e[4]), Number(e[5])), `l${e[7]}`);
        parsed++;
      }
    }
  }
  return { minutes, statuses, parsed };
}

const sorted = <K, V>(m: Map<K, V>) => new Map([...m].sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1)));

/** The stored window counts at one resolution, keyed as recount's (start | s<status> or l<level>). */
function storedWindows(rows: Array<{ start: number; status: number | null; level: string | null; n: number }>): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) {
    const k = `${Number(r.start)}|${r.status !== null ? `s${r.status}` : `l${r.level}`}`;
    m.set(k, (m.get(k) ?? 0) + Number(r.n));
  }
  return m;
}

/** recount's minutes summed into windows of `size`. */
function coarser(minutes: Map<string, number>, size: number): Map<string, number> {
  const m = new Map<string, number>();
  for (const [k, n] of minutes) {
    const [start, what] = k.split('|');
    const kk = `${Math.floor(Number(start) / size) * size}|${what}`;
    m.set(kk, (m.get(kk) ?? 0) + n);
  }
  return m;
}

const WINDOWS_SQL = (resolution: string) => `SELECT window_start AS start, json_extract(group_values, '$.status') AS status, json_extract(group_values, '$.level') AS level, sum(count) AS n
  FROM windows WHERE aggregate = 'analyze' AND resolution = '${resolution}' GROUP BY 1, 2, 3`;

describe('visor analyze --store', function () {
  this.timeout(120_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  before(function () {
    skipWhenMissing(this, SQLITE3 ? undefined : 'sqlite3 is not installed (apt-get install sqlite3)');
  });
  beforeEach(async () => { tmp = await tempDir('visor-analyze-store-'); });
  afterEach(async () => { await tmp.remove(); });

  it('a rotated set (plain and .gz, access and error logs): events, 1m windows and their 1h/1d roll-ups equal a recount; a second run changes no byte', async function () {
    const dir = corpus(this, 'raspim-raspbian-apache22');
    const files = ['access.log', 'access.log.1', 'access.log.2.gz', 'error.log', 'error.log.1', 'error.log.2.gz'].map((n) => path.join(dir, n));
    const db = path.join(tmp.dir, 'history', 'visor.db'); // the directory does not exist yet
    const args = ['analyze', '--json', '--timezone', 'UTC', '--agent', 'web01', '--store', db, ...files];
    const r = await runCli(args);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    const want = recount(files);
    assert.ok(want.parsed > 23_000, 'the corpus is the expected one');
    assert.equal(j.parsed, want.parsed);
    assert.equal(j.unparsed, 2, 'the two error-log lines without a time: counted, not stored');
    assert.equal(j.store.engine, 'sqlite');
    assert.equal(j.store.location, db);
    assert.equal(j.store.rows.events, want.parsed);
    assert.equal(j.store.rejected_rows, 0);
    assert.ok(j.store.rows_per_second > 0);

    // Events: one per parsed line, each keyed by its file's content identity and byte offset.
    assert.equal(count(db, 'SELECT count(*) FROM events'), want.parsed);
    assert.equal(count(db, "SELECT count(DISTINCT origin) FROM events WHERE origin LIKE 'tail:%' AND agent = 'web01'"), want.parsed);
    assert.equal(count(db, "SELECT count(DISTINCT substr(origin, 1, 21)) FROM events"), files.length, 'one content identity per file');
    const statuses = new Map(sq<{ status: number; n: number }>(db, 'SELECT status, count(*) AS n FROM events WHERE status IS NOT NULL GROUP BY 1').map((x) => [x.status, x.n]));
    assert.deepEqual(sorted(statuses), sorted(want.statuses));
    // Windows: per minute and status (access) or level (error log), then each roll-up level.
    assert.deepEqual(sorted(storedWindows(sq(db, WINDOWS_SQL('1m')))), sorted(want.minutes));
    assert.deepEqual(sorted(storedWindows(sq(db, WINDOWS_SQL('1h')))), sorted(coarser(want.minutes, 3_600_000)));
    assert.deepEqual(sorted(storedWindows(sq(db, WINDOWS_SQL('1d')))), sorted(coarser(want.minutes, 86_400_000)));
    // Mergeable rows: every window row carries its sketches and a fingerprint whose spec is stored.
    assert.equal(count(db, 'SELECT count(*) FROM windows WHERE sketches IS NULL OR fingerprint NOT IN (SELECT fingerprint FROM aggregates)'), 0);
    assert.deepEqual(sq(db, 'SELECT json_extract(spec, \'$.window.size\') AS size FROM aggregates ORDER BY 1').map((x) => x.size), [60_000, 3_600_000, 86_400_000]);
    // The report over the whole range.
    const [report] = sq<{ name: string; window_start: number; window_end: number; requests: number }>(db, "SELECT name, window_start, window_end, requests FROM reports WHERE kind = 'report'");
    assert.deepEqual(report, { name: 'visor', window_start: j.window_start, window_end: j.window_end, requests: j.requests });

    // `visor query` reads it through a config whose store output names the same file and agent.
    const q = await tmp.file('q.yaml', `inputs: { in: { type: stdin } }\noutputs: { history: { type: store, path: ${db}, agent: web01, events: true, inputs: [in] } }\n`);
    const query = async (...a: string[]) => {
      const out = await runCli(['query', '-c', q, '--format', 'json', '--limit', '100000', ...a]);
      assert.equal(out.code, 0, out.stderr);
      return JSON.parse(out.stdout) as Array<Record<string, unknown>>;
    };
    assert.equal((await query('status >= 500')).length, [...want.statuses].filter(([st]) => st >= 500).reduce((n, [, c]) => n + c, 0));
    const days = await query('--windows', 'analyze', '--resolution', '1d');
    assert.equal(days.reduce((n, w) => n + Number(w.count), 0), want.parsed);

    const before = dump(db);
    const again = await runCli(args);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(dump(db), before, 'the second run changed nothing');
  });

  it('the events are row for row those `visor run` writes tailing the same file: a backfill then a tail, or a tail then a backfill, never duplicate (CRLF, UTF-8, blank lines, gzip)', async () => {
    const lines = accessLog(3000, 11);
    // Lines the offsets must count right: multi-byte characters, CRLF endings, blank lines (unparsed, not stored).
    lines[100] = lines[100]!.replace(/"(\w+) \/\S*/, '"$1 /caf\u00e9/\u65e5\u672c');
    for (let i = 200; i < 260; i++) lines[i] = `${lines[i]}\r`;
    lines.splice(1000, 0, '', '   ');
    const text = lines.join('\n') + '\n';
    const parsed = lines.filter((l) => l.trim()).length;
    writeFileSync(path.join(tmp.dir, 'access.log'), text);
    const config = await tmp.file('c.yaml', storeConfig('path: tailed.db'));
    const analyze = (db: string, file = 'access.log') => runCli(['analyze', '--json', '--agent', 'test-agent', '--store', db, file], { cwd: tmp.dir });
    const events = (db: string) => execFileSync(SQLITE3!, ['-readonly', db, 'SELECT * FROM events ORDER BY id'], { encoding: 'utf8', maxBuffer: 256 << 20 });

    // A tail alone, and a backfill alone: the same events table.
    const run = await runCli(['run', '-c', config], { cwd: tmp.dir });
    assert.equal(run.code, 0, run.stderr);
    const tailed = path.join(tmp.dir, 'tailed.db');
    const a = await analyze('backfilled.db');
    assert.equal(a.code, 0, a.stderr);
    const j = JSON.parse(a.stdout);
    assert.equal(j.unparsed, 2);
    assert.deepEqual(j.files[0].unparsed_reasons, { empty_line: { count: 2, first_line: 1001 } });
    const backfilled = path.join(tmp.dir, 'backfilled.db');
    assert.equal(count(backfilled, 'SELECT count(*) FROM events'), parsed);
    assert.equal(events(backfilled), events(tailed), 'every column of every event row');
    assert.equal(count(backfilled, "SELECT count(*) FROM events WHERE path = '/caf\u00e9/\u65e5\u672c'"), 1);

    // The tailed store backfilled too (and the backfilled one's file gzipped as logrotate leaves it): nothing added.
    const b = await analyze('tailed.db');
    assert.equal(b.code, 0, b.stderr);
    assert.equal(events(tailed), events(backfilled));
    writeFileSync(path.join(tmp.dir, 'access.log.1.gz'), gzipSync(readFileSync(path.join(tmp.dir, 'access.log'))));
    const gz = await analyze('backfilled.db', 'access.log.1.gz');
    assert.equal(gz.code, 0, gz.stderr);
    assert.equal(count(backfilled, 'SELECT count(*) FROM events'), parsed, 'the gzipped copy is the same lines');
    // A backfill followed by the agent tailing the file from the start: each line once, its windows a recount.
    await rm(path.join(tmp.dir, 'state'), { recursive: true }); // the tail's checkpoints: read the file from the start
    const fresh = await analyze('both.db');
    assert.equal(fresh.code, 0, fresh.stderr);
    const both = await runCli(['run', '-c', await tmp.file('c2.yaml', storeConfig('path: both.db'))], { cwd: tmp.dir });
    assert.equal(both.code, 0, both.stderr);
    const db = path.join(tmp.dir, 'both.db');
    const kept = lines.filter((l) => l.trim()).map((l) => l.replace(/\r$/, ''));
    assert.equal(count(db, 'SELECT count(*) FROM events'), kept.length);
    assert.equal(events(db), events(tailed));
    assert.equal(count(db, "SELECT sum(count) FROM windows WHERE aggregate = 'analyze' AND resolution = '1m'"), kept.length);
    assert.equal(count(db, "SELECT sum(count) FROM windows WHERE aggregate = 'traffic' AND resolution = '1m'"), kept.length);
  });

  it('the window rows are those of a `window` aggregate with the same options and state: true in `visor run`: counts, metrics, fingerprints, specs, roll-ups; the sketches hold the same states', async () => {
    await writeLog(path.join(tmp.dir, 'access.log'), accessLog(3000, 13));
    // ANALYZE_WINDOW (lib/analyze/store.ts) written as a user writes it.
    const config = await tmp.file('w.yaml', `service: { data_dir: ./state, log_level: warn }
inputs:
  logs: { type: tail, path: access.log, read_from: beginning, exit_on_eof: true, position_field: position }
filters:
  access: { type: apache_access, inputs: [logs], timezone: UTC }
aggregates:
  analyze:
    type: window
    inputs: [access]
    window: { size: 1m }
    group_by: [vhost, status, level]
    metrics: { bytes: sum(bytes), errors: count(status >= 500) }
    top: [{ field: client_ip, n: 10 }, { field: path, n: 10 }]
    percentiles: [{ field: duration_us, p: [50, 95, 99] }]
    distinct: [client_ip]
    state: true
    ack: emit
outputs:
  db: { type: store, inputs: [access, analyze], events: true, agent: test-agent, path: agent.db }
  unparsed: { type: blackhole, inputs: [access._unparsed] }
  late: { type: blackhole, inputs: [analyze._late] }
`);
    const run = await runCli(['run', '-c', config], { cwd: tmp.dir });
    assert.equal(run.code, 0, run.stderr);
    const r = await runCli(['analyze', '--timezone', 'UTC', '--agent', 'test-agent', '--store', 'backfill.db', 'access.log'], { cwd: tmp.dir });
    assert.equal(r.code, 0, r.stderr);
    const rows = (db: string) => sq<Record<string, unknown>>(path.join(tmp.dir, db), 'SELECT agent, aggregate, resolution, window_start, window_end, group_key, group_values, count, metrics, fingerprint, sketches FROM windows ORDER BY resolution, window_start, group_key')
      .map((w): Record<string, unknown> => {
        // The distinct set is kept in the order values arrived (file order in the agent, time order here).
        const sketches = JSON.parse(String(w.sketches)) as { distincts: Array<{ s?: string[] }> };
        for (const d of sketches.distincts) d.s?.sort();
        return { ...w, sketches };
      });
    const agent = rows('agent.db');
    assert.ok(agent.length > 50 && agent.some((w) => w.resolution === '1d'));
    assert.deepEqual(rows('backfill.db'), agent);
    const specs = (db: string) => sq(path.join(tmp.dir, db), 'SELECT agent, aggregate, fingerprint, spec FROM aggregates ORDER BY fingerprint');
    assert.deepEqual(specs('backfill.db'), specs('agent.db'));
  });

  it('a rotated set backfilled one file per run, newest first: the minute the rotation split is counted whole, once', async () => {
    const lines = accessLog(4000, 21);
    // Rotated in the middle of a minute: that minute's lines are in both files.
    const minute = (l: string) => l.slice(l.indexOf('[') + 1, l.indexOf('[') + 18);
    let cut = 2000;
    while (minute(lines[cut]!) !== minute(lines[cut - 1]!)) cut++;
    await writeLog(path.join(tmp.dir, 'access.log.1'), lines.slice(0, cut));
    await writeLog(path.join(tmp.dir, 'access.log'), lines.slice(cut));
    for (const file of ['access.log', 'access.log.1', 'access.log']) {
      const r = await runCli(['analyze', '--store', 'out.db', file], { cwd: tmp.dir });
      assert.equal(r.code, 0, r.stderr);
    }
    const db = path.join(tmp.dir, 'out.db');
    const split = count(db, `SELECT count(DISTINCT substr(origin, 1, 21)) FROM events WHERE time / 60000 = (SELECT time / 60000 FROM events WHERE origin LIKE '%:0' ORDER BY time DESC LIMIT 1)`);
    assert.equal(split, 2, 'the minute of access.log\'s first line has lines of both files');
    assert.equal(count(db, 'SELECT count(DISTINCT origin) FROM events'), lines.length, 'each line once');
    assert.equal(count(db, 'SELECT count(*) FROM events'), lines.length);
    const windows = sq<{ window_start: number; s: number; n: number }>(db, "SELECT window_start, json_extract(group_values, '$.status') AS s, sum(count) AS n FROM windows WHERE aggregate = 'analyze' AND resolution = '1m' GROUP BY 1, 2");
    assert.deepEqual(sorted(new Map(windows.map((w) => [`${w.window_start}|${w.s}`, w.n]))), sorted(storeRecount(lines).windows));
    assert.equal(count(db, "SELECT sum(count) FROM windows WHERE aggregate = 'analyze' AND resolution = '1h'"), lines.length);
  });

  it('a missing file is named and exits 1 after the others are stored; a store that cannot be opened exits 1 before reading', async () => {
    const lines = accessLog(500, 3);
    await writeLog(path.join(tmp.dir, 'access.log'), lines);
    const r = await runCli(['analyze', '--store', 'out.db', 'missing.log', 'access.log'], { cwd: tmp.dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot read missing\.log: no such file or directory \(ENOENT\)/);
    assert.match(r.stdout, /stored in sqlite .*out\.db \(agent [^,]+, aggregate analyze\): 500 events, \d+ window rows \(1m and roll-ups\), 3 aggregate specs, 1 report; writing took \d+\.\d\d s: [\d,]+ rows\/s/);
    const db = path.join(tmp.dir, 'out.db');
    assertStored(lines, {
      events: sq(db, 'SELECT origin, time, client_ip, method, path, status, bytes FROM events'),
      windows: sq<{ window_start: number; s: number; n: number }>(db, "SELECT window_start, json_extract(group_values, '$.status') AS s, sum(count) AS n FROM windows WHERE aggregate = 'analyze' AND resolution = '1m' GROUP BY 1, 2")
        .map((w) => ({ window_start: w.window_start, group_key: JSON.stringify([w.s]), count: w.n })),
    });

    await mkdir(path.join(tmp.dir, 'a-directory'));
    writeFileSync(path.join(tmp.dir, 'not-a-db'), 'this is not a database file, but a text of more than a hundred bytes: SQLite reads its header and refuses it.\n');
    for (const [store, message] of [['a-directory', /cannot open the store .*a-directory: /], ['not-a-db', /cannot open the store .*not-a-db: file is not a database/]] as const) {
      const bad = await runCli(['analyze', '--store', store, 'access.log'], { cwd: tmp.dir });
      assert.equal(bad.code, 1, store);
      assert.match(bad.stderr, message);
      assert.equal(bad.stdout, '', 'nothing analysed');
    }
    const usage = await runCli(['analyze', '--agent', 'x', 'access.log'], { cwd: tmp.dir });
    assert.equal(usage.code, 2, '--agent needs --store');
  });

  describe('PostgreSQL (psql reads it back)', () => {
    let server: PostgresServer | undefined;
    before(async function () {
      this.timeout(120_000);
      skipWhenMissing(this, postgresMissing());
      server = await PostgresServer.start(); // its own, not sharedPostgres(): the test stops it
    });
    after(async () => { await server?.destroy(); });

    it('the same rows as in SQLite (a recount), and a second run leaves every table\'s checksum as it was', async function () {
      const dir = corpus(this, 'raspim-raspbian-apache22');
      const files = ['access.log.1', 'access.log.2.gz', 'error.log.1'].map((n) => path.join(dir, n));
      const url = await server!.createDatabase('backfill');
      const args = ['analyze', '--json', '--timezone', 'UTC', '--agent', 'web01', '--store', url, ...files];
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.store.engine, 'postgres');
      const want = recount(files);
      const q = async <T>(sql: string) => JSON.parse((await server!.psql(`SELECT coalesce(json_agg(q), '[]') FROM (${sql}) q`, 'backfill')) || '[]') as T[];
      assert.equal(Number(await server!.psql('SELECT count(*) FROM events', 'backfill')), want.parsed);
      const windows = (resolution: string) => q<{ start: number; status: number | null; level: string | null; n: number }>(
        `SELECT (extract(epoch FROM window_start) * 1000)::bigint AS start, (group_values->>'status')::int AS status, group_values->>'level' AS level, sum(count) AS n
         FROM windows WHERE aggregate = 'analyze' AND resolution = '${resolution}' GROUP BY 1, 2, 3`);
      assert.deepEqual(sorted(storedWindows(await windows('1m'))), sorted(want.minutes));
      assert.deepEqual(sorted(storedWindows(await windows('1h'))), sorted(coarser(want.minutes, 3_600_000)));
      const statuses = new Map((await q<{ status: number; n: number }>('SELECT status, count(*)::int AS n FROM events WHERE status IS NOT NULL GROUP BY 1')).map((x) => [Number(x.status), x.n]));
      assert.deepEqual(sorted(statuses), sorted(want.statuses));
      const checksums = async () => {
        const out: Record<string, string> = {};
        for (const t of ['events', 'windows', 'aggregates', 'reports', 'schema_version']) out[t] = await server!.psql(`SELECT count(*) || ' ' || md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM ${t} x`, 'backfill');
        return out;
      };
      const before = await checksums();
      const again = await runCli(args);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(await checksums(), before);

      // The server down: exit 1 before reading anything (a one-shot command does not wait for it).
      await server!.stop();
      try {
        const down = await runCli(args);
        assert.equal(down.code, 1);
        assert.match(down.stderr, /cannot open the store postgres:\/\/.*\/backfill: .*ECONNREFUSED/);
        assert.equal(down.stdout, '');
      } finally {
        await server!.resume();
      }
    });
  });
});
