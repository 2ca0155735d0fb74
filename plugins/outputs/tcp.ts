// Events as newline-delimited lines to a TCP (optionally TLS) server, e.g. another Visor's tcp input.
// A write resolves once its bytes were handed to the socket; a broken connection rejects it, the core retries
// the batch (its bounded buffer holds the rest and slows the inputs), and the output reconnects with backoff.
// Bytes already handed to the kernel when a connection breaks may never have arrived: the last `replay_buffer`
// bytes written on a connection are sent again first on the next one. So nothing is lost while the peer is away,
// and lines may arrive twice (and one line cut in two) after a reset: at-least-once.
import { isIP } from 'node:net';
import net from 'node:net';
import tls from 'node:tls';
import { Backoff, backoffOrder, createEncoder, definePlugin, encodeLines, encoderReads, encodingSchema, ENCODING_RULES, formatListen, listenSchema, loadTlsFiles, parseListen, sleep, tlsClientSchema, type TlsFiles } from '../../core/index.js';

interface Connection {
  socket: net.Socket;
  /** Text written on this connection, newest last, at most replay_buffer bytes (plus the newest write). */
  recent: string[];
  recentBytes: number[];
  recentTotal: number;
  lost: boolean;
}

class AbortedError extends Error {}

/** The listen schema's check and description, without its default (the address is required). */
function withoutDefault<S extends { default?: unknown }>(schema: S): Omit<S, 'default'> {
  const { default: _unused, ...rest } = schema;
  return rest;
}

export default definePlugin({
  kind: 'output',
  name: 'tcp',
  description: 'Sends events as newline-delimited lines (JSON, the message, or a template) to a TCP or TLS server such as a tcp input; reconnects with backoff and keeps events in the bounded buffer (slowing the inputs) while the server is away.',
  // What it writes, when only some fields (only_fields, a template): the parsers upstream may skip the rest.
  reads: encoderReads,
  schema: {
    type: 'object',
    allOf: [ENCODING_RULES],
    required: ['address'],
    properties: {
      address: withoutDefault(listenSchema(5170, 'Server to connect to: host:port (e.g. 127.0.0.1:5170, logs.example.com:5170, [::1]:5170); the port defaults to 5170.')),
      ...encodingSchema('json'),
      connect_timeout: { duration: true, default: '5s', description: 'Give up a connection attempt (TCP and TLS handshake) after this long.' },
      keepalive: { duration: true, default: '30s', description: 'TCP keepalive idle time: a dead peer on a silent link is noticed.' },
      reconnect: {
        type: 'object',
        additionalProperties: false,
        default: {},
        check: backoffOrder,
        description: 'Delay between connection attempts: doubles from backoff up to max_backoff (less up to 20% at random), reset by a successful connection.',
        properties: {
          backoff: { duration: true, default: '250ms', description: 'First delay.' },
          max_backoff: { duration: true, default: '5s', description: 'Longest delay.' },
        },
      },
      replay_buffer: { size: true, default: '8MiB', description: 'The last bytes written on a connection, sent again on the next one after it broke (they may not have arrived). 0: never resend (a reset may then lose what was in flight).' },
      tls: tlsClientSchema(),
    },
  },
  create(options, context) {
    const { metrics, logger } = context;
    const encode = createEncoder(options);
    const target = parseListen(options.address, 5170);
    const where = formatListen(target);
    const reconnects = metrics.counter('tcp_reconnects_total', 'Connections established again after one was lost or refused.');
    const connectFailures = metrics.counter('tcp_connect_failures_total', 'Connection attempts that failed.');
    const lostConnections = metrics.counter('tcp_connection_losses_total', 'Established connections that broke (reset, closed by the peer, write error).');
    const replayed = metrics.counter('tcp_replayed_bytes_total', 'Bytes sent again after a connection broke (possible duplicates at the receiver).');
    const connected = metrics.gauge('tcp_connected', '1 while connected to the server.');

    let tlsFiles: TlsFiles | undefined;
    let current: Connection | undefined;
    let connecting: Promise<Connection> | undefined;
    let replay: string[] = [];
    const reconnectDelays = new Backoff({ initial: options.reconnect.backoff, max: options.reconnect.max_backoff });
    let nextAttemptAt = 0;
    let everConnected = false;
    let failedSinceConnect = false;
    let lastError = 'not connected yet';
    let lastWarn = 0;
    const closing = new AbortController();

    /** Waits `ms`; rejects (AbortedError) when the output closes meanwhile or has closed. */
    const pause = async (ms: number): Promise<void> => {
      if (!closing.signal.aborted) await sleep(ms, closing.signal);
      if (closing.signal.aborted) throw new AbortedError('output is closing');
    };

    const lose = (conn: Connection, why: string) => {
      if (conn.lost) return;
      conn.lost = true;
      conn.socket.destroy();
      if (current === conn) {
        current = undefined;
        connected.set(0);
      }
      lostConnections.inc();
      lastError = why;
      failedSinceConnect = true;
      // What this connection carried may not have arrived: send it again, after what was still waiting.
      if (options.replay_buffer > 0 && conn.recent.length) replay = replay.concat(conn.recent);
      conn.recent = [];
      const now = Date.now();
      // While the pipeline drains, the server ending the connection is usually this agent's own tcp input
      // stopping (configs/tcp-mode.yaml), not a problem to warn about; anything left unsent still counts as a loss.
      if (context.pipeline().state !== 'running') {
        logger.info('tcp connection closed by the server while the pipeline stops', { address: where, reason: why });
      } else if (now - lastWarn > 5000) {
        lastWarn = now;
        logger.warn('tcp connection lost; reconnecting', { address: where, reason: why });
      }
    };

    /** Called when the kernel took `text`: kept for a replay should this connection break. */
    const remember = (conn: Connection, text: string, bytes: number) => {
      if (options.replay_buffer <= 0) return;
      if (conn.lost) {
        replay.push(text); // it broke in the same tick: replay this too
        return;
      }
      conn.recent.push(text);
      conn.recentBytes.push(bytes);
      conn.recentTotal += bytes;
      while (conn.recent.length > 1 && conn.recentTotal - conn.recentBytes[0] >= options.replay_buffer) {
        conn.recentTotal -= conn.recentBytes.shift()!;
        conn.recent.shift();
      }
    };

    /** Resolves once the kernel took the bytes (the socket's write callback); rejects if the connection broke. */
    const send = (conn: Connection, text: string, bytes: number) => new Promise<void>((resolve, reject) => {
      if (conn.lost) return reject(new Error(`connection to ${where} lost: ${lastError}`));
      let done = false;
      const onClose = () => {
        if (done) return;
        done = true;
        reject(new Error(`connection to ${where} closed before the data was sent: ${lastError}`));
      };
      conn.socket.once('close', onClose);
      conn.socket.write(text, (err) => {
        conn.socket.off('close', onClose);
        if (done) return;
        done = true;
        if (err) return reject(err);
        // Remembered here, synchronously: a close event may come before the promise's continuation runs.
        metrics.sentBytes.inc(bytes);
        remember(conn, text, bytes);
        resolve();
      });
    });

    const attempt = () => new Promise<net.Socket>((resolve, reject) => {
      const socket = tlsFiles
        ? tls.connect({
            host: target.host,
            port: target.port,
            ca: tlsFiles.ca,
            cert: tlsFiles.cert,
            key: tlsFiles.key,
            passphrase: options.tls?.key_passphrase,
            rejectUnauthorized: options.tls?.reject_unauthorized ?? true,
            servername: options.tls?.servername ?? (isIP(target.host) ? undefined : target.host),
          })
        : net.connect({ host: target.host, port: target.port });
      const timer = setTimeout(() => socket.destroy(new Error(`connect timeout after ${options.connect_timeout} ms`)), options.connect_timeout);
      const onError = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', onError);
      socket.once(tlsFiles ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', onError);
        resolve(socket);
      });
    });

    const connect = async (): Promise<Connection> => {
      const wait = nextAttemptAt - Date.now();
      if (wait > 0) await pause(wait);
      if (closing.signal.aborted) throw new AbortedError('output is closing');
      let socket: net.Socket;
      try {
        socket = await attempt();
      } catch (err) {
        connectFailures.inc();
        failedSinceConnect = true;
        lastError = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
        nextAttemptAt = Date.now() + reconnectDelays.next();
        throw new Error(`cannot connect to ${where}: ${lastError}`, { cause: err });
      }
      reconnectDelays.reset();
      nextAttemptAt = 0;
      const conn: Connection = { socket, recent: [], recentBytes: [], recentTotal: 0, lost: false };
      socket.setKeepAlive(true, options.keepalive);
      socket.setNoDelay(true);
      socket.on('data', () => { /* the server has nothing to say; reading lets us notice its FIN */ });
      socket.on('end', () => lose(conn, 'the server closed the connection'));
      socket.on('error', (err: NodeJS.ErrnoException) => lose(conn, err.code ?? err.message));
      socket.on('close', () => lose(conn, 'connection closed'));
      if (everConnected || failedSinceConnect) reconnects.inc();
      if (everConnected) logger.info('tcp connection re-established', { address: where });
      everConnected = true;
      failedSinceConnect = false;
      current = conn;
      connected.set(1);
      if (replay.length) {
        const texts = replay;
        replay = [];
        const text = texts.join('');
        const bytes = Buffer.byteLength(text);
        try {
          await send(conn, text, bytes);
        } catch (err) {
          replay = texts.concat(replay); // lose() moved nothing: conn.recent was empty
          throw err;
        }
        replayed.inc(bytes);
      }
      return conn;
    };

    const connection = (): Promise<Connection> => {
      if (current && !current.lost) return Promise.resolve(current);
      connecting ??= connect().finally(() => { connecting = undefined; });
      return connecting;
    };

    return {
      async start() {
        if (options.tls) tlsFiles = await loadTlsFiles(options.tls, context.configDir);
        // Connect early when the server is there; if it is not (yet), the first write tries again.
        connection().catch(() => {});
      },

      async write(events) {
        const text = encodeLines(events, encode);
        const conn = await connection();
        await send(conn, text, Buffer.byteLength(text));
      },

      async close() {
        closing.abort();
        const conn = current;
        current = undefined;
        connected.set(0);
        if (!conn || conn.lost) return;
        conn.lost = true; // a close from here on is ours, not a loss
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => { conn.socket.destroy(); resolve(); }, 2000);
          conn.socket.once('close', () => { clearTimeout(timer); resolve(); });
          conn.socket.end();
        });
      },

      health() {
        if (current && !current.lost) return { healthy: true, details: { address: where } };
        return { healthy: false, reason: `not connected to ${where}: ${lastError}`, details: { address: where, replay_bytes_waiting: replay.reduce((n, t) => n + t.length, 0) } };
      },
    };
  },
});
