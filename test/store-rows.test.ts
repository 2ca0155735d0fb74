// The rows the store makes of raw events must not change from one version to the next: an event's id is its primary
// key, so a replay across an upgrade (or `visor analyze --store` run before and after it) would otherwise add a
// second row for every line. Pinned here: the values of three events' rows (tail, Kafka and content identity), as the
// store made them before its mapping was reworked for speed, and their ids recomputed from the documented rule with
// createHash (a digest made another way than the store's one-shot crypto.hash).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import type { Event } from '../core/index.js';
import { RowMapper, TABLES } from '../lib/store/index.js';

const EVENTS: Event[] = [
  {
    message: '10.0.0.1 - bob [01/Jan/2026:12:00:00 +0000] "GET /a?x=1 HTTP/1.1" 200 512 "-" "curl/8"', position: { file: '9a8b7c6d5e4f3a2b', offset: 4096 },
    client_ip: '10.0.0.1', ident: null, user: 'bob', timestamp: 1767268800000, method: 'GET', url: '/a?x=1', path: '/a', query: 'x=1', protocol: 'HTTP/1.1',
    status: 200, bytes: 512, referer: null, user_agent: 'curl/8', vhost: 'example.org', duration_ms: 1.5, tags: ['x'],
  },
  { message: 'k line', timestamp: 1767268800123.75, status: '404', kafka: { topic: 'logs', partition: 3, offset: 77 } },
  { message: 'no position', timestamp: 'not a number', level: 'error', server_name: 'srv', nested: { a: 1 } },
];

/** What the store made of EVENTS before (main at a9437c4), column by column. */
const BEFORE = [
  ['9c786ed29abeb723011a4a7934dfa498', 1767268800000, 'web-1', 'tail:9a8b7c6d5e4f3a2b:4096', 'example.org', '10.0.0.1', 'bob', 'GET', '/a', 'x=1',
    'HTTP/1.1', 200, 512, null, 'curl/8', 1500, null, null,
    '{"message":"10.0.0.1 - bob [01/Jan/2026:12:00:00 +0000] \\"GET /a?x=1 HTTP/1.1\\" 200 512 \\"-\\" \\"curl/8\\"","url":"/a?x=1","tags":["x"]}'],
  ['b6dcd7f5ed98c9dec70715eeb456923a', 1767268800123, 'web-1', 'kafka:logs/3@77', null, null, null, null, null, null, null, '404', null, null, null, null,
    null, null, '{"message":"k line","kafka":{"topic":"logs","partition":3,"offset":77}}'],
  ['ae8d9f00dda257a9fd6bba80da027958', 0, 'web-1', 'content', 'srv', null, null, null, null, null, null, null, null, null, null, null, 'error', null,
    '{"message":"no position","timestamp":"not a number","nested":{"a":1}}'],
];

const sha = (...parts: string[]) => createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);

describe('store rows of raw events (ids and values stay what earlier versions stored)', () => {
  const mapper = new RowMapper({ agent: 'web-1', positionField: 'position', kafkaField: 'kafka', exclude: ['ident'] });

  it('each event\'s row equals the one stored before, column by column, with its key (id, time)', () => {
    const rows = EVENTS.map((e) => mapper.event(e));
    assert.deepEqual(rows.map((r) => r.values), BEFORE);
    assert.equal(BEFORE[0].length, TABLES.events.columns.length);
    assert.deepEqual(rows.map((r) => r.key), BEFORE.map((v) => `${v[0]} ${v[1]}`));
    assert.ok(rows.every((r, i) => r.table === TABLES.events && r.event === EVENTS[i]));
  });

  it('ids are the documented digests: sha256 of agent, origin and line (tail), of the origin (Kafka), of agent, time and content', () => {
    const [tail, kafka, content] = EVENTS.map((e) => mapper.event(e).values[0]);
    assert.equal(tail, sha('web-1', 'tail:9a8b7c6d5e4f3a2b:4096', EVENTS[0].message as string));
    assert.equal(kafka, sha('kafka:logs/3@77'));
    assert.equal(content, sha('web-1', '0', JSON.stringify(EVENTS[2])));
  });
});
