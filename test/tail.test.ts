// The tail input over real files: real appends, renames, truncations, deletes, inode reuse, real processes
// killed with SIGKILL. Waits are on output arriving (waitUntil polls every 10 ms); sleeps only pace writers
// or bound a "nothing more arrives" window.
import assert from 'node:assert/strict';
import {
  appendFileSync, closeSync, ftruncateSync, openSync, renameSync, statSync, symlinkSync, unlinkSync, writeFileSync, writeSync,
} from 'node:fs';
import { chmod, copyFile, mkdir, open, rename, truncate, unlink, writeFile } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PermanentError, type Event } from '../core/index.js';
import { isRotatedName, liveName } from '../plugins/inputs/tail/rotated-names.js';
import { CLI, CliProcess } from './support/helpers.js';
import {
  append, checkpointOf, countsOf, numbered, numberedLines, numberOf, openFds, percentile, readCheckpoints, removeTailDirs, sleep, startTail,
  tailDirs, waitAtMost, waitUntil, type TailDirs, type TailRun,
} from './support/tail-harness.js';

/** A small deterministic PRNG, so random write sizes are the same on every run. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const bytes = (s: string) => Buffer.byteLength(s);

describe('tail', function () {
  this.timeout(30000);
  let tmp: TailDirs['tmp'];
  let logDir: string;
  let dataDir: string;
  beforeEach(async () => ({ tmp, logDir, dataDir } = await tailDirs('visor-tail-')));
  afterEach(() => removeTailDirs(tmp));

  const waitLines = (r: TailRun, n: number, what = `${n} lines`, ms = 15000) =>
    waitUntil(() => r.out.written.length >= n, what, ms, () => `got ${r.out.written.length}: ...${JSON.stringify(r.messages().slice(-5))}\n${r.logs.slice(-10).join('')}`);

  /** logs/app.log holding `count` numbered lines (none: empty), tailed from the beginning (with `tail`'s options too) until
   * all of them arrived. */
  async function tailAppLog(count: number, prefix?: string, tail: Record<string, unknown> = {}): Promise<{ f: string; r: TailRun }> {
    const f = path.join(logDir, 'app.log');
    await writeFile(f, numbered(0, count, prefix));
    const r = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning', ...tail } });
    await waitLines(r, count);
    return { f, r };
  }

  describe('reading', () => {
    it('read_from: beginning reads what is there; read_from: end (the default) delivers only what is appended', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, 'old 1\nold 2\nold 3\n');
      const r1 = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning' } });
      await waitLines(r1, 3);
      assert.deepEqual(r1.out.written, [{ message: 'old 1', file: f }, { message: 'old 2', file: f }, { message: 'old 3', file: f }]);
      await r1.stop();

      // A fresh data dir: no checkpoint, so read_from applies. The tailer may not have positioned itself
      // yet when the first marker is appended: append markers until one arrives.
      const r2 = await startTail({ dataDir: path.join(tmp.dir, 'data2'), tail: { path: [f] } });
      let sent = 0;
      while (r2.out.written.length === 0) {
        assert.ok(sent < 50, 'no appended line arrived in 10 s');
        await append(f, `new ${sent++}\n`);
        await waitAtMost(() => r2.out.written.length > 0, 200);
      }
      await waitUntil(() => r2.messages().includes(`new ${sent - 1}`), 'the last marker');
      const got = r2.messages();
      assert.ok(!got.some((m) => m.startsWith('old')), `read_from end delivered old content: ${got}`);
      const first = numberOf(got[0]);
      assert.deepEqual(got, Array.from({ length: sent - first }, (_, i) => `new ${first + i}`));
    });

    it('read_from: end: a line appended as soon as the pipeline has started is delivered (positions are taken before the start completes)', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, 'old 1\nold 2\n');
      const r = await startTail({ dataDir, tail: { path: [f] } });
      appendFileSync(f, 'new 1\n');
      await waitUntil(() => r.messages().includes('new 1'), 'the line appended right after the start', 5000, () => r.logs.join(''));
      await sleep(200);
      assert.deepEqual(r.messages(), ['new 1']);
    });

    it('read_from: end when the file ends in a partial line: no fragment of that line is emitted as a line', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, 'old 1\nhalf');
      const r = await startTail({ dataDir, tail: { path: [f] } });
      await waitUntil(() => r.metric('visor_tail_files_watched') === 1 && r.metric('visor_tail_files_open') === 1, 'the file to be opened');
      await sleep(300);
      await append(f, ' line\nnext 1\n');
      await waitUntil(() => r.messages().includes('next 1'), 'the next line');
      const got = r.messages();
      assert.ok(got.every((m) => m === 'half line' || m === 'next 1'), `emitted ${JSON.stringify(got)}: " line" is not a line of the file`);
    });

    it('event shape: { message, file }; path_field renames or (\'\') drops the field; a file two globs match is read once', async () => {
      const f = path.join(logDir, 'a.log');
      await writeFile(f, 'one\ntwo\n');
      const r1 = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`, `${logDir}/a.*`], read_from: 'beginning', path_field: 'source' } });
      await waitLines(r1, 2);
      await append(f, 'three\n');
      await waitLines(r1, 3);
      assert.deepEqual(r1.out.written, [{ message: 'one', source: f }, { message: 'two', source: f }, { message: 'three', source: f }]);
      assert.equal(r1.metric('visor_tail_files_watched'), 1);
      await r1.stop();

      const r2 = await startTail({ dataDir: path.join(tmp.dir, 'data2'), tail: { path: f, read_from: 'beginning', path_field: '' } });
      await waitLines(r2, 3);
      assert.deepEqual(r2.out.written, [{ message: 'one' }, { message: 'two' }, { message: 'three' }]);
    });

    it('latency: 200 single-line appends 5 ms apart each reach the output quickly (p99 < 250 ms)', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, '');
      const r = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning' }, timeArrivals: true });
      await append(f, 'warm-up\n');
      await waitLines(r, 1);
      const sent: number[] = [];
      for (let i = 0; i < 200; i++) {
        sent.push(performance.now());
        await append(f, `lat ${i}\n`);
        await sleep(5);
      }
      await waitLines(r, 201);
      assert.deepEqual(r.messages().slice(1), Array.from({ length: 200 }, (_, i) => `lat ${i}`));
      const lat = sent.map((t, i) => r.arrivals[i + 1] - t).sort((a, b) => a - b);
      const p50 = percentile(lat, 50);
      const p99 = percentile(lat, 99);
      console.log(`      append -> output latency over 200 lines: p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${lat[lat.length - 1].toFixed(1)} ms`);
      assert.ok(p99 < 250, `p99 latency ${p99.toFixed(1)} ms`);
    });

    it('a burst of 100k lines in one write, then 20k lines in ~2.6k small writes cut mid-line: nothing lost, order kept', async () => {
      const { f, r } = await tailAppLog(0);
      await append(f, numbered(0, 100_000));
      const rest = numbered(100_000, 20_000);
      const rand = prng(42);
      let writes = 0;
      for (let at = 0; at < rest.length; writes++) {
        const n = 1 + Math.floor(rand() * 200);
        await append(f, rest.slice(at, at + n));
        at += n;
      }
      await waitLines(r, 120_000, '120k lines', 30000);
      const got = r.messages();
      assert.equal(got.length, 120_000);
      for (let i = 0; i < got.length; i++) {
        if (got[i] !== `line ${String(i).padStart(7, '0')}`) assert.fail(`line ${i} is ${JSON.stringify(got[i])}`);
      }
      assert.ok(writes > 1000);
      const size = statSync(f).size;
      assert.equal(r.metric('visor_tail_lines_read_total'), 120_000);
      assert.equal(r.metric('visor_tail_files_opened_total'), 1);
      assert.equal(r.snapshot().received_bytes, size);
      await waitUntil(() => r.metric('visor_tail_lag_bytes') === 0, 'lag to drop to 0', 5000, () => `lag ${r.metric('visor_tail_lag_bytes')}`);
    });

    it('batch_size bounds every batch sent downstream', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, numbered(0, 100));
      const r = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning', batch_size: 7 } });
      const sizes: number[] = [];
      const push = r.out.written.push.bind(r.out.written);
      r.out.written.push = (...items) => { sizes.push(items.length); return push(...items); };
      await waitLines(r, 100);
      assert.ok(sizes.every((s) => s >= 1 && s <= 7), `batch sizes ${sizes}`);
      assert.deepEqual(r.messages().map(numberOf), [...Array(100).keys()]);
    });

    it('a partial last line waits for its newline', async () => {
      const { f, r } = await tailAppLog(0);
      await append(f, 'first\npar');
      await waitLines(r, 1);
      await sleep(500); // a quiet window of two poll intervals: the partial line must not come out
      assert.deepEqual(r.messages(), ['first']);
      await append(f, 'tial\n');
      await waitLines(r, 2);
      assert.deepEqual(r.messages(), ['first', 'partial']);
    });

    it('CRLF line ends are removed, also when \\r and \\n arrive in separate writes; a lone \\r inside a line is kept', async () => {
      const { f, r } = await tailAppLog(0);
      await append(f, 'a\r\nb\r\nc\rd\r\ne\r');
      await waitLines(r, 3);
      await sleep(300); // let the tailer see "e\r" alone before its \n comes
      await append(f, '\nf\n');
      await waitLines(r, 5);
      assert.deepEqual(r.messages(), ['a', 'b', 'c\rd', 'e', 'f']);
    });

    it('long lines: truncate cuts them at max_line_bytes (never inside a character), skip drops them; both counted', async () => {
      const f = path.join(logDir, 'app.log');
      const content = [
        'short', 'x'.repeat(500), 'y'.repeat(100), 'z'.repeat(101), 'é'.repeat(60), 'q'.repeat(300_000), 'end',
      ].join('\n') + '\n';
      await writeFile(f, content);
      const r1 = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning', max_line_bytes: 100, long_lines: 'truncate' } });
      await waitLines(r1, 7);
      assert.deepEqual(r1.messages(), ['short', 'x'.repeat(100), 'y'.repeat(100), 'z'.repeat(100), 'é'.repeat(50), 'q'.repeat(100), 'end']);
      assert.equal(r1.metric('visor_tail_long_lines_total'), 4);
      await r1.stop();

      const r2 = await startTail({ dataDir: path.join(tmp.dir, 'data2'), tail: { path: [f], read_from: 'beginning', max_line_bytes: 100, long_lines: 'skip' } });
      await waitUntil(() => r2.messages().includes('end'), 'the last line');
      assert.deepEqual(r2.messages(), ['short', 'y'.repeat(100), 'end']);
      assert.equal(r2.metric('visor_tail_long_lines_total'), 4);
      assert.equal(r2.snapshot().discarded_by_reason.line_too_long, 4);
    });

    it('invalid UTF-8 becomes U+FFFD and is counted per line; a character split across writes is not; latin1 decodes bytes', async () => {
      const { f, r } = await tailAppLog(0);
      await append(f, Buffer.concat([
        Buffer.from('ok 1\nbad'), Buffer.from([0xff]), Buffer.from(' 1\n'),
        Buffer.from([0xc3, 0x28, 0x0a]), // a lead byte followed by ASCII
        Buffer.from([0xed, 0xa0, 0x80, 0x0a]), // an encoded surrogate
        Buffer.from('ok 2\ncaf'), Buffer.from([0xc3]), // the first byte of é ...
      ]));
      await waitLines(r, 5);
      await sleep(300); // let the tailer see the first byte of é alone
      await append(f, Buffer.from([0xa9, 0x0a])); // ... and its second byte, in a later write
      await waitLines(r, 6);
      const got = r.messages();
      assert.equal(got[0], 'ok 1');
      assert.equal(got[1], 'bad\uFFFD 1');
      assert.equal(got[2], '\uFFFD(');
      assert.match(got[3], /^\uFFFD+$/);
      assert.equal(got[4], 'ok 2');
      assert.equal(got[5], 'café');
      assert.equal(r.metric('visor_tail_invalid_utf8_lines_total'), 3);
      assert.equal(r.h.pipeline.state, 'running');
      await r.stop();

      const g = path.join(logDir, 'latin.log');
      await writeFile(g, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a, 0xff, 0x0a]));
      const r2 = await startTail({ dataDir: path.join(tmp.dir, 'data2'), tail: { path: [g], read_from: 'beginning', encoding: 'latin1' } });
      await waitLines(r2, 2);
      assert.deepEqual(r2.messages(), ['café', 'ÿ']);
      assert.equal(r2.metric('visor_tail_invalid_utf8_lines_total'), 0);
    });

    it('a restart in the middle of an over-long line does not emit the rest of it as a line', async () => {
      const f = path.join(logDir, 'app.log');
      // A line longer than the read buffer (256 KiB), still being written (no newline yet).
      await writeFile(f, 'a\n' + 'x'.repeat(256 * 1024 + 50));
      const opts = { path: [f], read_from: 'beginning', max_line_bytes: 100, long_lines: 'skip', checkpoint_interval: '100ms' };
      const r1 = await startTail({ dataDir, tail: opts });
      await waitLines(r1, 1);
      await waitUntil(() => r1.metric('visor_tail_long_lines_total') >= 1, 'the long line to be noticed');
      await sleep(300); // the tailer consumes what it may of the long line
      await r1.stop();
      assert.deepEqual(r1.messages(), ['a']);
      await append(f, '\nb\n');
      const r2 = await startTail({ dataDir, tail: opts });
      await waitUntil(() => r2.messages().includes('b'), 'the line after the long one');
      assert.deepEqual(r2.messages(), ['b'], 'a fragment of the skipped line came out as a line');
    });

    it('fairness: a line appended to a small file arrives while a big file is still being read into a slow output', async function () {
      this.timeout(40000);
      const big = path.join(logDir, 'big.log');
      const small = path.join(logDir, 'small.log');
      await writeFile(big, numbered(0, 200_000));
      await writeFile(small, '');
      const r = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`], read_from: 'beginning' }, output: { delay_ms: 5 } });
      await waitLines(r, 5000);
      await append(small, 'hello\n');
      const t0 = Date.now();
      await waitUntil(() => r.messages().includes('hello'), 'the small file\'s line', 20000);
      const waited = Date.now() - t0;
      const bigDone = r.messages().filter((m) => m.startsWith('line')).length;
      console.log(`      the small file's line arrived after ${waited} ms, with ${bigDone} of 200,000 big-file lines delivered`);
      assert.ok(bigDone < 200_000, 'the small file waited for the whole big file');
      assert.ok(waited < 3000, `the small file's line waited ${waited} ms`);
    });
  });

  describe('rotation, truncation, deletion', () => {
    /** A writer holding the file open (as a daemon does) writes numbered lines; every `every` lines the file is
     * rotated by rename; the old descriptor writes a few more lines (they land in the rotated file, which must
     * still be drained), then a new file is created at the path. Returns the generation of every number. */
    async function rotatingWriter(f: string, opts: { rotations: number; perGeneration: number; rotatedName: (k: number) => string }): Promise<number[]> {
      const gen: number[] = [];
      let n = 0;
      let fh = await open(f, 'a');
      const write = async (handle: typeof fh, g: number, count: number) => {
        for (let i = 0; i < count; i++) gen[n + i] = g;
        await handle.write(numbered(n, count, 'seq '));
        n += count;
      };
      for (let g = 0; g <= opts.rotations; g++) {
        for (let w = 0; w < opts.perGeneration / 20; w++) {
          await write(fh, g, 20);
          if (w % 10 === 9) await sleep(2);
        }
        if (g === opts.rotations) break;
        await rename(f, opts.rotatedName(g + 1));
        const old = fh;
        await write(old, g, 30); // right after the rename, before the new file exists
        fh = await open(f, 'a');
        await write(fh, g + 1, 20);
        await sleep(50);
        await write(old, g, 30); // the old file still grows for a while (e.g. Apache before its graceful restart)
        await old.close();
      }
      await fh.close();
      return gen;
    }

    function assertRotationOutput(r: TailRun, gen: number[]): void {
      const got = r.messages().map(numberOf);
      const c = countsOf(got);
      const missing = gen.map((_, i) => i).filter((i) => !c.has(i));
      const dup = [...c].filter(([, k]) => k > 1).map(([v]) => v);
      assert.deepEqual({ missing: missing.slice(0, 20), missingCount: missing.length, dup: dup.slice(0, 20), dupCount: dup.length },
        { missing: [], missingCount: 0, dup: [], dupCount: 0 });
      // In order within each file.
      const lastByGen = new Map<number, number>();
      for (const v of got) {
        const g = gen[v];
        const last = lastByGen.get(g) ?? -1;
        assert.ok(v > last, `generation ${g}: ${v} arrived after ${last}`);
        lastByGen.set(g, v);
      }
    }

    it('rename + create while writing continuously (only the live name matched): every line exactly once, in order per file', async function () {
      this.timeout(40000);
      const { f, r } = await tailAppLog(0, undefined, { rotate_wait: '2s' });
      const gen = await rotatingWriter(f, { rotations: 4, perGeneration: 4000, rotatedName: (k) => `${f}.${k}` });
      await waitLines(r, gen.length, `${gen.length} lines`, 20000).catch((e) => { assertRotationOutput(r, gen); throw e; });
      await sleep(300); // nothing more (a duplicate) may arrive
      assertRotationOutput(r, gen);
      assert.ok(r.metric('visor_tail_files_rotated_total') >= 4, `rotated_total ${r.metric('visor_tail_files_rotated_total')}`);
      // Rotated files are closed once drained (rotate_wait after they stop growing).
      await waitUntil(() => r.metric('visor_tail_files_open') <= 1, 'rotated files to be closed', 10000, () => `open ${r.metric('visor_tail_files_open')}`);
    });

    it('rename + create when the glob also matches the rotated names: a rotated file is not read again as a new one', async function () {
      this.timeout(40000);
      const f = path.join(logDir, 'app.log');
      await writeFile(f, '');
      const r = await startTail({ dataDir, tail: { path: [`${f}*`], read_from: 'beginning', rotate_wait: '2s', glob_interval: '200ms' } });
      const gen = await rotatingWriter(f, { rotations: 3, perGeneration: 3000, rotatedName: (k) => `${f}.${k}` });
      await waitLines(r, gen.length, `${gen.length} lines`, 20000).catch((e) => { assertRotationOutput(r, gen); throw e; });
      await sleep(1000); // several glob passes: none may re-read a rotated file
      assertRotationOutput(r, gen);
    });

    it('copytruncate: lines before were delivered, every line written after the truncate is delivered, no duplicates', async () => {
      const { f, r } = await tailAppLog(1000, 'before ');
      const writer = await open(f, 'a'); // a daemon's O_APPEND descriptor: it keeps writing at the new end
      await copyFile(f, `${f}.1`);
      await truncate(f, 0);
      for (let i = 0; i < 300; i += 10) {
        await writer.write(numbered(i, 10, 'after '));
        await sleep(1);
      }
      await writer.close();
      await waitUntil(() => r.messages().includes('after 0000299'), 'the last line after the truncate', 15000,
        () => JSON.stringify(r.messages().slice(990, 1010)));
      await sleep(300);
      const got = r.messages();
      assert.deepEqual(got.slice(0, 1000), numberedLines(0, 1000, 'before '));
      assert.deepEqual(got.slice(1000), numberedLines(0, 300, 'after '));
      assert.ok(r.metric('visor_tail_files_truncated_total') >= 1);
    });

    it('truncate and regrow past the old offset before the tailer looks: detected by fingerprint, read from 0', async () => {
      const { f, r } = await tailAppLog(200, 'before ');
      // Synchronous calls: the tailer (in this process) cannot run between the truncate and the write.
      const fd = openSync(f, 'r+');
      ftruncateSync(fd, 0);
      writeSync(fd, numbered(0, 2000, 'after '), 0);
      closeSync(fd);
      await waitUntil(() => r.messages().includes('after 0001999'), 'the last new line', 15000,
        () => `got ${r.out.written.length}: ${JSON.stringify(r.messages().slice(200, 205))}`);
      await sleep(300);
      assert.deepEqual(r.messages().slice(200), numberedLines(0, 2000, 'after '));
      assert.ok(r.metric('visor_tail_files_truncated_total') >= 1);
    });

    it('plain truncation then shorter content: the new content is delivered, the old is not repeated', async () => {
      const { f, r } = await tailAppLog(100, 'old ');
      await truncate(f, 0);
      await append(f, 'short 1\nshort 2\n');
      await waitLines(r, 102);
      await sleep(300);
      assert.deepEqual(r.messages().slice(100), ['short 1', 'short 2']);
      assert.ok(r.metric('visor_tail_files_truncated_total') >= 1);
    });

    /** Creates files next to `f` until one gets inode `ino`, fills it with `content` and renames it to `f`.
     * ext4 hands out the lowest free inode of the directory's group, so the candidates are kept until the
     * freed one comes up, then removed. False when the file system did not hand the inode out again. */
    function recreateWithInode(f: string, ino: number, content: string): boolean {
      const candidates: string[] = [];
      try {
        for (let k = 0; k < 5000; k++) {
          const candidate = path.join(path.dirname(f), `.candidate-${k}`);
          writeFileSync(candidate, '');
          if (statSync(candidate).ino === ino) {
            writeFileSync(candidate, content);
            renameSync(candidate, f);
            return true;
          }
          candidates.push(candidate);
        }
        return false;
      } finally {
        for (const c of candidates) unlinkSync(c);
      }
    }

    it('truncated while the agent was stopped (shorter, or regrown past the checkpoint with other content): read from 0 after restart', async () => {
      const f = path.join(logDir, 'app.log');
      const g = path.join(logDir, 'other.log');
      await writeFile(f, numbered(0, 100, 'old '));
      await writeFile(g, numbered(0, 100, 'old '));
      const opts = { path: [f, g], read_from: 'beginning' };
      const r1 = await startTail({ dataDir, tail: opts });
      await waitLines(r1, 200);
      await r1.stop();
      await truncate(f, 0);
      await append(f, 'short 1\n'); // shorter than the checkpoint
      await truncate(g, 0);
      await append(g, numbered(0, 300, 'regrown ')); // longer than the checkpoint, other content
      const r2 = await startTail({ dataDir, tail: opts });
      await waitUntil(() => r2.messages().includes('short 1') && r2.messages().includes('regrown 0000299'), 'the new content of both files', 10000,
        () => JSON.stringify(r2.messages().slice(0, 5)));
      assert.deepEqual(r2.messages().filter((m) => m.startsWith('regrown')).map(numberOf), [...Array(300).keys()]);
      assert.deepEqual(r2.messages().filter((m) => !m.startsWith('regrown')), ['short 1']);
    });

    it('a rotated file with a backlog longer than rotate_wait (slow output) is still drained completely', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, numbered(0, 10_000));
      const r = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning', rotate_wait: '200ms', batch_size: 100 }, output: { delay_ms: 10, buffer: { max_events: 200 } } });
      await waitLines(r, 100);
      await rename(f, `${f}.1`);
      await writeFile(f, numbered(10_000, 10));
      await waitLines(r, 10_010, 'every line of both files', 20000);
      const got = r.messages().map(numberOf);
      assert.deepEqual([...got].sort((a, b) => a - b), [...Array(10_010).keys()]);
      assert.deepEqual(got.filter((n) => n < 10_000), [...Array(10_000).keys()]);
    });

    it('inode reuse while running: a new file with the old inode and longer, different content is read from 0', async function () {
      const { f, r } = await tailAppLog(50, 'first ', { rotate_wait: '200ms' });
      const { ino } = statSync(f);
      await unlink(f);
      // The inode is free only once the tailer has closed its descriptor.
      await waitUntil(() => r.metric('visor_tail_files_open') === 0, 'the deleted file to be closed', 10000);
      if (!recreateWithInode(f, ino, numbered(0, 400, 'second '))) {
        console.log('      skipped: the file system did not reuse the inode');
        this.skip();
      }
      assert.equal(statSync(f).ino, ino);
      await waitUntil(() => r.messages().includes('second 0000399'), 'the new file\'s last line', 15000,
        () => `got ${r.out.written.length}: ${JSON.stringify(r.messages().slice(50, 53))}`);
      await sleep(300);
      assert.deepEqual(r.messages().slice(50), numberedLines(0, 400, 'second '));
    });

    it('inode reuse across a restart: a stale checkpoint for the inode does not skip the new file\'s start', async function () {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, numbered(0, 50, 'first '));
      const r1 = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning', checkpoint_interval: '100ms' } });
      await waitLines(r1, 50);
      await r1.stop();
      assert.equal(await checkpointOf(dataDir, f), bytes(numbered(0, 50, 'first ')));
      const { ino } = statSync(f);
      unlinkSync(f);
      if (!recreateWithInode(f, ino, numbered(0, 400, 'second '))) {
        console.log('      skipped: the file system did not reuse the inode');
        this.skip();
      }
      const r2 = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning' } });
      await waitUntil(() => r2.messages().includes('second 0000399'), 'the new file\'s last line', 15000,
        () => `got ${r2.out.written.length}: ${JSON.stringify(r2.messages().slice(0, 3))}`);
      assert.deepEqual(r2.messages(), numberedLines(0, 400, 'second '));
    });

    it('deleted while open and still written: drained, then closed (files_open drops, no descriptor left on it)', async () => {
      const { f, r } = await tailAppLog(100, undefined, { rotate_wait: '500ms' });
      assert.equal(r.metric('visor_tail_files_open'), 1);
      const writer = await open(f, 'a');
      await unlink(f);
      await writer.write(numbered(100, 100));
      await sleep(100);
      await writer.write(numbered(200, 100));
      await writer.close();
      await waitLines(r, 300);
      assert.deepEqual(r.messages().map(numberOf), [...Array(300).keys()]);
      await waitUntil(() => r.metric('visor_tail_files_open') === 0, 'files_open to drop to 0', 10000);
      const stale = [...openFds().values()].filter((t) => t.startsWith(f));
      assert.deepEqual(stale, [], 'a descriptor still holds the deleted file');
      assert.equal(r.h.pipeline.state, 'running');
    });

    it('restart after a rotation while stopped: the rotated file resumes at its checkpoint (found by inode), the new one is read from 0', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, numbered(0, 100));
      const r1 = await startTail({ dataDir, tail: { path: [`${f}*`], read_from: 'beginning' } });
      await waitLines(r1, 100);
      await r1.stop();
      await append(f, numbered(100, 50)); // written before the rotation, while the agent was down
      await rename(f, `${f}.1`);
      await writeFile(f, numbered(150, 70));
      const r2 = await startTail({ dataDir, tail: { path: [`${f}*`], read_from: 'beginning' } });
      await waitLines(r2, 120);
      await sleep(500);
      const got = r2.messages().map(numberOf);
      assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: 120 }, (_, i) => 100 + i));
      assert.deepEqual(got.filter((n) => n < 150), Array.from({ length: 50 }, (_, i) => 100 + i));
    });

    it('restart after a rotation while stopped, with read_from: end: the new file at a checkpointed path is read from 0', async () => {
      // The agent was following app.log; while it was down the file was rotated and the new one got lines.
      // Those lines were written after the last checkpoint of this path: skipping them would lose them.
      const f = path.join(logDir, 'app.log');
      await writeFile(f, '');
      const r1 = await startTail({ dataDir, tail: { path: [f] } });
      await waitUntil(() => r1.metric('visor_tail_files_watched') === 1, 'the file to be watched');
      let k = 0;
      while (r1.out.written.length === 0) {
        assert.ok(k < 50);
        await append(f, `before ${k++}\n`);
        await waitAtMost(() => r1.out.written.length > 0, 200);
      }
      await waitUntil(() => r1.messages().includes(`before ${k - 1}`), 'the last line');
      await r1.stop();
      await rename(f, `${f}.1`);
      await writeFile(f, 'during downtime 1\nduring downtime 2\n');
      const r2 = await startTail({ dataDir, tail: { path: [f] } });
      await waitUntil(() => r2.metric('visor_tail_files_watched') === 1, 'the new file to be watched');
      await append(f, 'after restart\n');
      await waitUntil(() => r2.messages().includes('after restart'), 'the line appended after the restart');
      assert.deepEqual(r2.messages(), ['during downtime 1', 'during downtime 2', 'after restart']);
    });

    for (const readFrom of ['end', 'beginning'] as const) {
      for (const mode of ['rename + create', 'copytruncate'] as const) {
        it(`${mode} while stopped, only the live name matched, read_from ${readFrom}: the rotated content resumes at its checkpoint, then the new file from 0`, async () => {
          const f = path.join(logDir, 'app.log');
          await writeFile(f, numbered(0, 100, 'pre '));
          const tail = { path: [f], read_from: readFrom };
          const r1 = await startTail({ dataDir, tail });
          await waitUntil(() => r1.metric('visor_tail_files_watched') === 1, 'the file to be watched');
          await append(f, numbered(0, 500));
          await waitLines(r1, readFrom === 'beginning' ? 600 : 500);
          await r1.stop();
          await append(f, numbered(500, 400)); // after the last checkpoint, before the rotation
          if (mode === 'copytruncate') {
            await copyFile(f, `${f}.1`);
            await truncate(f, 0);
          } else {
            await rename(f, `${f}.1`);
          }
          await append(f, numbered(900, 300));
          const r2 = await startTail({ dataDir, tail });
          await waitLines(r2, 700);
          await sleep(300);
          const got = r2.messages().map(numberOf);
          assert.deepEqual([...got].sort((a, b) => a - b), Array.from({ length: 700 }, (_, i) => 500 + i));
          assert.deepEqual(got.filter((n) => n < 900), Array.from({ length: 400 }, (_, i) => 500 + i), 'the rotated file in order');
          assert.ok(r2.logs.some((l) => l.includes(mode === 'copytruncate' ? 'in a copy (copytruncate)' : 'under a new name')), r2.logs.join(''));
          assert.equal(r2.metric('visor_tail_lost_bytes_total'), 0);
        });
      }
    }

    // A server under load writes identical lines (ab's are the same within a second): the live file, truncated and
    // regrown, starts with the same bytes as its copy and holds them at the checkpoint too; regrown past the copy's
    // size (the server kept writing until the agent looked), size cannot tell the truncated original either. Only
    // the bytes after the checkpoint can: a copy of a file not truncated (logrotate's `copy`) holds them too.
    for (const truncated of [true, false]) {
      for (const before of [40, 0]) {
        const mode = truncated ? 'copytruncate' : 'copy without truncate';
        it(`${mode} while stopped, the live file then larger than the copy and starting with the same lines (${before} read before the stop): ${truncated ? 'the copy\'s unread lines are read from it, the live file from 0' : 'the copy is not read, the live file resumes at its checkpoint'}`, async () => {
          const f = path.join(logDir, 'app.log');
          const SAME = 'GET /index.html 200 same second';
          const same = (n: number) => `${SAME}\n`.repeat(n);
          await writeFile(f, same(before));
          const tail = { path: [f], read_from: 'beginning' };
          const r1 = await startTail({ dataDir, tail });
          await waitUntil(() => r1.metric('visor_tail_files_watched') === 1, 'the file to be watched');
          await waitLines(r1, before);
          await r1.stop();
          // While stopped: written on (1,280 bytes of identical lines in all, then other lines), copied, truncated
          // (copytruncate), written again: more than the copy holds.
          await append(f, same(40 - before) + numbered(0, 400, 'unread '));
          await copyFile(f, `${f}.1`);
          if (truncated) await truncate(f, 0);
          await append(f, (truncated ? same(60) : '') + numbered(0, 600, 'after '));
          assert.ok(statSync(f).size > statSync(`${f}.1`).size);
          const r2 = await startTail({ dataDir, tail });
          const want = [...Array.from({ length: 40 - before + (truncated ? 60 : 0) }, () => SAME), ...numberedLines(0, 400, 'unread '), ...numberedLines(0, 600, 'after ')].sort();
          /** How many lines of each kind (`GET`, `unread`, `after`): a short diff when lines are missing. */
          const kinds = (messages: string[]) => Object.fromEntries(countsOf(messages.map((m) => m.split(' ')[0])));
          await waitLines(r2, want.length, `${want.length} lines`, 10000).catch((e) => { assert.deepEqual(kinds(r2.messages()), kinds(want)); throw e; });
          await sleep(300); // a line read twice would arrive now
          assert.deepEqual(kinds(r2.messages()), kinds(want));
          assert.deepEqual(r2.messages().sort(), want);
          assert.equal(r2.metric('visor_tail_lost_bytes_total'), 0);
        });
      }
    }

    it('copytruncate while stopped, every line the same, the live file written past the copy\'s size as soon as the pipeline has started: the copy\'s unread lines are read from it', async () => {
      // As in CI under ab: only sizes can tell these generations apart, so they must be taken before the start
      // completes, not after writers have gone on.
      const f = path.join(logDir, 'app.log');
      const SAME = 'GET /index.html 200 same second';
      const same = (n: number) => `${SAME}\n`.repeat(n);
      await writeFile(f, same(20));
      const tail = { path: [f], read_from: 'beginning' };
      const r1 = await startTail({ dataDir, tail });
      await waitLines(r1, 20);
      await r1.stop();
      await append(f, same(1000));
      await copyFile(f, `${f}.1`);
      await truncate(f, 0);
      await append(f, same(500));
      const r2 = await startTail({ dataDir, tail });
      appendFileSync(f, same(1000));
      await waitLines(r2, 2500);
      await sleep(300); // a line read twice would arrive now
      assert.equal(r2.messages().length, 2500);
      assert.equal(r2.metric('visor_tail_lost_bytes_total'), 0);
    });

    it('copytruncate with the rotated names in the glob, the copy seen while still being written: not read again, nothing lost', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, numbered(0, 2000));
      const r = await startTail({ dataDir, tail: { path: [`${f}*`], read_from: 'beginning', glob_interval: '50ms' } });
      await waitLines(r, 2000);
      const writer = await open(f, 'a');
      await writer.write(numbered(2000, 500));
      // A copy made slowly, as logrotate's read/write loop is: the glob sees it half-written.
      const content = await import('node:fs/promises').then((fs) => fs.readFile(f));
      const copy = await open(`${f}.1`, 'w');
      await copy.write(content.subarray(0, 3000));
      await sleep(300); // several glob passes see the partial copy
      await copy.write(content.subarray(3000));
      await copy.close();
      await truncate(f, 0);
      await writer.write(numbered(2500, 500));
      await writer.close();
      await waitLines(r, 3000);
      await sleep(500);
      const got = r.messages().map(numberOf);
      const c = countsOf(got);
      assert.deepEqual([...c].filter(([, k]) => k > 1).slice(0, 5), [], 'no line twice');
      assert.equal(c.size, 3000);
      assert.equal(r.metric('visor_tail_lost_bytes_total'), 0);
    });

    it('a file that only shares its first lines with another (not a rotated name) is not taken for a copy: both are read', async () => {
      const a = path.join(logDir, 'a.log');
      const b = path.join(logDir, 'b.log');
      await writeFile(a, numbered(0, 50));
      const r = await startTail({ dataDir, tail: { path: [path.join(logDir, '*.log')], read_from: 'beginning' } });
      await waitLines(r, 50);
      await writeFile(b, numbered(0, 80));
      await waitLines(r, 130);
      await sleep(200);
      assert.equal(r.out.written.filter((e) => e.file === b).length, 80);
    });

    it('truncated with bytes not read yet and no copy: the loss is counted per file and logged with its byte range; the lag gauge grows while the output blocks', async function () {
      this.timeout(30000);
      const f = path.join(logDir, 'app.log');
      const lineBytes = bytes(numbered(0, 1));
      await writeFile(f, numbered(0, 5000));
      const r = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning', batch_size: 10 }, output: { delay_ms: 100, buffer: { max_events: 20 } } });
      await waitUntil(() => r.metric('visor_tail_lag_bytes') > 4000 * lineBytes, 'the lag gauge to report the unread bytes', 5000, () => `lag ${r.metric('visor_tail_lag_bytes')}`);
      await append(f, numbered(5000, 20000)); // while reading waits for the output
      await waitUntil(() => r.metric('visor_tail_lag_bytes') > 20000 * lineBytes, 'the lag to grow while the output blocks', 5000, () => `lag ${r.metric('visor_tail_lag_bytes')}`);
      await truncate(f, 0);
      await append(f, 'new 1\n');
      await waitUntil(() => r.messages().includes('new 1'), 'the new content', 20000);
      const old = r.out.written.filter((e) => String(e.message).startsWith('line ')).length;
      const lost = r.metric('visor_tail_lost_bytes_total');
      assert.equal(old * lineBytes + lost, 25000 * lineBytes, `delivered ${old} lines, lost ${lost} B`);
      assert.ok(lost > 0);
      const warning = r.logs.find((l) => l.includes('bytes of a followed file were lost'));
      assert.ok(warning && warning.includes(f) && warning.includes(`from=${old * lineBytes}`) && warning.includes(`to=${25000 * lineBytes}`), r.logs.join(''));
      assert.match(await r.h.metrics.exposition(), new RegExp(`visor_tail_lost_bytes_total\\{[^}]*file="${f.replace(/[/.]/g, '\\$&')}"\\} ${lost}`));
    });

    it('a checkpointed file with unread bytes gone while stopped (compressed away): the loss is counted and logged at start-up', async function () {
      const f = path.join(logDir, 'app.log');
      const lineBytes = bytes(numbered(0, 1));
      await writeFile(f, numbered(0, 3000));
      const r1 = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning', batch_size: 10 }, output: { delay_ms: 50, buffer: { max_events: 20 } } });
      await waitLines(r1, 100);
      await r1.stop();
      const delivered = r1.out.written.length;
      const cp = await checkpointOf(dataDir, f);
      assert.equal(cp, delivered * lineBytes);
      await rename(f, `${f}.1.gz`); // logrotate's compress: the content under a name that is not followed
      await writeFile(f, 'fresh\n');
      const r2 = await startTail({ dataDir, tail: { path: [f] } });
      await waitUntil(() => r2.messages().includes('fresh'), 'the new file');
      assert.equal(r2.metric('visor_tail_lost_bytes_total'), (3000 - delivered) * lineBytes);
      assert.ok(r2.logs.some((l) => l.includes('not found at start-up') && l.includes(f)), r2.logs.join(''));
    });

    /** logs/*.log tailed with max_open_files: 1: b.log (one line) first, then a.log (10 lines), until a.log, read,
     * is closed again for b.log. */
    async function aClosedForMaxOpenFiles(): Promise<{ a: string; r: TailRun }> {
      const a = path.join(logDir, 'a.log');
      await writeFile(path.join(logDir, 'b.log'), 'b 1\n');
      const r = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`], read_from: 'beginning', max_open_files: 1, glob_interval: '200ms' } });
      await waitLines(r, 1);
      await writeFile(a, numbered(0, 10, 'a '));
      await waitLines(r, 11);
      const aIsClosed = () => ![...openFds().values()].some((t) => t.startsWith(a));
      await waitUntil(aIsClosed, 'a.log to be closed (max_open_files: 1)', 5000, () => `open ${r.metric('visor_tail_files_open')}`);
      return { a, r };
    }

    it('a file closed for max_open_files, then appended to and rotated in one go: the new file is read once from 0, nothing garbled', async () => {
      const { a, r } = await aClosedForMaxOpenFiles();
      // In one tick (the tailer cannot look in between): rotation and a new file.
      renameSync(a, `${a}.1`);
      writeFileSync(a, numbered(0, 3, 'new '));
      await waitUntil(() => r.messages().includes('new 0000002'), 'the new file', 10000, () => JSON.stringify(r.messages()));
      await sleep(1000);
      const got = r.messages();
      assert.deepEqual(got, ['b 1', ...numberedLines(0, 10, 'a '), 'new 0000000', 'new 0000001', 'new 0000002']);
    });

    it('a file closed for max_open_files gets lines and is rotated before the tailer reopens it: those lines are still delivered', async () => {
      // Closing idle files must not lose what is written just before a rotation (logrotate renames in the
      // same directory, so the file can still be found by its inode).
      const { a, r } = await aClosedForMaxOpenFiles();
      appendFileSync(a, numbered(10, 5, 'a '));
      renameSync(a, `${a}.1`);
      writeFileSync(a, numbered(0, 3, 'new '));
      await waitUntil(() => r.messages().includes('new 0000002'), 'the new file', 10000, () => JSON.stringify(r.messages()));
      await waitUntil(() => r.messages().includes('a 0000014'), 'the lines written just before the rotation', 3000,
        () => JSON.stringify(r.messages()));
      assert.deepEqual(r.messages().filter((m) => m.startsWith('a ')).map(numberOf), [...Array(15).keys()]);
    });

    it('a symlink switched to a new target (as cronolog-style "current" links are): the new target is read from 0, the old one drained', async () => {
      const link = path.join(logDir, 'current.log');
      const t1 = path.join(tmp.dir, 'app-1.txt');
      const t2 = path.join(tmp.dir, 'app-2.txt');
      await writeFile(t1, 'one 1\n');
      symlinkSync(t1, link);
      const r = await startTail({ dataDir, tail: { path: [link], read_from: 'beginning', glob_interval: '200ms' } });
      await waitLines(r, 1);
      await writeFile(t2, 'two 1\ntwo 2\n');
      symlinkSync(t2, `${link}.tmp`);
      renameSync(`${link}.tmp`, link); // atomic switch
      await append(t1, 'one 2\n'); // the old target still gets a late line
      await waitUntil(() => r.messages().includes('two 2') && r.messages().includes('one 2'), 'both targets\' lines', 10000,
        () => JSON.stringify(r.messages()));
      await sleep(300);
      const got = r.messages();
      assert.deepEqual(got.filter((m) => m.startsWith('one')), ['one 1', 'one 2']);
      assert.deepEqual(got.filter((m) => m.startsWith('two')), ['two 1', 'two 2']);
      assert.equal(got.length, 4);
    });

    it('a named pipe matching the glob does not stall the other files', async () => {
      const fifo = path.join(logDir, 'pipe.log');
      const mk = spawnSync('mkfifo', [fifo]);
      assert.equal(mk.status, 0, String(mk.stderr));
      const f = path.join(logDir, 'app.log');
      await writeFile(f, 'a 1\n');
      const r = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`], read_from: 'beginning' } });
      try {
        await waitLines(r, 1, 'the regular file\'s line', 5000);
        await append(f, 'a 2\n');
        await waitLines(r, 2, 'a line appended to the regular file', 5000);
        assert.deepEqual(r.messages(), ['a 1', 'a 2']);
      } finally {
        // Unblock an open() stuck on the pipe, if any, so the pipeline can stop.
        const w = spawnSync('sh', ['-c', `exec 3<>${fifo}; sleep 0.2`], { timeout: 2000 });
        void w;
      }
    });
  });

  describe('rotated names', () => {
    it('names logrotate and rotatelogs give a file count as its rotations; compressed, other logs and look-alikes do not', () => {
      const yes = ['access.log.1', 'access.log.12', 'access.log-20261202', 'access.log-20261202-1733140800', 'access.log.2026-12-02', 'access-20261202.log', 'access.1.log', 'access.log.1733140800'];
      const no = ['access.log', 'access.log.1.gz', 'access.log-20261202.xz', 'access.log.old', 'access_ssl.log', 'accessibility.log', 'error.log.1', 'access.log.bak'];
      for (const n of yes) assert.ok(isRotatedName('access.log', n), n);
      for (const n of no) assert.ok(!isRotatedName('access.log', n), n);
      assert.equal(liveName('access.log.3'), 'access.log');
      assert.equal(liveName('access.log-20261202'), 'access.log');
      assert.equal(liveName('access.log'), 'access.log');
    });
  });

  describe('discovery', () => {
    it('a file appearing later in a watched directory is read from its beginning (even with read_from: end)', async () => {
      await writeFile(path.join(logDir, 'existing.log'), 'e1\n');
      const r = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`], glob_interval: '200ms' } });
      await waitUntil(() => r.metric('visor_tail_files_watched') >= 1, 'the existing file to be watched');
      const added = path.join(logDir, 'new.log');
      await writeFile(added, 'n1\nn2\n');
      await waitLines(r, 2);
      assert.deepEqual(r.out.written, [{ message: 'n1', file: added }, { message: 'n2', file: added }]);
      await append(path.join(logDir, 'existing.log'), 'e2\n');
      await waitLines(r, 3);
      assert.deepEqual(r.messages(), ['n1', 'n2', 'e2'], 'read_from end: the file present at start is read from its end');
      assert.equal(r.metric('visor_tail_files_watched'), 2);
    });

    it('a directory that does not exist at start: a warning is logged, the agent keeps running, its files are read once it appears', async () => {
      const later = path.join(tmp.dir, 'not-yet', 'deeper');
      const r = await startTail({ dataDir, tail: { path: [`${later}/*.log`], glob_interval: '200ms' } });
      await waitUntil(() => r.logs.some((l) => / WARN /.test(l) && l.includes('not-yet')), 'a warning about the missing directory', 5000, () => r.logs.join(''));
      await sleep(300);
      assert.equal(r.h.pipeline.state, 'running');
      await mkdir(later, { recursive: true });
      await writeFile(path.join(later, 'x.log'), 'x1\n');
      await waitLines(r, 1, 'the file in the new directory');
      assert.deepEqual(r.out.written, [{ message: 'x1', file: path.join(later, 'x.log') }]);
      assert.equal(r.h.pipeline.state, 'running');
    });

    it('a missing directory is warned about even when another glob matches files', async () => {
      await writeFile(path.join(logDir, 'access.log'), 'a1\n');
      const later = path.join(tmp.dir, 'not-yet');
      const r = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`, `${later}/error.log`], read_from: 'beginning', glob_interval: '200ms' } });
      await waitLines(r, 1);
      const warned = await waitAtMost(() => r.logs.some((l) => / WARN /.test(l) && l.includes('not-yet')), 3000);
      await mkdir(later);
      await writeFile(path.join(later, 'error.log'), 'x1\n');
      await waitLines(r, 2, 'the file in the new directory');
      assert.deepEqual(r.messages(), ['a1', 'x1']);
      assert.ok(warned, `no warning mentions the missing directory ${later}; log:\n${r.logs.filter((l) => !/ DEBUG /.test(l)).join('')}`);
    });

    it('exclude globs: excluded files are never read, also when they appear later', async () => {
      await writeFile(path.join(logDir, 'a.log'), 'a1\n');
      await writeFile(path.join(logDir, 'a.debug.log'), 'debug1\n');
      const r = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`], exclude: [`${logDir}/*.debug.log`], read_from: 'beginning', glob_interval: '200ms' } });
      await waitLines(r, 1);
      await writeFile(path.join(logDir, 'b.debug.log'), 'debug2\n');
      await writeFile(path.join(logDir, 'b.log'), 'b1\n');
      await waitLines(r, 2);
      await sleep(600); // three more glob passes
      assert.deepEqual(r.messages().sort(), ['a1', 'b1']);
      assert.equal(r.metric('visor_tail_files_watched'), 2);
    });

    it('exclude patterns without a slash match file names (access.log* with *.gz excluded)', async () => {
      await writeFile(path.join(logDir, 'access.log'), 'live1\n');
      await writeFile(path.join(logDir, 'access.log.1'), 'rotated1\n');
      await writeFile(path.join(logDir, 'access.log.2.gz'), 'not text\n');
      const r = await startTail({ dataDir, tail: { path: [`${logDir}/access.log*`], exclude: ['*.gz'], read_from: 'beginning', glob_interval: '200ms' } });
      await waitLines(r, 2);
      await sleep(500); // two more glob passes
      assert.deepEqual(r.messages().sort(), ['live1', 'rotated1']);
      assert.equal(r.metric('visor_tail_files_watched'), 2);
    });

    it('a file it may not read (chmod 000) is logged and retried; the agent keeps running and reads it once allowed', async function () {
      if (process.getuid?.() === 0) {
        // Root reads whatever the mode says: run the agent without the capabilities that let it (CI runs as root).
        await unprivilegedPermissionCase(tmp.dir, logDir);
        return;
      }
      const f = path.join(logDir, 'secret.log');
      await writeFile(f, 's1\n');
      await chmod(f, 0o000);
      const r = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`], read_from: 'beginning', glob_interval: '200ms', poll_interval: '100ms' } });
      await waitUntil(() => r.logs.some((l) => /(WARN|ERROR)/.test(l) && /secret\.log|EACCES|permission/i.test(l)), 'a permission warning', 5000, () => r.logs.join(''));
      assert.equal(r.h.pipeline.state, 'running');
      await chmod(f, 0o644);
      await waitLines(r, 1);
      assert.deepEqual(r.messages(), ['s1']);
    });

    it('1,000 files: all lines delivered, files_open <= max_open_files, descriptors bounded and released', async function () {
      this.timeout(60000);
      const N = 1000;
      const name = (i: number) => path.join(logDir, `f${String(i).padStart(4, '0')}.log`);
      for (let i = 0; i < N; i++) writeFileSync(name(i), `f${i} 0\nf${i} 1\n`);
      const fdsBefore = openFds().size;
      const r = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`], read_from: 'beginning', max_open_files: 100, glob_interval: '500ms' } });
      let maxOpen = 0;
      let maxFds = 0;
      const sampler = setInterval(() => {
        maxOpen = Math.max(maxOpen, r.metric('visor_tail_files_open'));
        maxFds = Math.max(maxFds, openFds().size);
      }, 20);
      try {
        await waitLines(r, 2 * N, '2,000 lines', 30000);
        for (let k = 2; k < 5; k++) {
          for (let i = 0; i < N; i++) appendFileSync(name(i), `f${i} ${k}\n`);
        }
        await waitLines(r, 5 * N, '5,000 lines', 30000);
        await sleep(300);
      } finally {
        clearInterval(sampler);
      }
      const byFile = new Map<string, number[]>();
      for (const e of r.out.written) {
        const [file, k] = (e.message as string).split(' ');
        byFile.set(file, [...(byFile.get(file) ?? []), Number(k)]);
        assert.equal(e.file, name(Number(file.slice(1))));
      }
      assert.equal(byFile.size, N);
      for (const [file, ks] of byFile) assert.deepEqual(ks, [0, 1, 2, 3, 4], file);
      assert.equal(r.metric('visor_tail_files_watched'), N);
      console.log(`      1,000 files: peak files_open ${maxOpen}, peak fds ${maxFds} (before ${fdsBefore})`);
      assert.ok(maxOpen <= 100, `files_open reached ${maxOpen}`);
      assert.ok(maxFds <= fdsBefore + 100 + 25, `open descriptors reached ${maxFds} (before start: ${fdsBefore})`);
      await r.stop();
      const after = openFds().size;
      assert.ok(after <= fdsBefore + 2, `descriptors after stop: ${after} (before start: ${fdsBefore})`);
    });
  });

  describe('checkpoints and delivery', () => {
    it('exit_on_eof: reads every file to its end (a final line without newline included), delivers, checkpoints, ends', async () => {
      const a = path.join(logDir, 'a.log');
      const b = path.join(logDir, 'b.log');
      await writeFile(a, 'a1\na2\nlast without newline');
      await writeFile(b, numbered(0, 5000));
      const r = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`], read_from: 'beginning', exit_on_eof: true } });
      const ended = await Promise.race([r.h.pipeline.done().then(() => true), sleep(8000).then(() => false)]);
      assert.ok(ended, `the pipeline did not end by itself (state ${r.h.pipeline.state})`);
      assert.equal(r.h.pipeline.state, 'stopped');
      const got = r.messages();
      assert.deepEqual(got.filter((m) => m.startsWith('a') || m.startsWith('last')), ['a1', 'a2', 'last without newline']);
      assert.deepEqual(got.filter((m) => m.startsWith('line')).map(numberOf), [...Array(5000).keys()]);
      assert.equal(got.length, 5003);
      assert.equal(await checkpointOf(dataDir, a), statSync(a).size);
      assert.equal(await checkpointOf(dataDir, b), statSync(b).size);

      // Run again: everything is checkpointed, nothing is delivered twice.
      const r2 = await startTail({ dataDir, tail: { path: [`${logDir}/*.log`], read_from: 'beginning', exit_on_eof: true } });
      const ended2 = await Promise.race([r2.h.pipeline.done().then(() => true), sleep(8000).then(() => false)]);
      assert.ok(ended2);
      assert.deepEqual(r2.messages(), []);
    });

    it('restart resumes at the checkpoint: exactly the new lines; a line partial at shutdown comes whole, once', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, numbered(0, 1000));
      const opts = { path: [f], read_from: 'beginning', checkpoint_interval: '100ms' };
      const r1 = await startTail({ dataDir, tail: opts });
      await waitLines(r1, 1000);
      await append(f, 'partial-start');
      await sleep(300); // the tailer sees the partial line before the stop
      assert.equal(await r1.stop(), true);
      assert.equal(r1.out.written.length, 1000);
      assert.equal(await checkpointOf(dataDir, f), bytes(numbered(0, 1000)), 'the checkpoint is at the end of the last whole line');
      await append(f, '-end\n' + numbered(1000, 500));
      const r2 = await startTail({ dataDir, tail: opts });
      await waitUntil(() => r2.messages().includes('line 0001499'), 'the last new line');
      assert.deepEqual(r2.messages(), ['partial-start-end', ...numberedLines(1000, 500)]);
      await r2.stop();
      assert.equal(await checkpointOf(dataDir, f), statSync(f).size);
    });

    it('at-least-once: a permanently failing output never advances the checkpoint; the lines come again after restart', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, numbered(0, 100));
      const opts = { path: [f], read_from: 'beginning', checkpoint_interval: '100ms' };
      const r1 = await startTail({ dataDir, tail: opts, output: { fail: 'permanent' } });
      await waitUntil(() => (r1.h.metrics.snapshot().out?.discarded_by_reason.write_failed ?? 0) >= 100, 'the output to fail every line');
      await sleep(300); // several checkpoint intervals
      await r1.stop();
      const cp = await checkpointOf(dataDir, f);
      assert.ok(cp === undefined || cp === 0, `checkpoint advanced to ${cp} although nothing was delivered`);
      const r2 = await startTail({ dataDir, tail: opts });
      await waitLines(r2, 100);
      assert.deepEqual(r2.messages().map(numberOf), [...Array(100).keys()]);
    });

    it('a failed batch pins the checkpoint before it for the rest of the run, even when later batches are delivered', async () => {
      const f = path.join(logDir, 'app.log');
      await writeFile(f, numbered(0, 50));
      const first = bytes(numbered(0, 50));
      const opts = { path: [f], read_from: 'beginning', checkpoint_interval: '100ms' };
      const failBad = (events: Event[]) => {
        if (events.some((e) => /^BAD/.test(String(e.message)))) throw new PermanentError('the batch holds a line starting BAD');
      };
      const r1 = await startTail({ dataDir, tail: opts, onWrite: failBad });
      await waitLines(r1, 50);
      await waitUntil(async () => (await checkpointOf(dataDir, f)) === first, 'the checkpoint to reach the delivered lines', 5000);
      await append(f, 'BAD line\n');
      await waitUntil(() => (r1.h.metrics.snapshot().out?.discarded_by_reason.write_failed ?? 0) >= 1, 'the bad batch to fail');
      await append(f, numbered(50, 50));
      await waitLines(r1, 100);
      await sleep(300);
      assert.equal(await checkpointOf(dataDir, f), first, 'the checkpoint moved past a failed batch during the run');
      await r1.stop();
      assert.equal(await checkpointOf(dataDir, f), first, 'the checkpoint moved past a failed batch at shutdown');
      const r2 = await startTail({ dataDir, tail: opts });
      await waitUntil(() => r2.messages().includes('line 0000099'), 'the last line');
      assert.deepEqual(r2.messages(), ['BAD line', ...numberedLines(50, 50)]);
    });

    it('SIGHUP reload (CLI) while lines are appended: every line exactly once, in order, across the reload', async function () {
      this.timeout(40000);
      const f = path.join(tmp.dir, 'logs', 'app.log');
      await writeFile(f, '');
      const yaml = (format: string) => `service: { data_dir: ./state }
inputs:
  logs: { type: tail, path: [logs/app.log], read_from: beginning, checkpoint_interval: 100ms }
outputs:
  out: { type: stdout, inputs: [logs], format: ${format} }
`;
      const config = await tmp.file('tail.yaml', yaml('text'));
      const p = new CliProcess(['run', '-c', config]);
      await p.waitForStderr(/visor started/);
      let n = 0;
      let writing = true;
      const writer = (async () => {
        while (writing) {
          await append(f, numbered(n, 50, 'r '));
          n += 50;
          await sleep(5);
        }
      })();
      await p.waitFor((x) => x.stdout.includes('r 0000500\n'), 'the first lines');
      await writeFile(config, yaml('json'));
      p.child.kill('SIGHUP');
      await p.waitForStderr(/configuration reloaded/);
      await p.waitFor((x) => x.stdout.includes('{"message":"r '), 'lines after the reload');
      writing = false;
      await writer;
      await p.waitFor((x) => x.stdout.includes(`"r ${String(n - 1).padStart(7, '0')}"`), 'the last line');
      p.child.kill('SIGTERM');
      const r = await p.exited;
      assert.equal(r.code, 0, r.stderr);
      const got = r.stdout.trim().split('\n').map((l) => (l.startsWith('{') ? JSON.parse(l).message as string : l)).map(numberOf);
      assert.deepEqual(got, [...Array(n).keys()]);
      assert.ok(r.stdout.includes('\nr ') && r.stdout.includes('{"message"'), 'lines were written before and after the reload');
      console.log(`      ${n} lines across the reload`);
    });

    it('kill -9 mid-stream (CLI, 200k lines, 3 kills): every line at least once; each restart begins exactly at the last checkpoint, which is never ahead of delivery nor stale', async function () {
      this.timeout(90000);
      const TOTAL = 200_000;
      const INTERVAL = 200;
      const logs = path.join(tmp.dir, 'logs');
      const big = path.join(logs, 'big.log');
      const text = numbered(0, TOTAL, 'n '); // "n 0000000\n": 10 bytes per line, so offset / 10 = line number
      await writeFile(big, text);
      const config = await tmp.file('tail.yaml', `service: { data_dir: ./state }
inputs:
  logs: { type: tail, path: [logs/big.log], read_from: beginning, checkpoint_interval: ${INTERVAL}ms, batch_size: 500 }
outputs:
  out: { type: stdout, inputs: [logs], format: text }
`);
      const cpFile = path.join(tmp.dir, 'state', 'logs');
      const checkpointLine = async (): Promise<number> => {
        const all = await readCheckpoints(path.dirname(cpFile), 'logs'); // throws if the file is not valid JSON
        const e = all?.find((x) => x.path === big);
        return e ? e.offset / 10 : 0;
      };
      const runs: Array<{ numbers: number[]; resumeAt: number; checkpointAfter: number; seenLongBeforeKill: number; killed: boolean }> = [];
      const killAfterMs = [1200, 1000, 800];
      const PAUSE = 150; // the test reads stdout slowly (one pipe-full, ~6.5k lines, per 150 ms): ~45k lines/s
      for (let run = 0; run < 4; run++) {
        const resumeAt = await checkpointLine();
        if (resumeAt === TOTAL) break; // (not expected: each kill lands a few thousand lines after the throttled part)
        const p = new CliProcess(['run', '-c', config]);
        const out = p.child.stdout!;
        let throttled = run < 3;
        let firstAt = 0;
        // Count complete lines as they arrive, with the time they arrived.
        const seen: Array<{ t: number; lines: number }> = [];
        let lines = 0;
        out.on('data', (chunk: string) => {
          const now = Date.now();
          firstAt ||= now;
          for (let i = chunk.indexOf('\n'); i >= 0; i = chunk.indexOf('\n', i + 1)) lines++;
          seen.push({ t: now, lines });
          if (throttled) {
            out.pause();
            setTimeout(() => out.resume(), PAUSE);
          }
        });
        let killedAt = 0;
        if (run < 3) {
          await waitUntil(() => (firstAt > 0 && Date.now() - firstAt >= killAfterMs[run]) || p.child.exitCode !== null,
            `${killAfterMs[run]} ms of output`, 30000, () => p.stderr);
          // Full speed for a moment, so the kill lands while lines stream (not while the child waits on the pipe).
          const before = p.stdout.length;
          throttled = false;
          out.resume();
          await waitUntil(() => p.stdout.length >= before + 30_000 || p.child.exitCode !== null, '3,000 more lines');
          killedAt = Date.now();
          p.child.kill('SIGKILL');
          throttled = false;
          out.resume();
          const r = await p.exited;
          assert.equal(r.signal, 'SIGKILL', r.stderr);
        } else {
          await p.waitFor((x) => x.stdout.includes(`n ${String(TOTAL - 1).padStart(7, '0')}\n`), 'the last line', 60000);
          await waitUntil(async () => (await checkpointLine()) === TOTAL, 'the final checkpoint', 5000);
          p.child.kill('SIGTERM');
          const r = await p.exited;
          assert.equal(r.code, 0, r.stderr);
        }
        // A write cut by SIGKILL may leave a partial last line: only whole lines count.
        const whole = p.stdout.slice(0, p.stdout.lastIndexOf('\n') + 1);
        const numbers = whole.split('\n').slice(0, -1).map(numberOf);
        const checkpointAfter = await checkpointLine(); // valid JSON even after SIGKILL (atomic replace)
        const longBefore = seen.filter((s) => s.t <= killedAt - INTERVAL - 500);
        runs.push({ numbers, resumeAt, checkpointAfter, seenLongBeforeKill: longBefore.length ? longBefore[longBefore.length - 1].lines : 0, killed: run < 3 });
      }
      const report = runs.map((r, i) => `run ${i}${r.killed ? ' (killed)' : ''}: from ${r.resumeAt}, printed ${r.numbers.length}, checkpoint after ${r.checkpointAfter}`);
      console.log(`      ${report.join('; ')}`);
      let duplicates = 0;
      for (let i = 0; i < runs.length; i++) {
        const r = runs[i];
        assert.ok(r.numbers.length > 0, `run ${i} printed nothing`);
        // The restart begins exactly at the checkpoint...
        assert.equal(r.numbers[0], r.resumeAt, `run ${i} began at line ${r.numbers[0]}, its checkpoint says ${r.resumeAt}`);
        // ... and goes on in order, with no gap.
        for (let k = 1; k < r.numbers.length; k++) {
          if (r.numbers[k] !== r.numbers[k - 1] + 1) assert.fail(`run ${i}: line ${r.numbers[k]} after ${r.numbers[k - 1]}`);
        }
        const lastPrinted = r.numbers[r.numbers.length - 1];
        // The checkpoint never covers a line that was not delivered (no loss) ...
        assert.ok(r.checkpointAfter <= lastPrinted + 1, `run ${i}: checkpoint ${r.checkpointAfter} ahead of the last printed line ${lastPrinted}`);
        assert.ok(r.checkpointAfter >= r.resumeAt);
        if (r.killed) {
          // ... and is not stale: lines delivered more than checkpoint_interval + 0.5 s before the kill are in it.
          const deliveredLongBefore = r.resumeAt + r.seenLongBeforeKill;
          assert.ok(r.checkpointAfter >= deliveredLongBefore,
            `run ${i}: checkpoint ${r.checkpointAfter} behind line ${deliveredLongBefore}, printed more than ${INTERVAL} ms + 0.5 s before the kill`);
          // Duplicates of this run = lines printed after the checkpoint (they are read again by the next run).
          duplicates += lastPrinted + 1 - r.checkpointAfter;
        }
      }
      const all = countsOf(runs.flatMap((r) => r.numbers));
      for (let n = 0; n < TOTAL; n++) if (!all.has(n)) assert.fail(`line ${n} never printed`);
      assert.equal(runs[runs.length - 1].checkpointAfter, TOTAL);
      console.log(`      duplicates over ${runs.filter((r) => r.killed).length} kills: ${duplicates} (each at most the lines printed in the last ${INTERVAL} ms + 0.5 s before its kill)`);
      assert.equal(runs.reduce((s, r) => s + r.numbers.length, 0), TOTAL + duplicates);
    });

    it('backpressure: 1,000,000 lines into a slow output: memory stays bounded, the tailer stays close ahead, nothing is lost', async function () {
      this.timeout(90000);
      const TOTAL = 1_000_000;
      const f = path.join(logDir, 'big.log');
      const pad = ' '.repeat(38);
      const lineOf = (i: number) => `n ${String(i).padStart(7, '0')}${pad}`; // 48 bytes + \n
      const parts: string[] = [];
      for (let i = 0; i < TOTAL; i += 10_000) {
        let s = '';
        for (let k = i; k < i + 10_000; k++) s += lineOf(k) + '\n';
        parts.push(s);
      }
      await writeFile(f, parts.join(''));
      parts.length = 0;
      const lineBytes = 49;
      const rss0 = process.memoryUsage().rss;
      const r = await startTail({ dataDir, tail: { path: [f], read_from: 'beginning' }, output: { delay_ms: 4 } });
      let next = 0;
      let maxRss = rss0;
      let maxLead = 0;
      let bad: string | undefined;
      const drain = setInterval(() => {
        const got = r.out.written.splice(0);
        for (const e of got) {
          if (!bad && e.message !== lineOf(next)) bad = `expected ${lineOf(next)}, got ${JSON.stringify(e.message)}`;
          next++;
        }
        maxRss = Math.max(maxRss, process.memoryUsage().rss);
        maxLead = Math.max(maxLead, r.metric('visor_tail_lines_read_total') - next);
      }, 20);
      const started = Date.now();
      try {
        await waitUntil(() => next >= TOTAL || !!bad, `${TOTAL} lines`, 80000, () => `got ${next}`);
      } finally {
        clearInterval(drain);
      }
      const secs = (Date.now() - started) / 1000;
      assert.equal(bad, undefined);
      assert.equal(next, TOTAL);
      const growth = (maxRss - rss0) / 2 ** 20;
      // Lead: the output's buffer (10,000) + one batch overshoot + one batch being written + one inside emit
      // + one being assembled + the lines of one read buffer (256 KiB).
      const leadBound = 10_000 + 4 * 1000 + Math.ceil(256 * 1024 / lineBytes);
      console.log(`      1M lines in ${secs.toFixed(1)} s (${Math.round(TOTAL / secs / 1000)}k lines/s); RSS growth ${growth.toFixed(0)} MB; max lead ${maxLead} lines (bound ${leadBound})`);
      assert.ok(growth < 200, `RSS grew by ${growth.toFixed(0)} MB`);
      assert.ok(maxLead <= leadBound, `the tailer ran ${maxLead} lines ahead of the output`);
    });
  });
});

/** The permission case as root: the CLI runs as root without CAP_DAC_OVERRIDE / CAP_DAC_READ_SEARCH
 * (setpriv), so a mode-000 file is unreadable to it as to any user, wherever the repository lives. */
async function unprivilegedPermissionCase(dir: string, logDir: string): Promise<void> {
  const { spawn } = await import('node:child_process');
  await mkdir(logDir, { recursive: true });
  const data = path.join(dir, 'capless-data');
  await mkdir(data);
  const f = path.join(logDir, 'secret.log');
  await writeFile(f, 's1\n');
  await chmod(f, 0o000);
  const config = path.join(dir, 'capless.yaml');
  await writeFile(config, `service: { data_dir: ${JSON.stringify(data)} }
inputs:
  logs: { type: tail, path: [${JSON.stringify(logDir + '/*.log')}], read_from: beginning, glob_interval: 200ms, poll_interval: 100ms }
outputs:
  out: { type: stdout, inputs: [logs], format: text }
`);
  const child = spawn('setpriv', ['--bounding-set=-dac_override,-dac_read_search', '--', process.execPath, CLI, 'run', '-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
  child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  try {
    await waitUntil(() => /WARN.*(EACCES|permission)/i.test(stderr), 'a permission warning from the agent running without DAC capabilities', 10000, () => stderr);
    assert.equal(child.exitCode, null, 'the agent kept running');
    await chmod(f, 0o644);
    await waitUntil(() => stdout.includes('s1\n'), 'the line once the file is readable', 10000, () => stderr);
  } finally {
    child.kill('SIGTERM');
  }
}
