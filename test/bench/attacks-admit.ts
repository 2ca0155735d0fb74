// The cost of one admission into a full AttacksCounter (a flood of distinct attacking clients: each alert admits a
// client and evicts the least-alerted one), with its LeastCounted heap against the scan of every entry it replaced
// (test/support/attack-counter-scan.ts), alternating, 3 rounds each, CPU time (user+sys) per admission, best round.
// Run: npx tsx test/bench/attacks-admit.ts [capacity ...] (default 1000 10000 50000).
import { readFileSync } from 'node:fs';
import type { Event } from '../../core/index.js';
import { AttackCounter } from '../../lib/stats/index.js';
import { ScanningAttackCounter } from '../support/attack-counter-scan.js';

function perAdmission(make: () => AttackCounter, capacity: number, flood: number): number {
  const c = make();
  for (let i = 0; i < capacity; i++) c.add({ kind: 'detect', rule: `r${i % 8}`, state: 'firing', client_ip: `fill-${i}`, time: i }, i);
  const alerts: Event[] = [];
  for (let i = 0; i < flood; i++) alerts.push({ kind: 'detect', rule: `r${i % 8}`, state: 'firing', client_ip: `flood-${i}`, time: i });
  const t = process.cpuUsage();
  for (let i = 0; i < flood; i++) c.add(alerts[i]!, i);
  const d = process.cpuUsage(t);
  return (d.user + d.system) / flood;
}

const caps = process.argv.slice(2).map(Number).filter((x) => x > 0);
for (const capacity of caps.length ? caps : [1000, 10_000, 50_000]) {
  // As many admissions as the scan does in ~1 s at most, at least 2,000.
  const flood = Math.max(2000, Math.min(50_000, Math.floor(2e8 / capacity / 20)));
  let heap = Infinity;
  let scan = Infinity;
  for (let round = 0; round < 3; round++) {
    heap = Math.min(heap, perAdmission(() => new AttackCounter(capacity), capacity, flood));
    scan = Math.min(scan, perAdmission(() => new ScanningAttackCounter(capacity), capacity, flood));
  }
  const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  console.log(`capacity ${capacity.toLocaleString('en-US')}, ${flood.toLocaleString('en-US')} admissions at capacity: heap ${heap.toFixed(2)} µs/admission, `
    + `scan ${scan.toFixed(2)} µs (${(scan / heap).toFixed(0)}x); load ${load}`);
}
