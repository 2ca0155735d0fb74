// Newline-delimited lines from TCP (or TLS) clients, many at once: one event { message, peer } per line.
// Backpressure pauses the sockets (TCP flow control then slows the senders) instead of buffering without bound.
// TCP carries no acknowledgement back to the sender: lines the socket accepted but the pipeline has not yet
// delivered are lost if the agent crashes (as with Fluent Bit's and Vector's plain TCP sources).
import { isUtf8 } from 'node:buffer';
import net from 'node:net';
import tls from 'node:tls';
import { definePlugin, formatListen, formatSubject, LineSplitter, listenOn, listenSchema, loadTlsFiles, parseListen, tlsServerSchema, type Event, type LongLinePolicy } from '../../core/index.js';

export const DEFAULT_TCP_PORT = 5170;

interface Connection {
  socket: net.Socket;
  peer: string;
  tlsSubject: string | undefined;
  splitter: LineSplitter;
  lastActive: number;
  paused: boolean;
  /** The client ended its side (FIN): its partial last line is a line. */
  ended: boolean;
  /** Closed by us for idleness, or by an error: its partial last line is discarded (and counted). */
  broken: boolean;
}

function peerOf(socket: net.Socket): string {
  const host = socket.remoteAddress ?? 'unknown';
  return formatListen({ host, port: socket.remotePort ?? 0 });
}

export default definePlugin({
  kind: 'input',
  name: 'tcp',
  description: 'A TCP (optionally TLS) server receiving newline-delimited lines from many clients; one event per line: { message, peer } (plus tls_subject with a client certificate). Backpressure pauses the sockets.',
  schema: {
    type: 'object',
    properties: {
      listen: listenSchema(DEFAULT_TCP_PORT, 'Address to listen on: host:port, :port, port or [ipv6]:port (loopback unless a host is given).'),
      max_connections: { type: 'integer', minimum: 1, default: 1000, description: 'Most clients connected at once; further connections are closed at once (counted).' },
      max_line_bytes: { size: true, default: '64KiB', description: 'Longest line accepted; longer lines are cut or skipped (counted).' },
      long_lines: { enum: ['truncate', 'skip'], default: 'truncate', description: 'What to do with a line longer than max_line_bytes.' },
      idle_timeout: { duration: true, default: '5m', description: 'Close a connection that sent nothing for this long (slowloris); its unfinished last line is discarded (counted). 0: never.' },
      batch_size: { type: 'integer', minimum: 1, default: 1000, description: 'Lines per batch sent downstream (batches gather lines of all clients).' },
      shutdown_timeout: { duration: true, default: '1s', description: 'On stop, how long clients get to close after the server ended their connections.' },
      tls: tlsServerSchema(),
    },
  },
  create(options, context) {
    const { metrics, logger } = context;
    const gauge = metrics.gauge('tcp_connections', 'Clients connected now.');
    const accepted = metrics.counter('tcp_connections_accepted_total', 'Client connections accepted.');
    const closed = metrics.counter('tcp_connections_closed_total', 'Client connections closed.');
    const refused = metrics.counter('tcp_connections_refused_total', 'Connections closed at once because max_connections were open.');
    const idleTimeouts = metrics.counter('tcp_idle_timeouts_total', 'Connections closed for sending nothing during idle_timeout.');
    const handshakeFailures = metrics.counter('tcp_tls_handshake_failures_total', 'TLS handshakes that failed (bad or missing client certificate, not TLS, ...).');
    const longLines = metrics.counter('input_long_lines_total', 'Lines longer than max_line_bytes (cut or skipped).');
    const invalidUtf8 = metrics.counter('tcp_invalid_utf8_lines_total', 'Lines that were not valid UTF-8 (passed on with U+FFFD in place of the bad bytes).');
    const skipped = metrics.discarded('line_too_long');
    const incomplete = metrics.discarded('incomplete_line');
    const resets = metrics.errors('connection');

    const connections = new Set<Connection>();
    let pending: Event[] = [];
    let pendingBytes = 0;
    const highWater = options.batch_size * 4;
    let waiter: (() => void) | undefined;
    const wake = () => {
      const w = waiter;
      waiter = undefined;
      w?.();
    };
    let server: net.Server | undefined;
    let stopping = false;
    let lastLog = 0;
    const scratch: string[] = [];
    const onLongLine = (policy: LongLinePolicy) => {
      longLines.inc();
      if (policy === 'skip') skipped.inc();
    };

    const pushLines = (conn: Connection, lines: string[], checkUtf8: boolean) => {
      const { peer, tlsSubject } = conn;
      for (let i = 0; i < lines.length; i++) {
        const message = lines[i];
        if (checkUtf8 && message.includes('\uFFFD')) invalidUtf8.inc();
        pending.push(tlsSubject === undefined ? { message, peer } : { message, peer, tls_subject: tlsSubject });
      }
    };

    const accept = (socket: net.Socket) => {
      if (stopping) {
        socket.destroy();
        return;
      }
      const conn: Connection = {
        socket,
        peer: peerOf(socket),
        tlsSubject: socket instanceof tls.TLSSocket ? formatSubject((socket.getPeerCertificate() as tls.PeerCertificate | undefined)?.subject as unknown as Record<string, string> | undefined) : undefined,
        splitter: new LineSplitter({ maxLineBytes: options.max_line_bytes, longLines: options.long_lines, onLongLine }),
        lastActive: Date.now(),
        paused: false,
        ended: false,
        broken: false,
      };
      connections.add(conn);
      accepted.inc();
      gauge.set(connections.size);
      socket.setNoDelay(true);
      socket.on('data', (chunk: Buffer) => {
        conn.lastActive = Date.now();
        pendingBytes += chunk.length;
        scratch.length = 0;
        conn.splitter.push(chunk, scratch);
        if (scratch.length) {
          // isUtf8 is a fast (SIMD) check; only chunks that fail it (or split a character) are scanned per line.
          pushLines(conn, scratch, !isUtf8(chunk));
          if (pending.length >= highWater && !conn.paused) {
            conn.paused = true;
            socket.pause();
          }
          wake();
        }
      });
      socket.on('end', () => {
        conn.ended = true; // allowHalfOpen is off: Node ends our side too
      });
      socket.on('error', (err: NodeJS.ErrnoException) => {
        conn.broken = true;
        resets.inc();
        const now = Date.now();
        if (now - lastLog > 1000) {
          lastLog = now;
          logger.debug('tcp client connection error', { peer: conn.peer, error: err.code ?? err.message });
        }
      });
      socket.on('close', () => {
        connections.delete(conn);
        closed.inc();
        gauge.set(connections.size);
        const rest = conn.splitter.end([]);
        if (rest.length) {
          if (conn.ended || (stopping && !conn.broken)) pushLines(conn, rest, true);
          else incomplete.inc(rest.length);
        }
        wake();
      });
    };

    const resumeAll = () => {
      for (const conn of connections) {
        if (!conn.paused) continue;
        conn.paused = false;
        conn.lastActive = Date.now(); // the time it spent paused was ours, not the client's
        conn.socket.resume();
      }
    };

    return {
      async start() {
        const address = parseListen(options.listen, DEFAULT_TCP_PORT);
        if (options.tls) {
          const files = await loadTlsFiles(options.tls, context.configDir);
          // require_client_cert without ca is refused by the schema (tlsServerSchema's check).
          const requireCert = options.tls.require_client_cert ?? files.ca !== undefined;
          const secure = tls.createServer({
            cert: files.cert,
            key: files.key,
            passphrase: options.tls.key_passphrase,
            ca: files.ca,
            requestCert: files.ca !== undefined,
            rejectUnauthorized: requireCert,
            handshakeTimeout: Math.min(options.idle_timeout || 10_000, 10_000),
          }, (socket) => {
            // A certificate presented but not verified is refused even when certificates are optional.
            if (files.ca && !socket.authorized && socket.getPeerCertificate()?.subject) {
              handshakeFailures.inc();
              socket.destroy();
              return;
            }
            accept(socket);
          });
          secure.on('tlsClientError', (err) => {
            handshakeFailures.inc();
            const now = Date.now();
            if (now - lastLog > 1000) {
              lastLog = now;
              logger.warn('tls handshake failed', { error: err.message });
            }
          });
          server = secure;
        } else {
          server = net.createServer(accept);
        }
        server.maxConnections = options.max_connections;
        server.on('drop', () => refused.inc());
        const srv = server;
        await listenOn(srv, address, 'tcp input');
        srv.on('error', (err) => logger.error('tcp server error', { error: err.message }));
        const port = (srv.address() as net.AddressInfo).port;
        logger.info('tcp input listening', { address: formatListen({ host: address.host, port }), tls: !!options.tls });
        if (options.idle_timeout > 0) {
          context.timers.every(Math.max(50, Math.min(1000, options.idle_timeout / 4)), () => {
            const limit = Date.now() - options.idle_timeout;
            for (const conn of connections) {
              if (!conn.paused && conn.lastActive < limit) {
                conn.broken = true;
                idleTimeouts.inc();
                conn.socket.destroy();
              }
            }
          });
        }
      },

      async run({ emit, signal }) {
        const stop = () => {
          stopping = true;
          server?.close();
          for (const conn of connections) {
            conn.socket.end(); // tell the client we are done; what it still sends meanwhile is read
          }
          resumeAll();
          const timer = setTimeout(() => {
            for (const conn of connections) conn.socket.destroy();
          }, options.shutdown_timeout);
          timer.unref();
          wake();
        };
        if (signal.aborted) stop();
        else signal.addEventListener('abort', stop, { once: true });

        for (;;) {
          if (pending.length === 0) {
            if (stopping && connections.size === 0) break;
            resumeAll();
            await new Promise<void>((resolve) => { waiter = resolve; });
            // Let the other sockets with data in this round of I/O add theirs: fewer, larger batches.
            if (pending.length < options.batch_size) await new Promise((resolve) => setImmediate(resolve));
            continue;
          }
          let batch: Event[];
          if (pending.length <= options.batch_size * 2) {
            batch = pending;
            pending = [];
          } else {
            batch = pending.slice(0, options.batch_size);
            pending = pending.slice(options.batch_size);
          }
          if (pendingBytes) {
            metrics.receivedBytes.inc(pendingBytes);
            pendingBytes = 0;
          }
          await emit(batch);
          if (pending.length < highWater) resumeAll();
        }
      },

      async close() {
        const srv = server;
        server = undefined;
        for (const conn of connections) conn.socket.destroy();
        if (srv?.listening) await new Promise<void>((resolve) => srv.close(() => resolve()));
      },

      health() {
        return { healthy: true, details: { connections: connections.size } };
      },
    };
  },
});
