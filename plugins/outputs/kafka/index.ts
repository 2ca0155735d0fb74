// The `kafka` output: a kafkajs producer. write() resolves only once the brokers acknowledged every event
// (acks: all by default); a failure rejects so that the core retries with backoff while its bounded buffer
// holds the pipeline back. Nothing is dropped; a retried batch may be written twice (at-least-once).
import {
  compileTemplate, createEncoder, definePlugin, ENCODING_RULES, encodingSchema, getField, splitFieldPath, templateSchema,
  type Event, type OutputInstance,
} from '../../../core/index.js';
import type { Message, Producer, TopicMessages } from 'kafkajs';
import { connectionSchema, createKafka, withTimeout } from '../../../lib/kafka/index.js';

const ACKS = { all: -1, leader: 1, none: 0 } as const;

function keyText(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return JSON.stringify(value);
}

export default definePlugin({
  kind: 'output',
  name: 'kafka',
  description: 'Sends events to Kafka (kafkajs producer): topic from a template, partition key from a field, value encoded as JSON, the message text or a template. A write completes only when the brokers acknowledged it; while they are unreachable the core retries with backoff and the pipeline waits: nothing is lost (a retried batch may be written twice).',
  schema: {
    type: 'object',
    allOf: [ENCODING_RULES],
    required: ['brokers', 'topic'],
    properties: {
      ...connectionSchema('visor'),
      topic: templateSchema('Topic, or a template of one: apache-{{ vhost }} (a missing field renders empty).', { strftime: false }),
      key: { type: 'string', minLength: 1, description: 'Field whose value is the message key (e.g. client_ip), so that its events stay in one partition, in order. Events without it get a null key.' },
      headers: {
        type: 'object', additionalProperties: templateSchema('Header value template.', { strftime: false }),
        description: 'Message headers: name -> template, e.g. { host: "{{ vhost }}" }.',
      },
      ...encodingSchema('json'),
      batch_size: { type: 'integer', minimum: 1, default: 1000, description: 'Most events per send: the core merges queued batches up to this many before a write.' },
      linger: { duration: true, default: '10ms', description: 'How long the core waits for more queued events to fill a send.' },
      compression: { enum: ['none', 'gzip'], default: 'none', description: 'Compression of the message sets.' },
      acks: { enum: ['all', 'leader', 'none'], default: 'all', description: 'all: every in-sync replica has the events before a write completes; leader: the partition leader only; none: no acknowledgement (events can be lost).' },
    },
  },
  create(options, context) {
    const encode = createEncoder(options);
    const topic = compileTemplate(options.topic, { strftime: false });
    const keyPath = options.key ? splitFieldPath(options.key) : undefined;
    const headers = Object.entries(options.headers ?? {}).map(([name, t]) => [name, compileTemplate(t, { strftime: false })] as const);
    const acks = ACKS[options.acks];
    const failures = context.metrics.counter('kafka_send_failures_total', 'Sends to Kafka that failed (each is retried by the core with backoff).');
    const sendTimeout = options.connect_timeout + options.timeout * (options.retries + 1) + 2000;
    let compression = 0;
    let producer: Producer | undefined;
    let connected: Promise<void> | undefined;
    let lastError: string | undefined;

    async function newProducer(): Promise<Producer> {
      const kafkajs = (await import('kafkajs')).default;
      if (options.compression === 'gzip') compression = kafkajs.CompressionTypes.GZIP;
      const kafka = await createKafka(options, context);
      return kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner, allowAutoTopicCreation: true, idempotent: false });
    }

    /** Connects once; a failed or timed-out connection is dropped so that the next write tries afresh. */
    async function ensureConnected(): Promise<Producer> {
      if (!producer) producer = await newProducer();
      const p = producer;
      connected ??= withTimeout(p.connect(), options.connect_timeout * (options.retries + 2), 'kafka connect').catch((err) => {
        connected = undefined;
        throw err;
      });
      await connected;
      return p;
    }

    /** After a timeout kafkajs may still be busy: drop the producer (disconnecting in the background). */
    function reset(): void {
      const p = producer;
      producer = undefined;
      connected = undefined;
      p?.disconnect().catch(() => {});
    }

    function toMessage(e: Event, value: string): Message {
      const m: Message = { key: keyPath ? keyText(getField(e, keyPath)) : null, value };
      if (headers.length) {
        const h: Record<string, string> = {};
        for (const [name, t] of headers) h[name] = t.render(e);
        m.headers = h;
      }
      return m;
    }

    const instance: OutputInstance = {
      batch: { max_events: options.batch_size, timeout_ms: options.linger },
      async start() {
        try {
          await ensureConnected();
        } catch (err) {
          // Not fatal: the brokers may come later. Writes connect (and are retried) until they do.
          lastError = (err as Error).message;
          context.logger.warn('cannot connect to kafka yet; will retry on the first write', { error: lastError });
        }
      },
      async write(events) {
        let bytes = 0;
        const topicMessages: TopicMessages[] = [];
        if (!topic.dynamic) {
          const messages: Message[] = new Array(events.length);
          for (let i = 0; i < events.length; i++) {
            const value = encode(events[i]);
            bytes += Buffer.byteLength(value);
            messages[i] = toMessage(events[i], value);
          }
          topicMessages.push({ topic: topic.source, messages });
        } else {
          const byTopic = new Map<string, Message[]>();
          for (const e of events) {
            const name = topic.render(e);
            const value = encode(e);
            bytes += Buffer.byteLength(value);
            let list = byTopic.get(name);
            if (!list) byTopic.set(name, (list = []));
            list.push(toMessage(e, value));
          }
          for (const [name, messages] of byTopic) topicMessages.push({ topic: name, messages });
        }
        try {
          const p = await ensureConnected();
          await withTimeout(p.sendBatch({ topicMessages, acks, compression, timeout: options.timeout }), sendTimeout, 'kafka send');
        } catch (err) {
          failures.inc();
          const message = (err as Error).message;
          if (/timed out after/.test(message)) reset();
          if (lastError === undefined) context.logger.warn('kafka send failed; the core retries with backoff', { error: message });
          lastError = message;
          throw err;
        }
        if (lastError !== undefined) context.logger.info('kafka sends succeed again');
        lastError = undefined;
        context.metrics.sentBytes.inc(bytes);
      },
      async close() {
        const p = producer;
        producer = undefined;
        if (p) await withTimeout(p.disconnect(), options.connect_timeout + 1000, 'kafka disconnect').catch(() => {});
      },
      health() {
        return lastError === undefined ? { healthy: true } : { healthy: false, reason: `kafka sends failing: ${lastError}` };
      },
    };
    return instance;
  },
});
