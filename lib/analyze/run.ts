// `visor analyze FILE...`: a one-shot report on existing logs. Each file (plain or gzip, told by its magic
// bytes) is streamed in large chunks, split into lines, parsed synchronously by the apache_access or
// apache_error plugin's own parser (detected per file), and every parsed event goes to the report
// aggregate's ReportAccumulator, so the figures are exactly those of `report`. No pipeline: the async
// batching of the runtime costs more than the parse itself here.
import { stat, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Event } from '../../core/index.js';
import type { DetectSettings } from '../detect/index.js';
import { renderReportText } from '../stats/index.js';
import { AnalyzeDetect } from './detect.js';
import { chooseFormat, type FormatChoice } from './format.js';
import { firstTime } from './probe.js';
import { ProgressBar } from './progress.js';
import { emptyResult, FileAnalysis, type FileResult, isGzip, MAX_LINE_BYTES, readFile, Totals } from './read.js';
import type { AccState, PartPlan } from './parallel.js';
import * as parallel from './parallel.js';

export interface AnalyzeOptions {
  files: string[];
  format?: string;
  logFormat?: string;
  errorLogFormat?: string;
  timezone: string;
  top: number;
  capacity: number;
  /** Error logs: the least severe level whose message templates are listed (default warn). */
  messageLevel?: string;
  json: boolean;
  html?: string;
  progress: boolean;
  title: string;
  /** --store: a SQLite file or a PostgreSQL URL to backfill (store.ts). */
  store?: string;
  /** --agent: the agent name in the stored rows (default: the host name, as the store output's). */
  agent?: string;
  /** --aggregate: the name of the stored window aggregate. */
  aggregate?: string;
  /** Attack detection: the detect aggregate's options, validated (the default pack, or --detect-rules); undefined
   * with --no-detect. */
  detect?: DetectSettings;
}

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());
const thousands = (n: number) => Math.round(n).toLocaleString('en-US');

function fileLine(r: FileResult): string {
  const name = `${r.file}${r.gzip ? ' (gzip)' : ''}`;
  if (r.error) return `  ${name}: not read: ${r.error}`;
  const reasons = Object.entries(r.unparsed_reasons).map(([k, v]) => `${k} ${v.count} from line ${v.first_line}`);
  const long = r.long_lines ? `, ${r.long_lines} cut at ${MAX_LINE_BYTES} bytes` : '';
  return `  ${name}: ${r.format ?? '-'}, ${r.lines} lines, ${r.parsed} parsed, ${r.unparsed} unparsed${reasons.length ? ` (${reasons.join(', ')})` : ''}${long}, ${r.first_timestamp === null ? 'no timestamps' : `${iso(r.first_timestamp)} - ${iso(r.last_timestamp)}`}`;
}

function storeLine(s: import('./store.js').StoreFigures): string {
  const r = s.rows;
  const rate = s.rows_per_second === null ? '' : `: ${thousands(s.rows_per_second)} rows/s`;
  return `stored in ${s.engine} ${s.location} (agent ${s.agent}, aggregate ${s.aggregate}): ${thousands(r.events)} events, ${thousands(r.windows)} window rows (1m and roll-ups), ${thousands(r.aggregates)} aggregate specs, ${thousands(r.reports)} report; writing took ${s.seconds.toFixed(2)} s${rate}` +
    (s.rejected_rows ? `; ${s.rejected_rows} rows refused, in ${s.rejected_file}` : '');
}

/** `alerts`: the firings; `digests`: the quiet periods' digests (both are in the alerts list). */
interface DetectFigures { rules: number; matches: number; allowed: number; alerts: number; digests: number }

function detectFigures(d: AnalyzeDetect, alerts: Event[]): DetectFigures {
  const digests = alerts.filter((a) => a.state === 'digest').length;
  return { rules: d.rules, matches: d.matches, allowed: d.allowed, alerts: alerts.length - digests, digests };
}

function detectLine(f: DetectFigures): string {
  const digests = f.digests ? ` and ${f.digests} quiet-period digest${f.digests === 1 ? '' : 's'}` : '';
  return `attack detection: ${f.rules} rules, ${thousands(f.matches)} matching events, ${f.allowed ? `${thousands(f.allowed)} allowed, ` : ''}${f.alerts ? `${f.alerts} alerts${digests} (above)` : 'no alerts'}`;
}

/** The order files are read in with detection on: by the time of their first lines (a rotated set given newest
 * first, as access.log* expands, read oldest first), since a client's buckets leak over event time and a bucket
 * never leaks backwards: read newest first, yesterday's requests of today's clients would count as all at once.
 * Files with no time found keep their place after the others; the listing keeps the order given. */
async function timeOrder(results: FileResult[], readable: boolean[], choice: FormatChoice): Promise<number[]> {
  const times: Array<number | undefined> = [];
  // One file at a time: a rotated set of hundreds of files must not open them all at once.
  for (const [i, r] of results.entries()) times.push(readable[i] ? await firstTime(r.file, r.gzip, choice).catch(() => undefined) : undefined);
  return results.map((_, i) => i).sort((a, b) => (times[a] ?? Infinity) - (times[b] ?? Infinity) || a - b);
}

/** Reads a file in parts: the first here, the others in worker threads; returns the workers' counts (to be
 * added to the main accumulator) after adding their file figures to `r`. */
async function readInParts(
  r: FileResult, ino: number, plan: PartPlan, choice: FormatChoice, o: AnalyzeOptions, capacity: number, totals: Totals, detect: AnalyzeDetect | undefined,
  onProgress: (bytes: number, lines: number) => void,
): Promise<AccState[]> {
  const { bounds, detection } = plan;
  const workerBytes = new Array<number>(bounds.length).fill(0);
  const workerLines = new Array<number>(bounds.length).fill(0);
  let mainBytes = 0;
  const report = () => onProgress(mainBytes + workerBytes.reduce((a, b) => a + b, 0), totals.lines + workerLines.reduce((a, b) => a + b, 0));
  const parser = choice.fixed ? { format: o.format, logFormat: o.logFormat } : { format: detection.kind };
  const jobs = bounds.slice(1, -1).map((start, k) => parallel.runPart({
    file: r.file, start, end: bounds[k + 2]!, parser, label: detection.label,
    timezone: o.timezone, errorLogFormat: o.errorLogFormat, capacity, messageLevel: o.messageLevel, detect: o.detect,
  }, (bytes, lines) => { workerBytes[k] = bytes; workerLines[k] = lines; report(); }));
  // A rejected part is awaited below; until then keep Node from calling it unhandled.
  for (const j of jobs) j.catch(() => undefined);
  const analysis = new FileAnalysis(r, choice, totals, detection);
  try {
    await readFile(r.file, false, analysis, (raw) => { mainBytes = raw; report(); }, { start: 0, end: bounds[1]! });
  } finally {
    analysis.end();
  }
  const states: AccState[] = [];
  for (const job of jobs) {
    const { result, acc, matches } = await job;
    // After the parts before it (this thread's own was poured as it was read): file order.
    if (matches) detect?.pour(r.file, ino, matches);
    parallel.addPart(r, result);
    totals.lines += result.lines;
    states.push(acc);
  }
  return states;
}

/** Analyses the files and prints the report on stdout; 0, or 1 when a file could not be read (after analysing
 * the others). Throws FormatUsageError, before reading anything, for options that name no parser. */
export async function runAnalyze(o: AnalyzeOptions): Promise<number> {
  const choice = chooseFormat({ format: o.format, logFormat: o.logFormat, timezone: o.timezone, errorLogFormat: o.errorLogFormat });
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
  // Loaded only for --store (the store's engines and the window shape); opened before reading anything, so that a
  // store that cannot be opened fails at once.
  let store: import('./store.js').Backfill | undefined;
  if (o.store !== undefined) {
    const { Backfill, StoreFailure } = await import('./store.js');
    try {
      store = await Backfill.open({ store: o.store, agent: o.agent, aggregate: o.aggregate ?? 'analyze' });
    } catch (err) {
      if (!(err instanceof StoreFailure)) throw err;
      process.stderr.write(`visor analyze: ${err.message}\n`);
      return 1;
    }
  }
  try {
    return await analyze(o, choice, store);
  } finally {
    await store?.close();
  }
}

async function analyze(o: AnalyzeOptions, choice: FormatChoice, store: import('./store.js').Backfill | undefined): Promise<number> {
  if (o.detect?.verify_crawlers) {
    // The aggregate looks each claimed crawler up as it arrives; over logs already written the answers would be
    // today's, not those of when the lines were written, and a day of logs would take thousands of lookups.
    process.stderr.write('visor analyze: verify_crawlers is not applied to logs already written (no reverse DNS lookups): claimed crawlers are neither allowed as verified nor fire fake-crawler\n');
  }

  const results = o.files.map(emptyResult);
  let failed = 0;
  const fail = (r: FileResult, err: unknown) => {
    const e = err as NodeJS.ErrnoException;
    // "ENOENT: no such file or directory, open 'x'" -> "no such file or directory (ENOENT)": the name is already said.
    const m = e.code ? /^\w+: ([^,]+)/.exec(e.message) : null;
    r.error = m ? `${m[1]} (${e.code})` : e.message;
    failed++;
    process.stderr.write(`${progress ? '\r\x1b[K' : ''}visor analyze: cannot read ${r.file}: ${r.error}\n`);
  };

  // Sizes first: the progress bar's total, and missing or unreadable files reported before the long part.
  let progress: ProgressBar | undefined;
  let totalBytes = 0;
  const readable: boolean[] = [];
  const inodes: number[] = [];
  for (const [i, r] of results.entries()) {
    try {
      const s = await stat(r.file);
      if (s.isDirectory()) throw new Error('is a directory');
      r.size = s.size;
      inodes[i] = s.ino; // evidence read back later must come from this file (detect.ts)
      r.gzip = await isGzip(r.file);
      totalBytes += s.size;
      readable.push(true);
    } catch (err) {
      fail(r, err);
      readable.push(false);
    }
  }
  if (o.progress && process.stderr.isTTY) progress = new ProgressBar(process.stderr, totalBytes);

  let html: import('./html.js').HtmlReport | undefined;
  if (o.html) {
    // Loaded only for --html: the dashboard model and its page are not needed otherwise.
    const { htmlReport } = await import('./html.js');
    html = await htmlReport(results.filter((_, i) => readable[i]), choice, { top: o.top, capacity: Math.max(o.capacity, o.top), title: o.title, messageLevel: o.messageLevel });
  }
  const capacity = Math.max(o.capacity, o.top);
  const { openEnrichment } = await import('./enrich.js');
  const detect = o.detect ? new AnalyzeDetect(o.detect) : undefined;
  const totals = new Totals(capacity, html?.sink, o.messageLevel, await openEnrichment(), detect);
  const parts: AccState[] = [];
  const started = process.hrtime.bigint();
  let doneBytes = 0;
  for (const i of detect && results.length > 1 ? await timeOrder(results, readable, choice) : results.keys()) {
    const r = results[i]!;
    if (!readable[i]) continue;
    const name = basename(r.file);
    try {
      // A large plain file is read in parts by several threads (not with --html: the dashboard model is fed
      // every event in order of reading, in this thread; nor with --store: one connection writes every row, and
      // writing, not parsing, is then what takes the time).
      const threads = r.gzip || html || store ? 1 : parallel.threadsFor(r.size);
      const plan = threads > 1 ? await parallel.planParts(r.file, r.size, threads, choice) : undefined;
      if (plan) {
        parts.push(...await readInParts(r, inodes[i]!, plan, choice, o, capacity, totals, detect, (bytes, lines) => progress?.update(doneBytes + bytes, lines, name)));
      } else {
        const source = store ? { path: resolve(r.file), id: await store.identity(r.file, r.gzip), sink: store } : undefined;
        const analysis = new FileAnalysis(r, choice, totals, undefined, source);
        try {
          await readFile(r.file, r.gzip, analysis, (raw) => progress?.update(doneBytes + raw, totals.lines, name));
        } finally {
          analysis.end();
        }
      }
    } catch (err) {
      if (store?.isFailure(err)) {
        progress?.clear();
        process.stderr.write(`visor analyze: cannot write to the store ${store.engine.location} while reading ${r.file}: ${err.message} (nothing more is stored; running the same command again completes it)\n`);
        return 1;
      }
      fail(r, err);
    }
    doneBytes += r.size;
  }
  progress?.clear();

  const acc = totals.acc;
  const first = results.reduce((m, r) => (r.first_timestamp !== null && r.first_timestamp < m ? r.first_timestamp : m), Infinity);
  const last = results.reduce((m, r) => (r.last_timestamp !== null && r.last_timestamp > m ? r.last_timestamp : m), -Infinity);
  // The alerts go where the detect aggregate's go in a pipeline: the report's attacks and the page's panel.
  const alerts: Event[] = detect ? await detect.alerts(last) : [];
  for (const a of alerts) {
    acc.add(a);
    html?.sink.add(a, a.last as number);
  }
  const hasRange = first !== Infinity;
  // The report aggregate's event over the time the logs cover: requests/s is the average over that range.
  for (const p of parts) parallel.addCounters(acc, p);
  const report = acc.toEvent(hasRange ? last : 0, o.title, o.top, false);
  if (parts.length) parallel.mergeTops(report, acc, parts, o.top, capacity);
  report.window_start = hasRange ? first : null;
  report.window_end = hasRange ? last : null;
  const rangeSeconds = hasRange ? (last - first) / 1000 : 0;
  report.requests_per_second = rangeSeconds > 0 ? acc.requests / rangeSeconds : 0;
  report.message = renderReportText(report);
  const lines = results.reduce((n, r) => n + r.lines, 0);
  const unparsed = results.reduce((n, r) => n + r.unparsed, 0);

  let stored: import('./store.js').StoreFigures | undefined;
  if (store) {
    try {
      // The report only with a time range: its row is keyed by its start (and without one it is no report to the store).
      stored = await store.finish(hasRange ? report : undefined);
    } catch (err) {
      process.stderr.write(`visor analyze: cannot write to the store ${store.engine.location}: ${(err as Error).message} (running the same command again completes it)\n`);
      return 1;
    }
    if (stored.rejected_rows > 0) {
      process.stderr.write(`visor analyze: the database refused ${stored.rejected_rows} rows; they are in ${stored.rejected_file}\n`);
      failed++;
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;

  if (html && o.html) {
    try {
      await writeFile(o.html, html.render(hasRange ? last : Date.now()));
    } catch (err) {
      process.stderr.write(`visor analyze: cannot write ${o.html}: ${(err as Error).message}\n`);
      failed++;
    }
  }

  if (o.json) {
    const { message: _m, ...figures } = report;
    const out = {
      ...figures,
      lines,
      parsed: lines - unparsed,
      unparsed,
      files: results,
      elapsed_ms: Math.round(seconds * 1000),
      lines_per_second: seconds > 0 ? Math.round(lines / seconds) : null,
      ...(o.html && html ? { html: o.html } : {}),
      ...(stored ? { store: stored } : {}),
      ...(detect ? { detect: detectFigures(detect, alerts), alerts } : {}),
    };
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } else {
    const text = [
      String(report.message),
      'files:',
      ...results.map(fileLine),
      `unparsed lines: ${unparsed} of ${lines}`,
      `read ${thousands(lines)} lines (${(totalBytes / 1e6).toFixed(1)} MB) in ${seconds.toFixed(2)} s: ${thousands(seconds > 0 ? lines / seconds : 0)} lines/s`,
      ...(o.html && html ? [`html report: ${o.html}`] : []),
      ...(stored ? [storeLine(stored)] : []),
      ...(detect ? [detectLine(detectFigures(detect, alerts))] : []),
    ];
    process.stdout.write(`${text.join('\n')}\n`);
  }
  if (failed > 0) return 1;
  // Lines but not one parsed: the format is wrong (a LogFormat copied with a character lost, the wrong nickname),
  // and an empty report with exit 0 would pass for "no traffic" in a script.
  if (lines > 0 && unparsed === lines) {
    const formats = [...new Set(results.map((r) => r.format).filter(Boolean))].join(', ');
    process.stderr.write(`visor analyze: none of the ${lines} lines parsed${formats ? ` as ${formats}` : ''}; check --format / --log-format against the server's LogFormat (exit status ${EXIT_NOTHING_PARSED})\n`);
    return EXIT_NOTHING_PARSED;
  }
  return 0;
}

/** Exit status of a run that read lines but parsed none (sysexits' EX_DATAERR: the input data was incorrect). */
export const EXIT_NOTHING_PARSED = 65;
