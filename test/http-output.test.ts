// The http output against real HTTP(S) servers on loopback (node:http / node:https in this process): retries on
// 5xx without resending what was accepted, 429 with Retry-After respected, 4xx answers dead-lettered and counted,
// a 10 s outage (server closed, then reopened on the same port) with nothing lost, TLS with a throwaway CA made by
// openssl (verify on; a wrong CA fails and is retried; a client certificate), gzip bodies, templated and secret
// headers, a JSON body template that survives quotes and line breaks, and located schema errors from `visor validate`.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { definePlugin, type Event } from '../core/index.js';
import { parseRetryAfter } from '../plugins/outputs/http/outcome.js';
import { CliProcess, onPath, runCli, skipWhenMissing, tempDir } from './support/helpers.js';
import { pipelineWith, type Harness } from './support/pipeline-harness.js';

const run = promisify(execFile);
const OPENSSL = onPath('openssl');

interface Received { method: string; url: string; headers: http.IncomingHttpHeaders; body: string; at: number }
/** status 0: never answer (the connection stays open until the client gives up). */
type Answer = (req: Received) => { status: number; headers?: Record<string, string>; body?: string };

/** A loopback HTTP(S) server recording every request (body gunzipped when sent so) and answering by `answer`. */
class Receiver {
  readonly requests: Received[] = [];
  answer: Answer = () => ({ status: 200 });
  private waiters: Array<{ cond: () => boolean; resolve: () => void }> = [];
  server: http.Server;
  port = 0;
  /** TCP (or TLS) connections accepted. */
  connections = 0;

  constructor(tls?: https.ServerOptions) {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks);
        const body = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
        const got: Received = { method: req.method!, url: req.url!, headers: req.headers, body, at: Date.now() };
        const a = this.answer(got);
        if (a.status === 0) return;
        if (a.status >= 200 && a.status < 300) this.requests.push(got);
        res.writeHead(a.status, a.headers).end(a.body ?? '');
        this.waiters = this.waiters.filter((w) => (w.cond() ? (w.resolve(), false) : true));
      });
    };
    this.server = tls ? https.createServer(tls, handler) : http.createServer(handler);
    this.server.on('connection', () => this.connections++);
  }

  async listen(port = 0): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => { this.server.off('error', reject); resolve(); });
    });
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  /** Stops listening and cuts the kept-alive connections (an outage). */
  async close(): Promise<void> {
    const closed = new Promise((r) => this.server.close(r));
    this.server.closeAllConnections();
    await closed;
  }

  /** Events (one JSON object per line, or a JSON array, or one object) of the accepted requests. */
  events(): Event[] {
    return this.requests.flatMap((r) => {
      const text = r.body.trim();
      if (text.startsWith('[')) return JSON.parse(text) as Event[];
      return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Event);
    });
  }

  /** Resolves once `cond` holds (checked after each request). */
  until(cond: () => boolean, what: string, ms = 20000): Promise<void> {
    if (cond()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
      this.waiters.push({ cond, resolve: () => { clearTimeout(timer); resolve(); } });
    });
  }
}

/** Emits the events given in its options, in one batch. */
const eventsInput = definePlugin<{ events: Event[] }, 'input'>({
  kind: 'input',
  name: 'http_test_events',
  description: 'Emits the given events.',
  schema: { type: 'object', properties: { events: { type: 'array' } } },
  create(o) {
    return { async run({ emit }) { await emit(o.events.map((e) => ({ ...e }))); } };
  },
});

/** Emits `batch` numbered events {n} every `every` ms until `total`. */
const pacedInput = definePlugin<{ total: number; batch: number; every: number }, 'input'>({
  kind: 'input',
  name: 'http_test_paced',
  description: 'Numbered events at a steady pace.',
  schema: { type: 'object', properties: { total: { type: 'integer' }, batch: { type: 'integer' }, every: { type: 'integer' } } },
  create(o) {
    return {
      async run({ emit, signal }) {
        for (let n = 0; n < o.total && !signal.aborted; ) {
          const events: Event[] = [];
          for (const end = Math.min(o.total, n + o.batch); n < end; n++) events.push({ n });
          await emit(events);
          await new Promise((r) => setTimeout(r, o.every));
        }
      },
    };
  },
});

const startPipeline = pipelineWith(eventsInput, pacedInput);
const custom = (h: Harness, id: string) => h.metrics.snapshot()[id].custom;
const counterValue = (h: Harness, id: string, prefix: string) =>
  Object.entries(custom(h, id)).filter(([k]) => k.startsWith(prefix)).reduce((n, [, v]) => n + v, 0);
const ns = (events: Event[]) => events.map((e) => e.n as number);
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('http output', function () {
  this.timeout(60000);
  let receiver: Receiver;
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.pipeline.stop(3000);
    harness = undefined;
    await receiver?.close().catch(() => {});
  });

  it('retries 500s with the core backoff; a retried batch resends only the requests not yet accepted; acks wait for the 2xx', async () => {
    receiver = await new Receiver().listen();
    let calls = 0;
    receiver.answer = () => (++calls === 5 || calls === 6 ? { status: 500, body: 'busy' } : { status: 200 });
    harness = await startPipeline(`
inputs:
  src: { type: test_counter, total: 1000, batch: 1000 }
outputs:
  out: { type: http, inputs: [src], url: "http://127.0.0.1:${receiver.port}/ingest", batch: { max_events: 100 }, retry: { backoff: 20ms, max_backoff: 50ms } }
`);
    await harness.pipeline.done();
    // 10 requests of 100; the 5th failed twice: the retries sent requests 5..10 only.
    assert.equal(calls, 12);
    assert.deepEqual(ns(receiver.events()), range(1000));
    assert.equal(receiver.requests[0].headers['content-type'], 'application/x-ndjson');
    assert.equal(receiver.requests[0].method, 'POST');
    assert.equal(custom(harness, 'out').visor_http_retry_errors_total, 2);
    assert.equal(receiver.connections, 1, 'one kept-alive connection carried every request');
    const acks = harness.probe('src').acks;
    assert.equal(acks.length, 1);
    assert.equal(acks[0].result.status, 'delivered');
    assert.ok(harness.logs.some((l) => /http requests failing/.test(l) && /HTTP 500: busy/.test(l)), harness.logs.join('\n'));
  });

  it('429 with Retry-After: the next attempt waits that long, although the core backoff is 20 ms', async () => {
    receiver = await new Receiver().listen();
    const arrivals: number[] = [];
    receiver.answer = () => {
      arrivals.push(Date.now());
      return arrivals.length === 1 ? { status: 429, headers: { 'Retry-After': '1' } } : { status: 200 };
    };
    harness = await startPipeline(`
inputs:
  src: { type: test_counter, total: 10, batch: 10 }
outputs:
  out: { type: http, inputs: [src], url: "http://127.0.0.1:${receiver.port}/", format: json_array, retry: { backoff: 20ms, max_backoff: 20ms } }
`);
    await harness.pipeline.done();
    assert.equal(arrivals.length, 2);
    assert.ok(arrivals[1] - arrivals[0] >= 980, `retried after ${arrivals[1] - arrivals[0]} ms`);
    assert.deepEqual(ns(receiver.events()), range(10));
    assert.equal(parseRetryAfter('120'), 120_000);
    assert.equal(parseRetryAfter(new Date(Date.now() + 5000).toUTCString(), Date.now()) ! > 3000, true);
    assert.equal(parseRetryAfter('soon'), undefined);
  });

  it('other 4xx: the refused events go to <data_dir>/<id>/rejected.jsonl, counted and logged; the rest is delivered and acked', async () => {
    const data = await tempDir('visor-http-dl-');
    receiver = await new Receiver().listen();
    receiver.answer = (r) => ((JSON.parse(r.body).n as number) % 100 === 7 ? { status: 400, body: '{"error":"bad event"}' } : { status: 204 });
    try {
      harness = await startPipeline(`
service: { data_dir: ${JSON.stringify(data.dir)} }
inputs:
  src: { type: test_counter, total: 300, batch: 50 }
outputs:
  hook: { type: http, inputs: [src], url: "http://127.0.0.1:${receiver.port}/one/secret-path", format: json, retry: { backoff: 20ms, max_backoff: 50ms } }
`);
      await harness.pipeline.done();
      assert.deepEqual(ns(receiver.events()).sort((a, b) => a - b), range(300).filter((n) => n % 100 !== 7));
      const lines = (await readFile(path.join(data.dir, 'hook', 'rejected.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines.map((l) => l.event.n), [7, 107, 207]);
      assert.equal(lines[0].error, 'HTTP 400: {"error":"bad event"}');
      assert.equal(lines[0].origin, `http://127.0.0.1:${receiver.port}`);
      assert.equal(custom(harness, 'hook').visor_http_rejected_events_total, 3);
      assert.ok(harness.probe('src').acks.every((a) => a.result.status === 'delivered'));
      const warned = harness.logs.filter((l) => /the server refused/.test(l));
      assert.ok(warned.length >= 1, harness.logs.join('\n'));
      assert.ok(!harness.logs.some((l) => l.includes('secret-path')), 'the URL path is never logged');
    } finally {
      await data.remove();
    }
  });

  it('an outage of 10 s (server closed, reopened on the same port): every event arrives, none twice beyond one in-flight request', async function () {
    this.timeout(60000);
    receiver = await new Receiver().listen();
    const port = receiver.port;
    const total = 1400;
    harness = await startPipeline(`
inputs:
  src: { type: http_test_paced, total: ${total}, batch: 10, every: 100 }
outputs:
  out: { type: http, inputs: [src], url: "http://127.0.0.1:${port}/", batch: { max_events: 50, timeout: 50ms }, timeout: 2s, retry: { backoff: 100ms, max_backoff: 1s } }
`);
    await receiver.until(() => receiver.events().length >= 100, 'the first events');
    const before = receiver.requests;
    await receiver.close();
    const cutAt = Date.now();
    await new Promise((r) => setTimeout(r, 10_000));
    assert.equal(harness.pipeline.health().components.out.healthy, false);
    assert.match(harness.pipeline.health().components.out.reason ?? '', /ECONNREFUSED/);
    const failures = custom(harness, 'out').visor_http_retry_errors_total;
    assert.ok(failures >= 5 && failures < 60, `${failures} failed attempts in 10 s: backoff, not a busy loop`);
    receiver = Object.assign(new Receiver(), {});
    receiver.requests.push(...before);
    await receiver.listen(port);
    await receiver.until(() => new Set(ns(receiver.events())).size >= total, 'every event after the outage', 30000);
    await harness.pipeline.done();
    const got = ns(receiver.events());
    assert.deepEqual([...new Set(got)].sort((a, b) => a - b), range(total));
    assert.ok(got.length - total <= 50, `${got.length - total} duplicates`);
    assert.ok(receiver.requests.some((r) => r.at > cutAt + 10_000));
    assert.equal(harness.pipeline.health().components.out.healthy, true);
  });

  it('a server that does not answer within timeout: the request is abandoned and retried, the events delivered once', async () => {
    receiver = await new Receiver().listen();
    let calls = 0;
    receiver.answer = () => (++calls === 1 ? { status: 0 } : { status: 200 });
    const started = Date.now();
    harness = await startPipeline(`
inputs:
  src: { type: test_counter, total: 5, batch: 5 }
outputs:
  out: { type: http, inputs: [src], url: "http://127.0.0.1:${receiver.port}/", timeout: 300ms, retry: { backoff: 20ms, max_backoff: 20ms } }
`);
    await harness.pipeline.done();
    assert.equal(calls, 2);
    assert.ok(Date.now() - started >= 300);
    assert.deepEqual(ns(receiver.events()), range(5));
    assert.ok(harness.logs.some((l) => /ETIMEDOUT/.test(l)), harness.logs.join('\n'));
  });

  it('gzip bodies, templated headers (a request per distinct value), secret headers that never reach the log, PUT', async () => {
    receiver = await new Receiver().listen();
    const token = 'tok-0123456789-secret';
    harness = await startPipeline(`
inputs:
  src: { type: http_test_events, events: [{ vhost: a.example, n: 0 }, { vhost: b.example, n: 1 }, { vhost: a.example, n: 2 }] }
outputs:
  out:
    type: http
    inputs: [src]
    url: "http://127.0.0.1:${receiver.port}/logs/{{ vhost }}"
    method: PUT
    compression: gzip
    headers: { X-Vhost: "{{ vhost }}", X-Agent: visor-test }
    secret_headers: { Authorization: "Bearer ${token}" }
`);
    await harness.pipeline.done();
    assert.equal(receiver.requests.length, 2);
    const byHost = Object.fromEntries(receiver.requests.map((r) => [r.headers['x-vhost'], r]));
    assert.deepEqual(ns(receiver.events().filter((e) => e.vhost === 'a.example')), [0, 2]);
    assert.equal(byHost['a.example'].url, '/logs/a.example');
    assert.equal(byHost['b.example'].url, '/logs/b.example');
    for (const r of receiver.requests) {
      assert.equal(r.method, 'PUT');
      assert.equal(r.headers['content-encoding'], 'gzip');
      assert.equal(r.headers.authorization, `Bearer ${token}`);
      assert.equal(r.headers['x-agent'], 'visor-test');
    }
    assert.ok(!harness.logs.some((l) => l.includes(token)));
  });

  it('format template: a Slack-style JSON body stays valid JSON with quotes, backslashes and line breaks; numbers stay numbers', async () => {
    receiver = await new Receiver().listen();
    const message = 'GET "/a\\b" failed\nsecond line\t<tab>';
    harness = await startPipeline(`
inputs:
  src: { type: http_test_events, events: [{ message: ${JSON.stringify(message)}, count: 3, name: server-error }, { name: other }] }
outputs:
  out: { type: http, inputs: [src], url: "http://127.0.0.1:${receiver.port}/hook", format: template, template: '{"text": "{{ name }}: {{ message }}", "count": {{ count }}}' }
`);
    await harness.pipeline.done();
    assert.equal(receiver.requests.length, 2);
    assert.deepEqual(JSON.parse(receiver.requests[0].body), { text: `server-error: ${message}`, count: 3 });
    assert.deepEqual(JSON.parse(receiver.requests[1].body), { text: 'other: ', count: null });
    assert.equal(receiver.requests[0].headers['content-type'], 'application/json');
  });

  it('visor validate locates http option errors at FILE:LINE:COL and exits 78; the webhook recipe validates', async () => {
    const dir = await tempDir('visor-http-validate-');
    try {
      const file = await dir.file('bad.yaml', `inputs:
  in: { type: stdin }
outputs:
  a: { type: http, inputs: [in], url: "ftp://x" }
  b: { type: http, inputs: [in], url: "http://h/", format: template, template: '{"text": {{ message }' }
  c: { type: http, inputs: [in], url: "http://h/", tls: {}, batch: { max_event: 5 } }
`);
      const r = await runCli(['validate', '-c', file]);
      assert.equal(r.code, 78, r.stderr);
      const out = r.stdout + r.stderr;
      assert.match(out, new RegExp(`${file}:4:39: invalid value "ftp://x" for url — must be an http:// or https:// URL`));
      assert.match(out, new RegExp(`${file}:5:\\d+: .*unbalanced`));
      assert.match(out, new RegExp(`${file}:6:\\d+: tls applies to https:// URLs only`));
      assert.match(out, new RegExp(`${file}:6:\\d+: .*max_event`));
      const ok = await runCli(['validate', '-c', path.resolve('configs/alerts-webhook.yaml')]);
      assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    } finally {
      await dir.remove();
    }
  });
});

describe('configs/alerts-webhook.yaml through the CLI', function () {
  this.timeout(60000);
  it('a 500 in the access log becomes one {"text"} POST to the webhook; the URL path and the secret header stay out of the log', async () => {
    const dir = await tempDir('visor-http-recipe-');
    const receiver = await new Receiver().listen();
    const token = 'hook-token-5e3c1d2a';
    // The receiver echoes the token on its first answer (a 500): the log must still not show it.
    let calls = 0;
    receiver.answer = (r) => (++calls === 1 ? { status: 500, body: `bad ${r.headers.authorization}` } : { status: 200, body: 'ok' });
    const config = (await readFile(path.resolve('configs/alerts-webhook.yaml'), 'utf8'))
      .replace("    timeout: 10s\n", `    timeout: 10s\n    secret_headers: { Authorization: '${token}' }\n`)
      .replace('retry: { backoff: 1s, max_backoff: 1m }', 'retry: { backoff: 50ms, max_backoff: 100ms }');
    const file = await dir.file('webhook.yaml', config);
    const agent = new CliProcess(['run', '-c', file], {
      env: { APACHE_LOG_DIR: dir.dir, VISOR_DATA_DIR: path.join(dir.dir, 'data'), WEBHOOK_URL: `http://127.0.0.1:${receiver.port}/services/T0/B0/secretpath`, VISOR_LOG_LEVEL: 'info' },
    });
    try {
      // A log found at start-up is read from its end; one that appears later, from its beginning: write it after.
      await agent.waitFor((p) => /no file matches the path globs yet/.test(p.stdout + p.stderr), 'the tail watching for access.log');
      await writeFile(path.join(dir.dir, 'access.log'), '127.0.0.1 - - [03/Dec/2026:07:30:00 +0000] "GET /boom?q=\\"x\\" HTTP/1.1" 500 12 "-" "curl/8"\n');
      await receiver.until(() => receiver.requests.length >= 1, 'the alert at the webhook', 30000).catch((err) => { throw new Error(`${(err as Error).message}\n${agent.stdout}${agent.stderr}`); });
      const body = JSON.parse(receiver.requests[0].body) as { text: string };
      assert.match(body.text, /^firing \[warning\] server-error: .*\(1 events\)$/);
      assert.equal(receiver.requests[0].url, '/services/T0/B0/secretpath');
      assert.equal(receiver.requests[0].headers.authorization, token);
      agent.child.kill('SIGTERM');
      const r = await agent.exited;
      const log = r.stdout + r.stderr;
      assert.ok(/http requests failing/.test(log), log);
      assert.ok(!log.includes('secretpath'), 'the webhook URL path is not logged');
      assert.ok(!log.includes(token), 'the secret header is masked even when the server echoes it');
    } finally {
      agent.child.kill('SIGKILL');
      await receiver.close();
      await dir.remove();
    }
  });
});

describe('http output over TLS (a throwaway CA made by openssl)', function () {
  this.timeout(60000);
  let certs: { dir: string; remove(): Promise<void> };
  let receiver: Receiver | undefined;
  let harness: Harness | undefined;
  before(async function () {
    skipWhenMissing(this, OPENSSL ? undefined : 'openssl is not installed (apt-get install openssl)');
    certs = await tempDir('visor-http-certs-');
    const ossl = (...args: string[]) => run(OPENSSL!, args, { cwd: certs.dir });
    for (const ca of ['ca', 'other-ca']) {
      await ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=Visor test ${ca}`,
        '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
    }
    for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'], ['client', 'extendedKeyUsage=clientAuth\n']]) {
      await ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name === 'server' ? 'localhost' : 'visor-client'}`);
      await writeFile(path.join(certs.dir, `${name}.cnf`), ext);
      await ossl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.cnf`);
    }
  });
  afterEach(async () => {
    await harness?.pipeline.stop(3000);
    harness = undefined;
    await receiver?.close().catch(() => {});
  });
  after(async () => certs?.remove());

  it('verifies the server with the configured CA and presents a client certificate; a wrong CA fails, is retried, and delivers nothing', async () => {
    const f = (name: string) => path.join(certs.dir, name);
    receiver = await new Receiver({ cert: await readFile(f('server.pem')), key: await readFile(f('server.key')), ca: await readFile(f('ca.pem')), requestCert: true, rejectUnauthorized: true }).listen();
    let clientCn: string | undefined;
    receiver.server.on('secureConnection', (s: import('node:tls').TLSSocket) => { clientCn = (s.getPeerCertificate().subject as { CN?: string } | undefined)?.CN; });
    harness = await startPipeline(`
inputs:
  src: { type: test_counter, total: 200, batch: 100 }
outputs:
  good: { type: http, inputs: [src], url: "https://127.0.0.1:${receiver.port}/", tls: { ca: ${JSON.stringify(f('ca.pem'))}, cert: ${JSON.stringify(f('client.pem'))}, key: ${JSON.stringify(f('client.key'))} } }
  wrong: { type: http, inputs: [src], url: "https://127.0.0.1:${receiver.port}/", tls: { ca: ${JSON.stringify(f('other-ca.pem'))}, cert: ${JSON.stringify(f('client.pem'))}, key: ${JSON.stringify(f('client.key'))} }, retry: { backoff: 50ms, max_backoff: 100ms } }
  system_roots: { type: http, inputs: [src], url: "https://127.0.0.1:${receiver.port}/", retry: { backoff: 50ms, max_backoff: 100ms } }
`);
    await receiver.until(() => receiver!.events().length >= 200, 'the events over TLS');
    const h = harness;
    await new Promise<void>((resolve) => {
      const check = () => (counterValue(h, 'wrong', 'visor_http_retry_errors_total') >= 3 && counterValue(h, 'system_roots', 'visor_http_retry_errors_total') >= 3 ? resolve() : setTimeout(check, 20));
      check();
    });
    assert.deepEqual(ns(receiver.events()).sort((a, b) => a - b), range(200));
    assert.equal(clientCn, 'visor-client');
    const health = harness.pipeline.health().components;
    assert.equal(health.good.healthy, true);
    assert.equal(health.wrong.healthy, false);
    assert.match(health.wrong.reason ?? '', /UNABLE_TO_VERIFY_LEAF_SIGNATURE|unable to verify|self.signed|certificate/i);
    assert.equal(health.system_roots.healthy, false);
    assert.ok(harness.probe('src').acks.every((a) => a.result.status !== 'delivered'), 'nothing acked while two outputs cannot deliver');
  });
});
