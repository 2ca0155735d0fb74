// The tcp input: lines/s (from starting the client process to the last line counted) from 10 concurrent clients (a separate process) into blackhole, beside a plain Node net
// server that only counts the newlines of the same clients' bytes, in the same run; and the peak RSS.
import { spawn } from 'node:child_process';
import net from 'node:net';
import { freePort } from '../support/helpers.js';
import { CONNECT_CLIENTS_JS } from '../support/tcp-clients.js';
import { combinedLines } from './apache-lines.js';
import { buildPipeline } from './pipeline.js';

const CLIENTS = 10;
const LINES_PER_CLIENT = Number(process.env.BENCH_TCP_LINES ?? 200_000);
const TARGET = 300_000;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// Each client sends the same block of real combined-log lines over and over, honouring backpressure.
const CLIENT = `${CONNECT_CLIENTS_JS}
const [port, clients, lines] = process.argv.slice(1).map(Number);
const block = require('node:fs').readFileSync(0, 'utf8');
const perBlock = block.split('\\n').length - 1;
const sent = new Array(clients).fill(0);
const chunk = (c) => (sent[c] < lines ? ((sent[c] += perBlock), block) : undefined);
connectClients(port, clients, chunk, (e) => { console.error(String(e)); process.exit(1); }, () => process.exit(0));
`;

async function runClients(port: number, block: string): Promise<void> {
  const child = spawn(process.execPath, ['-e', CLIENT, String(port), String(CLIENTS), String(LINES_PER_CLIENT)], { stdio: ['pipe', 'ignore', 'inherit'] });
  child.stdin.end(block);
  await new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`clients exited with ${code}`)))));
}

/** Lines/s of a plain net server counting '\n' bytes (no strings, no events): the ceiling for this transport. */
async function baseline(block: string, total: number): Promise<number> {
  let lines = 0;
  let last = 0n;
  const server = net.createServer((s) => {
    s.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
      last = process.hrtime.bigint();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const start = process.hrtime.bigint();
  await runClients((server.address() as net.AddressInfo).port, block);
  await new Promise((r) => server.close(r));
  if (lines !== total) throw new Error(`baseline counted ${lines} of ${total} lines`);
  return total / (Number(last - start) / 1e9);
}

async function tcpInput(block: string, total: number): Promise<number> {
  const port = await freePort();
  const yaml = `
inputs:
  in: { type: tcp, listen: "127.0.0.1:${port}" }
outputs:
  sink: { type: blackhole, inputs: [in] }
`;
  const { pipeline, metrics } = await buildPipeline(yaml, 'bench-tcp.yaml');
  await pipeline.start();
  const start = process.hrtime.bigint();
  await runClients(port, block);
  while (metrics.snapshot().sink.received_events < total) await new Promise((r) => setTimeout(r, 1));
  const end = process.hrtime.bigint();
  await pipeline.stop(5000);
  return total / (Number(end - start) / 1e9);
}

export async function benchTcp(): Promise<string[]> {
  const block = combinedLines(1000, 7).join('\n') + '\n';
  const total = CLIENTS * Math.ceil(LINES_PER_CLIENT / 1000) * 1000;
  const input = await tcpInput(block, total);
  const rssMB = (process.resourceUsage().maxRSS * 1024) / 1e6;
  const plain = await baseline(block, total);
  return [
    `tcp input -> blackhole, ${CLIENTS} clients, ${fmt(total)} combined lines (~${Math.round(block.length / 1000)} B each): ` +
      `${fmt(input)} lines/s (target >= ${fmt(TARGET)}: ${input >= TARGET ? 'met' : 'NOT met'}); ` +
      `plain net server counting newlines, same clients: ${fmt(plain)} lines/s (tcp input = ${(input / plain).toFixed(2)}x); ` +
      `peak RSS of the bench process after the tcp run: ${rssMB.toFixed(0)} MB`,
  ];
}

if (process.argv[1] && /bench[/\\]tcp\.[jt]s$/.test(process.argv[1])) {
  for (const line of await benchTcp()) console.log(line);
}
