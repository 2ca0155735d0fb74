// Every interval, one report event on what happened in exactly that interval: access traffic (requests,
// rate, 5xx, status classes, bytes, top clients/paths) and error-log lines (per level, top messages),
// with a text (`message`) and an HTML (`html`) rendering for consoles and e-mail.
import { definePlugin, positiveDuration } from '../../../core/index.js';
import { ReportAccumulator } from '../../../lib/stats/index.js';

export default definePlugin({
  kind: 'aggregate',
  name: 'report',
  description: 'Every interval (processing time), one report event on that interval: requests, requests/s, 5xx errors and error rate, status classes, bytes, top clients, 5xx clients, paths and error-log messages, error-log lines per level; message is a multi-line text rendering, html an HTML one.',
  schema: {
    type: 'object',
    properties: {
      interval: { duration: true, default: '5m', check: positiveDuration('interval: 5m'), description: 'Length of each report interval (processing time).' },
      top: { type: 'integer', minimum: 1, default: 10, description: 'Entries in each top list.' },
      capacity: { type: 'integer', minimum: 1, default: 1000, description: 'Distinct values counted exactly per top list and interval; beyond, Space-Saving (see top_error_bounds).' },
      title: { type: 'string', default: 'visor', description: 'Name of the report (the report field; e.g. the host name).' },
      html: { type: 'boolean', default: true, description: 'Add the html field (an HTML rendering of the report).' },
      panels: { type: 'boolean', default: true, description: 'Add the panels field: unique visitors (address + date + user agent), requested, static and not-found files, hosts, operating systems, browsers, bots by category, referrers and referring sites, status codes, virtual hosts, countries, the hourly and daily distribution and response-time percentiles, each split into humans and bots when the bot filter ran (lists the fields are missing for say which filter sets them); also in message and html.' },
      emit_empty: { type: 'boolean', default: true, description: 'Emit a report (zeros, error_rate null) for an interval without events.' },
    },
  },
  create(options, context) {
    const fields = { panels: options.panels };
    let current = new ReportAccumulator(Date.now(), Math.max(options.capacity, options.top), fields);

    /** Close the current interval (synchronously, so no event lands in both) and emit its report. */
    const report = async (force: boolean) => {
      const closed = current;
      const end = Date.now();
      current = new ReportAccumulator(end, Math.max(options.capacity, options.top), fields);
      if (!force && closed.seen === 0) return;
      const event = closed.toEvent(end, options.title, options.top, options.html);
      await context.emit([event]);
    };

    return {
      start() {
        current = new ReportAccumulator(Date.now(), Math.max(options.capacity, options.top), fields);
        context.timers.every(options.interval, () => report(options.emit_empty));
      },
      process(events) {
        for (const e of events) current.add(e);
      },
      async flush() {
        if (current.seen > 0) await report(false);
      },
    };
  },
});
