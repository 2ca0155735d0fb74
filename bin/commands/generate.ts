import { Command, Flags } from '@oclif/core';
import { EXIT_CONFIG } from '../paths.js';
import type { GenerateTarget } from '../generate-run.js';

export default class Generate extends Command {
  static override description = `Write fake Apache traffic (the generator input) to standard output, a file, a TCP peer or Kafka.
Every option of the generator plugin is available in a pipeline config too (visor plugins generator).`;
  static override examples = [
    '<%= config.bin %> generate --format combined --rate 500 --duration 60s -o access.log',
    '<%= config.bin %> generate --count 1000000 --seed 7 -o big.log   # as fast as it can',
    '<%= config.bin %> generate --format error_2.4 --rate 5 --heartbeat 5s',
    '<%= config.bin %> generate --rate 2000 --tcp 127.0.0.1:5170',
    '<%= config.bin %> generate --rate max --count 100000 --kafka 127.0.0.1:9092 --topic apache-lines',
    '<%= config.bin %> generate --start-time 2026-11-25T00:00:00Z --speed max --duration 24h --rate 50 --burst-every 1h --burst-for 5m --burst-multiplier 8 -o day.log',
  ];
  static override flags = {
    format: Flags.string({ char: 'f', description: 'common | combined | vhost_combined | combinedio | error_2.2 | error_2.4', default: 'combined' }),
    'log-format': Flags.string({ description: 'any Apache LogFormat string (overrides --format)' }),
    rate: Flags.string({ char: 'r', description: 'lines per second, or max (default: max with --count, else 10)' }),
    count: Flags.integer({ char: 'n', description: 'stop after this many lines' }),
    duration: Flags.string({ char: 'd', description: 'stop after this much (clock) time, e.g. 60s, 24h' }),
    seed: Flags.integer({ description: 'same seed and options, same bytes' }),
    'start-time': Flags.string({ description: 'simulated clock start (ISO 8601), e.g. for backfills' }),
    speed: Flags.string({ description: 'simulated clock speed (x real time), or max', default: '1' }),
    timezone: Flags.string({ description: 'offset written in lines: +0000, -0700, UTC, local', default: 'local' }),
    'burst-every': Flags.string({ description: 'scheduled bursts: period, e.g. 60s' }),
    'burst-for': Flags.string({ description: 'scheduled bursts: length, e.g. 10s' }),
    'burst-multiplier': Flags.string({ description: 'scheduled bursts: rate multiplier, e.g. 5' }),
    'random-bursts': Flags.string({ description: 'random bursts: mean gap between onsets, e.g. 2m' }),
    heartbeat: Flags.string({ description: 'heartbeat line interval, e.g. 5s' }),
    output: Flags.string({ char: 'o', description: 'file to append to (default: standard output)', exclusive: ['tcp', 'kafka'] }),
    tcp: Flags.string({ description: 'send the lines to this TCP address (host:port), e.g. a visor tcp input', exclusive: ['kafka'] }),
    kafka: Flags.string({ description: 'send the lines to these Kafka brokers (comma-separated host:port)' }),
    topic: Flags.string({ description: 'Kafka topic for --kafka', default: 'apache-lines' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Generate);
    const { runGenerate } = await import('../generate-run.js');
    const rate = flags.rate ?? (flags.count !== undefined ? 'max' : '10');
    const options: Record<string, unknown> = {
      format: flags.format,
      // A fixed number of lines is a batch job: as fast as it can, unless a rate is asked for. Without --count the
      // output is a live stream, at a rate a terminal can follow.
      rate: rate === 'max' ? 'max' : Number(rate),
      timezone: flags.timezone,
      speed: flags.speed === 'max' ? 'max' : Number(flags.speed),
    };
    if (flags['log-format']) options.log_format = flags['log-format'];
    if (flags.count !== undefined) options.count = flags.count;
    if (flags.duration) options.duration = flags.duration;
    if (flags.seed !== undefined) options.seed = flags.seed;
    if (flags['start-time']) options.start_time = flags['start-time'];
    const scheduled = flags['burst-every'] || flags['burst-for'] || flags['burst-multiplier'];
    if (scheduled || flags['random-bursts']) {
      options.bursts = {
        scheduled: scheduled ? [{ every: flags['burst-every'] ?? '60s', for: flags['burst-for'] ?? '10s', multiplier: Number(flags['burst-multiplier'] ?? 5) }] : [],
        ...(flags['random-bursts'] ? { random: { mean_gap: flags['random-bursts'] } } : {}),
      };
    }
    if (flags.heartbeat) options.heartbeat = { interval: flags.heartbeat };
    const target: GenerateTarget = flags.tcp ? { kind: 'tcp', address: flags.tcp }
      : flags.kafka ? { kind: 'kafka', brokers: flags.kafka.split(',').map((b) => b.trim()).filter(Boolean), topic: flags.topic }
        : { kind: 'stream', file: flags.output };
    const code = await runGenerate(options, target);
    if (code === EXIT_CONFIG) this.exit(EXIT_CONFIG);
    if (code !== 0) this.exit(code);
  }
}
