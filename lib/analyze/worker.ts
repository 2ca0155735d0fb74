// `visor analyze`: a worker thread reading one byte range of a large plain file with the same code as the main
// thread, into its own ReportAccumulator, whose counts it sends back to be added to the main one, with its part's
// attack-detection matches (detect.ts) for the main thread to pour in file order.
import { parentPort, workerData } from 'node:worker_threads';
import { MatchRecorder, recordBuffers } from './detect.js';
import { openEnrichment } from './enrich.js';
import { chooseFormat } from './format.js';
import { accState, type PartJob, type PartMessage } from './parallel.js';
import { emptyResult, FileAnalysis, readFile, Totals } from './read.js';

const job = workerData as PartJob;
const post = (m: PartMessage, transfer?: ArrayBuffer[]) => parentPort!.postMessage(m, transfer);

async function main(): Promise<void> {
  const choice = chooseFormat({ ...job.parser, timezone: job.timezone, errorLogFormat: job.errorLogFormat });
  const preset = { ...choice.fixed!, label: job.label };
  const recorder = job.detect ? new MatchRecorder(job.detect) : undefined;
  const totals = new Totals(job.capacity, undefined, job.messageLevel, await openEnrichment(), recorder);
  const result = emptyResult(job.file);
  const analysis = new FileAnalysis(result, choice, totals, preset);
  await readFile(job.file, false, analysis, (raw) => post({ type: 'progress', bytes: raw, lines: totals.lines }), { start: job.start, end: job.end });
  analysis.end();
  const matches = recorder?.records();
  post({ type: 'done', result, acc: accState(totals.acc, job.capacity), matches }, matches ? recordBuffers(matches) : undefined);
}

main().catch((err: Error) => post({ type: 'error', message: err.message, code: (err as NodeJS.ErrnoException).code }));
