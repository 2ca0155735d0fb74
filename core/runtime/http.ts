// The agent's own HTTP endpoints: /health for load balancers and supervisors, /metrics for Prometheus.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../api.js';
import type { ListenerTls } from '../tls.js';
import { createListener, hostCheck, renewTls, tokenCheck, warnIfClearText } from './endpoint.js';
import { formatListen, listenOn, parseListen } from './listen.js';
import type { MetricsHub } from './metrics.js';

/** Used when `service.http.listen` names no port. */
export const DEFAULT_HTTP_PORT = 2020;

export interface HealthReport {
  healthy: boolean;
  status: string;
  [k: string]: unknown;
}

export interface HttpServerOptions {
  listen: string;
  metrics: MetricsHub;
  health: () => HealthReport;
  logger: Logger;
  /** Required on every request when set (`Authorization: Bearer TOKEN` or `?token=TOKEN`). */
  token?: string;
  /** Serve HTTPS with these (loadListenerTls). */
  tls?: ListenerTls;
  /** Host header names accepted besides the listen address and loopback names. */
  allowedHosts?: readonly string[];
}

/** What a reload may change without closing the listener. */
export interface HttpServerSettings {
  token?: string;
  tls?: ListenerTls;
  allowedHosts?: readonly string[];
}

export interface RunningHttpServer {
  /** e.g. `http://127.0.0.1:2020`, with the port actually bound (useful with port 0). */
  url: string;
  port: number;
  /** Applies a reload's token, allowed hosts and renewed certificate files to the running listener (HTTPS stays
   * HTTPS: switching TLS on or off, or client certificates, takes a new listener). */
  update(settings: HttpServerSettings): void;
  /** Stops listening and drops open connections, keep-alive ones included. */
  close(): Promise<void>;
}

interface Reply {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
}

const JSON_TYPE = 'application/json';

/** Listens on `opts.listen`; rejects if the address cannot be bound (e.g. already in use). */
export async function startHttpServer(opts: HttpServerOptions): Promise<RunningHttpServer> {
  const address = parseListen(opts.listen, DEFAULT_HTTP_PORT);
  // Set once the port is known (port 0); no request is handled before.
  let checkHost: (req: IncomingMessage) => string | undefined = () => undefined;
  let authorized = tokenCheck(opts.token);
  const server = createListener(opts.tls, (req, res) => {
    guarded(req, checkHost, authorized, opts)
      .catch((err: unknown): Reply => {
        opts.logger.error('http request failed', { method: req.method, url: req.url, error: errorMessage(err) });
        return json(500, { error: 'internal server error' });
      })
      .then((reply) => send(req, res, reply))
      .catch((err: unknown) => {
        // Sending itself failed (the client went away, most likely): nothing left to tell it.
        opts.logger.debug('http response failed', { error: errorMessage(err) });
        res.destroy();
      });
  });

  await listenOn(server, address, 'http server');
  // After a successful bind, errors are not fatal to the agent: log them instead of crashing on 'error'.
  server.on('error', (err) => opts.logger.error('http server error', { error: err.message }));

  const port = (server.address() as AddressInfo).port;
  checkHost = hostCheck(address, port, opts.allowedHosts ?? []);
  const url = `${opts.tls ? 'https' : 'http'}://${formatListen({ host: address.host, port })}`;
  opts.logger.info('http server listening', { url, token: opts.token ? 'required' : 'none', ...(opts.tls?.requestCert ? { client_certificates: 'required' } : {}) });
  warnIfClearText(opts.logger, 'the http server', address, opts.tls !== undefined, opts.token !== undefined);

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    update(settings) {
      authorized = tokenCheck(settings.token);
      checkHost = hostCheck(address, port, settings.allowedHosts ?? []);
      if (settings.tls && opts.tls) renewTls(server, settings.tls);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        // close() alone waits for open connections to end; a scraper's keep-alive socket would hold up shutdown.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** The Host and token checks, then the route. */
async function guarded(
  req: IncomingMessage,
  checkHost: (req: IncomingMessage) => string | undefined,
  authorized: (req: IncomingMessage, query: URLSearchParams) => boolean,
  opts: HttpServerOptions,
): Promise<Reply> {
  const refused = checkHost(req);
  if (refused) return json(421, { error: refused });
  if (!authorized(req, new URL(req.url ?? '/', 'http://localhost').searchParams)) {
    return { ...json(401, { error: 'unauthorized: give the token as "Authorization: Bearer TOKEN" or ?token=TOKEN' }), headers: { 'www-authenticate': 'Bearer realm="visor"' } };
  }
  return handle(req, opts);
}

async function handle(req: IncomingMessage, opts: HttpServerOptions): Promise<Reply> {
  const path = new URL(req.url ?? '/', 'http://localhost').pathname;
  const route = ROUTES[path];
  if (!route) return json(404, { error: `not found: ${path}`, endpoints: Object.keys(ROUTES) });
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return { ...json(405, { error: `method ${req.method} not allowed` }), headers: { allow: 'GET, HEAD' } };
  }
  return route(opts);
}

const ROUTES: Record<string, (opts: HttpServerOptions) => Promise<Reply>> = {
  '/health': async ({ health }) => {
    const report = health();
    return json(report.healthy ? 200 : 503, report);
  },
  '/metrics': async ({ metrics }) => ({ status: 200, contentType: metrics.contentType, body: await metrics.exposition() }),
};

function json(status: number, value: unknown): Reply {
  return { status, contentType: JSON_TYPE, body: JSON.stringify(value) };
}

function send(req: IncomingMessage, res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, {
    'content-type': reply.contentType,
    'content-length': Buffer.byteLength(reply.body),
    // Health and metrics are live values: a cached answer would be a wrong one.
    'cache-control': 'no-store',
    ...reply.headers,
  });
  // HEAD gets the headers GET would, content-length included, and no body.
  res.end(req.method === 'HEAD' ? undefined : reply.body);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
