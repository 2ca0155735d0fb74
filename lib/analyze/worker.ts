// `visor analyze`: a worker thread reading one byte range of a large plain file with the same code as the main
// thread, into its own ReportAccumulator, whose counts it sends back to be added to the main one.
import { parentPort, workerData } from 'node:worker_threads';
import { openEnrichment } from './enrich.js';
import { chooseFormat } from './format.js';
import { accState, type PartJob, type PartMessage } from './parallel.js';
import { emptyResult, FileAnalysis, readFile, Totals } from './read.js';

const job = workerData as PartJob;
const post = (m: PartMessage) => parentPort!.postMessage(m);

async function main(): Promise<void> {
  const choice = chooseFormat({ ...job.parser, timezone: job.timezone, errorLogFormat: job.errorLogFormat });
  const preset = { ...choice.fixed!, label: job.label };
  const totals = new Totals(job.capacity, undefined, job.messageLevel, await openEnrichment());
  const result = emptyResult(job.file);
  const analysis = new FileAnalysis(result, choice, totals, preset);
  await readFile(job.file, false, analysis, (raw) => post({ type: 'progress', bytes: raw, lines: totals.lines }), { start: job.start, end: job.end });
  analysis.end();
  post({ type: 'done', result, acc: accState(totals.acc, job.capacity) });
}

main().catch((err: Error) => post({ type: 'error', message: err.message, code: (err as NodeJS.ErrnoException).code }));
