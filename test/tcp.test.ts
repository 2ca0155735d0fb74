// The tcp input and output over real sockets: many clients at once, misbehaving clients, limits, TLS with client
// certificates, and an outage between a tcp output and a tcp input (a proxy cut mid-stream, then healed).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import { Worker } from 'node:worker_threads';
import { definePlugin, type Event } from '../core/index.js';
import { freePort, runCli, tempDir } from './support/helpers.js';
import { pipelineWith, type Harness } from './support/pipeline-harness.js';
import { CONNECT_CLIENTS_JS } from './support/tcp-clients.js';
import { TcpProxy } from './support/tcp-proxy.js';

/** Every batch a `tcp_test_sink` output receives goes to the handler registered under its id. */
const sinks = new Map<string, (events: Event[]) => void>();
const sinkPlugin = definePlugin<Record<string, never>, 'output'>({
  kind: 'output',
  name: 'tcp_test_sink',
  description: 'Hands each batch to the test.',
  schema: { type: 'object', properties: {} },
  create(_o, ctx) {
    return { async write(events) { sinks.get(ctx.id)?.(events); } };
  },
});

/** `seq=N <padding>` for N in [0, total), in batches; `emitted` is readable by the test. */
const seqState = { emitted: 0 };
const seqInput = definePlugin<{ total: number; batch: number }, 'input'>({
  kind: 'input',
  name: 'tcp_test_seq',
  description: 'Numbered lines.',
  schema: { type: 'object', properties: { total: { type: 'integer' }, batch: { type: 'integer', default: 500 } } },
  create(o) {
    return {
      async run({ emit, signal }) {
        seqState.emitted = 0;
        for (let n = 0; n < o.total && !signal.aborted; ) {
          const events: Event[] = [];
          for (const end = Math.min(o.total, n + o.batch); n < end; n++) events.push({ message: `seq=${n} ${'p'.repeat(n % 40)} end` });
          seqState.emitted = n;
          await emit(events);
        }
      },
    };
  },
});

const startPipeline = pipelineWith(sinkPlugin, seqInput);

/** Polls a condition (for states that have no event of their own, e.g. a server-side counter). */
async function until(cond: () => boolean, what: string, ms = 20000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const custom = (h: Harness, id: string) => h.metrics.snapshot()[id].custom;
const snap = (h: Harness, id: string) => h.metrics.snapshot()[id];

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => { s.off('error', reject); resolve(s); });
    s.once('error', reject);
  });
}
const closed = (s: net.Socket) => new Promise<void>((resolve) => { if (s.closed) resolve(); else s.once('close', () => resolve()); });
const peerOf = (s: net.Socket) => `127.0.0.1:${s.localPort}`;

// Well-behaved clients run in a worker thread (the other core), each sending its lines in order.
const CLIENT_WORKER = `${CONNECT_CLIENTS_JS}
const { workerData, parentPort } = require('node:worker_threads');
const { port, clients, lines } = workerData;
const line = (c, i) => 'c=' + c + ' i=' + i + ' ' + 'abcdefghij'.repeat(((c * 7 + i) % 5) + 1) + '\\n';
const next = new Int32Array(clients);
// 200 lines a write.
const chunk = (c) => {
  if (next[c] >= lines) return undefined;
  let text = '';
  for (const end = Math.min(lines, next[c] + 200); next[c] < end; next[c]++) text += line(c, next[c]);
  return text;
};
connectClients(port, clients, chunk, (e) => parentPort.postMessage({ error: String(e) }), () => parentPort.postMessage({ done: true }));
`;
const expectedPayload = (c: number, i: number) => 'abcdefghij'.repeat(((c * 7 + i) % 5) + 1);

describe('tcp input', function () {
  this.timeout(60000);
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.pipeline.stop(5000);
    h = undefined;
    sinks.clear();
  });

  /** A tcp input `in` on a free port (with `options`: more `key: value` entries of its YAML map) into a sink that
   * collects the messages; `arrived(message)` resolves once that message was written. */
  async function tcpInput(options = ''): Promise<{ h: Harness; port: number; got: string[]; arrived(message: string): Promise<void> }> {
    const port = await freePort();
    const got: string[] = [];
    let onGot: (() => void) | undefined;
    sinks.set('sink', (events) => { for (const e of events) got.push(e.message as string); onGot?.(); });
    h = await startPipeline(`
inputs:
  in: { type: tcp, listen: "127.0.0.1:${port}"${options} }
outputs:
  sink: { type: tcp_test_sink, inputs: [in] }
`);
    const arrived = (message: string) => new Promise<void>((resolve) => {
      onGot = () => { if (got.includes(message)) resolve(); };
      onGot();
    });
    return { h, port, got, arrived };
  }

  it('delivers 1,000,000 lines from 200 concurrent clients exactly, while a 10 MB line, binary junk, a slowloris and a reset are contained and counted', async () => {
    const CLIENTS = 200;
    const LINES = 5000;
    const port = await freePort();
    const next = new Int32Array(CLIENTS);
    const peers: string[] = new Array(CLIENTS);
    const problems: string[] = [];
    const others = new Map<string, string[]>();
    let good = 0;
    let onOther: (() => void) | undefined;
    let allGood: () => void;
    const allDelivered = new Promise<void>((r) => { allGood = r; });
    sinks.set('sink', (events) => {
      for (const e of events) {
        const m = /^c=(\d+) i=(\d+) (.*)$/.exec(e.message as string);
        if (!m) {
          const list = others.get(e.peer as string) ?? [];
          list.push(e.message as string);
          others.set(e.peer as string, list);
          onOther?.();
          continue;
        }
        const c = Number(m[1]);
        const i = Number(m[2]);
        if (i !== next[c] && problems.length < 10) problems.push(`client ${c}: got line ${i}, expected ${next[c]}`);
        if (m[3] !== expectedPayload(c, i) && problems.length < 10) problems.push(`client ${c} line ${i}: content differs`);
        if (peers[c] === undefined) peers[c] = e.peer as string;
        else if (peers[c] !== e.peer && problems.length < 10) problems.push(`client ${c}: peer changed from ${peers[c]} to ${e.peer}`);
        next[c] = i + 1;
        if (++good === CLIENTS * LINES) allGood();
      }
    });
    h = await startPipeline(`
inputs:
  in: { type: tcp, listen: "127.0.0.1:${port}", idle_timeout: 2s, max_line_bytes: 64KiB, batch_size: 2000 }
outputs:
  sink: { type: tcp_test_sink, inputs: [in] }
`);
    const started = Date.now();
    const worker = new Worker(CLIENT_WORKER, { eval: true, workerData: { port, clients: CLIENTS, lines: LINES } });
    const workerDone = new Promise<void>((resolve, reject) => {
      worker.on('message', (m: { done?: boolean; error?: string }) => { if (m.error) reject(new Error(m.error)); if (m.done) resolve(); });
      worker.on('error', reject);
    });

    // The misbehaving clients, at the same time.
    const big = await connect(port);
    const bigPeer = peerOf(big);
    big.write('A'.repeat(10 * 1024 * 1024) + '\nafter-big\n');
    big.end();
    const junkBytes = Buffer.concat([randomBytes(256 * 1024), Buffer.from('\n')]);
    const junk = await connect(port);
    const junkPeer = peerOf(junk);
    junk.end(junkBytes);
    const slow = await connect(port);
    const slowPeer = peerOf(slow);
    slow.write('slowloris: partial line, then silence');
    const reset = await connect(port);
    reset.write('reset-line\npartial-before-reset');
    const resetPeer = peerOf(reset);
    await new Promise<void>((resolve) => {
      onOther = () => { if (others.get(resetPeer)?.includes('reset-line')) resolve(); };
      onOther();
    });
    reset.resetAndDestroy();
    const slowClosedAt = closed(slow).then(() => Date.now());

    await Promise.all([workerDone, closed(big), closed(junk), closed(reset)]);
    await allDelivered;
    const secs = (Date.now() - started) / 1000;
    await worker.terminate();
    console.log(`      1,000,000 lines from 200 clients in ${secs.toFixed(1)} s (with the misbehaving clients)`);

    assert.deepEqual(problems, []);
    assert.equal(good, CLIENTS * LINES);
    for (let c = 0; c < CLIENTS; c++) assert.equal(next[c], LINES, `client ${c}`);
    assert.equal(new Set(peers).size, CLIENTS, 'each client has its own peer address');
    assert.ok(peers.every((p) => /^127\.0\.0\.1:\d+$/.test(p)));

    // The 10 MB line: cut to max_line_bytes, and the line after it is intact.
    await until(() => (others.get(bigPeer)?.length ?? 0) >= 2, 'the big client\'s lines');
    const bigLines = others.get(bigPeer)!;
    assert.equal(bigLines.length, 2);
    assert.equal(bigLines[0], 'A'.repeat(65536));
    assert.equal(bigLines[1], 'after-big');
    // Binary junk: one event per newline in it, none longer than the limit, invalid UTF-8 counted.
    let newlines = 0;
    for (const b of junkBytes) if (b === 10) newlines++;
    await until(() => (others.get(junkPeer)?.length ?? 0) >= newlines, 'the junk client\'s lines');
    const junkLines = others.get(junkPeer)!;
    assert.equal(junkLines.length, newlines);
    assert.ok(junkLines.every((l) => Buffer.byteLength(l) <= 65536));
    // Slowloris: closed by the idle timeout, its partial line discarded; the reset client's partial line too.
    const slowClosed = await slowClosedAt;
    assert.ok(slowClosed - started >= 1900, 'the slowloris was not closed before its idle timeout');
    assert.equal(others.get(resetPeer)?.join('|'), 'reset-line');
    assert.equal(others.has(slowPeer), false);

    await until(() => custom(h!, 'in').visor_tcp_connections === 0, 'every connection to close');
    const s = snap(h, 'in');
    const c = s.custom;
    assert.equal(c.visor_tcp_idle_timeouts_total, 1);
    assert.equal(s.discarded_by_reason.incomplete_line, 2);
    assert.ok(c.visor_input_long_lines_total >= 1);
    assert.ok(c.visor_tcp_invalid_utf8_lines_total > 0);
    assert.equal(c.visor_tcp_connections_accepted_total, CLIENTS + 4);
    assert.equal(c.visor_tcp_connections_closed_total, CLIENTS + 4);
    assert.equal(c.visor_tcp_connections_refused_total, 0);
    assert.ok(s.received_bytes > 10 * 1024 * 1024 + 256 * 1024);
    assert.ok(h.pipeline.health().healthy);
  });

  it('enforces max_connections: excess connections are closed and counted; a freed slot is usable again', async () => {
    const { h, port, got, arrived: waitLine } = await tcpInput(', max_connections: 3');
    const first = await Promise.all([connect(port), connect(port), connect(port)]);
    await until(() => custom(h!, 'in').visor_tcp_connections === 3, '3 connections');
    const extra = await Promise.all([connect(port), connect(port)]);
    for (const s of extra) s.on('error', () => {});
    extra[0].write('refused-line\n');
    await Promise.all(extra.map(closed));
    assert.equal(custom(h, 'in').visor_tcp_connections_refused_total, 2);
    first[0].write('kept-line\n');
    await waitLine('kept-line');
    first[1].end();
    await until(() => custom(h!, 'in').visor_tcp_connections === 2, 'a slot to free');
    const later = await connect(port);
    later.write('later-line\n');
    await waitLine('later-line');
    assert.equal(got.includes('refused-line'), false);
    assert.equal(custom(h, 'in').visor_tcp_connections_refused_total, 2);
    for (const s of [...first, later]) s.destroy();
  });

  it('long_lines: skip drops an over-long line (counted as discarded) and keeps the next; a client\'s unterminated last line is delivered at its end', async () => {
    const { h, port, got, arrived } = await tcpInput(', max_line_bytes: 16, long_lines: skip');
    const s = await connect(port);
    s.end(`${'x'.repeat(100)}\nok\r\nunterminated`);
    await arrived('unterminated');
    assert.deepEqual(got, ['ok', 'unterminated']);
    assert.equal(snap(h, 'in').discarded_by_reason.line_too_long, 1);
  });

  it('stops gracefully: stops accepting, ends the clients and delivers their partial last lines', async () => {
    const { h: running, port, got, arrived } = await tcpInput();
    const s = await connect(port);
    s.write('whole\npartial');
    await arrived('whole');
    const ended = new Promise<void>((resolve) => s.once('end', () => resolve()));
    s.on('end', () => s.end());
    assert.equal(await running.pipeline.stop(5000), true);
    h = undefined;
    await ended;
    assert.deepEqual(got, ['whole', 'partial']);
    await assert.rejects(connect(port), /ECONNREFUSED/);
  });
});

describe('tcp over TLS', function () {
  this.timeout(30000);
  it('tcp output -> tcp input with TLS and a required client certificate; clients without one are refused', async () => {
    const { generate } = await import('selfsigned');
    const ca = await generate([{ name: 'commonName', value: 'Visor Test CA' }], {
      keyType: 'ec', algorithm: 'sha256',
      extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true }],
    });
    const server = await generate([{ name: 'commonName', value: 'localhost' }], {
      keyType: 'ec', algorithm: 'sha256', ca: { key: ca.private, cert: ca.cert },
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    const client = await generate([{ name: 'commonName', value: 'visor-client' }], {
      keyType: 'ec', algorithm: 'sha256', ca: { key: ca.private, cert: ca.cert },
      extensions: [{ name: 'extKeyUsage', clientAuth: true }],
    });
    const dir = await tempDir();
    const files = {
      ca: await dir.file('ca.pem', ca.cert),
      cert: await dir.file('server.pem', server.cert),
      key: await dir.file('server.key', server.private),
      ccert: await dir.file('client.pem', client.cert),
      ckey: await dir.file('client.key', client.private),
    };
    const port = await freePort();
    const TOTAL = 20000;
    const seen = new Set<string>();
    const subjects = new Set<unknown>();
    let allSeen: () => void;
    const done = new Promise<void>((r) => { allSeen = r; });
    sinks.set('sink', (events) => {
      for (const e of events) {
        seen.add(e.message as string);
        subjects.add(e.tls_subject);
      }
      if (seen.size >= TOTAL) allSeen();
    });
    const receiver = await startPipeline(`
inputs:
  in: { type: tcp, listen: "127.0.0.1:${port}", tls: { cert: "${files.cert}", key: "${files.key}", ca: "${files.ca}" } }
outputs:
  sink: { type: tcp_test_sink, inputs: [in] }
`);
    const sender = await startPipeline(`
inputs:
  seq: { type: tcp_test_seq, total: ${TOTAL} }
outputs:
  out:
    type: tcp
    inputs: [seq]
    address: "127.0.0.1:${port}"
    format: text
    tls: { ca: "${files.ca}", cert: "${files.ccert}", key: "${files.ckey}", servername: localhost }
`);
    try {
      await done;
      assert.equal(seen.size, TOTAL);
      assert.deepEqual([...subjects], ['CN=visor-client']);
      await sender.pipeline.done();
      assert.ok(snap(sender, 'out').sent_bytes > 0);

      // Without a client certificate: the handshake fails and nothing is delivered.
      const before = seen.size;
      const noCert = tls.connect({ host: '127.0.0.1', port, ca: await import('node:fs').then((f) => f.readFileSync(files.ca)), servername: 'localhost' });
      noCert.on('error', () => {});
      noCert.on('secureConnect', () => noCert.write('no-cert-line\n'));
      await closed(noCert);
      // Not TLS at all.
      const plain = await connect(port);
      plain.on('error', () => {});
      plain.write('plain-line\n');
      await closed(plain);
      await until(() => custom(receiver, 'in').visor_tcp_tls_handshake_failures_total >= 2, 'two handshake failures');
      assert.equal(seen.size, before);
      assert.equal(seen.has('no-cert-line') || seen.has('plain-line'), false);
    } finally {
      await sender.pipeline.stop(5000);
      await receiver.pipeline.stop(5000);
      sinks.clear();
      await dir.remove();
    }
  });
});

describe('tcp output', function () {
  this.timeout(60000);
  const CUT_MS = Number(process.env.TCP_CUT_MS ?? 10000);

  it(`tcp output -> proxy -> tcp input: a ${CUT_MS / 1000} s cut mid-stream loses nothing, memory stays bounded, reconnects are counted`, async () => {
    const TOTAL = 1_000_000;
    const inPort = await freePort();
    const counts = new Uint8Array(TOTAL);
    let distinct = 0;
    let duplicates = 0;
    let malformed = 0;
    let waiter: { n: number; resolve: () => void } | undefined;
    sinks.set('sink', (events) => {
      for (const e of events) {
        const m = /^seq=(\d+) p* end$/.exec(e.message as string);
        const n = m ? Number(m[1]) : -1;
        if (!m || n >= TOTAL || e.message !== `seq=${n} ${'p'.repeat(n % 40)} end`) { malformed++; continue; }
        if (counts[n]++ === 0) distinct++;
        else duplicates++;
      }
      if (waiter && distinct >= waiter.n) waiter.resolve();
    });
    const reached = (n: number) => new Promise<void>((resolve) => { waiter = { n, resolve }; if (distinct >= n) resolve(); });

    const receiver = await startPipeline(`
inputs:
  in: { type: tcp, listen: "127.0.0.1:${inPort}" }
outputs:
  sink: { type: tcp_test_sink, inputs: [in] }
`);
    const proxy = await new TcpProxy({ target: { host: '127.0.0.1', port: inPort } }).start();
    const sender = await startPipeline(`
inputs:
  seq: { type: tcp_test_seq, total: ${TOTAL}, batch: 500 }
outputs:
  out:
    type: tcp
    inputs: [seq]
    address: "127.0.0.1:${proxy.port}"
    format: text
    buffer: { max_events: 10000 }
    retry: { backoff: 100ms, max_backoff: 1s }
    reconnect: { backoff: 100ms, max_backoff: 1s }
`);
    try {
      await reached(50_000);
      await proxy.cut();
      const cutAt = Date.now();
      const heapAtCut = process.memoryUsage().heapUsed;
      const emittedAtCut = seqState.emitted;
      let maxBuffer = 0;
      let maxHeap = heapAtCut;
      let sawUnhealthy = false;
      while (Date.now() - cutAt < CUT_MS) { // the cut lasts CUT_MS; meanwhile sample what the sender holds
        await new Promise((r) => setTimeout(r, 100));
        maxBuffer = Math.max(maxBuffer, snap(sender, 'out').buffer_events);
        maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed);
        if (!sender.pipeline.health().components.out.healthy) sawUnhealthy = true;
      }
      const emittedDuringCut = seqState.emitted;
      await proxy.heal();
      await reached(TOTAL);
      console.log(`      cut at ${emittedAtCut.toLocaleString('en-US')} emitted; input stalled at ${emittedDuringCut.toLocaleString('en-US')} emitted; ` +
        `after healing: ${TOTAL.toLocaleString('en-US')} distinct, ${duplicates} duplicates, ${malformed} cut lines; heap +${((maxHeap - heapAtCut) / 1e6).toFixed(1)} MB`);
      assert.equal(distinct, TOTAL);
      assert.ok(sawUnhealthy, 'the output reported itself unhealthy while disconnected');
      // Backpressure: during the cut the input produced at most the output's buffer plus the batches in hand.
      assert.ok(emittedDuringCut - emittedAtCut <= 10000 + 3 * 500, `the input kept producing during the cut (${emittedAtCut} -> ${emittedDuringCut})`);
      assert.ok(emittedDuringCut < TOTAL, 'the input finished before the cut ended: the test proves nothing');
      assert.ok(maxBuffer <= 10000 + 500, `buffer held ${maxBuffer} events`);
      assert.ok(maxHeap - heapAtCut < 150e6, 'heap grew by more than 150 MB during the cut');
      assert.ok(malformed <= 2, `${malformed} malformed lines (at most one cut line per broken connection)`);
      const c = custom(sender, 'out');
      assert.ok(c.visor_tcp_reconnects_total >= 1);
      assert.ok(c.visor_tcp_connect_failures_total >= 1);
      assert.ok(c.visor_tcp_connection_losses_total >= 1);
      await sender.pipeline.done();
    } finally {
      await sender.pipeline.stop(5000);
      await receiver.pipeline.stop(5000);
      await proxy.stop();
      sinks.clear();
    }
  });

  it('visor generate --tcp sends exactly --count lines to a TCP peer and exits 0', async () => {
    let received = '';
    const server = net.createServer((s) => s.setEncoding('utf8').on('data', (d: string) => (received += d)));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as net.AddressInfo).port;
      const r = await runCli(['generate', '--count', '5000', '--rate', 'max', '--seed', '3', '--tcp', `127.0.0.1:${port}`]);
      assert.equal(r.code, 0, r.stderr);
      const lines = received.split('\n');
      assert.equal(lines.pop(), '', 'ends with a newline');
      assert.equal(lines.length, 5000);
      assert.ok(lines.every((l) => /^\S+ \S+ \S+ \[[^\]]+\] "/.test(l)), 'each line is a combined-format access line');
    } finally {
      server.close();
    }
  });

  it('rejects writes while the server is down (the core retries) and reports unhealthy; delivers once it is up', async () => {
    const port = await freePort();
    const got: string[] = [];
    let onGot: (() => void) | undefined;
    sinks.set('sink', (events) => { for (const e of events) got.push(e.message as string); onGot?.(); });
    const sender = await startPipeline(`
inputs:
  seq: { type: tcp_test_seq, total: 1000, batch: 100 }
outputs:
  out: { type: tcp, inputs: [seq], address: "127.0.0.1:${port}", format: json, retry: { backoff: 50ms, max_backoff: 200ms }, reconnect: { backoff: 50ms, max_backoff: 200ms } }
`);
    let receiver: Harness | undefined;
    try {
      await until(() => (custom(sender, 'out').visor_tcp_connect_failures_total ?? 0) >= 3, 'failed connection attempts');
      assert.equal(sender.pipeline.health().components.out.healthy, false);
      assert.equal(got.length, 0);
      receiver = await startPipeline(`
inputs:
  in: { type: tcp, listen: "127.0.0.1:${port}" }
outputs:
  sink: { type: tcp_test_sink, inputs: [in] }
`);
      await new Promise<void>((resolve) => { onGot = () => { if (got.length >= 1000) resolve(); }; onGot(); });
      assert.equal(new Set(got).size, 1000);
      assert.deepEqual(JSON.parse(got[0]), { message: `seq=0  end` });
      assert.ok(custom(sender, 'out').visor_tcp_reconnects_total >= 1);
    } finally {
      await sender.pipeline.stop(5000);
      await receiver?.pipeline.stop(5000);
      sinks.clear();
    }
  });
});
