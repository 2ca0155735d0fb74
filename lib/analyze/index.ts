// The engine behind `visor analyze`: a one-shot report on existing Apache logs (format detection per file,
// parallel reading of large files, the report aggregate's figures, an optional static dashboard page). The
// oclif command in bin/commands/analyze.ts only parses flags and maps the outcome to an exit status.
// html.ts is not exported: run.ts loads it only for --html; worker.ts is started by URL from parallel.ts.
export { runAnalyze, type AnalyzeOptions } from './run.js';
export { FormatUsageError } from './format.js';
