// Shared by the store tests (SQLite and PostgreSQL): a seeded access log with repeated identical lines, the
// pipeline config that stores it (tail with positions -> apache_access -> window with state -> store), and a
// brute-force recount of the log with a regex of its own (not Visor's parser) to compare the tables with.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { combinedLines } from '../bench/apache-lines.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const LINE = /^(\S+) \S+ \S+ \[(\d\d)\/(\w{3})\/(\d{4}):(\d\d):(\d\d):(\d\d) \+0000\] "(\S+) ([^ ?"]+)\S* [^"]*" (\d{3}) (\S+)/;

/** `n` seeded combined lines; every 50th is the line before it again (identical text in the same second:
 * only the position tells them apart). */
export function accessLog(n: number, seed = 5): string[] {
  const lines = combinedLines(n, seed);
  for (let i = 50; i < n; i += 50) lines[i] = lines[i - 1];
  return lines;
}

export async function writeLog(file: string, lines: string[]): Promise<void> {
  await writeFile(file, lines.join('\n') + '\n');
}

export interface ExpectedEvent { offset: number; time: number; client_ip: string; method: string; path: string; status: number; bytes: number | null }

/** Each line's fields by its byte offset, and the count per (minute, status). */
export function recount(lines: string[]): { events: ExpectedEvent[]; windows: Map<string, number> } {
  const events: ExpectedEvent[] = [];
  const windows = new Map<string, number>();
  let offset = 0;
  for (const line of lines) {
    const m = LINE.exec(line);
    assert.ok(m, `unexpected line ${line}`);
    const time = Date.UTC(Number(m[4]), MONTHS.indexOf(m[3]), Number(m[2]), Number(m[5]), Number(m[6]), Number(m[7]));
    const status = Number(m[10]);
    events.push({ offset, time, client_ip: m[1], method: m[8], path: m[9], status, bytes: m[11] === '-' ? null : Number(m[11]) });
    const key = `${Math.floor(time / 60_000) * 60_000}|${status}`;
    windows.set(key, (windows.get(key) ?? 0) + 1);
    offset += Buffer.byteLength(line) + 1;
  }
  return { events, windows };
}

/** tail (positions, exit at the end) -> apache_access -> window (1m by status, state) -> store, with `store` the
 * store's own options (YAML flow text). */
export function storeConfig(store: string, extra = ''): string {
  return `service: { data_dir: ./state, log_level: warn${extra} }
inputs:
  logs: { type: tail, path: access.log, read_from: beginning, exit_on_eof: true, position_field: position, checkpoint_interval: 100ms, batch_size: 500 }
filters:
  access: { type: apache_access, inputs: [logs], timezone: UTC }
aggregates:
  traffic:
    type: window
    inputs: [access]
    window: { size: 1m }
    group_by: [status]
    metrics: { bytes: sum(bytes) }
    distinct: [client_ip]
    state: true
    ack: emit
outputs:
  db: { type: store, inputs: [access, traffic], events: true, agent: test-agent, ${store} }
  unparsed: { type: blackhole, inputs: [access._unparsed] }
  late: { type: blackhole, inputs: [traffic._late] }
`;
}

/** What the tables should hold, compared with what a client read back (rows as the tests' clients return them). */
export function assertStored(
  lines: string[],
  stored: { events: Array<{ origin: string; time: number; client_ip: string; method: string; path: string; status: number; bytes: number | null }>; windows: Array<{ window_start: number; group_key: string; count: number }> },
): void {
  const expected = recount(lines);
  assert.equal(stored.events.length, lines.length, 'one row per line');
  const byOffset = new Map<number, (typeof stored.events)[number]>();
  for (const e of stored.events) {
    const offset = Number(e.origin.slice(e.origin.lastIndexOf(':') + 1));
    assert.ok(!byOffset.has(offset), `offset ${offset} stored twice`);
    byOffset.set(offset, e);
  }
  for (const want of expected.events) {
    const got = byOffset.get(want.offset);
    assert.ok(got, `line at offset ${want.offset} missing`);
    assert.deepEqual(
      { time: Number(got.time), client_ip: got.client_ip, method: got.method, path: got.path, status: Number(got.status), bytes: got.bytes === null ? null : Number(got.bytes) },
      { time: want.time, client_ip: want.client_ip, method: want.method, path: want.path, status: want.status, bytes: want.bytes },
      `line at offset ${want.offset}`,
    );
  }
  const windows = new Map(stored.windows.map((w) => [`${Number(w.window_start)}|${JSON.parse(w.group_key)[0]}`, Number(w.count)]));
  assert.deepEqual(new Map([...windows].sort()), new Map([...expected.windows].sort()), 'window counts equal the recount');
}
