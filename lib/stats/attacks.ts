// The attacks figures of the dashboard and the report: the detect aggregate's alert events (kind: 'detect', with a
// `rule` and a `client_ip`) counted per rule and per client. Memory is bounded: at most `capacity` rules and clients
// each; beyond, the least-alerted entry is replaced (Space-Saving: its count carries over, `error_bound` says by how
// much a count shown may exceed the truth). The least-alerted entry is found in O(log n) amortised (LeastCounted):
// alerts are rare, but a flood of distinct attacking clients admits one client per alert, and a scan of the map per
// admission made that quadratic (test/bench/attacks-admit.ts).
import type { Event } from '../../core/index.js';
import { LeastCounted } from './least-counted.js';

/** Evidence lines kept per client (the detect alert's `evidence`: its first samples). */
const EVIDENCE_MAX = 10;
/** Longest evidence line kept: detect keeps at most 500 characters (lib/alerts describeEvent), so one is whole. */
const EVIDENCE_LINE_MAX = 500;

export interface AttackRule {
  rule: string;
  severity: string;
  alerts: number;
  last: number;
}

export interface AttackClient {
  client: string;
  alerts: number;
  /** The rules that fired for this client, sorted. */
  rules: string[];
  last: number;
  /** The newest alert's evidence lines, whole. */
  evidence: string[];
}

export interface AttacksJSON {
  alerts: number;
  rules: AttackRule[];
  clients: AttackClient[];
  /** How much an alerts count shown may exceed the true one (0: exact). */
  error_bound: number;
}

/** Whether an event is a detect alert. A digest (the matches of the quiet period after an alert) is not another
 * alert: counted, one client attacking steadily would count twice per quiet period. */
export function isAttack(e: Event): boolean {
  return e.kind === 'detect' && typeof e.rule === 'string' && e.rule !== '' && e.state !== 'digest';
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** When an attack happened: its last matching line's time (`last`, event time: a backlog read after downtime is
 * placed where it happened), else when it was raised (`time`), else `fallback`. */
export function attackTime(e: Event, fallback: number): number {
  return finite(e.last) ? e.last : finite(e.time) ? e.time : fallback;
}

/** The severity classes the timeline stacks (severity is a free label: rules name their own). */
export const SEVERITY_CLASSES = ['critical', 'warning', 'info'] as const;
export type SeverityClass = (typeof SEVERITY_CLASSES)[number];
const CRITICAL = new Set(['emergency', 'emerg', 'alert', 'critical', 'crit', 'error', 'err', 'high']);
const WARNING = new Set(['warning', 'warn', 'medium']);

/** A severity label's class: syslog's and the usual high/medium/low names; any other label is info. */
export function severityClass(severity: unknown): SeverityClass {
  const s = typeof severity === 'string' ? severity.toLowerCase() : '';
  return CRITICAL.has(s) ? 'critical' : WARNING.has(s) ? 'warning' : 'info';
}

const str = (v: unknown, max: number) => (typeof v === 'string' ? v.slice(0, max) : '');

/** The client an attack is counted under. */
export function attackClient(e: Event): string {
  return str(e.client_ip, 200) || '(no client)';
}

/** The evidence lines kept of an alert: its first EVIDENCE_MAX, each cut to EVIDENCE_LINE_MAX. */
export function evidenceLines(e: Event): string[] {
  const ev = Array.isArray(e.evidence) ? e.evidence : [];
  return ev.slice(0, EVIDENCE_MAX).map((l) => (typeof l === 'string' ? l : JSON.stringify(l) ?? '').slice(0, EVIDENCE_LINE_MAX));
}

/** The order the panel lists rules and clients in: most alerted first, then by name. */
export const byAlerts = <T extends { alerts: number }>(name: (t: T) => string) => (a: T, b: T): number =>
  b.alerts - a.alerts || (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0);

export class AttackCounter {
  alerts = 0;
  private readonly rules = new Map<string, AttackRule>();
  private readonly clients = new Map<string, AttackClient & { ruleSet: Set<string> }>();
  private readonly leastRules = new LeastCounted<AttackRule>();
  private readonly leastClients = new LeastCounted<AttackClient & { ruleSet: Set<string> }>();
  protected bound = 0;

  constructor(protected readonly capacity: number) {}

  /** Count one detect alert (isAttack); `now` when it carries no time (attackTime). */
  add(e: Event, now: number): void {
    const time = attackTime(e, now);
    const rule = str(e.rule, 200);
    this.alerts++;
    let r = this.rules.get(rule);
    if (!r) r = this.admit(this.rules, this.leastRules, rule, () => ({ rule, severity: '', alerts: 0, last: -Infinity }));
    r.alerts++;
    r.severity = str(e.severity, 40);
    if (time > r.last) r.last = time;
    const ip = attackClient(e);
    let c = this.clients.get(ip);
    if (!c) c = this.admit(this.clients, this.leastClients, ip, () => ({ client: ip, alerts: 0, rules: [], ruleSet: new Set<string>(), last: -Infinity, evidence: [] }));
    c.alerts++;
    if (c.ruleSet.size < this.capacity) c.ruleSet.add(rule);
    if (time >= c.last) {
      c.last = time;
      c.evidence = evidenceLines(e);
    }
  }

  /** A new entry; at capacity it takes the place of the least-alerted one (the first admitted among equals), whose
   * count it starts from. `least` holds the entries of `m`. */
  protected admit<T extends { alerts: number }>(m: Map<string, T>, least: LeastCounted<T>, key: string, make: () => T): T {
    const entry = make();
    if (m.size >= this.capacity) {
      const evicted = least.take();
      if (evicted) {
        m.delete(evicted.key);
        entry.alerts = evicted.alerts;
        if (evicted.alerts > this.bound) this.bound = evicted.alerts;
      }
    }
    m.set(key, entry);
    least.add(key, entry);
    return entry;
  }

  /** The `n` most-alerted rules and clients (by alerts, then name). */
  toJSON(n: number): AttacksJSON {
    return {
      alerts: this.alerts,
      rules: [...this.rules.values()].sort(byAlerts<AttackRule>((r) => r.rule)).slice(0, n).map((r) => ({ ...r })),
      clients: [...this.clients.values()].sort(byAlerts<AttackClient>((c) => c.client)).slice(0, n)
        .map(({ ruleSet, ...c }) => ({ ...c, rules: [...ruleSet].sort(), evidence: [...c.evidence] })),
      error_bound: this.bound,
    };
  }
}
