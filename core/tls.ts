// TLS options shared by network plugins (tcp input and output, kafka): the schema fragments and a loader of
// the PEM files they name. Paths are relative to the config file's directory.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CheckProblem } from './config/schema.js';
import type { OptionSchema, OptionsOf } from './option-types.js';

export interface TlsFiles {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

const file = (what: string) => ({ type: 'string', minLength: 1, file: true, description: `${what} (PEM file; relative to the config file).` }) as const satisfies OptionSchema;
const passphrase = { type: 'string', secret: true, description: 'Passphrase of an encrypted private key.' } as const satisfies OptionSchema;

/** A server's `tls` options that only go together (checked with the config, at the key concerned). */
function serverTlsProblems(value: unknown): CheckProblem[] {
  const o = (value ?? {}) as { ca?: unknown; require_client_cert?: unknown };
  if (o.require_client_cert !== true || o.ca !== undefined) return [];
  return [{ at: 'require_client_cert', message: 'require_client_cert needs ca (the CA that signs client certificates): add ca, or remove require_client_cert' }];
}

/** A client's `tls` options that only go together: a client certificate and its key. */
function clientTlsProblems(value: unknown): CheckProblem[] {
  const o = (value ?? {}) as { cert?: unknown; key?: unknown };
  if ((o.cert === undefined) === (o.key === undefined)) return [];
  const given = o.cert === undefined ? 'key' : 'cert';
  return [{ at: given, message: `cert and key go together: add ${given === 'cert' ? 'key' : 'cert'}, or remove ${given}` }];
}

/** Schema of a server's `tls` option (spread into `properties` as `tls: tlsServerSchema()`). */
export function tlsServerSchema() {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['cert', 'key'],
    check: serverTlsProblems,
    description: 'Serve TLS instead of plain TCP.',
    properties: {
      cert: file('Server certificate chain'),
      key: file('Server private key'),
      key_passphrase: passphrase,
      ca: file('CA that signs client certificates; setting it makes client certificates required and verified'),
      require_client_cert: { type: 'boolean', description: 'With ca: refuse clients without a valid certificate (default true when ca is set); false accepts clients without one, but still verifies those that present one.' },
    },
  } as const satisfies OptionSchema;
}

/** `tls` of a server (e.g. the tcp input), as validated: with ca, clients must present a certificate it signed
 * (unless require_client_cert is false). */
export type TlsServerOptions = OptionsOf<ReturnType<typeof tlsServerSchema>>;

/** Schema of a client's `tls` option. */
export function tlsClientSchema() {
  return {
    type: 'object',
    additionalProperties: false,
    check: clientTlsProblems,
    description: 'Connect with TLS. `tls: {}` uses the system CAs.',
    properties: {
      ca: file('CA bundle that verifies the server (default: the system roots)'),
      cert: file('Client certificate, for servers that require one'),
      key: file('Client private key'),
      key_passphrase: passphrase,
      reject_unauthorized: { type: 'boolean', default: true, description: 'Refuse servers whose certificate does not verify. Turn off only for tests.' },
      servername: { type: 'string', minLength: 1, description: 'Name checked against the server certificate and sent as SNI (default: the host of address).' },
    },
  } as const satisfies OptionSchema;
}

/** `tls` of a client (e.g. the tcp output), as validated: ca verifies the server (default: Node's built-in roots),
 * cert and key for servers that require a client certificate, servername for SNI (default: the address's host). */
export type TlsClientOptions = OptionsOf<ReturnType<typeof tlsClientSchema>>;

/** Reads the PEM files named by `ca`, `cert` and `key`; an error names the option and the path. */
export async function loadTlsFiles(options: { ca?: string; cert?: string; key?: string }, baseDir: string): Promise<TlsFiles> {
  const out: TlsFiles = {};
  for (const name of ['ca', 'cert', 'key'] as const) {
    const p = options[name];
    if (!p) continue;
    const full = path.resolve(baseDir, p);
    try {
      out[name] = await readFile(full);
    } catch (err) {
      throw new Error(`tls.${name}: cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  }
  if ((out.cert && !out.key) || (!out.cert && out.key)) throw new Error('tls: cert and key go together; give both or neither');
  return out;
}

/** `CN=client,O=Example` from a peer certificate's subject, or undefined. */
export function formatSubject(subject: Record<string, string | string[]> | undefined): string | undefined {
  if (!subject) return undefined;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(subject)) parts.push(`${k}=${Array.isArray(v) ? v.join('+') : v}`);
  return parts.length ? parts.join(',') : undefined;
}

/** Schema of an HTTP listener's `tls` option (`service.http` and the dashboard): a certificate and key, the
 * intermediates to send with them, and the CA whose client certificates are required (mTLS). */
export function tlsListenerSchema() {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['cert', 'key'],
    description: 'Serve HTTPS. The files are read again on SIGHUP, so renewed certificates are served without a restart.',
    properties: {
      cert: file('Server certificate (or its whole chain)'),
      key: file('Server private key'),
      ca: file('Intermediate CA certificates sent after cert, when cert holds only the server certificate'),
      client_ca: file('CA that signs client certificates; setting it makes a client certificate it signed required (mutual TLS)'),
    },
  } as const satisfies OptionSchema;
}

/** `tls` of an HTTP listener, as validated. */
export type TlsListenerOptions = OptionsOf<ReturnType<typeof tlsListenerSchema>>;

/** What `https.createServer` and `server.setSecureContext` take, read from a listener's `tls` files. */
export interface ListenerTls {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

/** Reads the PEM files of a listener's `tls` (paths relative to `baseDir`); an error names the option and the path.
 * Called at start and on every reload, so that renewed files are picked up. */
export async function loadListenerTls(options: TlsListenerOptions, baseDir: string): Promise<ListenerTls> {
  const read = async (name: string, p: string): Promise<Buffer> => {
    const full = path.resolve(baseDir, p);
    try {
      return await readFile(full);
    } catch (err) {
      throw new Error(`tls.${name}: cannot read ${full}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  };
  let cert = await read('cert', options.cert);
  const key = await read('key', options.key);
  // Intermediates go after the server certificate: clients build the chain from what the server sends.
  if (options.ca) cert = Buffer.concat([cert, Buffer.from('\n'), await read('ca', options.ca)]);
  const clientCa = options.client_ca ? await read('client_ca', options.client_ca) : undefined;
  // Parse them now, so that a bad file is an error naming the options here (and, on a reload, before anything is
  // replaced) rather than a listener that fails later; OpenSSL also checks that the key matches the certificate.
  // node:tls is imported here, not with the core: see createListener.
  const { createSecureContext } = await import('node:tls');
  try {
    createSecureContext({ cert, key, ...(clientCa ? { ca: clientCa } : {}) });
  } catch (err) {
    throw new Error(`tls: cannot use ${path.resolve(baseDir, options.cert)} with ${path.resolve(baseDir, options.key)}${clientCa ? ` and client_ca` : ''}: ${(err as Error).message}`, { cause: err });
  }
  return { cert, key, ...(clientCa ? { ca: clientCa } : {}), requestCert: clientCa !== undefined, rejectUnauthorized: clientCa !== undefined };
}
