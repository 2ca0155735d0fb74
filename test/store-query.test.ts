// `visor query` over a store written by a real `visor run` (tail -> apache_access -> window -> store, events on), in
// SQLite and in a real PostgreSQL server (test/support/postgres.ts), through the real CLI: the events matching several expressions equal a brute-force recount of the input
// (test/support/store.ts), hostile text is a harmless literal, an untranslatable or invalid expression is a located
// error, --sql runs only statements that read, and --windows lists the window rows the recount expects.
import assert from 'node:assert/strict';
import path from 'node:path';
import { CliProcess, runCli, skipWhenMissing, tempDir } from './support/helpers.js';
import { postgresMissing, sharedPostgres } from './support/postgres.js';
import { accessLog, recount, storeConfig, writeLog, type ExpectedEvent } from './support/store.js';

describeQuery('sqlite', async () => ({ options: 'path: out.db', stop: async () => undefined }));
describeQuery('postgres', async (ctx) => {
  skipWhenMissing(ctx, postgresMissing());
  const { server, release } = await sharedPostgres();
  return { options: `engine: postgres, url: "${await server.createDatabase('query')}"`, stop: release };
});

/** The suite for one engine; `setup` gives the store's options (YAML flow text) and how to stop its server. */
function describeQuery(engine: 'sqlite' | 'postgres', setup: (ctx: Mocha.Context) => Promise<{ options: string; stop: () => Promise<void> }>) {
describe(`visor query (${engine} store written by visor run)`, function () {
  this.timeout(120_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let config: string;
  let stop = async () => undefined as void;
  const lines = accessLog(800, 11);
  const expected = recount(lines);

  before(async function () {
    const db = await setup(this);
    stop = db.stop;
    tmp = await tempDir('visor-query-');
    await writeLog(path.join(tmp.dir, 'access.log'), lines);
    config = await tmp.file('c.yaml', storeConfig(db.options));
    const r = await runCli(['run', '-c', config]);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await tmp?.remove();
    await stop();
  });

  const query = (...args: string[]) => runCli(['query', '-c', config, ...args]);
  async function rows(...args: string[]): Promise<Record<string, unknown>[]> {
    const r = await query('--format', 'json', '--limit', '100000', ...args);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>[];
  }
  const offsets = (rs: Record<string, unknown>[]) => rs.map((r) => Number(String(r.origin).split(':').pop())).sort((a, b) => a - b);
  const want = (p: (e: ExpectedEvent) => boolean) => expected.events.filter(p).map((e) => e.offset).sort((a, b) => a - b);

  it('the events of several expressions equal a recount of the input', async () => {
    const sample = expected.events.find((e) => e.path.split('/').length > 2)!;
    const prefix = '/' + sample.path.split('/')[1];
    const escaped = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const part = sample.path.slice(2, 5);
    const cases: Array<[string, (e: ExpectedEvent) => boolean]> = [
      ['status >= 500', (e) => e.status >= 500],
      [`starts_with(path, "${prefix}")`, (e) => e.path.startsWith(prefix)],
      [`contains(path, "${part}")`, (e) => e.path.includes(part)],
      [`path =~ "^${escaped}/"`, (e) => e.path.startsWith(`${prefix}/`)],
      [`path !~ "^${escaped}/"`, (e) => !e.path.startsWith(`${prefix}/`)],
      [`client_ip == "${sample.client_ip}"`, (e) => e.client_ip === sample.client_ip],
      ['status == 404 or (method == "POST" and not status < 400)', (e) => e.status === 404 || (e.method === 'POST' && !(e.status < 400))],
      ['status in (200, 304) and bytes > 1000', (e) => [200, 304].includes(e.status) && e.bytes !== null && e.bytes > 1000],
      ['not (status in (200, 301, 302))', (e) => ![200, 301, 302].includes(e.status)],
      ['bytes == null', (e) => e.bytes === null],
      ['status != 200 and method != "GET"', (e) => e.status !== 200 && e.method !== 'GET'],
      ['status == "200"', () => false],
    ];
    for (const [expression, predicate] of cases) {
      const expect = want(predicate);
      assert.deepEqual(offsets(await rows(expression)), expect, expression);
    }
    assert.ok(want((e) => e.status >= 500).length > 0 && want((e) => e.client_ip === sample.client_ip).length > 0, 'the cases select something');
    assert.equal((await rows()).length, lines.length, 'no expression: every event');
  });

  it('--since and --until select by event time', async () => {
    const times = expected.events.map((e) => e.time).sort((a, b) => a - b);
    const [from, to] = [times[200], times[600]];
    const got = await rows('--since', new Date(from).toISOString(), '--until', new Date(to).toISOString(), 'status < 400');
    assert.deepEqual(offsets(got), want((e) => e.time >= from && e.time < to && e.status < 400));
    assert.equal((await rows('--since', '1h')).length, 0, 'the log is from the past');
  });

  it('hostile text is a harmless literal; an invalid or untranslatable expression is a located error (78)', async () => {
    assert.deepEqual(await rows('status == "x\'; DROP TABLE events; --"'), []);
    assert.deepEqual(await rows('path == "\'); DELETE FROM events; --" or client_ip == "\\" OR 1=1 --"'), []);
    assert.deepEqual(await rows('`x\'; DROP TABLE events; --` == 1'), []);
    const count = await rows('--sql', 'SELECT count(*) AS n FROM events');
    assert.deepEqual(count, [{ n: lines.length }], 'the table is still there, whole');

    const syntax = await query('status = 500');
    assert.equal(syntax.code, 78);
    assert.match(syntax.stderr, /expression: unexpected "=" at column 8/);
    assert.match(syntax.stderr, /\n {2}status = 500\n {9}\^/);
    const regex = await query('path =~ "^/[a-z]+/"');
    if (engine === 'sqlite') {
      assert.equal(regex.code, 0, regex.stderr);
    } else {
      assert.equal(regex.code, 78);
      assert.match(regex.stderr, /the regex at column 6 cannot be translated to PostgreSQL/);
    }
    const untranslatable = await query('lower(method) == "get"');
    assert.equal(untranslatable.code, 78);
    assert.match(untranslatable.stderr, /lower\(\) at column 1 cannot be translated to SQL/);
    const unknown = await query('status >= 500 and nope(path)');
    assert.equal(unknown.code, 78);
    assert.match(unknown.stderr, /unknown function "nope" at column 19/);
  });

  it('--sql runs only statements that read', async () => {
    for (const sql of ['DELETE FROM events', 'SELECT 1; DELETE FROM events', 'DROP TABLE events', 'DELETE FROM events RETURNING id']) {
      const r = await query('--sql', sql);
      assert.equal(r.code, 1, sql);
      assert.match(r.stderr, /read-only|more than one statement|multiple commands/, sql);
    }
    assert.deepEqual(await rows('--sql', 'SELECT count(*) AS n FROM events'), [{ n: lines.length }]);
    const byStatus = await rows('--sql', 'SELECT status, count(*) AS n FROM events GROUP BY status ORDER BY status');
    const recounted = new Map<number, number>();
    for (const e of expected.events) recounted.set(e.status, (recounted.get(e.status) ?? 0) + 1);
    assert.deepEqual(byStatus, [...recounted].sort((a, b) => a[0] - b[0]).map(([status, n]) => ({ status, n })));
  });

  it('--windows lists the window rows of an aggregate, equal to a recount', async () => {
    const got = await rows('--windows', 'traffic', '--resolution', '1m');
    const windows = new Map(got.map((w) => [`${Date.parse(String(w.window_start))}|${(w.group_values as { status: number }).status}`, Number(w.count)]));
    assert.deepEqual(new Map([...windows].sort()), new Map([...expected.windows].sort()));
    assert.deepEqual(await rows('--windows', 'nothing'), []);
  });

  it('prints a table by default and CSV on request; finds the one store or the one named', async function () {
    if (engine === 'postgres') this.skip(); // the same code for both engines (and the missing file is SQLite's)
    const table = await query('--limit', '3', 'status >= 500');
    assert.equal(table.code, 0, table.stderr);
    const out = table.stdout.split('\n');
    assert.match(out[0], /^id\s+time\s+agent\s+origin\s+client_ip/);
    assert.match(out[1], /^-+ {2}-+/);
    assert.match(table.stdout, /\(3 rows\)\n$/);
    const csv = await query('--format', 'csv', '--store', 'db', 'status >= 500');
    assert.equal(csv.code, 0, csv.stderr);
    const csvLines = csv.stdout.trimEnd().split('\r\n');
    assert.equal(csvLines[0], 'id,time,agent,origin,vhost,client_ip,remote_user,method,path,query,protocol,status,bytes,referer,user_agent,duration_us,level,file,extra');
    assert.equal(csvLines.length - 1, want((e) => e.status >= 500).length);

    const wrong = await query('--store', 'access');
    assert.equal(wrong.code, 78);
    assert.match(wrong.stderr, /"access" is a apache_access filter, not a store output; its store outputs: db/);
    const two = await tmp.file('two.yaml', storeConfig('path: out.db').replace('  unparsed:', '  db2: { type: store, inputs: [access], path: other.db }\n  unparsed:'));
    const several = await runCli(['query', '-c', two]);
    assert.equal(several.code, 78);
    assert.match(several.stderr, /several store outputs \(db, db2\): choose one with --store/);
    const none = await runCli(['query', '-c', two, '--store', 'db2']);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /other\.db does not exist/);
  });
});
}

describe('visor query beside a running agent (SQLite)', function () {
  this.timeout(240_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => { tmp = await tempDir('visor-query-live-'); });
  afterEach(async () => { await tmp.remove(); });

  it('reads consistent, growing results while visor run writes, and the recount at the end', async () => {
    const N = 80_000;
    const lines = accessLog(N, 13);
    await writeLog(path.join(tmp.dir, 'access.log'), lines);
    const config = await tmp.file('c.yaml', storeConfig('batch_size: 1000'));
    const agent = new CliProcess(['run', '-c', config], { cwd: tmp.dir });
    const seen: number[] = [];
    let running = true;
    void agent.exited.then(() => { running = false; });
    while (running) {
      const r = await runCli(['query', '-c', config, '--format', 'json', '--sql', 'SELECT count(*) AS n FROM events']);
      if (r.code !== 0) {
        // Only before the agent created the database.
        assert.match(r.stderr, /does not exist|no such table/, r.stderr);
        assert.equal(seen.length, 0, r.stderr);
        continue;
      }
      seen.push((JSON.parse(r.stdout) as Array<{ n: number }>)[0].n);
    }
    assert.equal((await agent.exited).code, 0, agent.stderr);
    console.log(`      counts seen while writing: ${seen.join(', ')}`);
    assert.ok(seen.some((n) => n > 0 && n < N), `a query ran while the agent wrote (counts seen: ${seen.join(', ')})`);
    assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'never fewer rows than before');
    const errors = await runCli(['query', '-c', config, '--format', 'json', '--limit', '100000', 'status >= 500']);
    assert.equal(errors.code, 0, errors.stderr);
    const want = recount(lines).events.filter((e) => e.status >= 500).length;
    assert.equal((JSON.parse(errors.stdout) as unknown[]).length, want);
  });
});
