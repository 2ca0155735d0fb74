// Every interval, one report event on what happened in exactly that interval: access traffic (requests,
// rate, 5xx, status classes, bytes, top clients/paths) and error-log lines (per level and module, top message templates),
// with a text (`message`) and an HTML (`html`) rendering for consoles and e-mail.
import { definePlugin, positiveDuration } from '../../../core/index.js';
import { ERROR_LOG_LEVELS, MESSAGE_LEVEL_DEFAULT, ReportAccumulator } from '../../../lib/stats/index.js';

export default definePlugin({
  kind: 'aggregate',
  name: 'report',
  description: 'Every interval (processing time), one report event on that interval: requests, requests/s, 5xx errors and error rate, status classes, bytes, top clients, 5xx clients and paths; error-log lines per level, per module and the top error-log message templates at or above message_level, each with a sample message; attacks (when detect alerts arrive among the inputs: alerts per rule with severity, top clients with their rules, last seen and evidence); message is a multi-line text rendering, html an HTML one.',
  schema: {
    type: 'object',
    properties: {
      interval: { duration: true, default: '5m', check: positiveDuration('interval: 5m'), description: 'Length of each report interval (processing time).' },
      top: { type: 'integer', minimum: 1, default: 10, description: 'Entries in each top list.' },
      capacity: { type: 'integer', minimum: 1, default: 1000, description: 'Distinct values counted exactly per top list and interval; beyond, Space-Saving (see top_error_bounds).' },
      message_level: { enum: [...ERROR_LOG_LEVELS], default: MESSAGE_LEVEL_DEFAULT, description: 'The least severe error-log level whose messages are grouped into top_error_messages (by template); error_log_levels counts every level. Default warn, Apache\'s default LogLevel: notice lines ("resuming normal operations", "caught SIGTERM") are written whatever the LogLevel and are no errors.' },
      title: { type: 'string', default: 'visor', description: 'Name of the report (the report field; e.g. the host name).' },
      html: { type: 'boolean', default: true, description: 'Add the html field (an HTML rendering of the report).' },
      panels: { type: 'boolean', default: true, description: 'Add the panels field: unique visitors (address + date + user agent), requested, static and not-found files, hosts, operating systems, browsers, bots by category, referrers and referring sites, status codes, virtual hosts, countries, the hourly and daily distribution and response-time percentiles, each split into humans and bots when the bot filter ran (lists the fields are missing for say which filter sets them); also in message and html.' },
      emit_empty: { type: 'boolean', default: true, description: 'Emit a report (zeros, error_rate null) for an interval without events.' },
    },
  },
  create(options, context) {
    const accumulator = (start: number) => new ReportAccumulator(start, Math.max(options.capacity, options.top), { panels: options.panels }, { messageLevel: options.message_level });
    let current = accumulator(Date.now());

    /** Close the current interval (synchronously, so no event lands in both) and emit its report. */
    const report = async (force: boolean) => {
      const closed = current;
      const end = Date.now();
      current = accumulator(end);
      if (!force && closed.seen === 0) return;
      const event = closed.toEvent(end, options.title, options.top, options.html);
      await context.emit([event]);
    };

    return {
      start() {
        current = accumulator(Date.now());
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
