// What every HTTP listener of the agent shares (`service.http` and the dashboard): HTTPS from the listener `tls`
// files, the Host header check against DNS rebinding, the token check, and the rule that a listener reachable
// from other machines needs a token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Logger } from '../api.js';
import type { OptionSchema } from '../option-types.js';
import type { ListenerTls } from '../tls.js';
import { formatListen, parseListen, type ListenAddress } from './listen.js';

/** True for addresses only this machine can reach. */
export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./i.test(host);
  return false;
}

/** Why serving `what` on `listen` without a token is refused (an address other machines can reach), or undefined.
 * `fix` is the option to set, e.g. `token: "${DASHBOARD_TOKEN}"`. One rule for every listener, checked by their
 * schemas (so `visor validate` locates it) and again when they start. */
export function exposedWithoutToken(what: string, listen: string, defaultPort: number, token: string | undefined, fix: string): string | undefined {
  let address;
  try {
    address = parseListen(listen, defaultPort);
  } catch {
    return undefined; // reported by the listen check
  }
  if (token || isLoopback(address.host)) return undefined;
  return (
    `refusing to serve ${what} on ${formatListen(address)} without a token: anyone who can reach that address could read it. ` +
    `Set ${fix} or listen on 127.0.0.1`
  );
}

/** Schema of a listener's `allowed_hosts` option. */
export function allowedHostsSchema() {
  return {
    type: 'array',
    items: { type: 'string', minLength: 1, pattern: '^[^\\s/]+$' },
    description: 'Host names (optionally name:port) accepted in the Host header besides the listen address and loopback names (localhost, 127.0.0.1, [::1]), e.g. the name of a reverse proxy or DNS name users open. Other Host headers are answered 421 (a defence against DNS rebinding).',
  } as const satisfies OptionSchema;
}

/** Splits a Host header into a lowercase name (IPv6 without brackets) and its port, if any. */
function splitHost(value: string): { name: string; port?: number } {
  const v = value.trim().toLowerCase();
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(v);
  if (bracketed) return { name: bracketed[1]!, port: bracketed[2] === undefined ? undefined : Number(bracketed[2]) };
  const m = /^([^:]+)(?::(\d+))?$/.exec(v);
  if (m) return { name: m[1]!.replace(/\.$/, ''), port: m[2] === undefined ? undefined : Number(m[2]) };
  return { name: v };
}

/** Returns the Host check of a listener bound to `address` on `port`: undefined for an accepted request, else the
 * reason to answer 421 with. A browser page whose own name resolves to this machine (DNS rebinding) sends its own
 * name as Host, so only names this listener is known by are accepted: the listen address (for 0.0.0.0 or ::, the
 * machine's interface addresses), loopback names, and `allowed`; with no port or with the bound one. An entry of
 * `allowed` with a port accepts that port only. A request without Host (HTTP/1.0 tools) never comes from a browser:
 * accepted. */
export function hostCheck(address: ListenAddress, port: number, allowed: readonly string[]): (req: IncomingMessage) => string | undefined {
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  if (address.host === '0.0.0.0' || address.host === '::') {
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) names.add(i.address.toLowerCase());
  } else names.add(address.host.toLowerCase());
  const anyPort = new Set<string>();
  const exact = new Set<string>();
  for (const a of allowed) {
    const { name, port: p } = splitHost(a);
    if (p === undefined) anyPort.add(name);
    else exact.add(`${name} ${p}`);
  }
  return (req) => {
    const header = req.headers.host;
    if (header === undefined) return undefined;
    const { name, port: p } = splitHost(header);
    if (anyPort.has(name) || (p !== undefined && exact.has(`${name} ${p}`))) return undefined;
    if (names.has(name) && (p === undefined || p === port)) return undefined;
    return `host not allowed: ${JSON.stringify(header)} is not a name this server is known by; add it to allowed_hosts if it is yours`;
  };
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Returns the token check of a listener: true when no token is set, or the request gives it as
 * `Authorization: Bearer TOKEN` or `?token=TOKEN` (compared in constant time). */
export function tokenCheck(token: string | undefined): (req: IncomingMessage, query: URLSearchParams) => boolean {
  if (!token) return () => true;
  const expected = digest(token);
  return (req, query) => {
    const header = req.headers.authorization;
    const bearer = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header.trim())?.[1] : undefined;
    const given = bearer ?? query.get('token') ?? undefined;
    return given !== undefined && timingSafeEqual(digest(given), expected);
  };
}

// node:http and node:https (with node:tls) are loaded when a listener is made, not by every import of the core:
// they are ~30 internal modules, 4-7 ms of each start-up of a pipeline that listens on nothing. require() gives
// them synchronously, as createListener returns its server.
const requireBuiltin = createRequire(import.meta.url);

/** An HTTP server, or an HTTPS one with `tls` (loadListenerTls). */
export function createListener(tls: ListenerTls | undefined, handler: RequestListener): Server | HttpsServer {
  if (tls) return (requireBuiltin('node:https') as typeof import('node:https')).createServer(tls, handler);
  return (requireBuiltin('node:http') as typeof import('node:http')).createServer(handler);
}

/** Serves renewed certificate files on a running HTTPS listener: connections made from now on get them, open ones
 * keep theirs, and the listener is not closed. */
export function renewTls(server: Server | HttpsServer, tls: ListenerTls): void {
  (server as HttpsServer).setSecureContext(tls);
}

/** Logs that the token travels in clear text when `address` can be reached from other machines without TLS. */
export function warnIfClearText(logger: Logger, what: string, address: ListenAddress, tls: boolean, token: boolean): void {
  if (tls || isLoopback(address.host)) return;
  logger.warn(`${what} on ${formatListen(address)} is served without TLS: ${token ? 'the token travels' : 'requests travel'} in clear text over the network; set tls: { cert, key }`);
}
