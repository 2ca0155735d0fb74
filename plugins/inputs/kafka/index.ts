// The `kafka` input: a kafkajs consumer in a group. Each fetched batch is emitted in chunks with an ack;
// per partition, core's AckedOffsets tracks which offsets every output has delivered, and only those are
// committed (every commit_interval, before a rebalance and at shutdown). At-least-once: after a restart,
// a crash or a rebalance, what was emitted but not yet committed is read again (duplicates, never loss).
import { AckedOffsets, Backoff, checkByParsing, definePlugin, positiveDuration, sleep, type Event } from '../../../core/index.js';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import { connectionSchema, createKafka, partitionAssignments, withTimeout } from '../../../lib/kafka/index.js';

/** A `topics` entry as kafkajs subscribes to it: `/regex/` matches topic names, anything else is one topic. Throws
 * (SyntaxError) for a regex that does not compile: the schema checks the entries with this. */
function topicPattern(topic: string): string | RegExp {
  return topic.length > 2 && topic.startsWith('/') && topic.endsWith('/') ? new RegExp(topic.slice(1, -1)) : topic;
}

interface PartitionState { topic: string; partition: number; acked: AckedOffsets; lastCommitted: number }

function headerValues(headers: KafkaMessage['headers']): Record<string, string | string[]> | undefined {
  if (!headers) return undefined;
  let out: Record<string, string | string[]> | undefined;
  for (const name in headers) {
    const v = headers[name];
    if (v === undefined) continue;
    out ??= {};
    out[name] = Array.isArray(v) ? v.map((x) => x.toString()) : v.toString();
  }
  return out;
}

export default definePlugin({
  kind: 'input',
  name: 'kafka',
  description: 'Consumes Kafka topics in a consumer group (kafkajs): one event per message, { message: value as UTF-8, kafka: { topic, partition, offset, key, timestamp, headers, generation } }. Offsets are committed only once every output delivered the events (at-least-once: after a restart or rebalance, uncommitted messages are read again).',
  schema: {
    type: 'object',
    required: ['brokers', 'group_id', 'topics'],
    properties: {
      ...connectionSchema('visor'),
      group_id: { type: 'string', minLength: 1, description: 'Consumer group: agents with the same group split the partitions between them.' },
      topics: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1, check: checkByParsing((t) => topicPattern(String(t))) }, description: 'Topics to consume; /regex/ matches the existing topics when the consumer starts.' },
      from: { enum: ['latest', 'beginning'], default: 'latest', description: 'Where a group with no committed offset starts: new messages only, or the oldest retained.' },
      session_timeout: { duration: true, default: '30s', description: 'The group drops this consumer when no heartbeat arrived for this long.' },
      heartbeat_interval: { duration: true, default: '3s', check: positiveDuration('heartbeat_interval: 3s'), description: 'Heartbeats to the group coordinator (also sent while waiting on backpressure).' },
      rebalance_timeout: { duration: true, default: '60s', description: 'How long the coordinator waits for members to rejoin during a rebalance.' },
      max_bytes: { size: true, default: '10MiB', description: 'Most bytes per fetch (all partitions).' },
      max_wait: { duration: true, default: '1s', description: 'Longest wait of a fetch for new messages (heartbeats are sent between fetches: keep it well under session_timeout).' },
      batch_size: { type: 'integer', minimum: 1, default: 1000, description: 'Most messages per emitted batch (one ack each).' },
      commit_interval: { duration: true, default: '1s', check: positiveDuration('commit_interval: 1s'), description: 'How often delivered offsets are committed (also before a rebalance and at shutdown).' },
      drain_timeout: { duration: true, default: '5s', description: 'At shutdown, how long to wait for the acknowledgements of emitted events before the final commit.' },
      field: { type: 'string', default: 'kafka', description: 'Field receiving { topic, partition, offset, key, timestamp, headers, generation }; empty: those keys at the top level.' },
    },
  },
  create(options, context) {
    const log = context.logger;
    const assignments = partitionAssignments(context);
    const commitErrors = context.metrics.errors('commit');
    const committedCounter = context.metrics.counter('kafka_commits_total', 'Offset commits sent to the group coordinator.');
    let partitions = new Map<string, PartitionState>();
    let consumer: Consumer | undefined;
    let crashed: string | undefined;
    let committing: Promise<void> = Promise.resolve();
    let lastCommitWarn = 0;
    /** This member's consumer-group generation (a join counter of the pipeline's kafka inputs), and the partitions it owns in it. */
    let generation = 0;
    let ownedIds: string[] = [];

    function stateFor(topic: string, partition: number, firstOffset: number): PartitionState {
      const id = `${topic}\0${partition}`;
      let s = partitions.get(id);
      if (!s) {
        const acked = new AckedOffsets(firstOffset);
        acked.onPinned = () => log.warn('an output failed messages of this partition; its offset is not committed past them until restart', { topic, partition });
        partitions.set(id, (s = { topic, partition, acked, lastCommitted: firstOffset }));
      }
      return s;
    }

    /** Commits every partition's acknowledged offset that moved; serialized, never throws. */
    function commit(): Promise<void> {
      committing = committing.then(async () => {
        const c = consumer;
        if (!c) return;
        const todo: PartitionState[] = [];
        for (const s of partitions.values()) if (s.acked.committed > s.lastCommitted) todo.push(s);
        if (!todo.length) return;
        const offsets = todo.map((s) => ({ topic: s.topic, partition: s.partition, offset: String(s.acked.committed), at: s.acked.committed }));
        try {
          await withTimeout(c.commitOffsets(offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset }))), options.timeout, 'kafka commit');
          for (let i = 0; i < todo.length; i++) todo[i].lastCommitted = Math.max(todo[i].lastCommitted, offsets[i].at);
          committedCounter.inc();
        } catch (err) {
          commitErrors.inc();
          if (Date.now() - lastCommitWarn > 10_000) {
            lastCommitWarn = Date.now();
            log.warn('offset commit failed (retried at the next interval; a rebalance meanwhile means those messages are read again)', { error: (err as Error).message });
          }
        }
      });
      return committing;
    }

    function pending(): number {
      let n = 0;
      for (const s of partitions.values()) n += s.acked.pending;
      return n;
    }

    function toEvents(messages: KafkaMessage[], topic: string, partition: number, gen: number): { events: Event[]; bytes: number } {
      const field = options.field;
      const events: Event[] = new Array(messages.length);
      let bytes = 0;
      for (let i = 0; i < messages.length; i++) {
        const m = messages[i];
        const message = m.value ? m.value.toString('utf8') : '';
        bytes += m.value ? m.value.length : 0;
        const meta: Event = {
          topic, partition, offset: Number(m.offset), key: m.key ? m.key.toString('utf8') : null, timestamp: Number(m.timestamp), generation: gen,
        };
        const h = headerValues(m.headers);
        if (h) meta.headers = h;
        events[i] = field ? { message, [field]: meta } : { message, ...meta };
      }
      return { events, bytes };
    }

    return {
      async run({ emit, signal }) {
        const kafka = await createKafka(options, context);
        const c = kafka.consumer({
          groupId: options.group_id,
          sessionTimeout: options.session_timeout,
          heartbeatInterval: options.heartbeat_interval,
          rebalanceTimeout: options.rebalance_timeout,
          maxBytes: options.max_bytes,
          // An idle fetch waits this long; heartbeats go out between fetches, so keep it under the session timeout.
          maxWaitTimeInMs: options.max_wait,
          allowAutoTopicCreation: true,
          retry: { retries: Math.max(options.retries, 5), initialRetryTime: 100, maxRetryTime: 2000 },
        });
        consumer = c;
        const unregister = assignments.register();
        signal.addEventListener('abort', () => { assignments.revoke(ownedIds); ownedIds = []; unregister(); }, { once: true });
        c.on(c.events.GROUP_JOIN, (e) => {
          crashed = undefined;
          assignments.revoke(ownedIds);
          ({ generation, ids: ownedIds } = assignments.assign(e.payload.memberAssignment as Record<string, number[]>));
          // A new generation: kafkajs fetches from the committed offsets again. Acks of batches emitted
          // before are no longer committed by this member (their messages may be read again: duplicates).
          partitions = new Map();
          const assigned = Object.entries(e.payload.memberAssignment).map(([t, ps]) => `${t}:${[...ps].sort((a, b) => a - b).join(',')}`).join(';');
          log.info('joined consumer group', { group_id: options.group_id, partitions: assigned });
        });
        c.on(c.events.REBALANCING, () => {
          assignments.revoke(ownedIds);
          ownedIds = [];
          void commit();
        });
        /** Runs the consumer again after a crash kafkajs does not restart from (set once it runs). */
        let rerun: (() => Promise<void>) | undefined;
        c.on(c.events.CRASH, (e) => {
          crashed = e.payload.error?.message ?? 'crashed';
          // Out of the group until it rejoins: its partitions are no longer this process's.
          assignments.revoke(ownedIds);
          ownedIds = [];
          // kafkajs restarts after retriable errors only; others (e.g. a SyncGroup answered INVALID_REQUEST while a
          // group rebalances) would leave this input consuming nothing: rejoin after a pause.
          const restart = e.payload.restart || (rerun !== undefined && !signal.aborted);
          log.warn(e.payload.restart ? 'kafka consumer crashed; kafkajs restarts it' : 'kafka consumer crashed; restarting it', { error: crashed, restart });
          if (!e.payload.restart && rerun) {
            const again = rerun;
            setTimeout(() => {
              if (signal.aborted) return;
              again().catch((err) => log.warn('kafka consumer restart failed', { error: (err as Error).message }));
            }, 1000);
          }
        });
        const aborted = new Promise<void>((resolve) => {
          if (signal.aborted) resolve();
          else signal.addEventListener('abort', () => resolve(), { once: true });
        });
        // Connect (the brokers may not be up yet: keep trying until they are or the input stops).
        for (const delays = new Backoff({ initial: 250, max: 5000 }); !signal.aborted;) {
          try {
            await c.connect();
            const topics = options.topics.map(topicPattern);
            await c.subscribe({ topics, fromBeginning: options.from === 'beginning' });
            break;
          } catch (err) {
            crashed = (err as Error).message;
            const delay = delays.next();
            log.warn('cannot connect to kafka; retrying', { error: crashed, retry_in_ms: delay });
            await sleep(delay, signal);
          }
        }
        if (signal.aborted) return void (await c.disconnect().catch(() => {}));
        crashed = undefined;
        const timer = context.timers.every(options.commit_interval, () => commit());
        let inBatch: Promise<void> = Promise.resolve();
        const runConfig = {
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 1,
          eachBatch: (payload: EachBatchPayload) => (inBatch = handleBatch(payload)),
        };
        rerun = async () => {
          await c.connect();
          await c.run(runConfig);
        };
        await c.run(runConfig);

        async function handleBatch({ batch, resolveOffset, heartbeat, isRunning, isStale }: EachBatchPayload): Promise<void> {
          const { topic, partition, messages } = batch;
          if (!messages.length) return;
          const state = stateFor(topic, partition, Number(messages[0].offset));
          const gen = generation;
          for (let i = 0; i < messages.length; i += options.batch_size) {
            if (signal.aborted || !isRunning() || isStale()) return;
            const chunk = messages.slice(i, i + options.batch_size);
            const last = chunk[chunk.length - 1].offset;
            const { events, bytes } = toEvents(chunk, topic, partition, gen);
            context.metrics.receivedBytes.inc(bytes);
            const settle = state.acked.track(Number(last) + 1);
            // Heartbeats keep the membership while the emit waits on backpressure; a heartbeat error (a
            // rebalance) ends this batch after the emit, and kafkajs rejoins.
            let beatError: unknown;
            const beat = setInterval(() => { heartbeat().catch((err) => { beatError ??= err; }); }, options.heartbeat_interval);
            try {
              await emit(events, { onAck: (r) => settle(r.status === 'delivered') });
            } finally {
              clearInterval(beat);
            }
            resolveOffset(last);
            if (beatError) throw beatError;
            await heartbeat();
          }
        }

        await aborted;
        // Stop: no more emits; wait for the acknowledgements of what was emitted, commit them, leave the group.
        await inBatch.catch(() => {});
        const deadline = Date.now() + options.drain_timeout;
        while (pending() > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        if (pending() > 0) log.warn('stopping with unacknowledged messages; they will be read again', { batches: pending() });
        timer.cancel();
        await commit();
        await withTimeout(c.stop(), options.timeout, 'kafka consumer stop').catch((err) => log.warn('kafka consumer stop failed', { error: (err as Error).message }));
      },
      async close() {
        const c = consumer;
        consumer = undefined;
        if (c) await withTimeout(c.disconnect(), options.timeout, 'kafka consumer disconnect').catch(() => {});
      },
      health() {
        if (crashed !== undefined) return { healthy: false, reason: `kafka consumer: ${crashed}` };
        return { healthy: true, details: { partitions: partitions.size, unacknowledged_batches: pending() } };
      },
    };
  },
});
