// lib/detect/shape.ts's rules specialised to the fields an event lacks match what the rules as written match: the
// default pack on real access logs and on error events, and conditions built to catch a wrong substitution
// (exists(), `== null`, `not`, `!=`, `in`, nested fields, a field present with the value null), beyond the cap on
// shapes too.
import assert from 'node:assert/strict';
import { compileCondition, parseCondition, type Event } from '../core/index.js';
import { AllowList, DEFAULT_PACK, Detector, FieldMemos, compileRule, type RuleSpec } from '../lib/detect/index.js';
import { withoutFields } from '../lib/detect/shape.js';
import { detectCorpusFiles } from './support/corpora.js';
import { accessLines, eventParser } from './bench/detect-process.js';

/** What `specs` match of `events` through a Detector (its shapes), and what each condition as written gives. */
function compare(specs: readonly RuleSpec[], events: readonly Event[], memos?: FieldMemos): number {
  const d = new Detector(specs.map((s) => compileRule(s, memos)), new AllowList([]), { maxClients: 10, samples: 0, digests: false, sampleOf: () => '' });
  const plain = specs.map((s) => compileCondition(s.when));
  const into: number[] = [];
  let matched = 0;
  for (const e of events) {
    d.match(e, into);
    const want = plain.flatMap((c, i) => (c(e) ? [i] : []));
    assert.deepEqual(into, want, JSON.stringify(e));
    matched += want.length;
  }
  return matched;
}

const ERROR_EVENTS: Event[] = [
  { level: 'error', module: 'core', client_ip: '192.0.2.1', timestamp: 1, error_code: 'AH00126', message_text: 'Invalid URI in request GET /../../etc/passwd HTTP/1.1' },
  { level: 'error', module: 'auth_basic', client_ip: '192.0.2.2', timestamp: 2, error_code: 'AH01618', message_text: 'user admin not found: /private' },
  { level: 'error', module: 'cgi', client_ip: '192.0.2.3', timestamp: 3, message_text: 'AH01215: error importing function definition for BASH_FUNC_x' },
  { level: 'error', module: 'core', timestamp: 4, error_code: 'AH00565', message_text: 'request failed: URI too long (longer than 8190)' },
  { level: 'notice', timestamp: 5, message_text: 'caught SIGTERM, shutting down' },
];

describe('detect rules per shape (lib/detect/shape.ts)', () => {
  it('the default pack matches through its shapes what its conditions as written match, on real access logs and error events', () => {
    const events = [...eventParser()(detectCorpusFiles().flatMap((f) => accessLines(f))), ...ERROR_EVENTS];
    const matched = compare(DEFAULT_PACK, events, new FieldMemos());
    assert.ok(matched > 1000, `only ${matched} matches: the comparison would prove little`);
    // with the fields that make other shapes: the bot filter's bot_category and verify_crawlers' crawler_verified
    const annotated = events.slice(0, 3000).map((e, i) => ({ ...e, bot_category: i % 3 === 0 ? 'scanner' : 'crawler', crawler_verified: [true, false, null][i % 3] }));
    assert.ok(compare(DEFAULT_PACK, annotated, new FieldMemos()) > matched / 100);
  });

  it('conditions on missing fields (exists, == null, not, !=, in, nested, null present) give what they give as written', () => {
    const specs: RuleSpec[] = [
      { name: 'exists', when: 'exists(referer)' },
      { name: 'not-exists', when: 'not exists(referer)' },
      { name: 'null', when: 'referer == null' },
      { name: 'not-null', when: 'referer != null and status == 200' },
      { name: 'ne', when: 'referer != "-"' },
      { name: 'not-match', when: 'not (referer =~ "^https")' },
      { name: 'negated-match', when: 'referer !~ "^https" or status == 404' },
      { name: 'not-in', when: 'referer not in ("-", "x")' },
      { name: 'in-null', when: 'referer in ("-", null)' },
      { name: 'nested', when: 'geo.country == "FR" or not exists(geo.city)' },
      { name: 'arith', when: 'bytes + 1 == null' },
      { name: 'func', when: 'len(referer) == null and contains(path, "a")' },
      // and / or whose operands become constant: dropped, deciding, or the one left (tested, or a value compared)
      { name: 'or-dropped', when: 'referer =~ "^h" or status == 200' },
      { name: 'or-decides', when: '(referer == null or status == 404) and path == "/a"' },
      { name: 'and-decides', when: 'not (referer != null and status == 200)' },
      { name: 'one-left-compared', when: '(referer or status) == true' },
      { name: 'all-dropped', when: '(referer =~ "x" or geo.city == "Paris") or status == 404' },
    ];
    const events: Event[] = [];
    for (const referer of [undefined, null, '-', 'x', 'https://a/', 'http://b/']) {
      for (const geo of [undefined, null, {}, { country: 'FR' }, { city: 'Paris', country: 'DE' }]) {
        for (const status of [200, 404, undefined]) {
          const e: Event = { path: '/a', bytes: 1 };
          if (referer !== undefined) e.referer = referer;
          if (geo !== undefined) e.geo = geo;
          if (status !== undefined) e.status = status;
          events.push(e);
        }
      }
    }
    assert.ok(compare(specs, events) > 100);
    assert.ok(compare(specs, events, new FieldMemos()) > 100);
  });

  it('beyond the cap on shapes, events are matched by the rules as written', () => {
    const fields = Array.from({ length: 12 }, (_v, i) => `f${i}`);
    const specs: RuleSpec[] = fields.map((f, i) => ({ name: f, when: `${f} == ${i} or not exists(${fields[(i + 1) % fields.length]})` }));
    // 2^12 shapes, four times each, far more than are planned
    const events: Event[] = [];
    for (let round = 0; round < 4; round++) {
      for (let shape = 0; shape < 4096; shape++) {
        const e: Event = {};
        fields.forEach((f, i) => { if (shape & (1 << i)) e[f] = (shape + round) % 3 === 0 ? i : -1; });
        events.push(e);
      }
    }
    assert.ok(compare(specs, events) > 10_000);
  });

  it('keeps the subtrees reading no missing field (so field caches find them again) and drops the operands made constant', () => {
    const tree = parseCondition('(url =~ "a" and url =~ "b") or message_text =~ "c" or status == 404');
    const without = withoutFields(tree, new Set(['message_text']));
    assert.ok(without.kind === 'logical' && tree.kind === 'logical');
    assert.deepEqual(without.operands, [tree.operands[0], tree.operands[2]]);
    // with one operand left the condition is that operand, the very node
    assert.equal(withoutFields(tree, new Set(['message_text', 'status'])), tree.operands[0]);
    assert.equal(withoutFields(tree, new Set(['referer'])), tree);
    // the or's falsy operand dropped, and with one left the condition is that operand
    const kept = withoutFields(parseCondition('message_text =~ "c" or status == 404'), new Set(['message_text']));
    assert.equal(kept.kind, 'compare');
    const decided = withoutFields(parseCondition('message_text == null or status == 404'), new Set(['message_text']));
    assert.ok(decided.kind === 'literal' && decided.value === true);
  });
});
