// The dashboard output: a live web page served by the agent itself. Events written to it (parsed access and
// error-log events, alert events) feed a DashboardModel; once per update_every one state is computed, with the
// pipeline's health, and broadcast to every open page over Server-Sent Events. The page and its assets come from
// lib/dashboard (its page/ and node_modules/uplot; no CDN). write() absorbs a batch and resolves at once: the
// dashboard never slows the pipeline.
import type { IncomingMessage, ServerResponse } from 'node:http';
import {
  allowedHostsSchema, definePlugin, exposedWithoutToken, formatListen, hostCheck, listenSchema, loadListenerTls, parseListen,
  tlsListenerSchema, tokenCheck, warnIfClearText, type ComponentHealth, type ListenerTls, type PipelineView,
} from '../../../core/index.js';
import { asset, DashboardModel, liveHtml, trimSeries, type DashboardState } from '../../../lib/dashboard/index.js';
import { ERROR_LOG_LEVELS, MESSAGE_LEVEL_DEFAULT } from '../../../lib/stats/index.js';
import { HistoryApi } from './history.js';
import { KeptListener } from './listener.js';
import { healthRows, type HealthSample } from './health.js';

export const DEFAULT_DASHBOARD_PORT = 8080;
/** Seconds between SSE comment lines, so proxies and browsers keep an idle stream open. */
const HEARTBEAT_MS = 15_000;
/** A page that has not taken its data for this long (its socket buffer stays full) is disconnected. */
const STALLED_CLIENT_MS = 30_000;
/** Longest the chart history may be, in buckets (a day of seconds). */
const MAX_BUCKETS = 86_400;

/** Why serving on `listen` with this token is refused (beyond loopback without a token), or undefined: the rule
 * every listener of the agent follows (service.http too). */
function unprotected(listen: string, token: string | undefined): string | undefined {
  return exposedWithoutToken('the dashboard', listen, DEFAULT_DASHBOARD_PORT, token, 'token (e.g. token: "${DASHBOARD_TOKEN}")');
}

/** Why an `update_every` (milliseconds, after conversion) is refused, or undefined. */
function atLeast100ms(ms: unknown): string | undefined {
  if (typeof ms !== 'number') return undefined; // an invalid duration is reported by the duration keyword
  return ms >= 100 ? undefined : `must be at least 100ms (got ${ms}ms), e.g. update_every: 1s`;
}

interface Client {
  res: ServerResponse;
  /** The socket buffer is full: skip updates until it drains (a slow page gets the latest state, not a backlog). */
  blockedSince?: number;
}

export default definePlugin({
  kind: 'output',
  name: 'dashboard',
  description: 'A live web dashboard served by the agent: requests/s, 5xx/s, error rate, status classes and bytes/s charts, top clients, URLs and 5xx clients, error-log lines per level and module and the top error messages by template (with a level filter and a sample each), recent alerts and pipeline health, updated every second over Server-Sent Events. Reads access, error-log and alert events.',
  schema: {
    type: 'object',
    // Reported by `visor validate` too, at the component: exposing the dashboard needs a token.
    check: (options: unknown) => {
      const o = (options ?? {}) as { listen?: unknown; token?: unknown };
      if (typeof o.listen !== 'string') return undefined;
      return unprotected(o.listen, typeof o.token === 'string' ? o.token : undefined);
    },
    properties: {
      listen: listenSchema(DEFAULT_DASHBOARD_PORT, 'Address to serve on: [host:]port (loopback unless a host is given; a non-loopback address needs a token).'),
      token: { type: 'string', secret: true, description: 'Access token, usually ${DASHBOARD_TOKEN}: required on every request as "Authorization: Bearer TOKEN" or ?token=TOKEN. Required to listen beyond loopback; empty means none.' },
      tls: tlsListenerSchema(),
      allowed_hosts: allowedHostsSchema(),
      title: { type: 'string', default: 'Visor', description: 'Title shown in the page header.' },
      history: { duration: true, default: '15m', description: 'Time span of the line charts (one-second buckets).' },
      top: { type: 'integer', minimum: 1, maximum: 100, default: 10, description: 'Rows per table.' },
      top_window: { duration: true, default: '5m', description: 'Time span the tables and totals cover (to within a tenth of it).' },
      capacity: { type: 'integer', minimum: 1, default: 1000, description: 'Distinct values counted exactly per top list and tenth of top_window; beyond, Space-Saving (the page shows the error bound).' },
      message_level: { enum: [...ERROR_LOG_LEVELS], default: MESSAGE_LEVEL_DEFAULT, description: 'The level the page\'s error-log filter starts at: the top error messages (grouped by template) are those at or above it; the page lets the viewer choose another. Default warn, Apache\'s default LogLevel: notices ("resuming normal operations", "caught SIGTERM") are no errors.' },
      alerts: { type: 'integer', minimum: 0, maximum: 1000, default: 50, description: 'Recent alert events kept and shown.' },
      update_every: { duration: true, default: '1s', check: atLeast100ms, description: 'How often the page is updated (at least 100ms).' },
      max_clients: { type: 'integer', minimum: 1, default: 32, description: 'Most pages connected at once; more are answered 503.' },
      store: { type: 'string', minLength: 1, component: 'store', description: 'Id of a store output of this pipeline to read history from: the page gets a time-range picker (15 min, 1 h, 24 h, 7 d, custom) and drill-down filters (vhost, status class and code, client, path) answered from its window rows or, with events: true, its events (GET /api/history); after a restart the live view is refilled from its events and alerts.' },
      store_aggregate: { type: 'string', minLength: 1, description: 'With store: the aggregate whose window rows the history reads (default: the only one stored, else the first by name).' },
      store_max_events: { type: 'integer', minimum: 1, default: 200000, description: 'With store: most stored events one history view may read, for a filter the windows cannot answer or a range without window rows; beyond, the page says the range is too long. Reading events costs a few microseconds each, and SQLite reads run on the agent\'s event loop.' },
    },
  },
  create(options, context) {
    const address = parseListen(options.listen, DEFAULT_DASHBOARD_PORT);
    const token = options.token || undefined;
    // Checked by the schema already; kept for embedders that build options without validating them, since serving
    // the dashboard unprotected would expose it.
    const refused = unprotected(options.listen, token);
    if (refused) throw new Error(refused);
    const bucketMs = 1000;
    const buckets = Math.max(2, Math.min(MAX_BUCKETS, Math.round(options.history / bucketMs)));
    if (Math.round(options.history / bucketMs) > MAX_BUCKETS) context.logger.warn('history capped at one day', { history_ms: options.history });
    const modelOptions = {
      bucketMs,
      buckets,
      topN: options.top,
      topWindowMs: options.top_window,
      capacity: Math.max(options.capacity, options.top),
      alerts: options.alerts,
      title: options.title,
      messageLevel: options.message_level,
    };
    // Kept over a SIGHUP reload (the charts' history and recent alerts stay on screen) unless an option that shapes
    // the model changed: then it starts afresh.
    const model = context.kept(`dashboard.model ${JSON.stringify(modelOptions)}`, () => new DashboardModel(modelOptions));
    // A model made now (a start, not a reload that kept one) is refilled from the store, if there is one.
    const fresh = model.latest === -Infinity;
    /** The earliest event time charted live since this start: a refill from the store stops there. */
    let earliestLive = Infinity;
    const history = options.store === undefined ? undefined : new HistoryApi(context, {
      store: options.store, aggregate: options.store_aggregate, maxEvents: options.store_max_events, topN: options.top, alerts: options.alerts, title: options.title, messageLevel: options.message_level,
    });
    const { logger, metrics, timers } = context;
    const connected = metrics.gauge('dashboard_clients', 'Pages connected to the event stream.');
    const tooMany = metrics.discarded('too_many_clients');
    const unauthorized = metrics.errors('unauthorized');
    const misdirected = metrics.errors('host_not_allowed');
    const authorized = tokenCheck(token);
    /** Set at start, once the port is known; no request is handled before. */
    let checkHost: (req: IncomingMessage) => string | undefined = () => undefined;
    const clients = new Set<Client>();
    /** Takes the request handler back from the kept listener (set by start). */
    let released: (() => void) | undefined;
    let url = '';
    let failed: string | undefined;
    let samples: { prev?: HealthSample; cur?: HealthSample } = {};
    let latest: { state: DashboardState; json: string } | undefined;

    const sample = (): void => {
      let view: PipelineView;
      try {
        view = context.pipeline();
      } catch {
        return;
      }
      samples = { prev: samples.cur, cur: { at: Date.now(), view } };
    };
    const computeState = (): { state: DashboardState; json: string } => {
      const now = Date.now();
      // Charts end with the last complete second and start with the first event seen (a fresh start shows its first
      // seconds across the whole chart, not at the right edge of an empty 15-minute axis); tables cover the window.
      const state = trimSeries(model.snapshot(now, now - bucketMs), model.earliest);
      if (samples.cur) {
        state.health = healthRows(samples.cur, samples.prev);
        state.pipeline_state = samples.cur.view.state;
      }
      state.update_ms = options.update_every;
      return { state, json: JSON.stringify(state) };
    };

    const handle = (req: IncomingMessage, res: ServerResponse): void => {
      const parsed = new URL(req.url ?? '/', 'http://localhost');
      const path = parsed.pathname;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        return reply(req, res, 405, 'application/json', JSON.stringify({ error: `method ${req.method} not allowed` }), { allow: 'GET, HEAD' });
      }
      // Before the token: a page of another site reaching us through DNS rebinding learns nothing, not even that.
      const refused = checkHost(req);
      if (refused) {
        misdirected.inc();
        return reply(req, res, 421, 'application/json', JSON.stringify({ error: refused }));
      }
      if (!authorized(req, parsed.searchParams)) {
        unauthorized.inc();
        return reply(req, res, 401, 'application/json', JSON.stringify({ error: 'unauthorized: give the token as "Authorization: Bearer TOKEN" or ?token=TOKEN' }), {
          'www-authenticate': 'Bearer realm="visor dashboard"',
        });
      }
      // Carry a token given in the URL on to the page's own requests (assets, event stream).
      const given = parsed.searchParams.get('token');
      const query = given !== null ? `?token=${encodeURIComponent(given)}` : '';
      if (path === '/' || path === '/index.html') {
        return reply(req, res, 200, 'text/html; charset=utf-8', liveHtml(options.title, query, history !== undefined), PAGE_HEADERS);
      }
      if (path.startsWith('/assets/')) {
        const a = asset(path.slice('/assets/'.length));
        if (!a) return reply(req, res, 404, 'application/json', JSON.stringify({ error: `not found: ${path}` }));
        return reply(req, res, 200, a.contentType, a.body, { 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' });
      }
      if (path === '/api/state') {
        latest ??= computeState();
        return reply(req, res, 200, 'application/json', latest.json);
      }
      if (path === '/events') return openStream(req, res);
      if (path === '/api/history') {
        if (!history) return reply(req, res, 404, 'application/json', JSON.stringify({ error: 'no history: this dashboard has no store (set store: ID, the id of a store output)' }));
        void history.answer(parsed.searchParams).then(
          (r) => reply(req, res, r.status, 'application/json', r.body),
          (err) => {
            logger.error('dashboard history query failed', { error: (err as Error).message });
            reply(req, res, 500, 'application/json', JSON.stringify({ error: `history query failed: ${(err as Error).message}` }));
          },
        );
        return;
      }
      return reply(req, res, 404, 'application/json', JSON.stringify({ error: `not found: ${path}`, endpoints: ['/', '/assets/*', '/events', '/api/state', '/api/history'] }));
    };

    const requests = (req: IncomingMessage, res: ServerResponse): void => {
      try {
        handle(req, res);
      } catch (err) {
        logger.error('dashboard request failed', { url: req.url?.replace(/token=[^&]*/g, 'token=***'), error: (err as Error).message });
        if (!res.headersSent) reply(req, res, 500, 'application/json', JSON.stringify({ error: 'internal server error' }));
        else res.destroy();
      }
    };

    const openStream = (req: IncomingMessage, res: ServerResponse): void => {
      if (clients.size >= options.max_clients) {
        tooMany.inc();
        return reply(req, res, 503, 'application/json', JSON.stringify({ error: `too many dashboard pages open (max_clients ${options.max_clients})` }), { 'retry-after': '5' });
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      if (req.method === 'HEAD') return void res.end();
      req.socket.setNoDelay(true);
      const client: Client = { res };
      clients.add(client);
      connected.set(clients.size);
      const drop = () => {
        if (!clients.delete(client)) return;
        connected.set(clients.size);
      };
      res.on('close', drop);
      res.on('error', drop);
      res.on('drain', () => (client.blockedSince = undefined));
      // Reconnect after 2 s if the stream breaks; then the current state at once.
      latest ??= computeState();
      send(client, `retry: 2000\n\nevent: state\ndata: ${latest.json}\n\n`);
    };

    const send = (client: Client, text: string): void => {
      if (client.blockedSince !== undefined) {
        if (Date.now() - client.blockedSince > STALLED_CLIENT_MS) {
          logger.debug('dropping a dashboard page that stopped reading');
          client.res.destroy();
          clients.delete(client);
          connected.set(clients.size);
        }
        return;
      }
      if (!client.res.write(text)) client.blockedSince = Date.now();
    };

    const tick = (): void => {
      sample();
      latest = undefined;
      if (clients.size === 0) return;
      // One state per tick, serialised once, for every page.
      latest = computeState();
      const message = `event: state\ndata: ${latest.json}\n\n`;
      for (const c of clients) send(c, message);
    };

    return {
      async start() {
        history?.check();
        // Read at every start, a reload's included: renewed certificate files are served from then on. Files that
        // cannot be read on a reload (a renewal half done) leave the dashboard with the ones it served before.
        let tls: ListenerTls | undefined;
        if (options.tls) {
          const lastTls = context.kept(`dashboard.tls ${JSON.stringify(options.tls)}`, () => ({ files: undefined as ListenerTls | undefined }));
          try {
            tls = lastTls.files = await loadListenerTls(options.tls, context.configDir);
          } catch (err) {
            if (!lastTls.files) throw err;
            logger.error('dashboard: cannot read the TLS files; serving the previous certificate', { error: (err as Error).message });
            tls = lastTls.files;
          }
        }
        const listener = context.kept('dashboard.listener', () => new KeptListener());
        const port = await listener.serve(address, tls, requests, (err) => {
          failed = err.message;
          logger.error('dashboard server error', { error: err.message });
        });
        released = () => listener.release(requests);
        checkHost = hostCheck(address, port, options.allowed_hosts ?? []);
        url = `${tls ? 'https' : 'http'}://${formatListen({ host: address.host, port })}/`;
        logger.info('dashboard listening', { url, token: token ? 'required' : 'none', ...(tls?.requestCert ? { client_certificates: 'required' } : {}) });
        warnIfClearText(logger, 'the dashboard', address, tls !== undefined, token !== undefined);
        sample();
        if (history && fresh) history.refill(model, Math.max(options.history, options.top_window), () => earliestLive, clock);
        timers.every(options.update_every, tick);
        timers.every(HEARTBEAT_MS, () => {
          for (const c of clients) send(c, ': keep-alive\n\n');
        });
      },
      write(events) {
        const now = Date.now();
        for (let i = 0; i < events.length; i++) {
          const e = events[i]!;
          const at = clock(e, now);
          if (at < earliestLive) earliestLive = at;
          model.add(e, at);
        }
        return Promise.resolve();
      },
      health(): ComponentHealth {
        if (failed) return { healthy: false, reason: `dashboard server: ${failed}` };
        return { healthy: true, details: { url, clients: clients.size } };
      },
      async close() {
        for (const c of clients) c.res.end();
        clients.clear();
        connected.set(0);
        // The server itself is kept for the pipeline a reload builds (listener.ts).
        released?.();
        released = undefined;
      },
    };
  },
});

const PAGE_HEADERS = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/** The time an event is charted and counted at (charts, tables and totals alike): its own time (`timestamp`, epoch ms: a backlog read after downtime lands where it
 * happened), arrival time for an event without one, and never later than now (a clock ahead of ours would chart it
 * beyond the right edge, and push the older buckets out of the ring). */
function clock(e: Record<string, unknown>, now: number): number {
  const t = e.timestamp;
  return typeof t === 'number' && Number.isFinite(t) && t <= now ? t : now;
}

function reply(req: IncomingMessage, res: ServerResponse, status: number, contentType: string, body: string | Buffer, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}
