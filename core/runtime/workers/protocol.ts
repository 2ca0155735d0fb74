// Messages between the main thread and the worker threads that run parallel filters (Plugin.parallel).
import type { Event, LogFields } from '../../api.js';
import type { ColumnBatch, EncodedEvents, UniformEvents } from './columns.js';

/** Makes one component's instance in a worker: the plugin imported from its module, the same validated options. */
export interface CreateMessage {
  type: 'create';
  id: string;
  /** A filter (default), the PartialBuilder of an aggregate split in two (Plugin.partials), or the encoder of an
   * output (Plugin.encodes). */
  kind?: 'filter' | 'aggregate' | 'output';
  module: string;
  name: string;
  options: unknown;
  /** PluginContext.downstreamFields as an array; also what the results are cut down to. */
  downstreamFields?: string[];
  configDir: string;
  service: { name: string; public_url?: string };
  /** A filter whose main output goes to this aggregate's PartialBuilder in the worker (its id). */
  partialsTo?: string;
  /** A filter whose main output goes to this output's encoder in the worker (its id). */
  encodesTo?: string;
}

export interface BatchMessage {
  type: 'batch';
  id: string;
  seq: number;
  /** The input events as they are (structured clone was cheaper for them than encodeColumns), or packed when they
   * all have the same string fields (packUniform, cheaper still), or as the bytes of lines an input did not decode. */
  events: Event[] | UniformEvents | EncodedEvents;
  /** Batches up to this seq were absorbed: the events kept for PartialBuilder.select may go. */
  release?: number;
}

/** Asks for the events PartialBuilder.select picks for `request` of batch `seq` (AggregatePartialContext.events). */
export interface SelectMessage {
  type: 'select';
  seq: number;
  request: unknown;
}

export type ToWorker = CreateMessage | BatchMessage | SelectMessage;

/** A change of one of the component's metrics since the worker last reported. */
export type MetricDelta =
  | { metric: 'receivedBytes' | 'sentBytes'; delta: number }
  | { metric: 'discarded' | 'errors'; name: string; delta: number }
  | { metric: 'counter'; name: string; help: string; labels: Record<string, string>; delta: number }
  | { metric: 'gauge'; name: string; help: string; labels: Record<string, string>; value: number };

export interface ResultMessage {
  type: 'result';
  seq: number;
  /** The main output ('') first, then the side outputs in the order the plugin emitted to them. */
  outputs: Array<[string, ColumnBatch]>;
  metrics: MetricDelta[];
  /** With partialsTo: the partial the aggregate's builder made of the main output (then not in `outputs`), the
   * number of events it stands for, and the builder's metric deltas. */
  partial?: { value: unknown; count: number; metrics: MetricDelta[] };
  /** With encodesTo: the main output as the output's encoder wrote it (UTF-8, its buffer moved; then not in
   * `outputs`), and the number of events it holds. */
  encoded?: EncodedBatch;
}

export interface EncodedBatch { data: Uint8Array; count: number }

export interface SelectedMessage {
  type: 'selected';
  seq: number;
  events?: ColumnBatch;
  error?: { message: string; stack?: string };
}

export interface FailedMessage {
  type: 'failed';
  seq: number;
  error: { message: string; stack?: string };
  metrics: MetricDelta[];
}

export interface LogMessage {
  type: 'log';
  id: string;
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields?: LogFields;
}

export type FromWorker = ResultMessage | FailedMessage | SelectedMessage | LogMessage;
