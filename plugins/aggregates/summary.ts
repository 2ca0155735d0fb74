// A one-line console summary of access traffic every interval: requests, rate, error shares, top clients.
// Processing-time windows; heartbeat events are not traffic and are left out.
import { definePlugin, type AggregateRuntime, type Event } from '../../core/index.js';

interface SummaryOptions {
  interval: number;
  top: number;
  client_field: string;
  status_field: string;
}

export default definePlugin<SummaryOptions, 'aggregate'>({
  kind: 'aggregate',
  name: 'summary',
  description: 'Every interval, one event summarising the access events it received: count, requests/s, 4xx and 5xx shares, top clients. Its message is a readable line for a console.',
  schema: {
    type: 'object',
    properties: {
      interval: { duration: true, default: '10s', description: 'Length of each summary window (processing time).' },
      top: { type: 'integer', minimum: 0, default: 3, description: 'How many top clients to list.' },
      client_field: { type: 'string', default: 'client_ip', description: 'Field naming the client.' },
      status_field: { type: 'string', default: 'status', description: 'Field holding the HTTP status.' },
    },
  },
  create(options, context) {
    let runtime: AggregateRuntime | undefined;
    let windowStart = Date.now();
    let count = 0;
    let clientErrors = 0;
    let serverErrors = 0;
    let clients = new Map<string, number>();

    const summarise = async () => {
      const end = Date.now();
      const seconds = Math.max(0.001, (end - windowStart) / 1000);
      const top = [...clients.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, options.top);
      const share = (n: number) => (count ? n / count : 0);
      const pct = (n: number) => `${(share(n) * 100).toFixed(1)}%`;
      const event: Event = {
        message: `${new Date(end).toISOString().slice(11, 19)}  ${count} requests (${(count / seconds).toFixed(1)}/s)  4xx ${pct(clientErrors)}  5xx ${pct(serverErrors)}` +
          (top.length ? `  top clients: ${top.map(([c, n]) => `${c} (${n})`).join(', ')}` : ''),
        window_start: windowStart,
        window_end: end,
        count,
        rate: count / seconds,
        client_error_rate: share(clientErrors),
        server_error_rate: share(serverErrors),
        top_clients: top.map(([client, n]) => ({ client, count: n })),
      };
      windowStart = end;
      count = clientErrors = serverErrors = 0;
      clients = new Map();
      await runtime?.emit([event]);
    };

    return {
      attach(r) {
        runtime = r;
      },
      start() {
        windowStart = Date.now();
        context.timers.every(options.interval, summarise);
      },
      process(events) {
        for (const e of events) {
          if (e.heartbeat === true) continue;
          count++;
          const status = e[options.status_field];
          if (typeof status === 'number') {
            if (status >= 500) serverErrors++;
            else if (status >= 400) clientErrors++;
          }
          const client = e[options.client_field];
          if (typeof client === 'string') clients.set(client, (clients.get(client) ?? 0) + 1);
        }
      },
      async flush() {
        if (count > 0) await summarise();
      },
    };
  },
});
