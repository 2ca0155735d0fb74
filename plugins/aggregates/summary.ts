// A one-line console summary of access traffic every interval: requests, rate, error shares, top clients.
// Processing-time windows. The figures come from the report aggregate's ReportAccumulator (one
// implementation of interval traffic statistics): heartbeats are left out, only events with a numeric
// status count as requests, shares never divide by zero, top clients are exact up to `capacity` distinct
// clients per interval and Space-Saving beyond.
import { definePlugin, positiveDuration, type Event } from '../../core/index.js';
import { ReportAccumulator } from '../../lib/stats/index.js';

export default definePlugin({
  kind: 'aggregate',
  name: 'summary',
  description: 'Every interval, one event summarising the access events it received: count, requests/s, 4xx and 5xx shares, top clients (the report aggregate\'s figures), and error-log lines per level when it receives any. Its message is a readable line for a console.',
  schema: {
    type: 'object',
    properties: {
      interval: { duration: true, default: '10s', check: positiveDuration('interval: 10s'), description: 'Length of each summary window (processing time).' },
      top: { type: 'integer', minimum: 0, default: 3, description: 'How many top clients to list.' },
      capacity: { type: 'integer', minimum: 1, default: 1000, description: 'Distinct clients counted exactly per interval; beyond, Space-Saving (see top_clients_error_bound).' },
      client_field: { type: 'string', default: 'client_ip', description: 'Field naming the client.' },
      status_field: { type: 'string', default: 'status', description: 'Field holding the HTTP status (events without a numeric one are not requests).' },
      panels: { type: 'integer', minimum: 0, default: 0, description: 'Add the traffic panels (visitors, files, 404s, hosts, browsers, bots, referrers, status codes, countries, hours, response times: the report aggregate\'s panels field) with this many entries per list; 0: none. The message then also gives unique visitors and the bot share.' },
    },
  },
  create(options, context) {
    const fields = { status: options.status_field, client: options.client_field, panels: options.panels > 0 };
    const accumulator = (start: number) => new ReportAccumulator(start, Math.max(options.capacity, options.top, 1), fields);
    let current = accumulator(Date.now());

    const summarise = async () => {
      // Close the interval synchronously, so no event lands in two summaries.
      const closed = current;
      const end = Date.now();
      current = accumulator(end);
      const t = closed.traffic(end);
      const top = closed.tops.top_clients.top(options.top);
      const pct = (r: number | null) => `${((r ?? 0) * 100).toFixed(1)}%`;
      // Error-log lines, when the summary receives any: per level, most severe first (the report's counts).
      const levels = closed.errorLog.levelCounts();
      const levelText = Object.entries(levels).map(([l, n]) => `${l} ${n}`).join(', ');
      const panels = closed.panels?.result(options.panels);
      const panelText = panels
        ? `  visitors ${panels.visitors.total}${panels.bot_requests === null ? '' : `  bots ${pct(panels.requests ? panels.bot_requests / panels.requests : 0)}`}`
        : '';
      const event: Event = {
        message: `${new Date(end).toISOString().slice(11, 19)}  ${t.requests} requests (${t.requests_per_second.toFixed(1)}/s)  4xx ${pct(t.client_error_rate)}  5xx ${pct(t.error_rate)}` +
          (top.length ? `  top clients: ${top.map((c) => `${c.value} (${c.count})`).join(', ')}` : '') + panelText +
          (closed.errorLogLines ? `  error log: ${levelText}` : ''),
        window_start: closed.start,
        window_end: end,
        count: t.requests,
        rate: t.requests_per_second,
        client_error_rate: t.client_error_rate ?? 0,
        server_error_rate: t.error_rate ?? 0,
        top_clients: top.map((c) => ({ client: c.value, count: c.count })),
        top_clients_error_bound: closed.tops.top_clients.errorBound,
        error_log_lines: closed.errorLogLines,
        error_log_levels: levels,
      };
      if (panels) event.panels = panels as unknown as Event[string];
      await context.emit([event]);
    };

    return {
      start() {
        current = accumulator(Date.now());
        context.timers.every(options.interval, summarise);
      },
      process(events) {
        for (const e of events) current.add(e);
      },
      async flush() {
        if (current.requests > 0) await summarise();
      },
    };
  },
});
