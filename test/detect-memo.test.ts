// lib/detect/memo.ts's field caches change no result: every default-pack condition, and the alerts of a Detector,
// are the same with them as without, on real access logs (the Elastic example log, the hackers' access log of
// logparser, the CrowdSec hub's attack lines) and on them with every path, url and user agent made unique
// (where the caches miss, turn themselves off and come back).
import assert from 'node:assert/strict';
import { compileCondition, type Event } from '../core/index.js';
import { AllowList, DEFAULT_PACK, Detector, FieldMemos, compileRule, type Detection } from '../lib/detect/index.js';
import { describeEvent } from '../lib/alerts/index.js';
import { detectCorpusFiles } from './support/corpora.js';
import { accessLines, eventParser, uniqueValues } from './bench/detect-process.js';

const FILES = detectCorpusFiles();

function corpusLines(): string[] {
  const lines = FILES.flatMap((f) => accessLines(f));
  assert.ok(lines.length > 10_000, `only ${lines.length} access lines in the corpora`);
  return lines;
}

const summary = (d: Detection) => ({ rule: d.rule.name, client_ip: d.client_ip, vhost: d.vhost, count: d.count, first: d.first, last: d.last, samples: d.samples, distinct: d.distinct, quiet_matches: d.quiet_matches });

function detections(events: Event[], cached: boolean): ReturnType<typeof summary>[] {
  const memos = cached ? new FieldMemos() : undefined;
  const d = new Detector(DEFAULT_PACK.map((s) => compileRule(s, memos)), new AllowList([]), { maxClients: 100_000, samples: 3, digests: false, sampleOf: (e: Event) => describeEvent(e, 'evidence') });
  const out: Detection[] = [];
  for (const e of events) d.process(e, out);
  return out.map(summary);
}

describe('detect field caches (lib/detect/memo.ts)', () => {
  const lines = corpusLines();
  for (const [what, sample] of [['real access logs', lines], ['them with every path, url and user agent unique', uniqueValues(lines)]] as const) {
    it(`every default-pack condition gives what it gives uncached, on ${what}`, () => {
      const events = eventParser()(sample);
      const memos = new FieldMemos();
      const rules = DEFAULT_PACK.map((r) => ({ name: r.name, cached: memos.condition(r.when), plain: compileCondition(r.when) }));
      let matched = 0;
      for (const e of events) {
        for (const r of rules) {
          const want = r.plain(e);
          if (want) matched++;
          assert.equal(r.cached(e), want, `${r.name} on ${String(e.message)}`);
        }
      }
      assert.ok(matched > 0, 'no condition held on any event: the comparison would prove nothing');
    });

    it(`a Detector raises the same alerts with and without them, on ${what}`, () => {
      const parse = eventParser();
      const plain = detections(parse(sample), false);
      assert.ok(plain.length > 0, 'no alert: the comparison would prove nothing');
      assert.deepEqual(detections(parse(sample), true), plain);
    });
  }
});

describe('detect field caches: long values sharing a hash', () => {
  it('keep each value\'s own results when many share a hash (length and sampled characters alike)', () => {
    // 112-character agents differing only in their first 6 characters: lib/detect/memo.ts hashes long values by
    // their length and characters from the end at steps of 15 (111, 96, ... 6), so all of them share one hash,
    // more of them than it keeps per hash; two are scanners.
    const tail = 'x'.repeat(106);
    const names = ['sqlmap', 'mozill', 'safari', 'nikto/', 'chrome', 'edge/1', 'opera/', 'curl/8'];
    const memos = new FieldMemos();
    const when = DEFAULT_PACK.find((r) => r.name === 'scanner-user-agent')!.when;
    const cached = memos.condition(when);
    const plain = compileCondition(when);
    let fired = 0;
    for (let round = 0; round < 50; round++) {
      for (const n of names) {
        // a fresh string each time (sliced out of a line, as the parser gives it)
        const e = { user_agent: `"${n}${tail}"`.slice(1, -1) };
        assert.equal(e.user_agent.length, 112);
        assert.equal(cached(e), plain(e), e.user_agent.slice(0, 6));
        if (plain(e)) fired++;
      }
    }
    assert.equal(fired, 100);
  });
});
