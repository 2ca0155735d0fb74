// A Kafka-aware proxy for outage tests: one TcpProxy in front of each broker. Brokers advertise their own
// host:port in Metadata (api key 3) and FindCoordinator (api key 10) responses, so a client would bypass a
// plain proxy after its first request; these responses are rewritten to point at the proxies.
// kafkajs 2.2.4 negotiates Metadata v2 and FindCoordinator v2 with librdkafka's mock (both non-flexible);
// every non-flexible version (Metadata 0-8, FindCoordinator 0-2) is handled, and anything else passes through.
import { TcpProxy } from './tcp-proxy.js';

const METADATA = 3;
const FIND_COORDINATOR = 10;

interface Request { apiKey: number; version: number }

/** Reads Kafka frames (int32 size + payload) from a byte stream, chunk by chunk (large frames are joined
 * once complete, not on every chunk). */
class FrameReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private need = 4;
  push(chunk: Buffer): Buffer[] {
    this.chunks.push(chunk);
    this.length += chunk.length;
    const frames: Buffer[] = [];
    while (this.length >= this.need) {
      let buf: Buffer = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [buf];
      const size = buf.readInt32BE(0);
      if (buf.length < 4 + size) {
        this.need = 4 + size;
        break;
      }
      frames.push(buf.subarray(0, 4 + size));
      buf = buf.subarray(4 + size);
      this.chunks = buf.length ? [buf] : [];
      this.length = buf.length;
      this.need = 4;
    }
    return frames;
  }
}

export class KafkaProxy {
  readonly proxies: TcpProxy[] = [];
  /** Broker port -> proxy port. */
  private readonly portMap = new Map<number, number>();
  /** Responses rewritten so far (so a test can check the rewriting happened). */
  rewritten = 0;

  constructor(private readonly brokers: string[]) {}

  /** The proxies' addresses, to give the agent instead of the brokers. */
  get addresses(): string[] {
    return this.proxies.map((p) => `127.0.0.1:${p.port}`);
  }

  async start(): Promise<this> {
    for (const b of this.brokers) {
      const [host, port] = [b.slice(0, b.lastIndexOf(':')), Number(b.slice(b.lastIndexOf(':') + 1))];
      // TcpProxy calls upstreamTransform() then clientTap() for each connection: the pair shares `requests`.
      let shared: Map<number, Request> | undefined;
      const proxy = new TcpProxy({
        target: { host, port },
        upstreamTransform: () => {
          const requests = (shared = new Map<number, Request>());
          const reader = new FrameReader();
          return (chunk) => {
            const frames = reader.push(chunk);
            if (frames.length === 1 && !requests.has(frames[0].readInt32BE(4))) return frames[0];
            return Buffer.concat(frames.map((f) => this.rewrite(f, requests)));
          };
        },
        clientTap: () => {
          const requests = shared!;
          const reader = new FrameReader();
          return (chunk) => {
            for (const f of reader.push(chunk)) {
              const apiKey = f.readInt16BE(4);
              if (apiKey === METADATA || apiKey === FIND_COORDINATOR) requests.set(f.readInt32BE(8), { apiKey, version: f.readInt16BE(6) });
            }
          };
        },
      });
      await proxy.start();
      this.proxies.push(proxy);
      this.portMap.set(port, proxy.port);
    }
    return this;
  }

  private rewrite(frame: Buffer, requests: Map<number, Request>): Buffer {
    const correlationId = frame.readInt32BE(4);
    const req = requests.get(correlationId);
    if (!req) return frame;
    requests.delete(correlationId);
    const body = frame.subarray(8);
    let out: Buffer | undefined;
    if (req.apiKey === METADATA && req.version <= 8) out = this.rewriteMetadata(body, req.version);
    if (req.apiKey === FIND_COORDINATOR && req.version <= 2) out = this.rewriteCoordinator(body, req.version);
    if (!out) return frame;
    this.rewritten++;
    const head = Buffer.alloc(8);
    head.writeInt32BE(4 + out.length, 0);
    head.writeInt32BE(correlationId, 4);
    return Buffer.concat([head, out]);
  }

  /** host (int16 length + bytes) and port (int32) at `pos` -> 127.0.0.1 and the proxy's port. */
  private endpoint(body: Buffer, pos: number, parts: Buffer[]): number {
    const hostLen = body.readInt16BE(pos);
    const port = body.readInt32BE(pos + 2 + hostLen);
    const host = Buffer.from('127.0.0.1');
    const out = Buffer.alloc(2 + host.length + 4);
    out.writeInt16BE(host.length, 0);
    host.copy(out, 2);
    out.writeInt32BE(this.portMap.get(port) ?? port, 2 + host.length);
    parts.push(out);
    return pos + 2 + hostLen + 4;
  }

  /** Metadata v0-8: [throttle_time_ms (v3+)] brokers[node_id, host, port, rack (v1+)] ...rest unchanged. */
  private rewriteMetadata(body: Buffer, version: number): Buffer {
    const parts: Buffer[] = [];
    let pos = version >= 3 ? 4 : 0;
    const count = body.readInt32BE(pos);
    pos += 4;
    parts.push(body.subarray(0, pos));
    for (let i = 0; i < count; i++) {
      parts.push(body.subarray(pos, pos + 4)); // node_id
      pos = this.endpoint(body, pos + 4, parts);
      if (version >= 1) {
        const rackLen = body.readInt16BE(pos);
        const end = pos + 2 + Math.max(0, rackLen);
        parts.push(body.subarray(pos, end));
        pos = end;
      }
    }
    parts.push(body.subarray(pos));
    return Buffer.concat(parts);
  }

  /** FindCoordinator v0: error_code, node_id, host, port; v1-2: throttle_time_ms, error_code, error_message, node_id, host, port. */
  private rewriteCoordinator(body: Buffer, version: number): Buffer {
    let pos = 0;
    if (version >= 1) {
      pos = 4 + 2;
      const msgLen = body.readInt16BE(pos);
      pos += 2 + Math.max(0, msgLen);
    } else pos = 2;
    pos += 4; // node_id
    const parts: Buffer[] = [body.subarray(0, pos)];
    pos = this.endpoint(body, pos, parts);
    parts.push(body.subarray(pos));
    return Buffer.concat(parts);
  }

  async cut(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.cut()));
  }

  async heal(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.heal()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.proxies.map((p) => p.stop()));
  }
}
