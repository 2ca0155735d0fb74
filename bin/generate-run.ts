// `visor generate`: a generator -> line writer pipeline built in memory, validated like any config.
import { createWriteStream } from 'node:fs';
import { loadConfigText } from '../core/config/load.js';
import { definePlugin, PermanentError } from '../core/index.js';
import { indexRegistry } from '../core/registry.js';
import { createLogger, createLogSink } from '../core/runtime/logger.js';
import { MetricsHub } from '../core/runtime/metrics.js';
import { Pipeline } from '../core/runtime/pipeline.js';
import { EXIT_CONFIG } from './paths.js';

/** Writes each event's message as a line to one stream; resolves once the stream took the data. */
function lineWriter(stream: NodeJS.WritableStream) {
  return definePlugin<Record<string, never>, 'output'>({
    kind: 'output',
    name: 'generate_writer',
    description: 'visor generate: lines to a file or standard output.',
    schema: { type: 'object', properties: {} },
    create: () => ({
      write: (events) => new Promise<void>((resolve, reject) => {
        let text = '';
        for (const e of events) text += `${e.message}\n`;
        stream.write(text, (err) => (err ? reject(new PermanentError(err.message)) : resolve()));
      }),
    }),
  });
}

/** Where generated lines go: a file or standard output (`file` undefined), a TCP peer, or Kafka. */
export type GenerateTarget =
  | { kind: 'stream'; file?: string }
  | { kind: 'tcp'; address: string }
  | { kind: 'kafka'; brokers: string[]; topic: string };

/** The output component for a network target: the built-in plugins, each line as the message text. */
function networkOutput(target: GenerateTarget): Record<string, unknown> | undefined {
  if (target.kind === 'tcp') return { type: 'tcp', address: target.address, format: 'text' };
  if (target.kind === 'kafka') return { type: 'kafka', brokers: target.brokers, topic: target.topic, format: 'text' };
  return undefined;
}

export async function runGenerate(options: Record<string, unknown>, target: GenerateTarget = { kind: 'stream' }): Promise<number> {
  const outputFile = target.kind === 'stream' ? target.file : undefined;
  const network = networkOutput(target);
  const stream = network ? undefined : outputFile ? createWriteStream(outputFile, { flags: 'a' }) : process.stdout;
  // A closed reader (visor generate | head) ends the run quietly, as with any Unix tool.
  stream?.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
  const registry = await indexRegistry();
  if (stream) registry.register(lineWriter(stream), 'visor generate');
  const config = {
    service: { log_level: 'warn' },
    inputs: { generator: { type: 'generator', ...options } },
    outputs: { out: { ...(network ?? { type: 'generate_writer' }), inputs: ['generator'] } },
  };
  const result = await loadConfigText(JSON.stringify(config, null, 1), '<visor generate>', { registryFor: async () => registry });
  if (!result.config) {
    for (const d of result.diagnostics) if (d.severity === 'error') process.stderr.write(`visor generate: ${d.message}\n`);
    return EXIT_CONFIG;
  }
  const logger = createLogger(createLogSink(result.config.service.log_level));
  const pipeline = await Pipeline.build(result.config, { registry, metrics: new MetricsHub(), logger });
  await pipeline.start();
  const stop = () => void pipeline.stop(5000);
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await pipeline.done();
  if (outputFile && stream) await new Promise<void>((resolve) => stream.end(resolve));
  return 0;
}
