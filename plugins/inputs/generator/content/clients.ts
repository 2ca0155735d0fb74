// The pool of client addresses requests come from, built once from the seed, and how often each one shows up.
import type { Random } from '../contracts.js';
import type { ContentOptions } from '../options.js';
import { binomialSampler, type Sampler, zipfSampler } from '../random.js';

/** Prefixes of real IPv6 allocations (RIPE, ARIN, APNIC, AFRINIC), for addresses that look like traffic. */
const V6_PREFIXES = ['2a02', '2a01', '2a00', '2a03', '2001', '2600', '2601', '2603', '2607', '2804', '2408', '240e', '2c0f'];

export class ClientPool {
  /** Addresses as Apache writes them (IPv6 without brackets). */
  readonly addresses: string[];
  readonly ipv6: boolean[];
  private readonly sampler: Sampler<number>;

  constructor(options: ContentOptions['clients'], random: Random) {
    const size = options.size;
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`clients.size must be an integer >= 1, got ${size}`);
    if (!(options.ipv6_ratio >= 0 && options.ipv6_ratio <= 1)) throw new RangeError(`clients.ipv6_ratio must be in [0, 1], got ${options.ipv6_ratio}`);
    const seen = new Set<string>();
    this.addresses = [];
    this.ipv6 = [];
    for (let i = 0; i < size; i++) {
      const v6 = random.next() < options.ipv6_ratio;
      let address: string;
      do address = v6 ? ipv6Address(random) : ipv4Address(random);
      while (seen.has(address));
      seen.add(address);
      this.addresses.push(address);
      this.ipv6.push(v6);
    }
    switch (options.distribution) {
      case 'uniform': this.sampler = { sample: (r) => r.int(size) }; break;
      case 'zipf': this.sampler = zipfSampler(size, options.s); break;
      case 'binomial': this.sampler = binomialSampler(size - 1, options.p); break;
      default: throw new RangeError(`unknown clients.distribution "${String(options.distribution)}": uniform, zipf or binomial`);
    }
  }

  /** The index of the client of the next request. */
  pick(random: Random): number {
    return this.sampler.sample(random);
  }
}

/** A public-looking IPv4 address (no private, loopback, link-local or multicast ranges). */
export function ipv4Address(random: Random): string {
  for (;;) {
    const a = 1 + random.int(223);
    const b = random.int(256);
    if (a === 10 || a === 127 || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b < 128)) continue;
    return a + '.' + b + '.' + random.int(256) + '.' + (1 + random.int(254));
  }
}

function group(random: Random): string {
  return (1 + random.int(65535)).toString(16);
}

/** A global unicast IPv6 address in canonical form: a /32 from a real registry block, then either eight full
 * groups (SLAAC-style) or a short `::n` host part (servers, routers). Never starts or ends with `::`. */
export function ipv6Address(random: Random): string {
  const prefix = V6_PREFIXES[random.int(V6_PREFIXES.length)] + ':' + group(random) + ':' + group(random) + ':' + group(random);
  if (random.next() < 0.25) return prefix + '::' + (1 + random.int(255)).toString(16);
  return prefix + ':' + group(random) + ':' + group(random) + ':' + group(random) + ':' + group(random);
}
