// One HTTP request over a pool of kept-alive connections (Node's http/https Agent): the body as given (already
// compressed when asked), a deadline for the whole exchange, and the response's status, Retry-After and the
// start of its body (for the dead letter and the log). No redirects are followed: a 3xx is the server's answer.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import type { TlsFiles } from '../../../core/index.js';

export interface ClientOptions {
  method: string;
  timeout: number;
  maxSockets: number;
  tls?: { files: TlsFiles; passphrase?: string; rejectUnauthorized: boolean; servername?: string };
}

export interface Response {
  status: number;
  retryAfter?: string;
  /** The first BODY_EXCERPT bytes of the response body, as text. */
  body: string;
}

const BODY_EXCERPT = 1024;

export class HttpClient {
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;

  constructor(private readonly options: ClientOptions) {
    this.httpAgent = new http.Agent({ keepAlive: true, maxSockets: options.maxSockets });
    const t = options.tls;
    this.httpsAgent = new https.Agent({
      keepAlive: true,
      maxSockets: options.maxSockets,
      ca: t?.files.ca,
      cert: t?.files.cert,
      key: t?.files.key,
      passphrase: t?.passphrase,
      rejectUnauthorized: t?.rejectUnauthorized ?? true,
    });
  }

  /** Resolves with the server's answer; rejects on a connection error, a TLS failure or the timeout. */
  send(url: string, headers: Record<string, string>, body: Buffer, signal: AbortSignal): Promise<Response> {
    const target = new URL(url);
    const secure = target.protocol === 'https:';
    const servername = this.options.tls?.servername ?? (isIP(target.hostname.replace(/^\[|\]$/g, '')) ? undefined : target.hostname);
    return new Promise<Response>((resolve, reject) => {
      const req = (secure ? https : http).request(target, {
        method: this.options.method,
        agent: secure ? this.httpsAgent : this.httpAgent,
        headers: { ...headers, 'Content-Length': String(body.length) },
        signal,
        ...(secure && servername ? { servername } : {}),
      });
      const timer = setTimeout(() => req.destroy(Object.assign(new Error(`no answer within ${this.options.timeout} ms`), { code: 'ETIMEDOUT' })), this.options.timeout);
      req.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (chunk: Buffer) => {
          // Read to the end (that frees the connection for the next request), keeping only the start.
          if (kept < BODY_EXCERPT) {
            chunks.push(chunk);
            kept += chunk.length;
          }
        });
        res.once('end', () => {
          clearTimeout(timer);
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, body: Buffer.concat(chunks).subarray(0, BODY_EXCERPT).toString('utf8') });
        });
        res.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      req.end(body);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
