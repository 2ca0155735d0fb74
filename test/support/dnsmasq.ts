// A real DNS server for the reverse DNS tests: Debian's dnsmasq (package dnsmasq-base, /usr/sbin/dnsmasq) on a
// loopback port, answering only from the records given (--no-resolv --no-hosts; --local=/#/ makes every other name
// NXDOMAIN, as a real zone without that record answers, instead of REFUSED for want of an upstream), logging each
// query it receives (--log-queries to stderr), so a test can count what was asked.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { onPath } from './helpers.js';

export const DNSMASQ = onPath('dnsmasq', ['/usr/sbin']);
export const dnsmasqMissing = DNSMASQ ? undefined : 'dnsmasq not installed (apt-get install -y --no-install-recommends dnsmasq-base)';

export interface DnsRecords {
  /** [address, name]: a PTR record only (dnsmasq's --ptr-record, the arpa name made from the address). */
  ptr?: [string, string][];
  /** [name, address]: an A or AAAA record only (dnsmasq's --address, which adds no PTR). */
  forward?: [string, string][];
  /** [name, address]: both (dnsmasq's --host-record). */
  host?: [string, string][];
}

export interface Dnsmasq {
  /** `127.0.0.1:port`, for dns_servers. */
  server: string;
  /** Queries received so far, as dnsmasq logs them: `PTR 1.66.249.66.in-addr.arpa`, `A crawl-....googlebot.com`. */
  queries(): string[];
  stop(): Promise<void>;
}

/** A free UDP port on 127.0.0.1 (bound, then released for dnsmasq). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function arpa(address: string): string {
  if (address.includes(':')) {
    const [head, tail = ''] = address.split('::');
    const h = head ? head.split(':') : [];
    const t = tail ? tail.split(':') : [];
    const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t].map((g) => g.padStart(4, '0'));
    return `${groups.join('').split('').reverse().join('.')}.ip6.arpa`;
  }
  return `${address.split('.').reverse().join('.')}.in-addr.arpa`;
}

export async function startDnsmasq(records: DnsRecords): Promise<Dnsmasq> {
  const args = (port: number) => [
    '--keep-in-foreground', '--no-resolv', '--no-hosts', '--conf-file=/dev/null', '--pid-file=', `--port=${port}`,
    '--listen-address=127.0.0.1', '--bind-interfaces', '--local=/#/', '--log-queries', '--log-facility=-',
    ...(records.ptr ?? []).map(([a, n]) => `--ptr-record=${arpa(a)},${n}`),
    ...(records.forward ?? []).map(([n, a]) => `--address=/${n}/${a}`),
    ...(records.host ?? []).map(([n, a]) => `--host-record=${n},${a}`),
    // run as root (CI), dnsmasq changes to this user after binding
    ...(process.getuid?.() === 0 ? ['--user=nobody'] : []),
  ];
  // The port is free when picked but may be taken before dnsmasq binds it: try another then.
  for (let attempt = 0; ; attempt++) {
    const port = await freeUdpPort();
    const child = spawn(DNSMASQ!, args(port), { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    const started = await new Promise<boolean>((resolve, reject) => {
      child.stderr!.setEncoding('utf8');
      child.stderr!.on('data', (chunk: string) => {
        log += chunk;
        if (/started, version/.test(log)) resolve(true);
      });
      child.once('error', reject);
      child.once('exit', () => resolve(false));
    });
    if (started) return handle(child, port, () => log);
    if (attempt >= 2 || !/Address (already )?in use/i.test(log)) throw new Error(`dnsmasq did not start: ${log}`);
  }
}

function handle(child: ChildProcess, port: number, log: () => string): Dnsmasq {
  return {
    server: `127.0.0.1:${port}`,
    queries: () => [...log().matchAll(/query\[(\w+)\] (\S+) from/g)].map((m) => `${m[1]} ${m[2]}`),
    stop: () => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    }),
  };
}
