// apache_access parse throughput on 1,000,000 generated combined lines, beside a split-only baseline.
import type { Event, FilterInstance } from '../../core/index.js';
import { pluginContext } from '../support/corpora.js';
import accessPlugin from '../../plugins/filters/apache_access.js';
import { combinedLines } from './apache-lines.js';


const nsPer = (secs: number, n: number) => (secs * 1e9) / n;

export async function benchAccessParser(count = Number(process.env.BENCH_LINES ?? 1_000_000)): Promise<string[]> {
  const lines = combinedLines(count);
  const text = Buffer.from(lines.join('\n') + '\n');
  const mb = text.length / 1e6;

  // Baseline: find every line end, nothing else.
  let t = process.hrtime.bigint();
  let n = 0;
  for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) n++;
  const splitSecs = Number(process.hrtime.bigint() - t) / 1e9;

  const filter = (await accessPlugin.create({ field: 'message', format: 'combined', timezone: 'UTC' }, pluginContext('access', 'apache_access'))) as FilterInstance;
  const ctx = { emit: () => undefined, hold: () => { throw new Error('no'); } };
  const run = () => {
    let parsed = 0;
    for (let i = 0; i < lines.length; i += 1000) {
      const end = Math.min(i + 1000, lines.length);
      const batch: Event[] = new Array(end - i);
      for (let k = i; k < end; k++) batch[k - i] = { message: lines[k] };
      parsed += (filter.process(batch, ctx) as Event[]).length;
    }
    return parsed;
  };
  run(); // warm-up: let the JIT settle
  t = process.hrtime.bigint();
  const parsed = run();
  const parseSecs = Number(process.hrtime.bigint() - t) / 1e9;
  if (parsed !== count || n !== count) throw new Error(`parsed ${parsed} / split ${n} of ${count}`);
  const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
  return [
    `apache_access (combined) on ${fmt(count)} generated lines, ${mb.toFixed(0)} MB, in memory:`,
    `  split lines only (Buffer indexOf)  ${fmt(count / splitSecs).padStart(12)} lines/s ${(mb / splitSecs).toFixed(0).padStart(6)} MB/s ${nsPer(splitSecs, count).toFixed(0).padStart(5)} ns/line (baseline)`,
    `  parse into 13 fields               ${fmt(count / parseSecs).padStart(12)} lines/s ${(mb / parseSecs).toFixed(0).padStart(6)} MB/s ${nsPer(parseSecs, count).toFixed(0).padStart(5)} ns/line (${(splitSecs / parseSecs * 100).toFixed(1)}% of baseline speed)`,
  ];
}

if (process.argv[1]?.endsWith('parsers-access.js') || process.argv[1]?.endsWith('parsers-access.ts')) {
  benchAccessParser().then((l) => console.log(l.join('\n')));
}
