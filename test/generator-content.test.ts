// The generator's content: the PRNG and its distributions (each checked with a goodness-of-fit test that is
// also shown to reject a slightly wrong distribution), and the lines of every format read back by our own
// parsers, field by field, in several time zones.
import assert from 'node:assert/strict';
import type { Event, FilterInstance } from '../core/index.js';
import errorPlugin from '../plugins/filters/apache_error.js';
import { buildAccessParser, compileStrftime } from '../lib/apache/index.js';
import { createAccessLineMaker, type AccessLineMaker } from '../plugins/inputs/generator/content/access.js';
import { ClientPool } from '../plugins/inputs/generator/content/clients.js';
import { DEFAULT_CONTENT, DEFAULT_METHODS, DEFAULT_PATHS, DEFAULT_STATUSES, resolveContent } from '../plugins/inputs/generator/content/defaults.js';
import { createErrorLineMaker, ERROR_LEVELS, type ErrorStyle, TemplateError } from '../plugins/inputs/generator/content/error.js';
import { compileStrftimeRenderer } from '../plugins/inputs/generator/content/timefmt.js';
import { formatOffset, tzFromOption } from '../plugins/inputs/generator/content/timezone.js';
import type { ContentOptions } from '../plugins/inputs/generator/options.js';
import {
  binomialSampler, createRandom, deriveSeed, logNormal, uniform, uniformInt, weightedPicker, xoshiro128FromState, zipfSampler,
} from '../plugins/inputs/generator/random.js';
import { pluginContext } from './support/corpora.js';
import {
  binomialPmf, binomialZ, chiSquareSf, lnGamma, chiSquareTest, kolmogorovSf, ksTest, normalCdf, zipfWeights,
} from './support/stats.js';

/** A fit is accepted above this p-value; a deliberately wrong distribution must fall below REJECT. Seeds are
 * fixed, so every outcome is reproducible. */
const ACCEPT = 1e-3;
const REJECT = 1e-6;

const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);
const UTC = tzFromOption('UTC');

function content(overrides: Partial<ContentOptions> = {}): ContentOptions {
  return resolveContent(overrides);
}

/** `n` timestamps from T0 with fractional gaps (so sub-millisecond digits are exercised). */
function* timestamps(n: number, start = T0, meanGapMs = 37.3, seed = 99): Generator<number> {
  const r = createRandom(seed);
  let ts = start;
  for (let i = 0; i < n; i++) {
    ts += r.exponential(meanGapMs);
    yield ts;
  }
}

function counts(values: Iterable<number>, bins: number): Float64Array {
  const out = new Float64Array(bins);
  for (const v of values) out[v]++;
  return out;
}

function assertFits(observed: ArrayLike<number>, expected: ArrayLike<number>, wrong: ArrayLike<number>, what: string): void {
  const good = chiSquareTest(observed, expected);
  assert.ok(good.p > ACCEPT, `${what}: chi-square ${good.statistic.toFixed(1)} on ${good.df} df, p = ${good.p.toExponential(2)} (expected a fit)`);
  const bad = chiSquareTest(observed, wrong);
  assert.ok(bad.p < REJECT, `${what}: the wrong distribution was not rejected (chi-square ${bad.statistic.toFixed(1)} on ${bad.df} df, p = ${bad.p.toExponential(2)})`);
}

function weightsOf(table: Record<string, number>, keys: string[]): number[] {
  return keys.map((k) => table[k]);
}

interface AccessRun {
  lines: string[];
  events: Event[];
  /** maker.last after each line. */
  truth: Array<AccessLineMaker['last']>;
  stamps: number[];
  maker: AccessLineMaker;
}

/** `n` lines of `format`, each parsed with buildAccessParser for that format: fails on any unparsed line. */
function accessRun(format: string, n: number, opts: { content?: ContentOptions; seed?: number; tz?: string; logFormat?: boolean; start?: number; gapMs?: number } = {}): AccessRun {
  const tz = opts.tz ?? 'UTC';
  const maker = createAccessLineMaker(format, opts.content ?? DEFAULT_CONTENT, createRandom(opts.seed ?? 1), tzFromOption(tz));
  const parser = opts.logFormat
    ? buildAccessParser({ format: 'combined', log_format: format, timezone: tz })
    : buildAccessParser({ format, timezone: tz });
  const run: AccessRun = { lines: [], events: [], truth: [], stamps: [], maker };
  for (const ts of timestamps(n, opts.start, opts.gapMs)) {
    const line = maker.make(ts);
    const event: Event = { message: line };
    const failure = parser.parse(line, event);
    if (failure !== undefined) assert.fail(`${format}: unparsed (${failure}): ${line}`);
    run.lines.push(line);
    run.events.push(event);
    run.truth.push({ ...maker.last });
    run.stamps.push(ts);
  }
  return run;
}

async function errorFilter(timezone: string, unescape = false): Promise<FilterInstance> {
  return (await errorPlugin.create({ field: 'message', timezone, unescape }, pluginContext('errors', 'apache_error'))) as FilterInstance;
}

/** Lines through the apache_error filter in batches of 1000: returns parsed events and the unparsed ones. */
async function parseErrors(lines: string[], timezone: string, unescape = false): Promise<{ parsed: Event[]; unparsed: Event[] }> {
  const filter = await errorFilter(timezone, unescape);
  const parsed: Event[] = [];
  const unparsed: Event[] = [];
  for (let i = 0; i < lines.length; i += 1000) {
    const batch = lines.slice(i, i + 1000).map((message, k) => ({ n: i + k, message }));
    const out = (await filter.process(batch, { emit: (events) => unparsed.push(...events) })) as Event[];
    parsed.push(...out);
  }
  return { parsed, unparsed };
}

// ---------------------------------------------------------------------------------------------- the tests

describe('generator content', () => {
  describe('statistics helpers (test/support/stats.ts)', () => {
    it('give the textbook critical values', () => {
      assert.ok(Math.abs(chiSquareSf(3.841459, 1) - 0.05) < 1e-6, 'Math.abs(chiSquareSf(3.841459, 1) - 0.05) < 1e-6');
      assert.ok(Math.abs(chiSquareSf(18.307038, 10) - 0.05) < 1e-6, 'Math.abs(chiSquareSf(18.307038, 10) - 0.05) < 1e-6');
      assert.ok(Math.abs(chiSquareSf(124.342113, 100) - 0.05) < 1e-6, 'Math.abs(chiSquareSf(124.342113, 100) - 0.05) < 1e-6');
      assert.ok(Math.abs(chiSquareSf(1118.948, 1000) - 0.005) < 1e-4, 'Math.abs(chiSquareSf(1118.948, 1000) - 0.005) < 1e-4');
      assert.ok(Math.abs(kolmogorovSf(1.358099) - 0.05) < 1e-5, 'Math.abs(kolmogorovSf(1.358099) - 0.05) < 1e-5');
      assert.ok(Math.abs(kolmogorovSf(0.5) - 0.963945) < 1e-5, 'Math.abs(kolmogorovSf(0.5) - 0.963945) < 1e-5');
      assert.ok(Math.abs(normalCdf(1.959964) - 0.975) < 1e-6, 'Math.abs(normalCdf(1.959964) - 0.975) < 1e-6');
      const pmf = binomialPmf(10, 0.3);
      assert.ok(Math.abs(pmf[3] - 0.266827932) < 1e-12, 'Math.abs(pmf[3] - 0.266827932) < 1e-12');
      assert.ok(Math.abs(lnGamma(1001) - 5912.128178488163) < 1e-9, 'Math.abs(lnGamma(1001) - 5912.128178488163) < 1e-9');
      assert.ok(Math.abs(lnGamma(0.5) - Math.log(Math.sqrt(Math.PI))) < 1e-13, 'Math.abs(lnGamma(0.5) - Math.log(Math.sqrt(Math.PI))) < 1e-13');
    });
  });

  describe('random.ts', () => {
    it('is xoshiro128**: matches the reference output for state {1, 2, 3, 4}', () => {
      // An independent BigInt transcription of the reference C code.
      const s = [1n, 2n, 3n, 4n];
      const mask = 0xffffffffn;
      const rotl = (x: bigint, k: bigint) => ((x << k) | (x >> (32n - k))) & mask;
      const reference: number[] = [];
      for (let i = 0; i < 1000; i++) {
        reference.push(Number((rotl((s[1] * 5n) & mask, 7n) * 9n) & mask));
        const t = (s[1] << 9n) & mask;
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 11n);
      }
      assert.deepEqual(reference.slice(0, 4), [11520, 0, 5927040, 70819200]); // the published first outputs
      const r = xoshiro128FromState([1, 2, 3, 4]);
      assert.deepEqual(Array.from({ length: 1000 }, () => r.nextUint32()), reference);
    });

    it('same seed, same sequence (pinned, so any machine or version giving other numbers fails); other seed, other sequence', () => {
      const draw = (seed: number) => { const r = createRandom(seed); return Array.from({ length: 5 }, () => Math.floor(r.next() * 2 ** 32)); };
      assert.deepEqual(draw(42), draw(42));
      assert.deepEqual(draw(42), [2425535280, 2112346342, 1431194834, 2444987418, 4027475985]);
      assert.notDeepEqual(draw(42), draw(43));
      assert.notDeepEqual(draw(42), draw(42 + 2 ** 32), 'the high bits of a seed count');
      assert.notEqual(deriveSeed(7, 'traffic'), deriveSeed(7, 'content'));
      assert.equal(deriveSeed(7, 'traffic'), deriveSeed(7, 'traffic'));
    });

    it('next() and int(n) are uniform (chi-square), normal() and exponential() fit their CDFs (KS)', () => {
      const r = createRandom(1);
      const N = 200_000;
      const bins = new Float64Array(100);
      for (let i = 0; i < N; i++) bins[Math.floor(r.next() * 100)]++;
      assertFits(bins, new Float64Array(100).fill(1), Float64Array.from({ length: 100 }, (_, k) => 1 + (k < 50 ? 0.03 : -0.03)), 'next()');

      const ints = new Float64Array(37);
      for (let i = 0; i < N; i++) ints[r.int(37)]++;
      assertFits(ints, new Float64Array(37).fill(1), Float64Array.from({ length: 37 }, (_, k) => (k === 0 ? 1.25 : 1)), 'int(37)');
      const big = 1_000_003;
      for (let i = 0; i < 1000; i++) { const v = r.int(big); assert.ok(Number.isInteger(v) && v >= 0 && v < big, 'Number.isInteger(v) && v >= 0 && v < big'); }

      const normals = Float64Array.from({ length: N }, () => r.normal());
      const fit = ksTest(normals, normalCdf);
      assert.ok(fit.p > ACCEPT, `normal(): KS D = ${fit.statistic}, p = ${fit.p}`);
      assert.ok(ksTest(normals, (x) => normalCdf(x / 1.02)).p < REJECT, 'N(0, 1.02²) is rejected');

      const mean = 250;
      const exps = Float64Array.from({ length: N }, () => r.exponential(mean));
      const expFit = ksTest(exps, (x) => 1 - Math.exp(-x / mean));
      assert.ok(expFit.p > ACCEPT, `exponential(): KS D = ${expFit.statistic}, p = ${expFit.p}`);
      assert.ok(ksTest(exps, (x) => 1 - Math.exp(-x / (mean * 1.03))).p < REJECT, 'a 3% longer mean is rejected');
    });

    it('weightedPicker follows its weights (zero weights never drawn)', () => {
      const r = createRandom(2);
      const entries: Array<[string, number]> = [['a', 50], ['b', 30], ['c', 0], ['d', 15], ['e', 5]];
      const picker = weightedPicker(entries);
      const index = new Map(entries.map(([k], i) => [k, i]));
      const obs = new Float64Array(entries.length);
      for (let i = 0; i < 100_000; i++) obs[index.get(picker.sample(r))!]++;
      assert.equal(obs[2], 0);
      assertFits(obs, entries.map((e) => e[1]), [50, 30, 0, 16, 4], 'weightedPicker');
      assert.throws(() => weightedPicker([['x', 0]]), /must not all be 0/);
      assert.throws(() => weightedPicker([['x', -1]]), /finite and >= 0/);
    });

    it('zipfSampler follows 1/k^s (n = 1000, s = 1.1) and handles n = 1e6', () => {
      const r = createRandom(3);
      const z = zipfSampler(1000, 1.1);
      const obs = new Float64Array(1000);
      for (let i = 0; i < 300_000; i++) obs[z.sample(r)]++;
      assertFits(obs, zipfWeights(1000, 1.1), zipfWeights(1000, 1.05), 'zipf(1000, 1.1)');
      const huge = zipfSampler(1_000_000, 1.0);
      const head = new Float64Array(11);
      for (let i = 0; i < 100_000; i++) { const k = huge.sample(r); head[Math.min(k, 10)]++; assert.ok(k >= 0 && k < 1e6, 'k >= 0 && k < 1e6'); }
      // Head ranks against the exact probabilities (the tail pooled into one bin).
      const h = 14.392726722864989; // H(1e6)
      const expected = Array.from({ length: 11 }, (_, k) => (k < 10 ? 1 / (k + 1) / h : 1 - Array.from({ length: 10 }, (_, j) => 1 / (j + 1) / h).reduce((a, b) => a + b)));
      assert.ok(chiSquareTest(head, expected).p > ACCEPT, 'chiSquareTest(head, expected).p > ACCEPT');
    });

    it('binomialSampler is Binomial(n, p) for small, medium and large n·p', () => {
      const r = createRandom(4);
      for (const [n, p, wrongP] of [[999, 0.3, 0.305], [50, 0.02, 0.03], [100_000, 0.5, 0.501], [20, 0.9, 0.88]] as const) {
        const b = binomialSampler(n, p);
        const obs = new Float64Array(n + 1);
        for (let i = 0; i < 200_000; i++) obs[b.sample(r)]++;
        assertFits(obs, binomialPmf(n, p), binomialPmf(n, wrongP), `binomial(${n}, ${p})`);
      }
      assert.equal(binomialSampler(10, 0).sample(r), 0);
      assert.equal(binomialSampler(10, 1).sample(r), 10);
    });

    it('logNormal(median, sigma) fits the analytic CDF (KS); uniform samplers stay in range', () => {
      const r = createRandom(5);
      const ln = logNormal(2500, 1.6);
      const xs = Float64Array.from({ length: 200_000 }, () => ln.sample(r));
      const cdf = (sigma: number) => (x: number) => normalCdf(Math.log(x / 2500) / sigma);
      const fit = ksTest(xs, cdf(1.6));
      assert.ok(fit.p > ACCEPT, `log-normal: KS D = ${fit.statistic}, p = ${fit.p}`);
      assert.ok(ksTest(xs, cdf(1.55)).p < REJECT, 'sigma 1.55 is rejected');
      assert.ok(ksTest(xs, (x) => normalCdf(Math.log(x / 2450) / 1.6)).p < REJECT, 'median 2450 is rejected');
      const u = uniform(-2, 3);
      const ui = uniformInt(7);
      const obs = new Float64Array(7);
      for (let i = 0; i < 70_000; i++) {
        const v = u.sample(r);
        assert.ok(v >= -2 && v < 3, 'v >= -2 && v < 3');
        obs[ui.sample(r)]++;
      }
      assert.ok(chiSquareTest(obs, new Float64Array(7).fill(1)).p > ACCEPT, 'chiSquareTest(obs, new Float64Array(7).fill(1)).p > ACCEPT');
    });
  });

  describe('timezone.ts', () => {
    it('reads fixed offsets, UTC, IANA names and local', () => {
      assert.equal(tzFromOption('+0000').offsetMinutes(T0), 0);
      assert.equal(tzFromOption('-0700').offsetMinutes(T0), -420);
      assert.equal(tzFromOption('+05:30').offsetMinutes(T0), 330);
      assert.equal(tzFromOption('+0545').offsetMinutes(T0), 345);
      assert.equal(tzFromOption('UTC').offsetMinutes(T0), 0);
      assert.equal(tzFromOption('Europe/Paris').offsetMinutes(Date.UTC(2024, 0, 15)), 60);
      assert.equal(tzFromOption('Europe/Paris').offsetMinutes(Date.UTC(2024, 6, 15)), 120);
      assert.equal(tzFromOption('America/St_Johns').offsetMinutes(Date.UTC(2024, 0, 15)), -210);
      assert.equal(tzFromOption('local').offsetMinutes(T0), 0 - new Date(T0).getTimezoneOffset() || 0);
      assert.throws(() => tzFromOption('+2500'), /hours 00-23/);
      assert.throws(() => tzFromOption('Mars/Olympus'), /unknown time zone/);
      assert.equal(formatOffset(-420), '-0700');
      assert.equal(formatOffset(330), '+0530');
      assert.equal(formatOffset(0), '+0000');
    });

    it('local follows the machine zone across DST', () => {
      const saved = process.env.TZ;
      try {
        process.env.TZ = 'America/New_York';
        const local = tzFromOption('local');
        assert.equal(local.offsetMinutes(Date.UTC(2024, 0, 15)), -300);
        assert.equal(local.offsetMinutes(Date.UTC(2024, 6, 15)), -240);
        // 2024-03-10 07:00 UTC is 03:00 EDT, the first instant of daylight time.
        assert.equal(local.offsetMinutes(Date.UTC(2024, 2, 10, 6, 59, 59)), -300);
        assert.equal(local.offsetMinutes(Date.UTC(2024, 2, 10, 7, 0, 0)), -240);
      } finally {
        if (saved === undefined) delete process.env.TZ;
        else process.env.TZ = saved;
      }
    });
  });

  describe('access lines', () => {
    const NAMED = ['common', 'combined', 'vhost_combined', 'combinedio'];

    it('same seed, same lines; another seed, other lines', () => {
      for (const format of [...NAMED, '%h %{%Y-%m-%d %H:%M:%S}t "%r" %>s %D %{X-Forwarded-For}i %v:%p']) {
        const make = (seed: number) => {
          const m = createAccessLineMaker(format, DEFAULT_CONTENT, createRandom(seed), UTC);
          return [...timestamps(3000)].map((ts) => m.make(ts));
        };
        const a = make(7);
        assert.deepEqual(a, make(7), format);
        const b = make(8);
        const same = a.filter((line, i) => line === b[i]).length;
        assert.ok(same < 30, `${format}: ${same} of 3000 lines equal with another seed`);
      }
    });

    for (const format of NAMED) {
      it(`${format}: 20k lines all parse back to what was generated`, () => {
        // Minutes apart from 2024-02-28 22:00 UTC: through a leap day, month ends and every hour and minute.
        const run = accessRun(format, 20_000, { tz: '+0200', start: Date.UTC(2024, 1, 28, 22), gapMs: 180_000 });
        const hasB = format !== 'vhost_combined';
        for (let i = 0; i < run.lines.length; i++) {
          const e = run.events[i];
          const t = run.truth[i];
          const where = `line ${i}: ${run.lines[i]}`;
          assert.equal(e.timestamp, Math.floor(run.stamps[i] / 1000) * 1000, where);
          assert.equal(e.client_ip, run.maker.clients[t.client], where);
          assert.equal(e.ident, null, where);
          assert.equal(e.user, t.user, where);
          assert.equal(e.method, t.method, where);
          assert.equal(e.path, t.path, where);
          assert.equal(e.query, t.query, where);
          assert.equal(e.url, t.path + (t.query === null ? '' : '?' + t.query), where);
          assert.equal(e.protocol, 'HTTP/1.1', where);
          assert.equal(e.status, t.status, where);
          assert.ok(String(t.status) in DEFAULT_STATUSES, where);
          if (hasB) {
            const noBody = t.status === 304 || t.status === 204 || t.method === 'HEAD';
            assert.equal(e.bytes, noBody ? null : t.bytes, where);
            if (!noBody) assert.ok(typeof e.bytes === 'number' && e.bytes > 0, where);
          } else {
            assert.equal(e.bytes, t.bytesSent, where); // %O: headers included, never '-'
            assert.ok(t.bytesSent > 0, 't.bytesSent > 0');
          }
          if (format !== 'common') {
            assert.equal(e.referer, t.referer === '-' ? null : t.referer, where);
            assert.equal(e.user_agent, t.userAgent, where);
          }
          if (format === 'vhost_combined') {
            assert.equal(e.vhost, t.vhost, where);
            assert.equal(e.port, t.port, where);
          }
          if (format === 'combinedio') {
            assert.equal(e.bytes_received, t.bytesReceived, where);
            assert.equal(e.bytes_sent, t.bytesSent, where);
          }
        }
        assert.ok(run.lines.every((l) => l.includes(' +0200] ')), 'run.lines.every((l) => l.includes(\' +0200] \'))');
        // Both address families and the no-body cases did occur.
        assert.ok(run.events.some((e) => String(e.client_ip).includes(':')), 'some IPv6 clients');
        assert.ok(run.truth.some((t) => t.status === 304) && run.truth.some((t) => t.method === 'HEAD'), 'run.truth.some((t) => t.status === 304) && run.truth.some((t) => t.method === \'HEAD\')');
      });
    }

    it('a custom LogFormat with %D, %{X-Forwarded-For}i, %v:%p and %{%Y-%m-%d %H:%M:%S}t parses back', () => {
      const format = '%v:%p %h %l %u [%{%Y-%m-%d %H:%M:%S}t] "%r" %>s %b %D %{X-Forwarded-For}i "%{Referer}i" "%{User-Agent}i"';
      for (const tz of ['-0700', '+05:30']) {
        // Seconds apart from 2023-12-31 17:00 UTC: every minute and second, and the new year in some zones.
        const run = accessRun(format, 20_000, { tz, logFormat: true, start: Date.UTC(2023, 11, 31, 17), gapMs: 2000 });
        let forwarded = 0;
        for (let i = 0; i < run.lines.length; i++) {
          const e = run.events[i];
          const t = run.truth[i];
          const where = `line ${i}: ${run.lines[i]}`;
          assert.equal(e.timestamp, Math.floor(run.stamps[i] / 1000) * 1000, where);
          assert.equal(e.vhost, t.vhost, where);
          assert.equal(e.port, t.port, where);
          assert.equal(e.client_ip, run.maker.clients[t.client], where);
          assert.equal(e.status, t.status, where);
          assert.equal(e.duration_us, t.durationUs, where);
          assert.equal(e.path, t.path, where);
          assert.equal(e.user_agent, t.userAgent, where);
          if (e.http_x_forwarded_for !== null) {
            forwarded++;
            assert.match(String(e.http_x_forwarded_for), /^\d+\.\d+\.\d+\.\d+$/, where);
          }
        }
        assert.ok(forwarded > 5000 && forwarded < 9000, `${forwarded} lines with X-Forwarded-For`);
        // The wall clock written is the instant in that zone.
        const offset = tzFromOption(tz).offsetMinutes(T0);
        const first = new Date(Math.floor(run.stamps[0] / 1000) * 1000 + offset * 60000).toISOString().replace('T', ' ').slice(0, 19);
        assert.ok(run.lines[0].includes(`[${first}]`), run.lines[0]);
      }
    });

    it('a LogFormat using nearly every directive parses back', () => {
      const format = '%a %{c}a %A %l %u [%{%d/%b/%Y:%H:%M:%S}t.%{msec_frac}t %{%z}t] "%r" %>s %B %O %I %S %D %T %{ms}T %k %P %{tid}P '
        + '%p %{local}p %{remote}p %X %H %m %U "%q" "%f" %v %V "%{Host}i" "%{Accept-Language}i" "%{Content-Type}o" "%{Location}o" '
        + '%{UNIQUE_ID}e %L %R "%{Cookie}i" %{sec}t %{msec}t %{usec}t';
      const run = accessRun(format, 20_000, { tz: '+0530', logFormat: true, start: Date.UTC(2023, 11, 31, 17), gapMs: 2000 });
      for (let i = 0; i < run.lines.length; i++) {
        const e = run.events[i];
        const t = run.truth[i];
        const where = `line ${i}: ${run.lines[i]}`;
        assert.equal(Math.floor(e.timestamp as number), Math.floor(run.stamps[i]), where); // ms from %{msec_frac}t
        assert.equal(e.timestamp_2, Math.floor(run.stamps[i] / 1000) * 1000, where);
        assert.equal(e.timestamp_3, Math.floor(run.stamps[i]), where);
        assert.equal(e.timestamp_4, Math.floor(run.stamps[i] * 1000) / 1000, where);
        assert.equal(e.client_ip, run.maker.clients[t.client], where);
        assert.equal(e.peer_ip, e.client_ip, where);
        assert.equal(e.status, t.status, where);
        assert.equal(e.bytes, t.bytes ?? 0, where);
        assert.equal(e.bytes_sent, t.bytesSent, where);
        assert.equal(e.bytes_received, t.bytesReceived, where);
        assert.equal(e.bytes_transferred, t.bytesSent + t.bytesReceived, where);
        assert.equal(e.duration_us, t.durationUs, where);
        assert.equal(e.duration_s, Math.floor(t.durationUs / 1e6), where);
        assert.equal(e.duration_ms, Math.floor(t.durationUs / 1e3), where);
        assert.equal(e.port, t.port, where);
        assert.equal(e.local_port, t.port, where);
        assert.ok((e.client_port as number) >= 1024 && (e.client_port as number) < 65536, where);
        assert.ok(['+', '-', 'X'].includes(e.connection_status as string), where);
        assert.equal(e.method, t.method, where);
        assert.equal(e.path, t.path, where);
        assert.equal(e.query, t.query, where);
        assert.equal(e.filename, '/var/www/html' + t.path, where);
        assert.equal(e.vhost, t.vhost, where);
        assert.equal(e.server_name, t.vhost, where);
        assert.equal(e.http_host, t.vhost, where);
        assert.equal(e.sent_http_location, t.status === 301 || t.status === 302 ? `https://${t.vhost}${t.path}` : null, where);
      }
      assert.ok(run.lines.every((l) => / \+0530\] /.test(l)), 'run.lines.every((l) => / \\+0530\\] /.test(l))');
    });

    it('escapes quotes, backslashes and non-ASCII as Apache does, and they parse back', () => {
      const c = content({
        paths: ['/a"b', '/c\\d', '/caf\u00e9', '/sp%20ace'], // (a raw control character makes a request line malformed: no path)
        user_agents: ['Agent "quoted" \\ back', 'Ünïcode/1.0 (日本)'],
        referers: ['https://x.example/?q="1"'],
        users: ['us"er'],
        user_ratio: 0.5,
      });
      const run = accessRun('combined', 3000, { content: c });
      assert.ok(run.lines.some((l) => l.includes('"GET /a\\"b HTTP/1.1"')), 'quote escaped in %r');
      assert.ok(run.lines.some((l) => l.includes('\\xc3\\xa9')), 'UTF-8 bytes written as \\xhh');
      for (let i = 0; i < run.lines.length; i++) {
        const e = run.events[i];
        const t = run.truth[i];
        assert.equal(e.path, t.path);
        assert.equal(e.user_agent, t.userAgent);
        assert.equal(e.referer, t.referer);
        assert.equal(e.user, t.user);
      }
    });

    it('renders every strftime directive the parser reads, and the parser reads it back', () => {
      const formats = ['%Y-%m-%dT%H:%M:%S%z', '%d/%b/%Y:%T %z', '%a, %d %B %Y %I:%M:%S %p %z', '%A %c %z', '%F %R:%S %z',
        '%D %T %z', '%s', '%j %Y %H:%M:%S %z', '%e %h %Y %k:%M:%S %z', '%y%m%d %l:%M:%S %p %Z %z %% %n%t'];
      const r = createRandom(17);
      for (const format of formats) {
        const render = compileStrftimeRenderer(format);
        const parse = compileStrftime(format);
        for (let i = 0; i < 2000; i++) {
          const ts = Date.UTC(1999, 0, 1) + Math.floor(r.next() * 40 * 365.25 * 86400e3);
          const offset = [0, 60, -420, 330, 345, -210][i % 6];
          const text = render(ts, offset);
          assert.equal(parse(text), Math.floor(ts / 1000) * 1000, `${format}: ${JSON.stringify(text)}`);
        }
      }
      assert.equal(compileStrftimeRenderer('%a %A %b %B %e %k %l %p %j %Z')(Date.UTC(2024, 1, 5, 3, 4, 5), 0), 'Mon Monday Feb February  5  3  3 AM 036 UTC');
    });

    it('rejects what it cannot write', () => {
      assert.throws(() => createAccessLineMaker('%h %Z', DEFAULT_CONTENT, createRandom(1), UTC), /unsupported directive/);
      assert.throws(() => createAccessLineMaker('%h %{%Q}t', DEFAULT_CONTENT, createRandom(1), UTC), /unsupported time format/);
      assert.throws(() => createAccessLineMaker('combined', content({ paths: [] }), createRandom(1), UTC), /paths must not be empty/);
      assert.throws(() => createAccessLineMaker('combined', content({ statuses: { abc: 1 } }), createRandom(1), UTC), /no HTTP status/);
    });

    describe('distributions, read back from parsed lines', () => {
      const N = 200_000;
      let run: AccessRun;
      before(() => {
        run = accessRun('combined', N, { seed: 11 });
      });

      it('statuses follow the weight table (chi-square)', () => {
        const codes = Object.keys(DEFAULT_STATUSES);
        const obs = counts(run.events.map((e) => codes.indexOf(String(e.status))), codes.length);
        const wrong = { ...DEFAULT_STATUSES, 301: DEFAULT_STATUSES[302], 302: DEFAULT_STATUSES[301] };
        assertFits(obs, weightsOf(DEFAULT_STATUSES, codes), weightsOf(wrong, codes), 'statuses');
      });

      it('methods follow the weight table (chi-square)', () => {
        const methods = Object.keys(DEFAULT_METHODS);
        const obs = counts(run.events.map((e) => methods.indexOf(e.method as string)), methods.length);
        const wrong = { ...DEFAULT_METHODS, HEAD: DEFAULT_METHODS.OPTIONS, OPTIONS: DEFAULT_METHODS.HEAD };
        assertFits(obs, weightsOf(DEFAULT_METHODS, methods), weightsOf(wrong, methods), 'methods');
      });

      it('URL popularity is Zipf(zipf_s) over the paths in order (chi-square)', () => {
        const obs = counts(run.events.map((e) => DEFAULT_PATHS.indexOf(e.path as string)), DEFAULT_PATHS.length);
        assertFits(obs, zipfWeights(DEFAULT_PATHS.length, 1.1), zipfWeights(DEFAULT_PATHS.length, 1.05), 'paths');
      });

      it('clients are Zipf(s) over the pool (chi-square)', () => {
        const index = new Map(run.maker.clients.map((a, i) => [a, i]));
        const obs = counts(run.events.map((e) => index.get(e.client_ip as string)!), 1000);
        assertFits(obs, zipfWeights(1000, 1.1), zipfWeights(1000, 1.05), 'clients (zipf)');
      });

      it('the query ratio holds (binomial bound)', () => {
        const withQuery = run.events.filter((e) => e.query !== null).length;
        assert.ok(Math.abs(binomialZ(withQuery, N, 0.15)) < 4, `${withQuery} of ${N}`);
        assert.ok(Math.abs(binomialZ(withQuery, N, 0.16)) > 6, 'a ratio of 0.16 is rejected');
      });

      it('bytes are log-normal(median, sigma), rounded to whole bytes (KS with both sides of each step)', () => {
        const bytes = run.events.filter((e) => e.bytes !== null).map((e) => e.bytes as number);
        assert.ok(bytes.length > 0.85 * N, 'bytes.length > 0.85 * N');
        const F = (median: number, sigma: number) => (x: number) => normalCdf(Math.log(x / median) / sigma);
        const test = (median: number, sigma: number) => ksTest(bytes, (k) => F(median, sigma)(k + 0.5), (k) => (k <= 1 ? 0 : F(median, sigma)(k - 0.5)));
        const fit = test(2500, 1.6);
        assert.ok(fit.p > ACCEPT, `bytes: KS D = ${fit.statistic}, p = ${fit.p}`);
        assert.ok(test(2500, 1.55).p < REJECT, 'sigma 1.55 rejected');
        assert.ok(test(2400, 1.6).p < REJECT, 'median 2400 rejected');
      });
    });

    describe('client pools', () => {
      const N = 200_000;
      const linesWith = (clients: Partial<ContentOptions['clients']>, seed: number) => {
        const c = content({ clients: { ...DEFAULT_CONTENT.clients, ...clients } });
        const m = createAccessLineMaker('common', c, createRandom(seed), UTC);
        const parser = buildAccessParser({ format: 'common', timezone: 'UTC' });
        const index = new Map(m.clients.map((a, i) => [a, i]));
        const picked: number[] = [];
        for (const ts of timestamps(N)) {
          const e: Event = {};
          assert.equal(parser.parse(m.make(ts), e), undefined);
          picked.push(index.get(e.client_ip as string)!);
        }
        return { m, picked };
      };

      it('binomial(size - 1, p) clients (chi-square)', () => {
        const { picked } = linesWith({ distribution: 'binomial', p: 0.3 }, 12);
        assertFits(counts(picked, 1000), binomialPmf(999, 0.3), binomialPmf(999, 0.303), 'clients (binomial)');
      });

      it('uniform clients (chi-square), and the IPv6 share of lines within a binomial bound', () => {
        const { m, picked } = linesWith({ distribution: 'uniform', ipv6_ratio: 0.25 }, 13);
        assertFits(counts(picked, 1000), new Float64Array(1000).fill(1), zipfWeights(1000, 0.05), 'clients (uniform)');
        const v6InPool = m.clients.filter((a) => a.includes(':')).length;
        const v6Lines = picked.filter((i) => m.clients[i].includes(':')).length;
        assert.ok(Math.abs(binomialZ(v6Lines, N, v6InPool / 1000)) < 4, `${v6Lines} IPv6 lines, pool share ${v6InPool / 1000}`);
      });

      it('the IPv6 share of the pool is within a binomial bound of ipv6_ratio', () => {
        for (const [ratio, seed] of [[0.1, 1], [0.5, 2], [0.02, 3]] as const) {
          const pool = new ClientPool({ ...DEFAULT_CONTENT.clients, size: 20_000, ipv6_ratio: ratio }, createRandom(seed));
          const v6 = pool.ipv6.filter(Boolean).length;
          assert.equal(v6, pool.addresses.filter((a) => a.includes(':')).length);
          assert.equal(new Set(pool.addresses).size, 20_000, 'addresses are distinct');
          assert.ok(Math.abs(binomialZ(v6, 20_000, ratio)) < 4, `ratio ${ratio}: ${v6} of 20000`);
          assert.ok(Math.abs(binomialZ(v6, 20_000, ratio * 1.2)) > 4, `ratio ${ratio * 1.2} is rejected`);
        }
        const none = new ClientPool({ ...DEFAULT_CONTENT.clients, ipv6_ratio: 0 }, createRandom(1));
        assert.ok(none.addresses.every((a) => /^\d+\.\d+\.\d+\.\d+$/.test(a)), 'none.addresses.every((a) => /^\\d+\\.\\d+\\.\\d+\\.\\d+$/.test(a))');
      });
    });

    it('timezones: lines carry the configured offset and parse back to the input instant, across DST', () => {
      const saved = process.env.TZ;
      try {
        process.env.TZ = 'Europe/Paris';
        // 2024-10-27 01:00 UTC: Paris goes from +0200 back to +0100 (the wall clock repeats an hour).
        const start = Date.UTC(2024, 9, 27, 0, 30);
        const maker = createAccessLineMaker('combined', DEFAULT_CONTENT, createRandom(1), tzFromOption('local'));
        const parser = buildAccessParser({ format: 'combined', timezone: 'UTC' });
        const seen = new Set<string>();
        for (const ts of timestamps(20_000, start, 300)) {
          const line = maker.make(ts);
          const e: Event = {};
          assert.equal(parser.parse(line, e), undefined, line);
          assert.equal(e.timestamp, Math.floor(ts / 1000) * 1000, line);
          const offset = / ([+-]\d{4})\] /.exec(line)![1];
          assert.equal(offset, ts < Date.UTC(2024, 9, 27, 1) ? '+0200' : '+0100', line);
          seen.add(offset);
        }
        assert.deepEqual([...seen].sort(), ['+0100', '+0200']);
      } finally {
        if (saved === undefined) delete process.env.TZ;
        else process.env.TZ = saved;
      }
      for (const tz of ['+0000', '-0700', '+05:30', 'UTC']) {
        const run = accessRun('common', 2000, { tz });
        const written = formatOffset(tzFromOption(tz).offsetMinutes(T0));
        assert.ok(run.lines.every((l) => l.includes(` ${written}] `)), `${tz}: ${run.lines[0]}`);
        run.events.forEach((e, i) => assert.equal(e.timestamp, Math.floor(run.stamps[i] / 1000) * 1000));
      }
    });
  });

  describe('error lines', () => {
    const STYLES: ErrorStyle[] = ['2.2', '2.4'];

    it('same seed, same lines; another seed, other lines', () => {
      for (const style of STYLES) {
        const make = (seed: number) => {
          const m = createErrorLineMaker(style, DEFAULT_CONTENT, createRandom(seed), UTC);
          return [...timestamps(3000)].map((ts) => m.make(ts));
        };
        const a = make(7);
        assert.deepEqual(a, make(7));
        const b = make(8);
        assert.ok(a.filter((l, i) => l === b[i]).length < 300, style);
      }
    });

    for (const style of STYLES) {
      for (const tz of ['UTC', '+05:30', '-0700']) {
        it(`${style} (${tz}): 20k lines all parse back to what was generated`, async () => {
          const maker = createErrorLineMaker(style, DEFAULT_CONTENT, createRandom(21), tzFromOption(tz));
          const lines: string[] = [];
          const truth: Array<typeof maker.last> = [];
          const stamps: number[] = [];
          let k = 0;
          // Seconds apart from 2023-12-31 17:00 UTC: every minute and second, and the new year in some zones.
          for (const ts of timestamps(20_000, Date.UTC(2023, 11, 31, 17), 2000)) {
            // Every tenth line at an explicit level, cycling through all of them (2.2 had no trace levels).
            const levels = style === '2.2' ? ERROR_LEVELS.slice(0, 8) : ERROR_LEVELS;
            const level = k++ % 10 === 0 ? levels[(k / 10 | 0) % levels.length] : undefined;
            lines.push(maker.make(ts, level));
            if (level) assert.equal(maker.last.level, level);
            truth.push({ ...maker.last });
            stamps.push(ts);
          }
          const { parsed, unparsed } = await parseErrors(lines, tz);
          assert.deepEqual(unparsed.map((e) => e.message), []);
          assert.equal(parsed.length, lines.length);
          let clients = 0;
          let referers = 0;
          for (let i = 0; i < parsed.length; i++) {
            const e = parsed[i];
            const t = truth[i];
            const where = `line ${i}: ${lines[i]}`;
            if (style === '2.4') assert.equal(Math.floor(e.timestamp as number), Math.floor(stamps[i]), where);
            else assert.equal(e.timestamp, Math.floor(stamps[i] / 1000) * 1000, where);
            assert.equal(e.level, t.level, where);
            assert.equal(e.module, t.module, where);
            assert.equal(e.pid, t.pid, where);
            assert.equal(e.tid, t.tid, where);
            assert.equal(e.client_ip, t.clientIp, where);
            assert.equal(e.client_port, t.clientPort, where);
            assert.equal(e.errno, t.errno, where);
            assert.equal(e.errno_text, t.errnoText, where);
            assert.equal(e.error_code, t.errorCode, where);
            assert.equal(e.message_text, t.message, where);
            assert.equal(e.referer, t.referer, where);
            assert.equal(e.source_file ?? null, t.sourceFile, where);
            assert.equal(e.source_line ?? null, t.sourceLine, where);
            if (t.clientIp) clients++;
            if (t.referer) referers++;
            if (style === '2.2') assert.doesNotMatch(lines[i], /AH\d{5}/, where);
          }
          assert.ok(clients > 0.3 * lines.length && clients < 0.95 * lines.length, `${clients} lines with a client`);
          assert.ok(referers > 0, 'some lines carry a referer');
          assert.ok(truth.some((t) => t.clientIp?.includes(':')), 'some IPv6 clients');
          if (style === '2.4') assert.ok(truth.some((t) => t.errorCode !== null) && truth.some((t) => t.errorCode === null), 'truth.some((t) => t.errorCode !== null) && truth.some((t) => t.errorCode === null)');
        });
      }
    }

    it('draws levels from content.levels (chi-square), and messages fit their level', () => {
      const maker = createErrorLineMaker('2.4', DEFAULT_CONTENT, createRandom(31), UTC);
      const levels = Object.keys(DEFAULT_CONTENT.levels);
      const obs = new Float64Array(levels.length);
      let noticeStartup = 0;
      for (const ts of timestamps(100_000)) {
        maker.make(ts);
        obs[levels.indexOf(maker.last.level)]++;
        if (maker.last.level === 'notice' && maker.last.clientIp === null) noticeStartup++;
      }
      const wrong = { ...DEFAULT_CONTENT.levels, warn: DEFAULT_CONTENT.levels.warn * 1.1 };
      assertFits(obs, weightsOf(DEFAULT_CONTENT.levels, levels), weightsOf(wrong, levels), 'levels');
      assert.equal(noticeStartup, obs[levels.indexOf('notice')], 'notice lines are the server-wide ones');
    });

    it('local time across a DST change parses back to the input instant (TZ=Europe/Paris)', async () => {
      const saved = process.env.TZ;
      try {
        process.env.TZ = 'Europe/Paris';
        // 2024-03-31 01:00 UTC: Paris skips from 02:00 to 03:00 (an error log cannot tell apart the repeated
        // hour of the autumn change: its times carry no offset).
        for (const style of STYLES) {
          const maker = createErrorLineMaker(style, DEFAULT_CONTENT, createRandom(5), tzFromOption('local'));
          const stamps = [...timestamps(5000, Date.UTC(2024, 2, 31, 0, 30), 500)];
          const lines = stamps.map((ts) => maker.make(ts));
          assert.ok(lines.some((l) => / 01:59:\d\d/.test(l)) && lines.some((l) => / 03:00:\d\d/.test(l)) && !lines.some((l) => / 02:\d\d:\d\d/.test(l)), 'the wall clock jumps from 02:00 to 03:00');
          const { parsed, unparsed } = await parseErrors(lines, 'Europe/Paris');
          assert.equal(unparsed.length, 0);
          parsed.forEach((e, i) => assert.equal(Math.floor((e.timestamp as number) / 1000), Math.floor(stamps[i] / 1000), lines[i]));
        }
      } finally {
        if (saved === undefined) delete process.env.TZ;
        else process.env.TZ = saved;
      }
    });

    it('the time written is the wall clock of the configured zone, without an offset', () => {
      const m24 = createErrorLineMaker('2.4', DEFAULT_CONTENT, createRandom(1), tzFromOption('-0700'));
      const ts = Date.UTC(2024, 0, 5, 3, 4, 5) + 6.789;
      assert.match(m24.make(ts), /^\[Thu Jan 04 20:04:05\.006789 2024\] /);
      const m22 = createErrorLineMaker('2.2', DEFAULT_CONTENT, createRandom(1), tzFromOption('+05:30'));
      assert.match(m22.make(ts), /^\[Fri Jan 05 08:34:05 2024\] \[\w+\] /);
    });

    it('templates: tags, errno, placeholders, escapes; unknown placeholders and bad tags are refused', () => {
      const c = content({
        error_messages: ['[mymod,crit] (13)Permission denied: AH09999: {path} for {user} and again {path} {{literal}}', '[noclient,alert] plain {n}'],
        paths: ['/p\\q'],
        users: ['eve'],
      });
      const m = createErrorLineMaker('2.4', c, createRandom(1), UTC);
      const line = m.make(T0, 'crit');
      assert.match(line, /\[mymod:crit\] \[pid \d+:tid \d+\] \(13\)Permission denied: \[client [^\]]+\] AH09999: \/p\\\\q for eve and again \/p\\\\q \{literal\}(, referer: \S+)?$/);
      assert.doesNotMatch(m.make(T0, 'alert'), /\[client /);
      const m22 = createErrorLineMaker('2.2', c, createRandom(1), UTC);
      assert.match(m22.make(T0, 'crit'), /^\[[^\]]+\] \[crit\] \[client [\d.:a-f]+\] \(13\)Permission denied: \/p\\\\q for eve/);
      assert.throws(() => createErrorLineMaker('2.4', content({ error_messages: ['x {nope}'] }), createRandom(1), UTC), TemplateError);
      assert.throws(() => createErrorLineMaker('2.4', content({ error_messages: ['[bad tag] x'] }), createRandom(1), UTC), TemplateError);
      assert.throws(() => createErrorLineMaker('2.4', content({ levels: { fatal: 1 } }), createRandom(1), UTC), /no Apache level/);
    });
  });

  describe('throughput (printed, not asserted)', () => {
    it('measures lines per second', function () {
      this.timeout(60_000);
      const measure = (name: string, make: (ts: number) => string) => {
        const N = 1_000_000;
        let ts = T0;
        let bytes = 0;
        for (let i = 0; i < 100_000; i++) bytes += make(ts += 0.7).length; // warm-up
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < N; i++) bytes += make(ts += 0.7).length;
        const s = Number(process.hrtime.bigint() - t0) / 1e9;
        console.log(`      ${name}: ${(N / s / 1e6).toFixed(2)}M lines/s`);
        assert.ok(bytes > 0, 'bytes > 0');
      };
      const combined = createAccessLineMaker('combined', DEFAULT_CONTENT, createRandom(1), UTC);
      measure('access combined', (ts) => combined.make(ts));
      const e24 = createErrorLineMaker('2.4', DEFAULT_CONTENT, createRandom(1), UTC);
      measure('error 2.4', (ts) => e24.make(ts));
      const e22 = createErrorLineMaker('2.2', DEFAULT_CONTENT, createRandom(1), UTC);
      measure('error 2.2', (ts) => e22.make(ts));
    });
  });
});
