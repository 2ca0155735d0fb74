import assert from 'node:assert/strict';
import { LineSplitter, cutToBytes, type LongLinePolicy } from '../core/lines.js';

function split(chunks: Array<string | Buffer>, maxLineBytes = 64, longLines: LongLinePolicy = 'truncate') {
  const long: LongLinePolicy[] = [];
  const s = new LineSplitter({ maxLineBytes, longLines, onLongLine: (p) => long.push(p) });
  const out: string[] = [];
  for (const c of chunks) s.push(typeof c === 'string' ? Buffer.from(c) : c, out);
  s.end(out);
  return { out, long };
}

describe('LineSplitter', () => {
  it('splits across chunks, strips CRLF, keeps empty lines and a final line without newline', () => {
    assert.deepEqual(split(['a\r\nb', 'c\n\n', 'last']).out, ['a', 'bc', '', 'last']);
  });

  it('never splits a multi-byte character across chunks', () => {
    const bytes = Buffer.from('wörld €\n');
    const chunks = [...bytes].map((b) => Buffer.from([b]));
    assert.deepEqual(split(chunks).out, ['wörld €']);
  });

  it('truncates an over-long line at a character boundary and counts it', () => {
    const { out, long } = split(['x'.repeat(10) + '€'.repeat(10) + '\nok\n'], 15);
    assert.deepEqual(out, ['x'.repeat(10) + '€', 'ok']);
    assert.deepEqual(long, ['truncate']);
  });

  it('skips an over-long line that arrives in many chunks, and counts it once', () => {
    const { out, long } = split(['short\n', 'y'.repeat(40), 'y'.repeat(40), 'y\nnext\n'], 32, 'skip');
    assert.deepEqual(out, ['short', 'next']);
    assert.deepEqual(long, ['skip']);
  });

  it('cutToBytes keeps whole characters', () => {
    assert.equal(cutToBytes('a€b', 3), 'a');
    assert.equal(cutToBytes('a€b', 4), 'a€');
  });
});
