// The translation of conditions into SQL (lib/store/filter-sql.ts) against the language itself: events with fields of
// every type in columns and in the JSON column (numbers, text "5", booleans, null, lists, nested objects, empty
// strings and zeros) are stored, and for each condition the rows SQL selects are exactly the events
// compileCondition accepts — in SQLite and, when it is installed, in a real PostgreSQL.
import assert from 'node:assert/strict';
import path from 'node:path';
import { compileCondition, parseCondition, type Event } from '../core/index.js';
import { FilterCompiler, PostgresEngine, RowMapper, sqliteParams, SqliteEngine, TABLES, type StoreEngine } from '../lib/store/index.js';
import { rng } from './bench/apache-lines.js';
import { tempDir } from './support/helpers.js';
import { postgresMissing, sharedPostgres } from './support/postgres.js';

function events(n: number): Event[] {
  const rand = rng(3);
  const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)];
  const out: Event[] = [];
  for (let i = 0; i < n; i++) {
    const e: Event = { timestamp: 1_700_000_000_000 + i * 1000, seq: i };
    const maybe = (k: string, v: () => unknown) => { if (rand() < 0.8) e[k] = v(); };
    maybe('status', () => pick([200, 204, 301, 404, 500, 503]));
    maybe('path', () => pick(['/', '/a', '/api/x', '/é', '']));
    maybe('user', () => pick(['bob', 'alice', '']));
    maybe('score', () => pick([0, 1, 2.5, 5, -3, '5', 'x', null, true]));
    maybe('flag', () => pick([true, false, null, 0, 1, 'yes']));
    maybe('name', () => pick(['xylophone', 'Xerxes', 'zz', '', 'émile', 'm', 'a"b\'c']));
    maybe('tags', () => pick([[], ['a'], ['a', 'b'], [2, 'b'], [true], 'a']));
    maybe('nested', () => pick([{ a: { b: 2 } }, { a: { b: '2' } }, { a: null }, { a: 5 }, {}, 'flat']));
    out.push(e);
  }
  return out;
}

const CONDITIONS = [
  'score > 3', 'score == 5', 'score != 5', 'score == "5"', 'score >= -3 and score < 2.5', 'score', 'not score',
  'flag', 'not flag', 'flag == true', 'flag != false', 'flag == 1',
  'name', 'name < "m"', 'name >= "m"', 'name == ""', 'name + "!" == "zz!"', 'name == "a\\"b\'c"',
  'contains(tags, "a")', 'contains(tags, 2)', 'contains(tags, true)', 'contains(name, "é")', 'contains(name, "")',
  'starts_with(name, "X")', 'ends_with(name, "e")', 'ends_with(name, "")', 'tags', 'not tags',
  'nested.a.b > 1', 'nested.a.b == "2"', 'nested.a == null', 'nested.a != null', 'exists(nested)', 'exists(score)', 'score == null',
  'nested', 'exists(nested.a)',
  'score in (1, 5, "5")', 'score not in (1, 5)', 'score in (null, 5)', 'status in (200, 404)', 'status not in (200, null)',
  'status >= 500 or not (path == "/a")', 'path', 'not path', 'user == "bob" and status != 200', 'user != "bob"',
  'status + 1 > 300', 'score * 2 >= 10', 'score / 2 > 1', 'score / 0 == null', '-score < -2', 'status - score > 400',
  'status == 200 * 2 + 104', 'status =~ "^5"', 'path =~ "^/api"', 'path !~ "^/api"', 'timestamp >= 1700000100000',
  'seq % 1 == 0 or true', 'true', 'false', 'null', '1 == 1 and status == 500',
];
/** Regexes PostgreSQL cannot run as JavaScript would: SQLite only. */
const SQLITE_ONLY = ['name =~ "(?i)^x"', 'status =~ "^(5|4)0[0-4]$"', 'score =~ "\\\\."'];

function check(engineName: 'sqlite' | 'postgres', open: (ctx: Mocha.Context) => Promise<{ engine: StoreEngine; stop: () => Promise<void> }>) {
  describe(`conditions translated to SQL equal the language (${engineName})`, function () {
    this.timeout(60_000);
    const stored = events(600);
    const mapper = new RowMapper({ agent: 'a', positionField: 'position', kafkaField: 'kafka', exclude: [] });
    const rows = stored.map((e) => mapper.event(e));
    const idOf = new Map(rows.map((r, i) => [stored[i], r.values[0] as string]));
    let engine: StoreEngine;
    let stop: () => Promise<void>;
    before(async function () {
      ({ engine, stop } = await open(this));
      await engine.open();
      assert.deepEqual(await engine.write([{ table: TABLES.events, rows }]), []);
    });
    after(async () => { await engine?.close(); await stop?.(); });

    const conditions = engineName === 'sqlite' ? [...CONDITIONS.filter((c) => !c.includes('%')), ...SQLITE_ONLY] : CONDITIONS.filter((c) => !c.includes('%'));
    for (const text of conditions) {
      it(text, async () => {
        const filter = FilterCompiler.compile(parseCondition(text), engine.dialect);
        const got = (await engine.query(`SELECT id FROM events WHERE ${filter.sql}`, engine.dialect === 'sqlite' ? sqliteParams(filter.params) : filter.params))
          .map((r) => r.id as string).sort();
        const condition = compileCondition(text);
        const want = stored.filter((e) => condition(e)).map((e) => idOf.get(e)!).sort();
        assert.deepEqual(got, want);
      });
    }
    it('% and the functions SQL would compute otherwise are errors at their column', () => {
      for (const [text, column] of [['seq % 2 == 0', 5], ['status > 1 and lower(name) == "x"', 16], ['len(tags) > 1', 1]] as const) {
        assert.throws(() => FilterCompiler.compile(parseCondition(text), engine.dialect), (err: Error & { column?: number }) => err.column === column && /cannot be translated/.test(err.message), text);
      }
    });
  });
}

check('sqlite', async () => {
  const tmp = await tempDir('visor-query-sql-');
  return { engine: new SqliteEngine({ file: path.join(tmp.dir, 'v.db'), synchronous: 'normal', busyTimeout: 1000 }), stop: () => tmp.remove() };
});
check('postgres', async (ctx) => {
  if (postgresMissing()) ctx.skip();
  const { server, release } = await sharedPostgres();
  return { engine: new PostgresEngine({ url: await server.createDatabase('sql'), timeout: 10_000 }), stop: release };
});
