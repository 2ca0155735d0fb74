// The tail input against Debian's real logrotate (create and copytruncate, rotate 5, no compression) while a
// writer process appends numbered lines at 10,000 lines/s as Apache does: rotations while the agent runs and
// one while it is stopped, with read_from end and beginning, with globs that match the rotated names and
// globs that do not. The ground truth is what the log files hold at the end: every line that is in some file
// is delivered exactly once; lines in no file (copytruncate's own race: written after the copy, before the
// truncate) are excused, and the loss the agent reports never exceeds them.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliProcess, skipWhenMissing } from './support/helpers.js';
import { linesInFiles, logrotate, logrotateMissing, startWriter, WRITER_LINE_BYTES, type RotateMode } from './support/logrotate.js';
import {
  countsOf, numbered, numberOf, readCheckpoints, removeTailDirs, sleep, startTail, tailDirs, waitUntil, type TailDirs, type TailRun,
} from './support/tail-harness.js';

const RATE = 10_000;

interface Outcome { written: number; present: Map<number, number>; delivered: Map<number, number>; lostCounted: number; logs?: string }

/** Checks the outcome against the files and returns a one-line summary for the closing report. */
function judge(o: Outcome): string {
  const missing = [...o.present.keys()].filter((n) => !o.delivered.has(n)).sort((a, b) => a - b);
  const dup = [...o.delivered].filter(([, k]) => k > 1).map(([n]) => n).sort((a, b) => a - b);
  const inNoFile = [];
  for (let n = 0; n < o.written; n++) if (!o.present.has(n) && !o.delivered.has(n)) inNoFile.push(n);
  const summary = `${o.written} lines written, in files ${o.present.size}, delivered ${o.delivered.size}, missing ${missing.length}, duplicated ${dup.length}, in no file ${inNoFile.length} (${inNoFile.length * WRITER_LINE_BYTES} B), reported lost ${o.lostCounted} B`;
  assert.deepEqual({ missing: missing.slice(0, 10), missingCount: missing.length, dup: dup.slice(0, 10), dupCount: dup.length },
    { missing: [], missingCount: 0, dup: [], dupCount: 0 }, summary);
  assert.ok(o.lostCounted <= inNoFile.length * WRITER_LINE_BYTES, `reported lost ${o.lostCounted} B, but only ${inNoFile.length} lines are in no file: ${summary}\n${o.logs ?? ''}`);
  return summary;
}

describe('tail with real logrotate under load', function () {
  this.timeout(60000);
  let tmp: TailDirs['tmp'];
  let logDir: string;
  let dataDir: string;
  before(function () {
    skipWhenMissing(this, logrotateMissing);
  });
  beforeEach(async () => ({ tmp, logDir, dataDir } = await tailDirs('visor-logrotate-')));
  afterEach(() => removeTailDirs(tmp));

  const deliveredNumbers = (runs: TailRun[]) => runs.flatMap((r) => r.messages()).filter((m) => m.startsWith('n ')).map(numberOf);

  for (const mode of ['create', 'copytruncate'] as RotateMode[]) {
    for (const globbed of [false, true]) {
      for (const readFrom of ['end', 'beginning'] as const) {
        const glob = globbed ? 'access.log*' : 'access.log';
        it(`${mode}, path ${glob}, read_from ${readFrom}: 4 rotations at ${RATE / 1000}k lines/s, one while the agent is stopped — every line in a file delivered once`, async () => {
          const file = path.join(logDir, 'access.log');
          await writeFile(file, numbered(0, 50, 'pre '));
          const tail = { path: [path.join(logDir, glob)], read_from: readFrom, rotate_wait: '1s' };
          const runs: TailRun[] = [];
          const start = async () => {
            const r = await startTail({ dataDir, tail });
            runs.push(r);
            await waitUntil(() => r.metric('visor_tail_files_watched') >= 1, 'the tailer to follow the log');
            return r;
          };
          let r = await start();
          const writer = startWriter(file, RATE);
          const rotate = () => logrotate(file, mode, { writerPid: writer.child.pid });
          await sleep(600);
          await rotate();
          await sleep(600);
          await rotate();
          await sleep(400);
          await r.stop(); // SIGTERM's path: drain, final checkpoint
          await sleep(300);
          await rotate(); // while stopped
          await sleep(300);
          r = await start();
          await sleep(600);
          await rotate();
          await sleep(400);
          const written = await writer.stop();
          const present = await linesInFiles(logDir, 'access.log');
          await waitUntil(() => { const d = new Set(deliveredNumbers(runs)); return [...present.keys()].every((n) => d.has(n)); },
            'every line in the files to be delivered', 20000, () => `delivered ${new Set(deliveredNumbers(runs)).size} of ${present.size}\n${runs.map((x) => x.logs.join('')).join('\n')}`);
          await sleep(500); // a duplicate would come now
          await r.stop();
          const pre = runs.flatMap((x) => x.messages()).filter((m) => m.startsWith('pre '));
          assert.equal(pre.length, readFrom === 'beginning' ? 50 : 0, 'the lines there before the agent started');
          const lostCounted = runs.reduce((s, x) => s + x.metric('visor_tail_lost_bytes_total'), 0);
          const summary = judge({ written, present, delivered: countsOf(deliveredNumbers(runs)), lostCounted, logs: runs.map((x) => x.logs.join('')).join('\n') });
          console.log(`      ${summary}`);
          if (mode === 'create') assert.equal(lostCounted, 0, 'create loses nothing');
          assert.ok(existsSync(`${file}.4`), 'logrotate rotated four times');
        });
      }
    }
  }

  it('kill -9 of the agent during copytruncate rotations (CLI): every line in a file delivered, duplicates only from the last checkpoint', async function () {
    this.timeout(90000);
    const file = path.join(logDir, 'access.log');
    await writeFile(file, '');
    const config = await tmp.file('tail.yaml', `service: { data_dir: ./data }
inputs:
  logs: { type: tail, path: [logs/access.log], read_from: beginning, rotate_wait: 1s, checkpoint_interval: 100ms }
outputs:
  out: { type: stdout, inputs: [logs], format: text }
`);
    const writer = startWriter(file, RATE);
    const outputs: string[] = [];
    const runAgent = () => new CliProcess(['run', '-c', config], { cwd: tmp.dir });
    let p = runAgent();
    await p.waitFor((x) => x.stdout.length > 64 * 3000, 'lines to flow');
    await logrotate(file, 'copytruncate');
    await sleep(200);
    // Kill right after the next copy is made, before or after the truncate: logrotate runs in the background.
    const rotating = logrotate(file, 'copytruncate');
    p.child.kill('SIGKILL');
    await rotating;
    await p.exited;
    outputs.push(p.stdout.slice(0, p.stdout.lastIndexOf('\n') + 1));
    const checkpointAtKill = (await readCheckpoints(dataDir))?.reduce((s, e) => s + e.offset, 0) ?? 0;
    await sleep(300);
    p = runAgent();
    await sleep(800);
    await logrotate(file, 'copytruncate');
    await sleep(500);
    const written = await writer.stop();
    const present = await linesInFiles(logDir, 'access.log');
    const all = () => outputs.join('') + p.stdout;
    await p.waitFor(() => { const d = new Set(all().split('\n').filter(Boolean).map(numberOf)); return [...present.keys()].every((n) => d.has(n)); },
      'every line in the files', 20000);
    p.child.kill('SIGTERM');
    const r = await p.exited;
    assert.equal(r.code, 0, r.stderr);
    const numbers = all().split('\n').filter(Boolean).map(numberOf);
    const delivered = countsOf(numbers);
    const missing = [...present.keys()].filter((n) => !delivered.has(n));
    assert.deepEqual(missing.slice(0, 10), [], `${missing.length} lines in the files never delivered`);
    const dups = numbers.length - delivered.size;
    // Only what the first run delivered after its last checkpoint may come twice.
    const firstRun = outputs[0].split('\n').filter(Boolean).length;
    assert.ok(dups <= firstRun, `duplicates ${dups} > lines of the killed run ${firstRun}`);
    console.log(`      ${written} written, ${present.size} in files, delivered ${delivered.size}, duplicates after kill -9 ${dups} (checkpointed at kill: ${checkpointAtKill} B)`);
  });
});
