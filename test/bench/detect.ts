// Issue 19: the detect aggregate (default pack) on a generated benign day, as whole `visor run` processes:
// tail -> apache_access -> blackhole, beside the same pipeline with detect added, alternating in the same run
// (goal: <= 25% slower), and with an alert aggregate of one rule that never fires in its place: what the
// aggregate hop costs whatever the aggregate does. The alerts of the detect runs are the false positives: the day is the generator's
// realistic traffic (bursts, a daily profile, real browser and crawler user agents) minus what is an attack by
// design of its default content (the scanner paths /.env, /.git/config, /wp-login.php ... and the zgrab agent),
// reported per rule per million requests (goal 0).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { runGenerate } from '../../bin/generate-run.js';
import { DEFAULT_PATHS, DEFAULT_USER_AGENTS } from '../../plugins/inputs/generator/content/defaults.js';
import { CLI } from '../support/helpers.js';

/** Paths and agents of the generator's default content that are attacks by design: left out of the benign day. */
const ATTACK_PATHS = new Set(['/.env', '/.git/config', '/phpmyadmin/index.php', '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php', '/cgi-bin/test.cgi', '/wp-admin/', '/wp-login.php', '/xmlrpc.php', '/server-status']);
export const BENIGN_CONTENT = {
  paths: DEFAULT_PATHS.filter((p) => !ATTACK_PATHS.has(p)),
  user_agents: DEFAULT_USER_AGENTS.filter((u) => !/zgrab/i.test(u)),
};

/** A generated day of `count` lines (the rate spreads them over 24 h of simulated time). */
export function benignDay(count: number, seed = 19): Record<string, unknown> {
  return {
    type: 'generator', format: 'combined', rate: count / 86_400, count, seed, start_time: '2026-12-01T00:00:00Z', speed: 'max', timezone: 'UTC',
    profile: { amplitude: 0.6, phase: '6h' },
    bursts: { scheduled: [{ every: '1h', for: '2m', multiplier: 6 }], random: { mean_gap: '45m', min_length: '10s', max_length: '60s', min_multiplier: 2, max_multiplier: 8 } },
    content: BENIGN_CONTENT,
  };
}

type Variant = 'base' | 'alert' | 'detect';
/** The cost of an aggregate hop itself: an alert aggregate with one per-event rule that never fires. */
const ONE_RULE_ALERT = `  det: { type: alert, inputs: [access], rules: [{ name: none, when: 'status >= 500 and path =~ "(?i)^/never-requested"' }] }`;

function config(source: string, dataDir: string, variant: Variant, alerts: string): string {
  return [
    `service: { data_dir: ${JSON.stringify(dataDir)}, log_level: warn }`,
    'inputs:',
    `  logs: { type: tail, path: [${JSON.stringify(source)}], read_from: beginning, exit_on_eof: true }`,
    'filters:',
    '  access: { type: apache_access, inputs: [logs], format: combined, timezone: UTC }',
    ...(variant === 'base' ? [] : ['aggregates:', variant === 'detect' ? '  det: { type: detect, inputs: [access] }' : ONE_RULE_ALERT]),
    'outputs:',
    '  sink: { type: blackhole, inputs: [access, access._unparsed] }',
    ...(variant === 'base' ? [] : [`  alerts: { type: file, inputs: [det], path: ${JSON.stringify(alerts)}, format: json }`]),
    '',
  ].join('\n');
}

function run(cfg: string): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [CLI, 'run', '-c', cfg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`visor run ${cfg} exited ${r.status}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e9;
}

export async function benchDetect(count = Number(process.env.BENCH_DETECT_LINES ?? 1_000_000), rounds = Number(process.env.BENCH_DETECT_ROUNDS ?? 2)): Promise<string[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-bench-detect-'));
  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  try {
    const source = path.join(dir, 'access.log');
    const { type: _type, ...generate } = benignDay(count);
    await runGenerate(generate, { kind: 'stream', file: source });
    const lines = readFileSync(source, 'utf8').split('\n').length - 1;
    const alertsFile = path.join(dir, 'alerts.jsonl');
    const secs: Record<Variant, number[]> = { base: [], alert: [], detect: [] };
    for (let r = 0; r < rounds; r++) {
      for (const variant of ['base', 'alert', 'detect'] as const) {
        const data = path.join(dir, `data-${r}-${variant}`);
        const cfg = path.join(dir, `p-${r}-${variant}.yaml`);
        const file = variant === 'detect' ? alertsFile : path.join(dir, `alerts-${variant}.jsonl`);
        if (existsSync(file)) await rm(file);
        writeFileSync(cfg, config(source, data, variant, file));
        secs[variant].push(run(cfg));
      }
    }
    const base = secs.base;
    const det = secs.detect;
    const best = (xs: number[]) => Math.min(...xs);
    // Firings only: a digest (the quiet-period matches of a firing) is no detection of its own.
    const alerts = existsSync(alertsFile) ? readFileSync(alertsFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { rule: string; state: string }).filter((a) => a.state === 'firing') : [];
    const perRule = new Map<string, number>();
    for (const a of alerts) perRule.set(a.rule, (perRule.get(a.rule) ?? 0) + 1);
    const out = [
      `detect (default pack), ${fmt(lines)} generated benign combined lines (a day: profile, bursts), whole visor run processes, best of ${rounds}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}:`,
      `  tail -> apache_access -> blackhole            ${fmt(lines / best(base)).padStart(9)} lines/s  (baseline, same run)`,
      `  ... + alert aggregate, one rule (the hop)     ${fmt(lines / best(secs.alert)).padStart(9)} lines/s  (${(((best(secs.alert) / best(base)) - 1) * 100).toFixed(1)}% slower)`,
      `  tail -> apache_access -> detect + blackhole   ${fmt(lines / best(det)).padStart(9)} lines/s  (${(((best(det) / best(base)) - 1) * 100).toFixed(1)}% slower; goal <= 25%)`,
      `  false positives: ${alerts.length} alerts, ${(alerts.length / lines * 1e6).toFixed(1)} per million requests (goal 0)${perRule.size ? '' : ''}`,
      ...[...perRule].map(([rule, n]) => `    ${rule.padEnd(22)} ${(n / lines * 1e6).toFixed(1)} per million (${n})`),
    ];
    return out;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
