// The dashboard's listening server, kept over SIGHUP reloads (PluginContext.kept): a reload that leaves the address
// and the kind of TLS alone keeps the socket (renewed certificate files are served on it from then on), so pages
// and scrapers never see the port refuse connections. Each start of a dashboard hands the server its request
// handler; each close takes it back. Requests that arrive in between wait for the next handler (a reload takes
// moments), or get 503 after WAIT_MS. Disposed (the server closed) when the dashboard leaves the config, when its
// address or TLS kind changes, and when the agent stops.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createListener, listenOn, renewTls, type ListenAddress, type ListenerTls } from '../../../core/index.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** Longest a request waits for a reload to hand the server a new handler. */
const WAIT_MS = 10_000;

export class KeptListener {
  private server: Server | undefined;
  /** What the server was opened for: `host:port` and the TLS kind, which a running server cannot change. */
  private shape = '';
  private handler: Handler | undefined;
  private onError: ((err: Error) => void) | undefined;
  private waiting: Array<() => void> = [];

  /** Serves `handler` on `address`: on the server kept from before when it was opened for the same address and TLS
   * kind (with `tls`'s renewed files), else on a new one. Returns the bound port. */
  async serve(address: ListenAddress, tls: ListenerTls | undefined, handler: Handler, onError: (err: Error) => void): Promise<number> {
    const shape = `${address.host} ${address.port} ${!tls ? 'http' : tls.requestCert ? 'https+client' : 'https'}`;
    if (this.server && this.shape !== shape) await this.dispose();
    if (this.server) {
      if (tls) renewTls(this.server, tls);
    } else {
      const srv = createListener(tls, (req, res) => this.dispatch(req, res));
      await listenOn(srv, address, 'dashboard');
      srv.on('error', (err) => this.onError?.(err));
      this.server = srv;
      this.shape = shape;
    }
    this.handler = handler;
    this.onError = onError;
    for (const wake of this.waiting.splice(0)) wake();
    return (this.server.address() as AddressInfo).port;
  }

  /** The dashboard closed (a reload or a stop): requests wait for the next one. Open streams are the caller's to end. */
  release(handler: Handler): void {
    if (this.handler !== handler) return;
    this.handler = undefined;
    this.onError = undefined;
  }

  /** Closes the server and drops its connections (PluginContext.kept calls it when the value is dropped). */
  async dispose(): Promise<void> {
    const srv = this.server;
    this.server = undefined;
    this.handler = undefined;
    for (const wake of this.waiting.splice(0)) wake();
    if (!srv) return;
    await new Promise<void>((resolve) => {
      srv.close(() => resolve());
      srv.closeAllConnections();
    });
  }

  private dispatch(req: IncomingMessage, res: ServerResponse): void {
    if (this.handler) return this.handler(req, res);
    if (!this.server) return void res.destroy();
    let timer: NodeJS.Timeout | undefined;
    const wake = () => {
      clearTimeout(timer);
      if (this.handler) this.handler(req, res);
      else res.destroy();
    };
    this.waiting.push(wake);
    timer = setTimeout(() => {
      this.waiting = this.waiting.filter((w) => w !== wake);
      res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1', 'cache-control': 'no-store' });
      res.end(JSON.stringify({ error: 'the dashboard is restarting; try again' }));
    }, WAIT_MS);
    // A request that waits must not keep a stopping process alive.
    timer.unref();
  }
}
