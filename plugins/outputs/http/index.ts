// The `http` output: batches of events POSTed (or PUT, PATCH) to a URL, as Fluent Bit's http output and Vector's
// http sink do, and webhook payloads (format: template) for Slack-compatible receivers. A write resolves only when
// every request of its batch got a 2xx (at-least-once: the input's acknowledgement waits for it) or was refused for
// good and put in the dead letter. Anything worth retrying (5xx, 408, 429, timeouts, connection and TLS errors)
// rejects the write: the core retries it with its backoff (`retry:`), and a Retry-After on 429/503 holds the next
// attempt back further. A retried batch skips the requests already accepted, so duplicates come only from a
// request whose answer was lost.
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import path from 'node:path';
import { definePlugin, loadTlsFiles, sleep, type Counter, type Event } from '../../../core/index.js';
import { HttpClient } from './client.js';
import { DeadLetter } from './dead-letter.js';
import { outcomeOf, type Outcome } from './outcome.js';
import { RequestPlanner, type PlannedRequest } from './requests.js';
import { bodyTemplate, httpSchema } from './schema.js';

const gzipAsync = promisify(gzip);

const CONTENT_TYPES = { json: 'application/json', ndjson: 'application/x-ndjson', json_array: 'application/json', template: 'application/json' } as const;

/** Errors no retry can fix: a header that renders to a value HTTP forbids, a URL that renders to no URL. */
const UNSENDABLE = new Set(['ERR_INVALID_CHAR', 'ERR_INVALID_HTTP_TOKEN', 'ERR_INVALID_URL', 'ERR_UNESCAPED_CHARACTERS']);

class ClosingError extends Error {}

/** Scheme, host and port only: the path and query of a webhook URL are often its secret. */
function originOf(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

export default definePlugin({
  kind: 'output',
  name: 'http',
  description: 'Sends events over HTTP(S) to any endpoint or webhook: ndjson, a JSON array, one JSON object per request, or a body template (Slack-style alerts), optionally gzip-compressed, over kept-alive connections. A batch is acknowledged only once the server answered 2xx; 5xx, 429 (honouring Retry-After), timeouts and connection errors are retried; other 4xx answers put the events in rejected.jsonl in the data directory (counted, logged).',
  schema: httpSchema,
  create(options, context) {
    const { logger, metrics } = context;
    const planner = new RequestPlanner({
      url: options.url,
      headers: { ...options.headers, ...options.secret_headers },
      format: options.format,
      maxEvents: options.batch.max_events,
      body: options.format === 'template' ? bodyTemplate(options.template!, options.escape) : undefined,
    });
    const named = (name: string) => Object.keys({ ...options.headers, ...options.secret_headers }).some((h) => h.toLowerCase() === name);
    const fixedHeaders: Record<string, string> = {};
    if (!named('content-type')) {
      fixedHeaders['Content-Type'] = options.content_type ?? (options.format === 'template' && options.escape === 'none' ? 'text/plain; charset=utf-8' : CONTENT_TYPES[options.format]);
    }
    if (options.compression === 'gzip') fixedHeaders['Content-Encoding'] = 'gzip';
    if (!named('user-agent')) fixedHeaders['User-Agent'] = 'visor';

    const byStatus = new Map<string, Counter>();
    const requests = (status: string) => {
      let c = byStatus.get(status);
      if (!c) byStatus.set(status, (c = metrics.counter('http_requests_total', 'Requests sent, by answer: 2xx, 3xx, 4xx, 5xx, or error (no answer: connection, TLS, timeout).', { status })));
      return c;
    };
    const retries = metrics.counter('http_retry_errors_total', 'Requests that failed in a way worth retrying (5xx, 408, 429, no answer); the core retries them.');
    const rejected = metrics.counter('http_rejected_events_total', 'Events the server refused for good (4xx), written to rejected.jsonl.');
    const sendErrors = metrics.errors('send');

    let client: HttpClient | undefined;
    let deadLetter: DeadLetter | undefined;
    /** A batch being retried (the core passes the same array again): its requests, and those already accepted
     * or dead-lettered, which the retry skips. */
    const pending = new WeakMap<Event[], { planned: PlannedRequest[]; sent: Set<number> }>();
    let notBefore = 0;
    let lastError: string | undefined;
    const closing = new AbortController();

    const pause = async (ms: number): Promise<void> => {
      if (!closing.signal.aborted) await sleep(ms, closing.signal);
      if (closing.signal.aborted) throw new ClosingError('http output is closing');
    };

    async function attempt(url: string, headers: Record<string, string>, body: Buffer): Promise<Outcome> {
      try {
        const res = await client!.send(url, { ...fixedHeaders, ...headers }, body, closing.signal);
        requests(`${Math.floor(res.status / 100)}xx`).inc();
        if (res.status >= 200 && res.status < 300) metrics.sentBytes.inc(body.length);
        return outcomeOf(res.status, res.retryAfter, res.body);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code && UNSENDABLE.has(e.code)) return { kind: 'rejected', reason: `cannot send: ${e.message}` };
        requests('error').inc();
        if (closing.signal.aborted) throw new ClosingError('http output is closing');
        return { kind: 'retry', reason: e.code ? `${e.code} ${e.message}` : e.message };
      }
    }

    return {
      batch: { max_events: options.batch.max_events, timeout_ms: options.batch.timeout },

      async start() {
        const files = options.tls ? await loadTlsFiles(options.tls, context.configDir) : {};
        client = new HttpClient({
          method: options.method,
          timeout: options.timeout,
          maxSockets: options.max_sockets,
          tls: { files, passphrase: options.tls?.key_passphrase, rejectUnauthorized: options.tls?.reject_unauthorized ?? true, servername: options.tls?.servername },
        });
      },

      async write(events) {
        let batch = pending.get(events);
        if (!batch) pending.set(events, (batch = { planned: planner.plan(events), sent: new Set() }));
        const { planned, sent } = batch;
        for (let i = 0; i < planned.length; i++) {
          if (sent.has(i)) continue;
          const r = planned[i];
          const wait = notBefore - Date.now();
          if (wait > 0) await pause(wait);
          const raw = Buffer.from(r.body);
          const body = options.compression === 'gzip' ? await gzipAsync(raw) : raw;
          const origin = originOf(r.url);
          const outcome = await attempt(r.url, r.headers, body);
          if (outcome.kind === 'retry') {
            retries.inc();
            sendErrors.inc();
            if (outcome.wait !== undefined) notBefore = Date.now() + Math.min(outcome.wait, options.max_retry_after);
            if (lastError === undefined) logger.warn('http requests failing; the core retries with backoff', { origin, error: outcome.reason });
            lastError = `${origin}: ${outcome.reason}`;
            throw new Error(`http output: request to ${origin} failed: ${outcome.reason}`);
          }
          if (outcome.kind === 'rejected') {
            // The data directory is made only when something is refused: most outputs never need it.
            deadLetter ??= new DeadLetter(path.join(await context.dataDir(), 'rejected.jsonl'), rejected, logger);
            await deadLetter.add(r.events, outcome.reason, origin);
          }
          sent.add(i);
        }
        pending.delete(events);
        if (lastError !== undefined) logger.info('http requests succeed again');
        lastError = undefined;
      },

      async close() {
        closing.abort();
        client?.close();
      },

      health() {
        return lastError === undefined ? { healthy: true } : { healthy: false, reason: `http requests failing: ${lastError}` };
      },
    };
  },
});
