// What the kafka output and input share: the connection options (brokers, client id, SASL, TLS, timeouts),
// their schema, and a kafkajs client built from them whose log goes to the component's logger.
import { loadTlsFiles, tlsClientSchema, type Logger, type OptionSchema, type OptionsOf, type PluginContext, type TlsClientOptions } from '../../core/index.js';
import type { Kafka, KafkaConfig, LogEntry, SASLOptions } from 'kafkajs';

const BROKER = /^(\[[0-9A-Fa-f:.]+\]|[^\s,:[\]]+):\d{1,5}$/;

/** Why a `brokers` entry is not host:port (or a comma-separated list of them), or undefined. */
function brokerListProblem(value: unknown): string | undefined {
  const bad = String(value).split(',').map((b) => b.trim()).find((b) => !BROKER.test(b));
  return bad === undefined ? undefined : `"${bad}" is not host:port; write each broker as host:port (e.g. kafka1:9092), in a list or comma-separated`;
}

/** Schema properties shared by the kafka input and output (spread into `properties`; both require brokers). */
export function connectionSchema(defaultClientId: string) {
  return {
    brokers: {
      type: 'array', minItems: 1,
      items: { type: 'string', check: brokerListProblem },
      description: 'Bootstrap brokers as host:port; the rest of the cluster is learnt from them. An entry may hold several, comma-separated (e.g. from one ${KAFKA_BROKERS}).',
    },
    client_id: { type: 'string', minLength: 1, default: defaultClientId, description: 'Client id sent to the brokers (shows in their logs and quotas).' },
    sasl: {
      type: 'object',
      required: ['mechanism', 'username', 'password'],
      additionalProperties: false,
      properties: {
        mechanism: { enum: ['plain', 'scram-sha-256', 'scram-sha-512'], description: 'SASL mechanism.' },
        username: { type: 'string', description: 'SASL user.' },
        password: { type: 'string', secret: true, description: 'SASL password, usually ${KAFKA_PASSWORD}.' },
      },
      description: 'SASL authentication (use with tls unless the network is trusted).',
    },
    tls: {
      anyOf: [{ type: 'boolean' }, tlsClientSchema()],
      default: false,
      description: 'TLS to the brokers: true for the system CAs, or { ca, cert, key, key_passphrase, reject_unauthorized, servername } with PEM files for a private CA and client certificates.',
    },
    connect_timeout: { duration: true, default: '5s', description: 'Longest wait for a TCP (and TLS/SASL) connection to a broker.' },
    timeout: { duration: true, default: '30s', description: 'Longest wait for one broker request; a request that times out fails (and is retried).' },
    retries: { type: 'integer', minimum: 0, default: 2, description: "kafkajs's own quick retries of a failed request (100 ms doubling to 1 s) before the failure is reported to the component." },
  } as const satisfies Record<string, OptionSchema>;
}

/** The connection options as validated (the plugins' schemas require brokers). */
export type KafkaConnectionOptions = OptionsOf<{ type: 'object'; required: ['brokers']; properties: ReturnType<typeof connectionSchema> }>;
export type KafkaSaslOptions = NonNullable<KafkaConnectionOptions['sasl']>;

/** kafkajs log entries -> the component's logger. Errors and warnings are limited to one per message text
 * every 10 s (an unreachable broker logs one per request); fields are a fixed safe set, never credentials. */
function logCreator(logger: Logger) {
  const SAFE = ['broker', 'clientId', 'groupId', 'memberId', 'generationId', 'topic', 'partition', 'error', 'retryCount', 'retryTime', 'apiName', 'correlationId'];
  const last = new Map<string, number>();
  return () => ({ namespace, level, log }: LogEntry) => {
    const { message, ...rest } = log as { message: string } & Record<string, unknown>;
    const fields: Record<string, unknown> = { kafkajs: namespace };
    for (const k of SAFE) if (rest[k] !== undefined) fields[k] = rest[k];
    // kafkajs levels: 1 error, 2 warn, 4 info, 5 debug.
    if (level <= 2) {
      const now = Date.now();
      if ((last.get(message) ?? 0) > now - 10_000) return;
      if (last.size > 1000) last.clear();
      last.set(message, now);
      logger.warn(`kafkajs: ${message}`, fields);
    } else if (level === 4) logger.debug(`kafkajs: ${message}`, fields);
  };
}

async function tlsConfig(tls: boolean | TlsClientOptions | undefined, configDir: string): Promise<KafkaConfig['ssl']> {
  if (!tls) return undefined;
  if (tls === true) return true;
  const files = await loadTlsFiles(tls, configDir);
  return { ...files, passphrase: tls.key_passphrase, servername: tls.servername, rejectUnauthorized: tls.reject_unauthorized !== false };
}

/** Builds a kafkajs client (kafkajs is imported here, lazily, so `visor --help` stays fast). */
export async function createKafka(options: KafkaConnectionOptions, context: PluginContext): Promise<Kafka> {
  process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';
  const { Kafka, logLevel } = (await import('kafkajs')).default;
  const sasl: SASLOptions | undefined = options.sasl
    ? { mechanism: options.sasl.mechanism, username: options.sasl.username, password: options.sasl.password } as SASLOptions
    : undefined;
  return new Kafka({
    clientId: options.client_id,
    brokers: options.brokers.flatMap((b) => b.split(',')).map((b) => b.trim()).filter(Boolean),
    ssl: await tlsConfig(options.tls, context.configDir),
    sasl,
    connectionTimeout: options.connect_timeout,
    authenticationTimeout: options.connect_timeout,
    requestTimeout: options.timeout,
    enforceRequestTimeout: true,
    retry: { retries: options.retries, initialRetryTime: 100, maxRetryTime: 1000 },
    logLevel: logLevel.INFO,
    logCreator: logCreator(context.logger),
  });
}

/** Rejects with a timeout error when `promise` has not settled within `ms` (kafkajs must never hang a stage). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms); }),
  ]).finally(() => clearTimeout(timer));
}
