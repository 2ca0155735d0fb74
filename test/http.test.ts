import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import type { LogFields, Logger } from '../core/api.js';
import { startHttpServer, type HealthReport, type RunningHttpServer } from '../core/runtime/http.js';
import { parseListen } from '../core/runtime/listen.js';
import { MetricsHub } from '../core/runtime/metrics.js';

interface LogEntry {
  level: string;
  msg: string;
  fields: LogFields;
}

function recordingLogger(entries: LogEntry[] = [], bound: LogFields = {}): Logger & { entries: LogEntry[] } {
  const log = (level: string) => (msg: string, fields: LogFields = {}) => entries.push({ level, msg, fields: { ...bound, ...fields } });
  return {
    entries,
    debug: log('debug'),
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    child: (fields) => recordingLogger(entries, { ...bound, ...fields }),
  };
}

describe('HTTP server', () => {
  let metrics: MetricsHub;
  let health: HealthReport;
  let logger: ReturnType<typeof recordingLogger>;
  let server: RunningHttpServer;

  beforeEach(async () => {
    metrics = new MetricsHub();
    health = { healthy: true, status: 'running' };
    logger = recordingLogger();
    server = await startHttpServer({ listen: '127.0.0.1:0', metrics, health: () => health, logger });
  });

  afterEach(() => server.close());

  it('logs the url it listens on', () => {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.notEqual(server.port, 0);
    assert.deepEqual(logger.entries.find((e) => e.msg === 'http server listening'), {
      level: 'info',
      msg: 'http server listening',
      fields: { url: server.url, token: 'none' },
    });
  });

  it('serves /metrics with the component counters', async () => {
    const tail = metrics.component({ id: 'access', kind: 'input', type: 'file' });
    tail.receivedBytes.inc(2048);
    tail.sentEvents().inc(12);
    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), metrics.contentType);
    const text = await res.text();
    assert.match(text, /^visor_component_received_bytes_total\{component_id="access",component_kind="input",component_type="file"\} 2048$/m);
    assert.match(text, /^visor_component_sent_events_total\{component_id="access",component_kind="input",component_type="file",output="_default"\} 12$/m);
  });

  it('answers /health with 200 when healthy and 503 when not', async () => {
    let res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.deepEqual(await res.json(), { healthy: true, status: 'running' });

    health = { healthy: false, status: 'degraded', components: { out: { healthy: false, reason: 'connection refused' } } };
    res = await fetch(`${server.url}/health`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), health);
  });

  it('answers HEAD like GET without a body', async () => {
    const res = await fetch(`${server.url}/health`, { method: 'HEAD' });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('content-length'), String(JSON.stringify(health).length));
    assert.equal(await res.text(), '');
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    const notFound = await fetch(`${server.url}/nope`);
    assert.equal(notFound.status, 404);
    assert.equal(notFound.headers.get('content-type'), 'application/json');
    assert.match(((await notFound.json()) as { error: string }).error, /not found/);

    const post = await fetch(`${server.url}/health`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
    await post.body?.cancel();
  });

  it('answers 500 and keeps running when a handler throws', async () => {
    const failing = await startHttpServer({
      listen: '127.0.0.1:0',
      metrics,
      health: () => { throw new Error('boom'); },
      logger,
    });
    try {
      const res = await fetch(`${failing.url}/health`);
      assert.equal(res.status, 500);
      assert.deepEqual(await res.json(), { error: 'internal server error' });
      assert.ok(logger.entries.some((e) => e.level === 'error' && e.fields.error === 'boom'));
      assert.equal((await fetch(`${failing.url}/metrics`)).status, 200);
    } finally {
      await failing.close();
    }
  });

  it('rejects with a clear message when the port is taken', async () => {
    await assert.rejects(
      startHttpServer({ listen: `127.0.0.1:${server.port}`, metrics, health: () => health, logger }),
      (err: Error) => {
        assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${server.port}`));
        assert.match(err.message, /already in use/);
        return true;
      },
    );
  });

  it('close() does not wait for an idle keep-alive connection', async () => {
    const agent = new http.Agent({ keepAlive: true });
    try {
      const status = await new Promise<number>((resolve, reject) => {
        http.get(`${server.url}/health`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
      assert.equal(status, 200);
      assert.equal(Object.keys(agent.freeSockets).length, 1, 'the connection stays open for reuse');
      await closesWithin(server, 1000);
    } finally {
      agent.destroy();
    }
  });

  it('close() does not wait for a connection with a request still arriving', async () => {
    const socket = net.connect(server.port, '127.0.0.1');
    try {
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      socket.on('error', () => {}); // the server resets it, as intended
      socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\n'); // headers never finished
      await new Promise((resolve) => setTimeout(resolve, 50));
      await closesWithin(server, 1000);
    } finally {
      socket.destroy();
    }
  });
});

async function closesWithin(server: RunningHttpServer, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`close() took more than ${ms} ms`)), ms);
  });
  try {
    await Promise.race([server.close(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe('parseListen', () => {
  const cases: Array<[string, { host: string; port: number }]> = [
    ['127.0.0.1:2020', { host: '127.0.0.1', port: 2020 }],
    ['localhost:2020', { host: 'localhost', port: 2020 }],
    ['0.0.0.0:2020', { host: '0.0.0.0', port: 2020 }],
    ['[::1]:2020', { host: '::1', port: 2020 }],
    ['[::]:0', { host: '::', port: 0 }],
    [':2020', { host: '127.0.0.1', port: 2020 }],
    ['2020', { host: '127.0.0.1', port: 2020 }],
    ['0', { host: '127.0.0.1', port: 0 }],
    ['localhost', { host: 'localhost', port: 9000 }],
    ['[::1]', { host: '::1', port: 9000 }],
  ];
  for (const [input, expected] of cases) {
    it(`parses ${JSON.stringify(input)}`, () => assert.deepEqual(parseListen(input, 9000), expected));
  }

  it('binds to loopback when no host is given', () => {
    assert.equal(parseListen('8080', 1).host, '127.0.0.1');
    assert.equal(parseListen(':8080', 1).host, '127.0.0.1');
  });

  for (const input of ['', 'localhost:', 'localhost:http', ':65536', '::1:2020', '[nope]:2020', 'bad host:2020', 'a:b:c']) {
    it(`rejects ${JSON.stringify(input)} saying what is expected`, () => {
      assert.throws(() => parseListen(input, 2020), /invalid listen address .*expected \[host:\]port or host/);
    });
  }
});
