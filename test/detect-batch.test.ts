// Detector.processBatch takes the samples of evidence at the batch's end (from the events of fills that did not
// leak empty before it), not when each event is poured: the alerts and digests, with their samples in order, must
// be those of process() event by event, whatever the batch size (1: every sample taken at once; 7: nearly every
// fill of several events spans batches; 1,000: as the aggregate gets them from tail).
import assert from 'node:assert/strict';
import type { Event } from '../core/index.js';
import { AllowList, DEFAULT_PACK, Detector, FieldMemos, compileRule, type DetectorResult } from '../lib/detect/index.js';
import { describeEvent } from '../lib/alerts/index.js';
import { detectCorpusFiles } from './support/corpora.js';
import { accessLines, eventParser } from './bench/detect-process.js';

const FILES = detectCorpusFiles();

function detector(samplesTaken: { n: number }): Detector {
  return new Detector(DEFAULT_PACK.map((s) => compileRule(s, new FieldMemos())), new AllowList([]), {
    maxClients: 100_000, samples: 3, digests: true,
    sampleOf: (e: Event) => {
      samplesTaken.n++;
      return describeEvent(e, 'evidence');
    },
  });
}

const summary = (r: DetectorResult) => ({ ...r, rule: r.rule.name });

describe('Detector.processBatch (samples taken at the end of a batch)', () => {
  const lines = FILES.flatMap((f) => accessLines(f));
  const parse = eventParser();
  const eachTaken = { n: 0 };
  const each = detector(eachTaken);
  const want: DetectorResult[] = [];
  for (const e of parse(lines)) each.process(e, want);
  each.flush(want);

  it('has something to compare: firings with three samples and digests', () => {
    assert.ok(want.some((r) => r.state === 'firing' && r.samples.length === 3), 'no firing with 3 samples');
    assert.ok(want.some((r) => r.state === 'digest' && r.samples.length > 0), 'no digest with samples');
  });

  for (const size of [1, 7, 1000]) {
    it(`gives the alerts and digests of process(), samples included, in batches of ${size}`, () => {
      const taken = { n: 0 };
      const d = detector(taken);
      const got: DetectorResult[] = [];
      const events = parse(lines);
      for (let b = 0; b < events.length; b += size) d.processBatch(events.slice(b, b + size), got);
      d.flush(got);
      assert.deepEqual(got.map(summary), want.map(summary));
      // Batches of one take every sample process() takes; larger ones skip those of fills that leaked empty.
      if (size === 1) assert.equal(taken.n, eachTaken.n);
      else assert.ok(taken.n < eachTaken.n, `${taken.n} samples taken, ${eachTaken.n} event by event`);
    });
  }

  it('skips heartbeats as the aggregate did', () => {
    const d = detector({ n: 0 });
    const got: DetectorResult[] = [];
    d.processBatch([{ heartbeat: true, timestamp: 1, client_ip: '192.0.2.1', path: '/x', url: '/x' }], got);
    assert.equal(d.clientCount, 0);
    assert.deepEqual(got, []);
  });
});
