import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigText } from '../core/config/load.js';
import { formatDiagnostic } from '../core/config/model.js';
import {
  accumulate, compileAggregate, compileAggregateComparison, compileCondition, compileExpression, compileThreshold, ExpressionError,
  newAccState, validateExpression, type Accumulator, type AccState, type Event,
} from '../core/index.js';
import { testBench } from './support/pipeline-harness.js';

const EVENT: Event = {
  status: 503,
  bytes: 0,
  path: '/api/users/42',
  method: 'GET',
  level: 'error',
  user_agent: 'Mozilla/5.0 (compatible; Googlebot/2.1)',
  empty: '',
  nothing: null,
  yes: true,
  no: false,
  ratio: 0.07,
  code: '503',
  tags: ['edge', 'eu'],
  http: { request: { method: 'POST' }, version: '1.1' },
  'x-forwarded-for': '203.0.113.7',
  'odd.key': 'dotted',
};

const value = (text: string, event: Event = EVENT) => compileExpression(text)(event);
const holds = (text: string, event: Event = EVENT) => compileCondition(text)(event);

/** Each row: expression, expected value on EVENT. */
function table(rows: Array<[string, unknown]>): void {
  for (const [text, expected] of rows) {
    assert.deepEqual(value(text), expected, `${text} should be ${JSON.stringify(expected)}`);
  }
}

describe('expressions', () => {
  describe('literals and fields', () => {
    it('reads numbers, both string quotes with escapes, booleans and null', () => {
      table([
        ['42', 42], ['1.5', 1.5], ['.5', 0.5], ['2e3', 2000], ['-7', -7],
        ['"a\\"b"', 'a"b'], ["'it\\'s'", "it's"], ['"tab\\there"', 'tab\there'], ['"\\u00e9\\u{1F600}"', 'é😀'],
        ['"back\\\\slash"', 'back\\slash'],
        // Other backslashes are kept as written, so regexes need no doubling.
        ['"\\d+\\."', '\\d+\\.'],
        ['true', true], ['false', false], ['null', null],
      ]);
    });

    it('reads plain, nested, backtick-quoted and missing fields', () => {
      table([
        ['status', 503], ['http.request.method', 'POST'], ['http.version', '1.1'],
        ['`x-forwarded-for`', '203.0.113.7'], ['`odd.key`', 'dotted'], ['http.`request`.method', 'POST'],
        ['missing', null], ['http.missing.deeper', null], ['status.deeper', null], ['path.length', null],
      ]);
    });
  });

  describe('comparisons', () => {
    it('compares numbers with numbers and strings with strings', () => {
      table([
        ['status == 503', true], ['status != 503', false], ['status >= 500', true], ['status < 500', false],
        ['status <= 503', true], ['status > 503', false], ['ratio > 0.05', true],
        ['method == "GET"', true], ['method != "GET"', false], ['"abc" < "abd"', true], ['"b" > "abc"', true],
        ['yes == true', true], ['no == false', true], ['yes != no', true],
      ]);
    });

    it('never converts types: ordering across types is false, == is strict', () => {
      table([
        ['code == 503', false], ['code != 503', true], ['status == "503"', false],
        ['code > 500', false], ['code <= 600', false], ['status > "5"', false], ['yes > 0', false],
        ['tags == "edge"', false],
      ]);
    });

    it('a missing or null field fails every comparison, except == null and != null', () => {
      table([
        ['missing == 1', false], ['missing != 1', false], ['missing < 1', false], ['missing >= 1', false],
        ['nothing == "x"', false], ['nothing != "x"', false], ['missing == other_missing', false],
        ['missing == null', true], ['null == missing', true], ['nothing == null', true], ['status == null', false],
        ['missing != null', false], ['status != null', true], ['null != status', true], ['null == null', true],
        // The way to include events without the field:
        ['not (missing == 1)', true], ['missing == null or missing != 1', true],
      ]);
    });
  });

  describe('logic and precedence', () => {
    it('and/or/not and their symbols, with truthiness of values', () => {
      table([
        ['yes and no', false], ['yes or no', true], ['not no', true], ['yes && no', false], ['no || yes', true], ['!yes', false],
        // false, 0, "", null and missing are false; everything else is true.
        ['not bytes', true], ['not empty', true], ['not missing', true], ['not status', false], ['not tags', false],
        ['status and method', true], // results are booleans, not the last operand
      ]);
    });

    it('binds and tighter than or, comparisons tighter than not, * tighter than +', () => {
      table([
        ['yes or no and no', true], // yes or (no and no); (yes or no) and no would be false
        ['no and no or yes', true],
        ['yes or yes and no', true],
        ['(yes or no) and no', false],
        ['not status == 200', true], // not (status == 200)
        ['1 + 2 * 3', 7], ['(1 + 2) * 3', 9], ['10 - 4 - 3', 3], ['2 * -3', -6], ['-(2 + 3)', -5],
        ['status / 100 >= 5 and method == "GET"', true],
        ['1 + 1 == 2 and 2 * 2 == 4', true],
      ]);
    });

    it('short-circuits', () => {
      // Nothing observable can go wrong in a branch, so observe it through a field read that counts.
      let reads = 0;
      const event = new Proxy({ a: 1 }, { get: (t, k) => (k === 'b' && reads++, Reflect.get(t, k)) });
      assert.equal(holds('a == 1 or b == 1', event), true);
      assert.equal(holds('a == 2 and b == 1', event), false);
      assert.equal(reads, 0);
      assert.equal(holds('a == 2 or b == 1', event), false);
      assert.equal(reads, 1);
    });
  });

  describe('arithmetic', () => {
    it('computes on numbers and joins strings; anything else is null', () => {
      table([
        ['status + 1', 504], ['status - 3', 500], ['status * 2', 1006], ['status / 100', 5.03], ['status % 100', 3],
        ['"a" + "b"', 'ab'], ['method + "!"', 'GET!'], ['"n" + 1', null], ['status + missing', null], ['-method', null],
        ['yes + 1', null],
      ]);
    });

    it('division by zero, overflow and NaN give null, never Infinity or NaN', () => {
      table([['1 / 0', null], ['status / bytes', null], ['status % 0', null], ['0 / 0', null], ['1e308 * 10', null], ['1e308 + 1e308', null]]);
      assert.equal(holds('status / bytes > 0'), false);
      assert.equal(holds('status / bytes == null'), true);
    });
  });

  describe('in and not in', () => {
    it('tests membership with the same rules as == and !=', () => {
      table([
        ['level in ("error", "crit", "alert", "emerg")', true], ['level in ("warn")', false],
        ['level not in ("debug", "info")', true], ['level not in ("error", "crit")', false],
        ['status in (500, 502, 503)', true], ['status in ("503")', false], ['status not in ("503")', true],
        ['status in (500 + 3)', true], ['status in (-1, 503)', true],
        ['method in (http.request.method, "GET")', true], ['method in (http.request.method)', false],
        ['method not in (http.request.method)', true],
      ]);
    });

    it('a missing field is in no list and not "not in" any list, unless the list names null', () => {
      table([
        ['missing in (1, 2)', false], ['missing not in (1, 2)', false], ['missing in (null, 1)', true],
        ['nothing in (null)', true], ['status in (null)', false], ['status not in (null, 1)', true],
        ['not (missing in (1, 2))', true],
        ['status in (missing)', false], ['status not in (missing)', false], // as status != missing is false
      ]);
    });
  });

  describe('regex match', () => {
    it('=~ and !~ match strings, and numbers as written in decimal', () => {
      table([
        ['path =~ "^/api/users/\\d+$"', true], ['path !~ "^/api/"', false], ['path =~ "^/static/"', false],
        ['user_agent =~ "googlebot"', false], ['user_agent =~ "(?i)googlebot"', true],
        ['status =~ "^5"', true], ['status !~ "^5"', false], ['`x-forwarded-for` =~ "^203\\.0\\.113\\."', true],
        ["method =~ 'GET|HEAD'", true],
      ]);
    });

    it('is false for both =~ and !~ on a missing field, null, booleans and objects', () => {
      table([
        ['missing =~ ".*"', false], ['missing !~ "x"', false], ['nothing !~ "x"', false],
        ['yes =~ "true"', false], ['http !~ "x"', false], ['tags =~ "edge"', false],
      ]);
    });

    it('compiles the regex once, when the expression is compiled', () => {
      const original = RegExp;
      let constructed = 0;
      // A counting RegExp, visible to the compiler as the global one while this test runs.
      globalThis.RegExp = new Proxy(original, { construct: (t, args) => (constructed++, Reflect.construct(t, args)) });
      try {
        const isApi = compileCondition('path =~ "^/api/"');
        const before = constructed;
        for (let i = 0; i < 100; i++) isApi({ path: `/api/${i}` });
        assert.equal(constructed - before, 0);
        assert.equal(before, 1);
      } finally {
        globalThis.RegExp = original;
      }
    });
  });

  describe('functions', () => {
    it('string functions, len, exists, rounding and conversions', () => {
      table([
        ['contains(user_agent, "bot")', true], ['contains(path, "admin")', false], ['contains(tags, "eu")', true], ['contains(tags, "us")', false],
        ['contains(status, "5")', false], ['contains(missing, "x")', false],
        ['starts_with(path, "/api/")', true], ['starts_with(path, "/static")', false], ['ends_with(path, "/42")', true], ['ends_with(status, "3")', false],
        ['lower(method)', 'get'], ['upper("x-y")', 'X-Y'], ['lower(status)', null], ['lower(missing) == null', true],
        ['len(path)', 13], ['len(tags)', 2], ['len(empty)', 0], ['len(status)', null], ['len(http)', null],
        ['exists(status)', true], ['exists(nothing)', true], ['exists(missing)', false], ['exists(http.request.method)', true], ['exists(http.nope)', false],
        ['exists(`x-forwarded-for`)', true],
        ['floor(status / 100)', 5], ['floor(-0.5)', -1], ['ceil(1.2)', 2], ['round(2.5)', 3], ['abs(-3)', 3], ['floor("5")', null], ['floor(1 / 0)', null],
        ['number(code)', 503], ['number("1.5e2")', 150], ['number("x")', null], ['number("")', null], ['number(status)', 503], ['number(yes)', null],
        ['string(status)', '503'], ['string(yes)', 'true'], ['string(code)', '503'], ['string(http)', null],
        ['number(code) >= 500 and lower(level) in ("error", "crit")', true],
      ]);
    });

    it('if() picks a value by a condition; iso_time() writes epoch ms as ISO 8601 UTC', () => {
      table([
        ['if(status >= 500, "24h", "4h")', '24h'], ['if(status < 500, "24h", "4h")', '4h'], ['if(missing, 1, 2)', 2],
        ['if(empty, 1, 2)', 2], ['if(level == "error", if(status == 503, "a", "b"), "c")', 'a'], ['if(1, missing, 2)', null],
        ['iso_time(1733224505123)', '2024-12-03T11:15:05.123Z'], ['iso_time(0)', '1970-01-01T00:00:00.000Z'],
        ['iso_time(code)', null], ['iso_time(missing)', null], ['iso_time(9e15)', null], ['iso_time(1 / 0)', null],
      ]);
      assert.throws(() => compileExpression('if(status, 1)'), /wrong number of arguments for if\(\) at column 1; expected 3, got 2/);
    });
  });

  describe('compile errors', () => {
    const rows: Array<[string, string]> = [
      ['status >= ', 'unexpected end of expression at column 11; expected a value'],
      ['(status >= 500) and )', 'unexpected ")" at column 21; expected a value'],
      ['status >= 500)', 'unexpected ")" at column 14; expected an operator or the end of the expression'],
      ['status 500', 'unexpected "500" at column 8; expected an operator or the end of the expression'],
      ['(a == 1', 'unexpected end of expression at column 8; expected ")" to close the "(" at column 1'],
      ['a = 1', 'unexpected "=" at column 3; expected "==" to compare or "=~" to match a regex'],
      ['a < b < c', 'unexpected "<" at column 7; expected and/or between comparisons (they cannot be chained)'],
      ['a not b', 'unexpected "b" at column 7; expected "in" after "not"'],
      ['a in "x"', 'unexpected string "x" at column 6; expected "(" after "in", e.g. in ("GET", "HEAD")'],
      ['a in (1, 2', 'unexpected end of expression at column 11; expected "," or ")" to end the list'],
      ['a =~ b', 'unexpected "b" at column 6; expected a regex in quotes, e.g. "^/api/"'],
      ['a =~ "(unclosed"', 'invalid regex "(unclosed" at column 6: Unterminated group'],
      ['a == "open', 'unterminated string at column 6; expected a closing "'],
      ['`odd', 'unterminated name at column 1; expected a closing `'],
      ['a # b', 'unexpected character "#" at column 3; expected a value or an operator'],
      ['a.', 'unexpected end of expression at column 3; expected a field name after "."'],
      ['eval("1")', 'unknown function "eval" at column 1; expected one of: abs, ceil, contains, ends_with, exists, floor, if, iso_time, len, lower, number, round, starts_with, string, upper'],
      ['lower(a, b)', 'wrong number of arguments for lower() at column 1; expected 1, got 2'],
      ['exists("status")', 'exists() at column 8 takes one field name; expected e.g. exists(user_agent)'],
      ['"\\uZZ"', 'invalid escape at column 2; expected \\uXXXX or \\u{X...}'],
      ['', 'unexpected end of expression at column 1; expected a value'],
      ['and', 'unexpected "and" at column 1; expected a value'],
    ];
    for (const [text, message] of rows) {
      it(`${JSON.stringify(text)}: ${message}`, () => {
        assert.equal(validateExpression(text), message);
        assert.throws(() => compileCondition(text), (err: unknown) => err instanceof ExpressionError && err.message === message && message.includes(`at column ${err.column}`));
      });
    }

    it('refuses nesting deep enough to endanger the stack, but not long and/or chains', () => {
      assert.match(validateExpression('('.repeat(150) + '1' + ')'.repeat(150)) ?? '', /^expression nested too deeply at column 101; expected at most 100 levels$/);
      assert.match(validateExpression(Array(150).fill('1').join(' + ')) ?? '', /nested too deeply/);
      const many = Array.from({ length: 500 }, (_, i) => `status == ${i}`).join(' or ');
      assert.equal(holds(many), false);
      assert.equal(holds(`${many} or status == 503`), true);
    });

    it('validateExpression returns undefined for a valid expression', () => {
      assert.equal(validateExpression('status >= 500 and path != "/health"'), undefined);
    });
  });

  describe('safety: text never becomes code', () => {
    it('prototype and global names are just missing fields', () => {
      for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'process', 'globalThis', 'require', 'prototype', 'this']) {
        assert.equal(value(name, {}), null, name);
        assert.equal(holds(`${name} == null`, {}), true, name);
        assert.equal(holds(`exists(${name})`, {}), false, name);
        assert.equal(value(`${name}.constructor`, {}), null, name);
        assert.equal(value(`len(${name})`, {}), null, name);
        assert.equal(value(`${name} + ""`, {}), null, name);
      }
      assert.equal(value('path.constructor.name', { path: '/x' }), null);
      assert.equal(value('tags.length', { tags: [1, 2] }), null); // lists are values, not objects with fields
    });

    it('an own field of such a name is ordinary data', () => {
      const event = JSON.parse('{"__proto__": {"polluted": true}, "constructor": "c"}') as Event;
      assert.equal(value('__proto__.polluted', event), true);
      assert.equal(value('constructor', event), 'c');
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
    });

    it('calls nothing but the built-in functions', () => {
      for (const text of ['constructor("return process")()', 'process.exit(1)', 'toString()', 'status.toString()', '[1]', '{a: 1}', 'x => 1', 'a; b']) {
        assert.ok(validateExpression(text), `${text} should not compile`);
      }
    });

    it('the compiler contains no eval or Function constructor', async () => {
      const dir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../core/expr');
      for (const file of await readdir(dir)) {
        const source = await readFile(path.join(dir, file), 'utf8');
        assert.doesNotMatch(source, /\beval\s*\(|\bFunction\s*\(|import\s*\(/, file);
      }
    });
  });

  describe('evaluation never throws', () => {
    it('on events of any shape, conditions give booleans and values are never undefined, NaN or Infinity', () => {
      const odd: unknown[] = [undefined, null, 0, -0, NaN, Infinity, '', 'x', true, [], [null], {}, Object.create(null), { a: { b: null } }, 10n, Symbol('s'), () => 1, new Date(0)];
      const events: Event[] = [{}, ...odd.map((v) => ({ a: v, b: v, s: v, n: v })), ...odd.map((v) => ({ a: { b: v }, s: 'str', n: 2 }))];
      const texts = [
        'a == b', 'a != b', 'a < b', 'a >= 1', 'a in (1, "x", null)', 'a not in (1)', 'a =~ "x"', 'a !~ "x"', 'a.b == 1', 'exists(a.b)',
        'a + b', 'a - b', 'a * n', 'a / n', 'a % n', '-a', 'not a', 'a and b or n',
        ...['contains(a, b)', 'starts_with(a, s)', 'ends_with(s, a)', 'lower(a)', 'upper(a)', 'len(a)', 'floor(a)', 'ceil(a)', 'round(a)', 'abs(a)', 'number(a)', 'string(a)'],
      ];
      for (const text of texts) {
        const condition = compileCondition(text);
        const expression = compileExpression(text);
        for (const event of events) {
          assert.equal(typeof condition(event), 'boolean', text);
          const v = expression(event);
          assert.notEqual(v, undefined, text);
          if (typeof v === 'number') assert.ok(Number.isFinite(v), `${text} gave ${v}`);
        }
      }
    });
  });

  it('speed: a compiled condition costs a few nanoseconds per event (printed, not asserted)', () => {
    const condition = compileCondition('status >= 500 and path != "/health" and method in ("GET", "POST")');
    const events = Array.from({ length: 1000 }, (_, i) => ({
      client_ip: '10.0.0.1', ident: null, user: null, timestamp: i, method: i % 2 ? 'GET' : 'HEAD', path: i % 5 ? '/x' : '/health',
      protocol: 'HTTP/1.1', status: 200 + (i % 400), bytes: i, user_agent: 'curl',
    }));
    let kept = 0;
    const warmup = 500; // let the JIT optimise the closures first
    for (let r = 0; r < warmup; r++) for (const e of events) if (condition(e)) kept++;
    const rounds = 2000;
    const started = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) for (const e of events) if (condition(e)) kept++;
    const ns = Number(process.hrtime.bigint() - started) / (rounds * events.length);
    console.log(`      ${ns.toFixed(1)} ns per evaluation (10 fields, 3 clauses)`);
    assert.equal(kept, (rounds + warmup) * events.filter((e) => e.status >= 500 && e.path !== '/health' && e.method === 'GET').length);
  });

  describe('aggregate expressions (the same lexer and parser, over aggregate calls)', () => {
    const EVENTS: Event[] = [{ status: 500, bytes: 10 }, { status: 200, bytes: 4 }, { status: 503, bytes: 'x' }, { status: 200 }];
    /** The states of `accumulators` after the EVENTS. */
    const statesOf = (accumulators: Map<string, Accumulator>) => {
      const states = new Map<string, AccState>();
      for (const acc of accumulators.values()) {
        const state = newAccState();
        for (const e of EVENTS) accumulate(acc, state, e);
        states.set(acc.key, state);
      }
      return states;
    };
    const aggregate = (text: string, seconds = 2) => {
      const accumulators = new Map<string, Accumulator>();
      const evaluate = compileAggregate(text, accumulators);
      return evaluate(statesOf(accumulators), seconds);
    };

    it('computes arithmetic over count, sum, avg, min, max and rate; null for no value', () => {
      const cases: Array<[string, number | null]> = [
        ['count()', 4], ['count(status >= 500) / count()', 0.5], ['sum(bytes)', 14], ['avg(bytes)', 7], ['min(bytes) - max(bytes)', -6],
        ['rate()', 2], ['-count() * 2', -8], ['(count() + 1) % 3', 2], ['.5 * count()', 2], ['2e1 - count()', 16],
        ['count() / 0', null], ['avg(missing)', null], ['count(status == 404) / count(status == 404)', null],
      ];
      for (const [text, expected] of cases) assert.equal(aggregate(text), expected, text);
      assert.equal(aggregate('rate()', 0), null);
    });

    it('calls on the same argument share one accumulator, named by the argument text', () => {
      const accumulators = new Map<string, Accumulator>();
      compileAggregate('count(status >= 500) / count()', accumulators);
      compileAggregate('count() + sum( bytes ) + avg(bytes) + rate()', accumulators);
      assert.deepEqual([...accumulators.keys()], ['count(status >= 500)', 'count()', 'value(bytes)']);
    });

    it('errors name the aggregate expression and the column in it (in a comparison, of its side)', () => {
      for (const [text, message] of [
        ['bytes * 2', 'unknown aggregate "bytes" (expected one of count, sum, avg, min, max, rate; fields are only read inside a call, e.g. sum(bytes)) at column 1 of "bytes * 2"'],
        ['avg(bytes', 'unclosed "(" of avg at column 10 of "avg(bytes"'],
        ['rate(x)', 'rate() takes no argument at column 8 of "rate(x)"'],
        ['count(status >=)', 'in count(status >=): unexpected end of expression at column 10; expected a value at column 17 of "count(status >=)"'],
        ['count() count()', 'unexpected "c" at column 9 of "count() count()"'],
        ['   ', 'expected an aggregate expression such as count()'],
      ]) {
        assert.throws(() => compileAggregate(text, new Map()), (err: unknown) => err instanceof ExpressionError && err.message === message, text);
      }
      assert.throws(() => compileAggregateComparison('count() > sum()', new Map()), { message: 'sum() needs a field or expression, e.g. sum(bytes) at column 6 of "sum()"' });
      assert.throws(() => compileAggregateComparison('count() > 1 > 2', new Map()), /expected one comparison of aggregate expressions/);
    });

    it('an aggregate comparison compares its two sides', () => {
      const accumulators = new Map<string, Accumulator>();
      const { left, right, compare } = compileAggregateComparison('count(status >= 500) / count() >= .5', accumulators);
      const states = statesOf(accumulators);
      assert.deepEqual([left(states, 1), right(states, 1), compare(left(states, 1)!, right(states, 1)!)], [0.5, 0.5, true]);
    });
  });

  it('a threshold condition: whether it holds, whether an event has its fields, and the value it measures', () => {
    const threshold = compileThreshold('error_rate > 0.05 and exists(host)');
    assert.deepEqual([threshold.holds({ error_rate: 0.1, host: 'a' }), threshold.applies({ error_rate: 0.1 }), threshold.applies({ error_rate: 0, host: 'a' })], [true, false, true]);
    assert.equal(threshold.measure({ error_rate: 0.1 }), null, 'an and of comparisons measures nothing');
    assert.equal(compileThreshold('error_rate > 0.05').measure({ error_rate: 0.1 }), 0.1);
  });

  describe('in config files', () => {
    const load = async (yaml: string) => {
      const reg = await testBench().registry();
      return loadConfigText(yaml, 'pipeline.yaml', { env: {}, registryFor: async () => reg });
    };

    it('a bad condition is reported at its place in the file, with the column inside the expression', async () => {
      const result = await load(`inputs:
  src: { type: test_counter }
filters:
  errors: { type: where, inputs: [src], condition: 'status >= 500 and )' }
  fine: { type: where, inputs: [src], condition: 'status >= 500' }
  shaped:
    type: modify
    inputs: [src]
    set_expr:
      class: floor(status / 100
outputs:
  out: { type: test_record, inputs: [errors, fine, shaped] }
`);
      assert.equal(result.config, undefined);
      assert.deepEqual(result.diagnostics.map(formatDiagnostic), [
        'pipeline.yaml:4:52: invalid value "status >= 500 and )" for condition — unexpected ")" at column 19; expected a value',
        'pipeline.yaml:10:14: invalid value "floor(status / 100" for set_expr.class — unexpected end of expression at column 19; expected "," or ")" to end the arguments of floor()',
      ]);
    });

    it('a missing condition is reported, and a valid one loads', async () => {
      const missing = await load(`inputs: { src: { type: test_counter } }
filters: { w: { type: where, inputs: [src] } }
outputs: { out: { type: test_record, inputs: [w] } }
`);
      assert.deepEqual(missing.diagnostics.map(formatDiagnostic), ['pipeline.yaml:2:12: missing required option "condition" for where']);
      const valid = await load(`inputs: { src: { type: test_counter } }
filters: { w: { type: where, inputs: [src], condition: 'n > 1' } }
outputs: { out: { type: test_record, inputs: [w, w._rejected] } }
`);
      assert.deepEqual(valid.diagnostics, []);
      assert.equal(valid.config?.components.find((c) => c.id === 'w')?.options.condition, 'n > 1');
    });
  });
});
