// The `generator` input: fake Apache traffic that looks and behaves like a busy server, at a controlled
// rate with bursts, on real or simulated time, byte-identical for the same seed.
import { definePlugin, type Event, type InputRuntime } from '../../../core/index.js';
import { realClock, simulatedClock, type Clock } from './clock.js';
import { createAccessLineMaker } from './content/access.js';
import { resolveContent } from './content/defaults.js';
import { createErrorLineMaker } from './content/error.js';
import { ctimeParts, pad6 } from './content/timefmt.js';
import { tzFromOption, type TimeZone } from './content/timezone.js';
import type { LineMaker, TrafficStream } from './contracts.js';
import type { GeneratorOptions } from './options.js';
import { createRandom, deriveSeed } from './random.js';
import { GENERATOR_SCHEMA, parseStart, writesErrorLog } from './schema.js';
import { burstSchedule, heartbeatStream, intervalStream, Limits, mergeDue, rateStream, type DueEvent } from './traffic.js';

/** Real time is advanced in steps this long: short enough for smooth output, long enough to batch. */
const REAL_STEP_MS = 20;

/** Heartbeats are written as the log would carry them: an info line in error logs, the bare message in
 * access logs (where any line that is no request is one our parser sends to _unparsed). */
function heartbeatText(o: GeneratorOptions, tz: TimeZone, ts: number, message: string, pid: number): string {
  if (!writesErrorLog(o)) return message;
  const [head, year] = ctimeParts(ts, tz.offsetMinutes(ts));
  if (o.format === 'error_2.2') return `[${head}${year}] [info] ${message}`;
  return `[${head}.${pad6(Math.floor(ts % 1000) * 1000)}${year}] [visor:info] [pid ${pid}] ${message}`;
}

export default definePlugin({
  kind: 'input',
  name: 'generator',
  description: 'Fake Apache traffic (access or error log lines in message) with realistic content, a controlled rate, scheduled and random bursts, a smooth profile, heartbeats, real or simulated time; the same seed gives the same bytes.',
  schema: GENERATOR_SCHEMA,
  create(options, context) {
    const seed = options.seed ?? (Math.random() * 2 ** 31) | 0;
    if (options.seed === undefined) context.logger.info('generator seed (set seed to repeat this output)', { seed });
    const content = resolveContent(options.content);
    const tz = tzFromOption(options.timezone);
    const contentRandom = createRandom(deriveSeed(seed, 'content'));
    const maker: LineMaker = options.log_format !== undefined
      ? createAccessLineMaker(options.log_format, content, contentRandom, tz)
      : options.format === 'error_2.2' || options.format === 'error_2.4'
        ? createErrorLineMaker(options.format === 'error_2.2' ? '2.2' : '2.4', content, contentRandom, tz)
        : createAccessLineMaker(options.format, content, contentRandom, tz);
    const startAt = options.start_time !== undefined ? parseStart(options.start_time) : undefined;
    // A pid that depends only on the seed, so heartbeat lines are reproducible too.
    const heartbeatPid = 1000 + (deriveSeed(seed, 'heartbeat-pid') % 60000);

    return {
      async run(runtime: InputRuntime) {
        const clock: Clock = startAt !== undefined ? simulatedClock(startAt, options.speed) : realClock();
        const start = clock.now();
        const limits = new Limits({ count: options.count, duration: options.duration, startMs: start });
        const streams = buildStreams(options, seed, start);
        const toEvent = (d: DueEvent): Event => {
          const hb = d.stream.heartbeat;
          if (hb) return { message: heartbeatText(options, tz, d.ts, hb.message, heartbeatPid), heartbeat: true };
          const message = maker.make(d.ts, d.stream.level);
          message.charCodeAt(0); // flattens the rope the line was built as: ~20 heap objects become one
          return { message };
        };
        if (options.rate === 'max' && !options.level_streams) {
          await runAtMaxRate(runtime, clock, limits, streams.heartbeat, toEvent, options.batch_size);
          return;
        }
        const rated = streams.all;
        let cursor = start;
        const batch = options.batch_size;
        while (!runtime.signal.aborted && !limits.done) {
          // Simulated time at full speed moves in steps worth about one batch; real time in short steps.
          const step = clock.instant ? Math.max(1, (batch / Math.max(1, streams.rateAt(cursor))) * 1000) : REAL_STEP_MS;
          const target = limits.clamp(cursor + step);
          await clock.sleepUntil(target, runtime.signal);
          if (runtime.signal.aborted) break;
          const to = limits.clamp(Math.max(target, clock.now()));
          const taken = limits.take(mergeDue(rated, cursor, to), to);
          cursor = to;
          for (let i = 0; i < taken.events.length; i += batch) {
            await runtime.emit(taken.events.slice(i, i + batch).map(toEvent));
          }
          if (taken.done) break;
        }
      },
    };
  },
});

interface Streams {
  all: TrafficStream[];
  heartbeat: TrafficStream | undefined;
  /** Lines per second at t, to size simulated steps. */
  rateAt(t: number): number;
}

function buildStreams(o: GeneratorOptions, seed: number, start: number): Streams {
  const schedule = burstSchedule(o.bursts, start, createRandom(deriveSeed(seed, 'bursts')));
  const all: TrafficStream[] = [];
  let rateAt = (_t: number) => 0;
  if (o.level_streams && Object.keys(o.level_streams).length) {
    let total = 0;
    for (const [level, s] of Object.entries(o.level_streams)) {
      all.push(intervalStream({
        level, interval: s.interval, peak_interval: s.peak_interval, startMs: start,
        inPeak: (t) => schedule.inBurst(t), nextPeakChange: (t) => schedule.nextChange(t),
        random: createRandom(deriveSeed(seed, `level:${level}`)),
      }));
      total += 2000 / (s.interval[0] + s.interval[1]);
    }
    rateAt = () => total;
  } else if (o.rate !== 'max') {
    const stream = rateStream({ rate: o.rate, schedule, profile: o.profile, startMs: start });
    all.push(stream);
    rateAt = (t) => stream.rateAt(t);
  }
  const heartbeat = o.heartbeat ? heartbeatStream({ interval: o.heartbeat.interval, message: o.heartbeat.message, startMs: start }) : undefined;
  if (heartbeat) all.push(heartbeat);
  return { all, heartbeat, rateAt };
}

/** `rate: max`: batches as fast as downstream takes them, stamped with the clock's time. */
async function runAtMaxRate(
  runtime: InputRuntime, clock: Clock, limits: Limits, heartbeat: TrafficStream | undefined,
  toEvent: (d: DueEvent) => Event, batch: number,
): Promise<void> {
  const lineStream: TrafficStream = { due: () => [] };
  let cursor = clock.now();
  while (!runtime.signal.aborted && !limits.done) {
    const now = Math.max(cursor, clock.now());
    const due: DueEvent[] = heartbeat ? mergeDue([heartbeat], cursor, now) : [];
    for (let i = 0; i < batch; i++) due.push({ ts: now, stream: lineStream });
    cursor = now;
    const taken = limits.take(due, now);
    if (taken.events.length) await runtime.emit(taken.events.map(toEvent));
    if (taken.done) return;
    if (clock.instant) await clock.sleepUntil(now + 1, runtime.signal); // simulated: 1 ms per batch
  }
}
