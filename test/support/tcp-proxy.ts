// A TCP proxy of the tests' own, to cut a link between an agent and its peer (TCP input, Kafka broker) and heal
// it later. While cut, open connections are destroyed and new ones are refused (the listening port is closed).
// A `transform` hook sees each chunk from the upstream so protocol-aware proxies (Kafka) can rewrite replies.
import net from 'node:net';

export interface ProxyOptions {
  /** Where connections go. */
  target: { host: string; port: number };
  /** Listening port (default: a free one chosen by the OS; kept across cut/heal). */
  port?: number;
  /** Per connection: returns a function rewriting upstream -> client bytes (called in order). */
  upstreamTransform?: () => (chunk: Buffer) => Buffer;
  /** Per connection: sees client -> upstream bytes (called in order), e.g. to learn request ids. */
  clientTap?: () => (chunk: Buffer) => void;
}

export class TcpProxy {
  port = 0;
  /** Connections accepted since start (refused ones while cut are not counted). */
  connections = 0;
  bytesToTarget = 0;
  bytesFromTarget = 0;
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly options: ProxyOptions) {}

  get isCut(): boolean {
    return !this.server;
  }

  async start(): Promise<this> {
    await this.listen(this.options.port ?? 0);
    return this;
  }

  private listen(port: number): Promise<void> {
    const server = net.createServer({ allowHalfOpen: true }, (client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private accept(client: net.Socket): void {
    this.connections++;
    const upstream = net.connect({ port: this.options.target.port, host: this.options.target.host, allowHalfOpen: true });
    const transform = this.options.upstreamTransform?.();
    const tap = this.options.clientTap?.();
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.setNoDelay(true);
      s.on('error', () => { client.destroy(); upstream.destroy(); });
      s.on('close', () => this.sockets.delete(s));
    }
    // Half-closes pass through (a client may end its side and still read the reply); a full close of one side
    // after both ended, or an error, closes the other.
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => { if (client.writableEnded || client.destroyed) return; client.destroy(); });
    client.on('data', (chunk: Buffer) => {
      this.bytesToTarget += chunk.length;
      tap?.(chunk);
      if (!upstream.write(chunk)) client.pause();
    });
    upstream.on('drain', () => client.resume());
    upstream.on('data', (chunk: Buffer) => {
      this.bytesFromTarget += chunk.length;
      if (!client.write(transform ? transform(chunk) : chunk)) upstream.pause();
    });
    client.on('drain', () => upstream.resume());
  }

  /** Destroys every open connection and stops accepting new ones. */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Accepts connections again on the same port. */
  async heal(): Promise<void> {
    if (!this.server) await this.listen(this.port);
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}
