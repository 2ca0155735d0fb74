// Allow-lists: networks (CIDRs or single addresses, IPv4 and IPv6, through node:net's BlockList) and a condition
// (e.g. user_agent == "Pingdom" or vhost == "monitor.example.com"), and with verify_crawlers the crawlers whose
// address passed the reverse DNS check (crawler_verified, set by verify.ts). An event they allow is never counted.
import { BlockList, isIP } from 'node:net';
import { compileCondition, type Condition, type Event } from '../../core/index.js';

/** Why `text` is no CIDR or address, or undefined. */
export function networkProblem(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  const [addr, prefix, extra] = text.split('/');
  const family = isIP(addr);
  if (family === 0 || extra !== undefined) return `"${text}" is no address or CIDR, e.g. 192.0.2.0/24 or 2001:db8::/32`;
  if (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128))) {
    return `"${text}": the prefix length must be 0..${family === 4 ? 32 : 128}`;
  }
  return undefined;
}

export class AllowList {
  private readonly blocks = new BlockList();
  private readonly any: boolean;
  private readonly when?: Condition;

  constructor(networks: readonly string[], when?: string, private readonly verifiedCrawlers = false) {
    for (const n of networks) {
      const [addr, prefix] = n.split('/');
      const type = isIP(addr) === 6 ? 'ipv6' : 'ipv4';
      if (prefix === undefined) this.blocks.addAddress(addr, type);
      else this.blocks.addSubnet(addr, Number(prefix), type);
    }
    this.any = networks.length > 0;
    this.when = when === undefined ? undefined : compileCondition(when);
  }

  allows(event: Event): boolean {
    if (this.verifiedCrawlers && event.crawler_verified === true) return true;
    if (this.any) {
      const ip = event.client_ip;
      if (typeof ip === 'string') {
        const family = isIP(ip);
        if (family !== 0 && this.blocks.check(ip, family === 6 ? 'ipv6' : 'ipv4')) return true;
      }
    }
    return this.when !== undefined && this.when(event);
  }
}
