// Parsing of `listen` addresses, shared by every listener (HTTP server, TCP input, dashboard).
import { isIP, isIPv6, type Server } from 'node:net';
import type { OptionSchema } from '../option-types.js';
import { checkByParsing } from '../config/schema.js';

export interface ListenAddress {
  host: string;
  port: number;
}

/** Where a listener binds when the address names no host: loopback only, so nothing is exposed by accident. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';

const PORT = /^\d{1,5}$/;
const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9_-]*[A-Za-z0-9])?)*$/;

/** Accepts `host:port`, `[ipv6]:port`, `:port`, `port` and a bare `host` / `[ipv6]` (then `defaultPort`).
 * Port 0 asks the system for a free port. IPv6 hosts are returned without brackets. */
export function parseListen(listen: string, defaultPort: number): ListenAddress {
  const invalid = (why: string) =>
    new Error(
      `invalid listen address ${JSON.stringify(listen)}: ${why}; ` +
        'expected [host:]port or host, e.g. "127.0.0.1:2020", "0.0.0.0:2020", "[::1]:2020", ":2020" or "2020"',
    );
  if (typeof listen !== 'string' || listen === '') throw invalid('it is empty');
  if (PORT.test(listen)) return { host: DEFAULT_LISTEN_HOST, port: parsePort(listen, invalid) };

  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(listen);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2];
    if (!isIPv6(host)) throw invalid(`"${host}" is not an IPv6 address`);
  } else {
    const colon = listen.lastIndexOf(':');
    host = colon < 0 ? listen : listen.slice(0, colon);
    port = colon < 0 ? undefined : listen.slice(colon + 1);
    if (host.includes(':')) throw invalid('write IPv6 addresses in brackets');
    if (host === '') host = DEFAULT_LISTEN_HOST;
    else if (!isIP(host) && !HOSTNAME.test(host)) throw invalid(`"${host}" is not a valid host name or IP address`);
  }
  return { host, port: port === undefined ? defaultPort : parsePort(port, invalid) };
}

function parsePort(text: string, invalid: (why: string) => Error): number {
  const port = PORT.test(text) ? Number(text) : NaN;
  if (!(port <= 65535)) throw invalid(`port ${JSON.stringify(text)} is not a number from 0 to 65535`);
  return port;
}

/** `host:port`, with IPv6 hosts in brackets: the form users write, for messages and URLs. */
export function formatListen({ host, port }: ListenAddress): string {
  return isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Binds `server` (net, tls or http) to `address`; rejects with a message naming `what`, the address and the
 * likely cause (`tcp input cannot listen on 127.0.0.1:5170: address already in use ...`). */
export function listenOn(server: Server, address: ListenAddress, what: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (err: NodeJS.ErrnoException) =>
      reject(new Error(`${what} cannot listen on ${formatListen(address)}: ${describeListenError(err)}`, { cause: err }));
    server.once('error', fail);
    server.listen(address.port, address.host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

function describeListenError(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use (is another Visor or service running there?)';
    case 'EACCES':
      return 'permission denied (ports below 1024 need privileges)';
    case 'EADDRNOTAVAIL':
      return 'address not available on this machine';
    case 'ENOTFOUND':
      return 'host name not found';
    default:
      return err.message;
  }
}

/** Schema of a `listen` option: checked with the config (`visor validate` locates a bad address). */
export function listenSchema(defaultPort: number, description: string) {
  return {
    type: 'string',
    default: `${DEFAULT_LISTEN_HOST}:${defaultPort}`,
    description,
    check: checkByParsing((value) => parseListen(String(value), defaultPort)),
  } as const satisfies OptionSchema;
}
