// The seams between the generator's parts: randomness, content (what a line says) and traffic (when lines
// happen). The plugin (index.ts) wires them: traffic yields timestamps, content turns each into a line.

/** A seeded pseudo-random source: the same seed gives the same sequence on every machine. */
export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** Standard normal N(0, 1). */
  normal(): number;
  /** Exponential with the given mean. */
  exponential(mean: number): number;
}

/** Makes the text of one line for a moment in time. Content makers are deterministic given their Random. */
export interface LineMaker {
  /** `timestampMs`: the event time (epoch ms) the line must carry; `level`: for error formats, the stream's level. */
  make(timestampMs: number, level?: string): string;
}

/** One stream of events over time (e.g. all access traffic, or the `warn` level of an error log). */
export interface TrafficStream {
  /** Level for error-log streams; undefined for access traffic. */
  level?: string;
  /** Heartbeat stream: fixed interval, fixed message. */
  heartbeat?: { message: string };
  /** Timestamps (epoch ms, non-decreasing) of the events due in [fromMs, toMs), in order. Stateful:
   * successive calls cover successive intervals. */
  due(fromMs: number, toMs: number): number[];
}
