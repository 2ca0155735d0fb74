// The http output: events/s from a synthetic input through the http output (ndjson, 1000 events per request, one
// kept-alive connection) to a loopback node:http server that counts the lines it receives, beside a plain `fetch`
// loop posting the same batches (JSON.stringify per event, one POST per 1000, awaited in turn) to the same server
// in the same run. Both build their bodies from event objects, so the ratio is the output's own cost.
import http from 'node:http';
import type net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Event } from '../../core/index.js';
import { buildPipeline } from './pipeline.js';
import { LINE_TEXT } from './plugins.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const TOTAL = Number(process.env.BENCH_HTTP_EVENTS ?? 300_000);
const BATCH = 1000;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** A server counting the newlines of every body; `reached(n)` resolves when it has seen n lines. */
async function countingServer(): Promise<{ port: number; lines(): number; reached(n: number): Promise<void>; reset(): void; close(): Promise<void> }> {
  let lines = 0;
  let waiter: { n: number; resolve: () => void } | undefined;
  const server = http.createServer((req, res) => {
    req.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
    });
    req.on('end', () => {
      res.writeHead(204).end();
      if (waiter && lines >= waiter.n) waiter.resolve();
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    lines: () => lines,
    reached: (n) => new Promise<void>((resolve) => { waiter = { n, resolve }; if (lines >= n) resolve(); }),
    reset: () => { lines = 0; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

async function httpOutput(port: number, reached: (n: number) => Promise<void>): Promise<number> {
  const yaml = `
service: { plugins: [${JSON.stringify(path.join(HERE, 'plugins.js'))}] }
inputs:
  src: { type: bench_lines, total: ${TOTAL}, batch_size: ${BATCH} }
outputs:
  out: { type: http, inputs: [src], url: "http://127.0.0.1:${port}/ingest", format: ndjson, batch: { max_events: ${BATCH} } }
`;
  const { pipeline } = await buildPipeline(yaml, 'bench-http.yaml');
  const start = process.hrtime.bigint();
  await pipeline.start();
  await reached(TOTAL);
  const secs = Number(process.hrtime.bigint() - start) / 1e9;
  await pipeline.done();
  return TOTAL / secs;
}

async function fetchLoop(port: number): Promise<number> {
  const url = `http://127.0.0.1:${port}/ingest`;
  const start = process.hrtime.bigint();
  for (let sent = 0; sent < TOTAL; sent += BATCH) {
    const events: Event[] = new Array(Math.min(BATCH, TOTAL - sent));
    for (let i = 0; i < events.length; i++) events[i] = { message: LINE_TEXT };
    let body = '';
    for (const e of events) body += JSON.stringify(e) + '\n';
    const res = await fetch(url, { method: 'POST', body, headers: { 'Content-Type': 'application/x-ndjson' } });
    await res.arrayBuffer();
    if (res.status !== 204) throw new Error(`fetch got ${res.status}`);
  }
  return TOTAL / (Number(process.hrtime.bigint() - start) / 1e9);
}

export async function benchHttpOutput(): Promise<string[]> {
  const server = await countingServer();
  try {
    const plain = await fetchLoop(server.port);
    if (server.lines() !== TOTAL) throw new Error(`the fetch loop delivered ${server.lines()} of ${TOTAL} lines`);
    server.reset();
    const output = await httpOutput(server.port, server.reached);
    if (server.lines() !== TOTAL) throw new Error(`the http output delivered ${server.lines()} of ${TOTAL} lines`);
    const plainAgain = await (async () => { server.reset(); return fetchLoop(server.port); })();
    return [
      `http output (ndjson, ${BATCH} events per request, ~${LINE_TEXT.length + 14} B each) -> loopback node:http server: ${fmt(output)} events/s; ` +
        `plain fetch loop posting the same batches, before and after: ${fmt(plain)} and ${fmt(plainAgain)} events/s ` +
        `(http output = ${(output / ((plain + plainAgain) / 2)).toFixed(2)}x their mean)`,
    ];
  } finally {
    await server.close();
  }
}

if (process.argv[1] && /bench[/\\]http-output\.[jt]s$/.test(process.argv[1])) {
  for (const line of await benchHttpOutput()) console.log(line);
}
