// Kafka throughput against librdkafka's mock cluster (3 brokers, hosted by kcat): the kafka output for 1M small
// events beside plain kafkajs producer.send with the same batching (1000 per send, same values) in the same
// run, and the kafka input -> blackhole (200k messages: the mock keeps ~5 MB per partition). Skipped with a line when kcat is missing.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MockKafka, kcatMissing } from '../support/kafka.js';
import { LINE_TEXT } from './plugins.js';
import { buildPipeline } from './pipeline.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOTAL = Number(process.env.BENCH_KAFKA_EVENTS ?? 1_000_000);
const BATCH = 1000;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Plain kafkajs: the same JSON values, 1000 per producer.send, awaited one after the other. */
async function plainKafkajs(brokers: string[], topic: string): Promise<number> {
  const { Kafka, Partitioners, logLevel } = (await import('kafkajs')).default;
  const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  await producer.send({ topic, messages: [{ value: 'warm-up' }] });
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < TOTAL; ) {
    const n = Math.min(BATCH, TOTAL - sent);
    const messages = new Array(n);
    for (let i = 0; i < n; i++) messages[i] = { key: null, value: JSON.stringify({ message: LINE_TEXT }) };
    await producer.send({ topic, messages, acks: -1 });
    sent += n;
  }
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await producer.disconnect();
  return TOTAL / secs;
}

async function visorOutput(brokers: string[], topic: string): Promise<number> {
  const { pipeline, metrics } = await buildPipeline(`
service: { plugins: [${JSON.stringify(path.join(HERE, 'plugins.js'))}] }
inputs:
  src: { type: bench_lines, total: ${TOTAL}, batch_size: ${BATCH} }
outputs:
  k: { type: kafka, inputs: [src], brokers: ${JSON.stringify(brokers)}, topic: ${topic}, batch_size: ${BATCH} }
`, 'bench-kafka.yaml');
  await pipeline.start(); // connects the producer (outputs start first) before the clock starts below
  const start = process.hrtime.bigint();
  await pipeline.done();
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  const sent = metrics.snapshot().k.received_events;
  if (sent !== TOTAL) throw new Error(`kafka output took ${sent} of ${TOTAL}`);
  return TOTAL / secs;
}

/** The kafka input reading a topic of `total` small messages from the beginning into a blackhole; timed from
 * the first event. (The mock keeps only ~5 MB per partition, so this topic is filled with short values.) */
async function visorInput(brokers: string[], topic: string, total: number): Promise<number> {
  const { Kafka, Partitioners, logLevel } = (await import('kafkajs')).default;
  const producer = new Kafka({ brokers, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let n = 0; n < total; n += BATCH) {
    await producer.send({ topic, messages: Array.from({ length: BATCH }, (_, i) => ({ value: `m-${n + i}` })) });
  }
  await producer.disconnect();
  const { pipeline, metrics } = await buildPipeline(`
inputs:
  k: { type: kafka, brokers: ${JSON.stringify(brokers)}, topics: [${topic}], group_id: bench, from: beginning, session_timeout: 10s, heartbeat_interval: 500ms, rebalance_timeout: 5s }
outputs:
  sink: { type: blackhole, inputs: [k] }
`, 'bench-kafka.yaml');
  await pipeline.start();
  const received = () => metrics.snapshot().sink?.received_events ?? 0;
  let start: bigint | undefined;
  const deadline = Date.now() + 120_000;
  while (received() < total && Date.now() < deadline) {
    if (!start && received() > 0) start = process.hrtime.bigint();
    await new Promise((r) => setTimeout(r, 5));
  }
  const secs = Number(process.hrtime.bigint() - (start ?? process.hrtime.bigint())) / 1e9;
  const got = received();
  await pipeline.stop(10_000);
  if (got < total) throw new Error(`kafka input delivered ${got} of ${total} in 120 s`);
  return total / secs;
}

export async function benchKafka(): Promise<string[]> {
  const missing = kcatMissing();
  if (missing) return [`kafka: skipped (${missing})`];
  process.env.KAFKAJS_NO_PARTITIONER_WARNING = '1';
  const mock = await new MockKafka().start(3);
  try {
    const plain = await plainKafkajs(mock.brokers, 'bench-plain');
    const out = await visorOutput(mock.brokers, 'bench-visor');
    const inputTotal = 200_000;
    const input = await visorInput(mock.brokers, 'bench-input', inputTotal);
    return [
      `kafka output, ${fmt(TOTAL)} small events (JSON, batches of ${BATCH}, acks all, mock cluster of 3): ${fmt(out)} events/s; plain kafkajs producer.send, same batching: ${fmt(plain)} events/s (${(out / plain).toFixed(2)}x, target >= 0.8x)`,
      `kafka input -> blackhole, ${fmt(inputTotal)} small messages (4 partitions, batches of 1000 acked, offsets committed): ${fmt(input)} events/s`,
    ];
  } finally {
    await mock.stop();
  }
}
