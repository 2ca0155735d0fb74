// A minimal MaxMind DB (format 2.0) writer, for tests that need a city or ASN database of a known content: the
// spec's search tree (32-bit records, an IPv6 tree with IPv4 networks under ::/96), data section and metadata.
// test/geoip.test.ts checks what it writes with Debian's mmdblookup, an independent reader.
import { writeFile } from 'node:fs/promises';
import { parseAddress } from '../../lib/insight/index.js';

type Value = string | number | boolean | Typed | Value[] | { [key: string]: Value };
/** An unsigned integer of a given type (libmaxminddb checks the metadata's: node_count is a uint32, ...). */
class Typed { constructor(readonly type: 5 | 6 | 9, readonly value: number) {} }
const uint16 = (n: number) => new Typed(5, n);
const uint32 = (n: number) => new Typed(6, n);
const uint64 = (n: number) => new Typed(9, n);

export interface MmdbNetwork {
  /** `192.0.2.0/24` or `2001:db8::/32`; networks must not overlap. */
  network: string;
  data: { [key: string]: Value };
}

const control = (type: number, size: number): Buffer => {
  const ext = type > 7;
  const head = (ext ? 0 : type << 5);
  let sizeBytes: number[] = [];
  let sizeField = size;
  if (size >= 29 + 256 + 65536) throw new Error('value too long for this writer');
  if (size >= 29 + 256) { sizeField = 30; sizeBytes = [((size - 285) >> 8) & 255, (size - 285) & 255]; }
  else if (size >= 29) { sizeField = 29; sizeBytes = [size - 29]; }
  return Buffer.from([head | sizeField, ...(ext ? [type - 7] : []), ...sizeBytes]);
};

function uintBytes(n: number): number[] {
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return out;
}

function encode(value: Value): Buffer {
  if (typeof value === 'string') {
    const b = Buffer.from(value, 'utf8');
    return Buffer.concat([control(2, b.length), b]);
  }
  if (typeof value === 'boolean') return control(14, value ? 1 : 0);
  if (value instanceof Typed) {
    const bytes = uintBytes(value.value);
    return Buffer.concat([control(value.type, bytes.length), Buffer.from(bytes)]);
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new Error('only unsigned integers here');
    const bytes = uintBytes(value);
    const type = value < 65536 ? 5 : value < 2 ** 32 ? 6 : 9; // uint16, uint32, uint64
    return Buffer.concat([control(type, bytes.length), Buffer.from(bytes)]);
  }
  if (Array.isArray(value)) return Buffer.concat([control(11, value.length), ...value.map(encode)]);
  const entries = Object.entries(value);
  return Buffer.concat([control(7, entries.length), ...entries.flatMap(([k, v]) => [encode(k), encode(v)])]);
}

/** The 128 bits of an address (IPv4 under ::/96). */
function bits(address: string): number[] {
  const parsed = parseAddress(address);
  if (parsed === null) throw new Error(`not an address: ${address}`);
  const groups = 'v4' in parsed ? [0, 0, 0, 0, 0, 0, Math.floor(parsed.v4 / 65536), parsed.v4 % 65536] : parsed.v6;
  return groups.flatMap((g) => Array.from({ length: 16 }, (_, k) => (g >> (15 - k)) & 1));
}

interface TrieNode { children: [TrieNode | number | null, TrieNode | number | null] }

export async function writeMmdb(file: string, databaseType: string, networks: MmdbNetwork[]): Promise<void> {
  const root: TrieNode = { children: [null, null] };
  const data: Buffer[] = [];
  const offsets: number[] = [];
  let dataSize = 0;
  for (const { network, data: record } of networks) {
    const [address, len] = network.split('/');
    const prefix = Number(len) + (address.includes(':') ? 0 : 96);
    const b = bits(address);
    offsets.push(dataSize);
    const encoded = encode(record);
    data.push(encoded);
    dataSize += encoded.length;
    let node = root;
    for (let depth = 0; depth < prefix - 1; depth++) {
      const next = node.children[b[depth]];
      if (typeof next === 'number') throw new Error(`${network} overlaps another network`);
      node = next ?? (node.children[b[depth]] = { children: [null, null] });
    }
    node.children[b[prefix - 1]] = offsets.length - 1;
  }
  // Number the nodes breadth first; then each record is a node number, node_count (no data) or a data pointer.
  const order: TrieNode[] = [root];
  for (let i = 0; i < order.length; i++) for (const c of order[i].children) if (c !== null && typeof c !== 'number') order.push(c);
  const index = new Map(order.map((n, i) => [n, i]));
  const nodeCount = order.length;
  const tree = Buffer.alloc(nodeCount * 8);
  order.forEach((n, i) => n.children.forEach((c, side) => {
    const record = c === null ? nodeCount : typeof c === 'number' ? nodeCount + 16 + offsets[c] : index.get(c)!;
    tree.writeUInt32BE(record, i * 8 + side * 4);
  }));
  const metadata = encode({
    node_count: uint32(nodeCount), record_size: uint16(32), ip_version: uint16(6), database_type: databaseType, languages: ['en'],
    binary_format_major_version: uint16(2), binary_format_minor_version: uint16(0), build_epoch: uint64(1_700_000_000),
    description: { en: 'Visor test database' },
  });
  const marker = Buffer.concat([Buffer.from([0xab, 0xcd, 0xef]), Buffer.from('MaxMind.com')]);
  await writeFile(file, Buffer.concat([tree, Buffer.alloc(16), ...data, marker, metadata]));
}
