// createLinesEncoder writes a batch's JSON with one JSON.stringify of the whole array, cut between the events in its
// UTF-8 bytes: every batch must come out exactly as the UTF-8 of one JSON.stringify an event, including the batches the cut cannot serve
// (a `},{"` inside an event, events written as `{}`, values JSON writes by toJSON, keys it leaves out).
import assert from 'node:assert/strict';
import { createEncoder, createLinesEncoder, encodeLines, type EncodingOptions, type Event } from '../core/index.js';
import { combinedLines } from './bench/apache-lines.js';

const options = (o: Partial<EncodingOptions> = {}) => ({ format: 'json', ...o }) as EncodingOptions;

/** The same bytes as the UTF-8 of one encode() an event. */
function assertSameLines(events: Event[], o: EncodingOptions = options()): void {
  const expected = encodeLines(events, createEncoder(o));
  const want = Buffer.from(expected); // what the file output wrote of that text (a lone surrogate of format text as U+FFFD)
  const got = Buffer.from(createLinesEncoder(o)(events));
  const at = [...want].findIndex((byte, i) => got[i] !== byte);
  assert.ok(at < 0 && got.length === want.length, `differs at byte ${at} of ${want.length}: ${got.subarray(Math.max(0, at - 40), at + 40).toString()}`);
}

describe('createLinesEncoder: a batch as JSON lines', () => {
  it('writes what one JSON.stringify an event writes, for parsed-looking events with non-ASCII and escapes', () => {
    const events: Event[] = combinedLines(500, 3).map((line, i) => ({
      message: i % 7 ? line : `${line} "quoted" \\ back\tslash \u0001 ünï 日本 🚀 \ud800 lone`,
      file: '/var/log/a.log', status: 200 + (i % 5), bytes: i % 3 ? i : null, ok: i % 2 === 0, ratio: i / 7, neg: -0,
    }));
    assertSameLines(events);
    assertSameLines(events, options({ only_fields: ['status', 'message', 'missing'] }));
    assertSameLines(events, options({ except_fields: ['message'] }));
    assertSameLines([]);
    assertSameLines([{ one: 1 }]);
    assertSameLines(events, options({ format: 'text' }));
  });

  it('falls back where the cut would be wrong, and still writes what one call an event does', () => {
    const batches: Event[][] = [
      [{ a: 1 }, { list: [{ x: 1 }, { y: 2 }] }, { b: 2 }],                  // `},{"` between objects inside an event
      [{ a: 'ends with },{' }, { b: 2 }],                                    // a string ending in `},{` before its quote
      [{ a: 'x},{"y' }, { b: 2 }],                                           // in a string (the quote escaped)
      [{ a: 1 }, {}, { b: 2 }],                                              // an event written as {}
      [{ a: 1 }, {}, { list: [{ x: 1 }, { y: 2 }] }],                        // ... with as many `},{"` as cuts needed
      [{ a: 1 }, { toJSON: (k: string) => ({ key: k }) }, { b: 2 }],         // toJSON of the event, called with its key
      [{ a: 1 }, { gone: undefined, fn: () => 1 }, { b: 2 }],                // keys JSON leaves out only
      [{ a: 1 }, { gone: undefined, b: 2 }, { c: 3 }],                       // a first key it leaves out
      [{ a: 1 }, { toJSON: () => 'other' }, { b: 2 }],                       // toJSON of the event itself
      [{ when: new Date(0) }, { nested: { toJSON: (k: string) => `key ${k}` } }], // toJSON of values (called with their key)
      [{ a: 1 }, Object.create({ inherited: 1 }) as Event, { b: 2 }],        // only an inherited key
      [{ '}': '{', ',{"': ',' }, { '': '' }],                                // the sequence's characters in keys
    ];
    for (const events of batches) assertSameLines(events);
  });

  it('throws as one call an event does for a value JSON cannot write', () => {
    assert.throws(() => createLinesEncoder(options())([{ a: 1 }, { big: 10n }]), /BigInt/);
    assert.throws(() => encodeLines([{ a: 1 }, { big: 10n }], createEncoder(options())), /BigInt/);
  });
});
