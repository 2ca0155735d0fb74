// `visor analyze`: attack detection with the detect aggregate's rules (lib/detect) over every parsed access and error
// event. A detection depends on the order of a client's matches (leaky buckets over event time), and a large file is
// read in parts by several threads; so the work is split as lib/detect's Detector splits it: each reading thread
// matches (the rules' conditions: the costly part, their regexes), and the main thread pours every match into the
// buckets in file order — its own part's as it reads them, each worker's part's, sent as compact records, after the
// parts before it. One thread or several, the buckets see the same matches in the same order: the same alerts.
//
// Evidence is the raw line (as the detect aggregate keeps the tail input's line). A worker sends no text: a match
// record holds its line's byte offset, and the few lines an alert keeps as samples are read back from the file at the
// end. Aggressive-crawl matches nearly every page request, so a record is kept to 36 bytes plus each distinct client
// and vhost once: a `distinct` value (aggressive-crawl's and probing's: the path, of which a large log has millions)
// is sent as a 53-bit hash (distinctKey), in every thread alike, so one thread and several compare the same keys.
import { open } from 'node:fs/promises';
import { detachString, type Event } from '../../core/index.js';
import { alertOfResult, AllowList, Detector, digestIdentity, keyOf, rulesOf, type DetectorResult, type DetectSettings } from '../detect/index.js';

/** Where to read a sample line from, once it is known to be kept: the file (and its inode when it was read, so that
 * a file replaced since, by a rotation, gives no other file's line). */
export interface LineRef { file: string; ino: number; offset: number }
type Sample = string | LineRef;

/** The longest evidence line, as the detect aggregate keeps it (lib/detect/evidence.ts). */
const EVIDENCE_CHARS = 500;
/** Bytes read back for one sample: 500 UTF-16 code units take at most 1500 bytes of UTF-8. */
const EVIDENCE_BYTES = 2048;

/** What the reading loop (read.ts) hands on of each parsed event: the event, its line, and the line's byte offset in
 * the file when `offsets` asked the reader to keep them (-1 otherwise). */
export interface DetectSink {
  readonly offsets: boolean;
  event(e: Event, line: string, offset: number): void;
}

/** A `distinct` value as the buckets compare it: a 53-bit hash (two 32-bit FNV-1a, exact in a double) of the string,
 * or of the JSON of another value with its type. Two values of one bucket (at most capacity + 1 of them: 101 for
 * aggressive-crawl) share a key by chance with a probability below 101^2 / 2^54 = 6e-13. */
export function distinctKey(v: unknown): number {
  const s = typeof v === 'string' ? v : `\u0000${typeof v}:${JSON.stringify(v) ?? ''}`;
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  return (a >>> 0) * 2 ** 21 + (b >>> 11);
}

/** The time a match pours at: the event's; without one (never for the Apache parsers), 0, which a bucket reads as
 * its latest time (it never leaks backwards), so the result does not depend on the clock. */
const timeOf = (e: Event): number => (typeof e.timestamp === 'number' && e.timestamp === e.timestamp ? e.timestamp : 0);

function newDetector(settings: DetectSettings): Detector<Sample, Sample> {
  return new Detector<Sample, Sample>(rulesOf(settings), new AllowList(settings.allow_networks, settings.allow_when, settings.verify_crawlers), {
    maxClients: settings.max_clients,
    samples: settings.samples,
    digests: settings.quiet_digest ?? true,
    // A line of this thread's reading (a slice of a 1 MiB chunk: detached), or a reference to copy (the caller reuses it).
    sampleOf: (item) => (typeof item === 'string' ? detachString(item.slice(0, EVIDENCE_CHARS)) : { file: item.file, ino: item.ino, offset: item.offset }),
  });
}

/** A part's matches as a worker sends them: entry i is one match of rule `rule[i]`; clients and vhosts are indexes
 * into `strings` (-1: none); `value` is the distinctKey of the rule's `distinct` value (0 when it has none). */
export interface MatchRecords {
  n: number;
  rule: Uint32Array;
  client: Int32Array;
  vhost: Int32Array;
  value: Float64Array;
  time: Float64Array;
  offset: Float64Array;
  strings: string[];
  allowed: number;
}

/** The transferable buffers of `m` (postMessage moves them instead of copying). */
export function recordBuffers(m: MatchRecords): ArrayBuffer[] {
  return [m.rule, m.client, m.vhost, m.value, m.time, m.offset].map((a) => a.buffer as ArrayBuffer);
}

type Columns = Pick<MatchRecords, 'rule' | 'client' | 'vhost' | 'value' | 'time' | 'offset'>;
const columns = (n: number): Columns => ({
  rule: new Uint32Array(n), client: new Int32Array(n), vhost: new Int32Array(n), value: new Float64Array(n), time: new Float64Array(n), offset: new Float64Array(n),
});

/** A worker's sink: the matches of its part, recorded in reading order. */
export class MatchRecorder implements DetectSink {
  readonly offsets = true;
  private readonly detector: Detector<Sample, Sample>;
  private readonly matched: number[] = [];
  private cols = columns(1 << 14);
  private n = 0;
  private readonly strings: string[] = [];
  private readonly stringIds = new Map<string, number>();

  constructor(settings: DetectSettings) {
    this.detector = newDetector(settings);
  }

  private stringId(s: string | null): number {
    if (s === null) return -1;
    let id = this.stringIds.get(s);
    if (id === undefined) {
      id = this.strings.push(detachString(s)) - 1;
      this.stringIds.set(this.strings[id]!, id);
    }
    return id;
  }

  event(e: Event, _line: string, offset: number): void {
    const matched = this.matched;
    this.detector.match(e, matched);
    if (matched.length === 0) return;
    const client = this.stringId(keyOf(e.client_ip));
    const vhost = this.stringId(keyOf(e.vhost));
    const t = timeOf(e);
    const rules = this.detector.rules;
    for (let k = 0; k < matched.length; k++) {
      const r = matched[k]!;
      if (this.n === this.cols.rule.length) this.grow();
      const c = this.cols;
      const i = this.n++;
      c.rule[i] = r;
      c.client[i] = client;
      c.vhost[i] = vhost;
      const distinct = rules[r]!.distinct;
      c.value[i] = distinct ? distinctKey(distinct(e)) : 0;
      c.time[i] = t;
      c.offset[i] = offset;
    }
  }

  private grow(): void {
    const next = columns(this.cols.rule.length * 2);
    for (const k of Object.keys(next) as (keyof Columns)[]) next[k].set(this.cols[k] as never);
    this.cols = next;
  }

  /** The records: views of their first `n` entries (their buffers are transferred whole, not copied). */
  records(): MatchRecords {
    const n = this.n;
    const c = this.cols;
    return {
      n, rule: c.rule.subarray(0, n), client: c.client.subarray(0, n), vhost: c.vhost.subarray(0, n), value: c.value.subarray(0, n),
      time: c.time.subarray(0, n), offset: c.offset.subarray(0, n), strings: this.strings, allowed: this.detector.allowed,
    };
  }
}

/** The main thread's detection: its own reading poured as it goes, the workers' records poured in file order. */
export class AnalyzeDetect implements DetectSink {
  readonly offsets = false;
  private readonly detector: Detector<Sample, Sample>;
  private readonly matched: number[] = [];
  private readonly found: DetectorResult<Sample>[] = [];
  /** Matches poured (one per rule an event matched), and events an allow-list kept out. */
  matches = 0;
  private workerAllowed = 0;

  constructor(readonly settings: DetectSettings) {
    this.detector = newDetector(settings);
  }

  get rules(): number {
    return this.detector.rules.length;
  }

  get allowed(): number {
    return this.detector.allowed + this.workerAllowed;
  }

  event(e: Event, line: string): void {
    const matched = this.matched;
    const d = this.detector;
    d.match(e, matched);
    if (matched.length === 0) return;
    const client = keyOf(e.client_ip);
    const vhost = keyOf(e.vhost);
    const t = timeOf(e);
    // The watermark (digests of ended quiet periods) moves with the matches only, in every thread alike: the
    // records carry no other event's time. A digest's content is the same either way; see alerts() for the end.
    d.advance(t, this.found);
    for (let k = 0; k < matched.length; k++) {
      const r = matched[k]!;
      const distinct = d.rules[r]!.distinct;
      d.pour(r, client, vhost, t, distinct ? distinctKey(distinct(e)) : 0, line, this.found);
    }
    this.matches += matched.length;
  }

  /** Pours a worker's records; `file` (inode `ino`) is where their offsets point. */
  pour(file: string, ino: number, m: MatchRecords): void {
    const d = this.detector;
    const ref: LineRef = { file, ino, offset: 0 };
    const { strings } = m;
    for (let i = 0; i < m.n; i++) {
      ref.offset = m.offset[i]!;
      const c = m.client[i]!;
      const v = m.vhost[i]!;
      d.advance(m.time[i]!, this.found);
      d.pour(m.rule[i]!, c < 0 ? null : strings[c]!, v < 0 ? null : strings[v]!, m.time[i]!, m.value[i]!, ref, this.found);
    }
    this.matches += m.n;
    this.workerAllowed += m.allowed;
  }

  /** The alert events (firings and quiet-period digests), in the order they were made, each at the latest event
   * time it covers, with its sample lines read back. `last`: the latest time of all the files — the quiet periods
   * it passes ended; those still open are reported as they stand (the aggregate's flush at shutdown). A digest
   * amended by lines out of order in the file (its period had ended) takes the place of the one it corrects: one
   * digest per quiet period, as the store keeps one row. */
  async alerts(last: number): Promise<Event[]> {
    this.detector.advance(last, this.found);
    this.detector.flush(this.found);
    const results = latestDigests(this.found);
    const lines = await readBack(results.flatMap((d) => d.samples.filter((s): s is LineRef => typeof s !== 'string')));
    return results.map((d) => alertOfResult({ ...d, samples: d.samples.map((s) => (typeof s === 'string' ? s : lines.get(s)!)) } as DetectorResult, d.last));
  }
}

/** `found` with each amended digest in the place of the digest of its period made before it. */
function latestDigests<S>(found: DetectorResult<S>[]): DetectorResult<S>[] {
  const out: DetectorResult<S>[] = [];
  const at = new Map<string, number>();
  for (const d of found) {
    if (d.state !== 'digest') {
      out.push(d);
      continue;
    }
    const key = digestIdentity(d);
    const i = at.get(key);
    if (d.amended && i !== undefined) out[i] = d;
    else at.set(key, out.push(d) - 1);
  }
  return out;
}

/** The lines at the references: each cut at its newline (and a CR before it, as the line splitter cuts it), decoded
 * as UTF-8 (what the reader decodes a line with any non-ASCII byte as; ASCII is the same either way), and cut to
 * EVIDENCE_CHARS as a line read in this thread is. A file that cannot be read back gives a line saying so. */
async function readBack(refs: LineRef[]): Promise<Map<LineRef, string>> {
  const out = new Map<LineRef, string>();
  const byFile = new Map<string, LineRef[]>();
  for (const r of refs) {
    let list = byFile.get(r.file);
    if (!list) byFile.set(r.file, (list = []));
    list.push(r);
  }
  const buf = Buffer.alloc(EVIDENCE_BYTES);
  for (const [file, list] of byFile) {
    let fh: import('node:fs/promises').FileHandle | undefined;
    try {
      fh = await open(file, 'r');
      if ((await fh.stat()).ino !== list[0]!.ino) throw new Error('the file was replaced since it was read (rotated?)');
      for (const r of list) {
        const { bytesRead } = await fh.read(buf, 0, EVIDENCE_BYTES, r.offset);
        let end = buf.subarray(0, bytesRead).indexOf(10);
        if (end < 0) end = bytesRead;
        else if (end > 0 && buf[end - 1] === 13) end--;
        out.set(r, buf.toString('utf8', 0, end).slice(0, EVIDENCE_CHARS));
      }
    } catch (err) {
      for (const r of list) if (!out.has(r)) out.set(r, `(line at byte ${r.offset} of ${file} not read back: ${(err as Error).message})`);
    } finally {
      await fh?.close();
    }
  }
  return out;
}
