// Addresses no country database places: private, shared (CGNAT), loopback, link-local, documentation,
// benchmarking, multicast and reserved ranges. The geoip filter gives these the country `private`.
//
// Source: IANA's IPv4 and IPv6 Special-Purpose Address Registries (iana-ipv4-special-registry,
// iana-ipv6-special-registry, as of 2025), the entries whose "Globally Reachable" is False, plus the
// multicast blocks (224.0.0.0/4, ff00::/8: never a client's source address) and the deprecated IPv6
// site-local block (fec0::/10, RFC 3879). IPv4-mapped IPv6 addresses (::ffff:0:0/96) are not listed: the
// caller looks up the IPv4 address they carry (mappedIPv4). Entries marked globally reachable inside a
// listed block (192.0.0.9/32 in 192.0.0.0/24, AMT and AS112 in 2001::/23, ...) are exceptions below.
import type { ParsedAddress } from './ip-address.js';

type Range<T> = [T, number, string];

const V4: Range<string>[] = [
  ['0.0.0.0', 8, 'this network'],
  ['10.0.0.0', 8, 'private-use'],
  ['100.64.0.0', 10, 'shared address space'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private-use'],
  ['192.0.0.0', 24, 'IETF protocol assignments'],
  ['192.0.2.0', 24, 'documentation (TEST-NET-1)'],
  ['192.88.99.0', 24, 'deprecated 6to4 relay anycast'],
  ['192.168.0.0', 16, 'private-use'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation (TEST-NET-2)'],
  ['203.0.113.0', 24, 'documentation (TEST-NET-3)'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'], // 255.255.255.255/32 (limited broadcast) is inside it
];
const V4_GLOBAL: Range<string>[] = [
  ['192.0.0.9', 32, 'port control protocol anycast'],
  ['192.0.0.10', 32, 'traversal using relays around NAT anycast'],
];

const V6: Range<string>[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['64:ff9b:1::', 48, 'IPv4-IPv6 translation, local use'],
  ['100::', 64, 'discard-only'],
  ['100:0:0:1::', 64, 'dummy prefix'],
  ['2001::', 23, 'IETF protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['5f00::', 16, 'segment routing SIDs'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local (deprecated)'],
  ['ff00::', 8, 'multicast'],
];
const V6_GLOBAL: Range<string>[] = [
  ['2001:1::1', 128, 'port control protocol anycast'],
  ['2001:1::2', 128, 'traversal using relays around NAT anycast'],
  ['2001:1::3', 128, 'DNS-SD service registration protocol anycast'],
  ['2001:3::', 32, 'AMT'],
  ['2001:4:112::', 48, 'AS112-v6'],
  ['2001:20::', 28, 'ORCHIDv2'],
  ['2001:30::', 28, 'drone remote ID protocol entity tags'],
];

/** The registry name of the special-purpose block the address is in ('private-use', 'loopback', ...), or null
 * for an address in the global unicast space (one a country database may place). */
export function specialPurpose(address: ParsedAddress): string | null {
  if ('v4' in address) {
    if (inV4(address.v4, V4_GLOBAL_RANGES) !== null) return null;
    return inV4(address.v4, V4_RANGES);
  }
  if (inV6(address.v6, V6_GLOBAL_RANGES) !== null) return null;
  return inV6(address.v6, V6_RANGES);
}

const v4Table = (ranges: Range<string>[]): Range<number>[] => ranges.map(([base, bits, name]) => {
  const parts = base.split('.').map(Number);
  return [((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0, bits, name];
});
const v6Table = (ranges: Range<string>[]): Range<number[]>[] => ranges.map(([base, bits, name]) => [expandV6(base), bits, name]);

/** The eight groups of a table entry (written in full or with one `::`; no IPv4 tail). */
function expandV6(text: string): number[] {
  const [head, tail] = text.split('::');
  const left = head ? head.split(':').map((g) => parseInt(g, 16)) : [];
  const right = tail ? tail.split(':').map((g) => parseInt(g, 16)) : [];
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

const V4_RANGES = v4Table(V4);
const V4_GLOBAL_RANGES = v4Table(V4_GLOBAL);
const V6_RANGES = v6Table(V6);
const V6_GLOBAL_RANGES = v6Table(V6_GLOBAL);

function inV4(v4: number, table: Range<number>[]): string | null {
  for (const [base, bits, name] of table) {
    // A shift by 32 is a shift by 0 in JavaScript: a /32 compares whole.
    const shift = 32 - bits;
    if (shift === 0 ? v4 === base : v4 >>> shift === base >>> shift) return name;
  }
  return null;
}

function inV6(groups: number[], table: Range<number[]>[]): string | null {
  for (const [base, bits, name] of table) if (prefixMatches(groups, base, bits)) return name;
  return null;
}

function prefixMatches(groups: number[], base: number[], bits: number): boolean {
  let k = 0;
  for (; bits >= 16; bits -= 16, k++) if (groups[k] !== base[k]) return false;
  if (bits === 0) return true;
  const shift = 16 - bits;
  return groups[k] >>> shift === base[k] >>> shift;
}
