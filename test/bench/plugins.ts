// Benchmark-only plugins, loaded by path like any external plugin.
import { definePlugin, type Event } from '../../core/index.js';

const LINE = '83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/32.0.1700.77 Safari/537.36"';

/** Lines as stdin would produce them ({ message } per line, batches of batch_size), as fast as allowed. */
export const syntheticLines = definePlugin<{ total: number; batch_size: number }, 'input'>({
  kind: 'input',
  name: 'bench_lines',
  description: 'Synthetic access-log lines for benchmarks; records emit->ack latency per batch.',
  schema: { type: 'object', properties: { total: { type: 'integer', default: 1_000_000 }, batch_size: { type: 'integer', default: 1000 } } },
  create(options) {
    return {
      async run({ emit, signal }) {
        for (let sent = 0; sent < options.total && !signal.aborted; ) {
          const n = Math.min(options.batch_size, options.total - sent);
          const events: Event[] = new Array(n);
          for (let i = 0; i < n; i++) events[i] = { message: LINE };
          sent += n;
          const emittedAt = process.hrtime.bigint();
          await emit(events, { onAck: () => latencies.push(Number(process.hrtime.bigint() - emittedAt) / 1e6) });
        }
      },
    };
  },
});

export const passthrough = definePlugin<Record<string, never>, 'filter'>({
  kind: 'filter',
  name: 'bench_passthrough',
  description: 'Returns its batch unchanged.',
  schema: { type: 'object', properties: {} },
  create: () => ({ process: (events) => events }),
});

/** Emit->ack latency of each batch in ms, read by the benchmark runner. */
export const latencies: number[] = [];
export const LINE_TEXT = LINE;

export default [syntheticLines, passthrough];
