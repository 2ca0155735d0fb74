// The fixture of the detect tests that run `visor run` on a tailed file with an idle clock (detect-idle, detect-late):
// sqlmap lines at whole seconds of one hour, and a config whose detect ends a quiet period 1.5 s after its last match.
import path from 'node:path';

export const BASE = Date.UTC(2026, 11, 3, 10, 0, 0);
export const SQLMAP = 'sqlmap/1.7.2#stable (https://sqlmap.org)';
const p2 = (n: number) => String(n).padStart(2, '0');

/** A combined-format line `s` seconds after BASE. */
export const line = (ip: string, target: string, s: number, ua = SQLMAP) =>
  `${ip} - - [03/Dec/2026:10:${p2(Math.floor(s / 60))}:${p2(s % 60)} +0000] "GET ${target} HTTP/1.1" 200 512 "-" "${ua}"\n`;

/** tail (from the beginning) -> apache_access -> detect (idle_timeout 200ms, the scanner rule's quiet 1.5 s) -> stdout,
 * data under `dir`/data; `outputs` are more output lines (YAML, indented two spaces). */
export function idleDetectConfig(dir: string, log: string, outputs: string[] = []): string {
  return `
service: { data_dir: ${JSON.stringify(path.join(dir, 'data'))}, log_level: warn }
inputs:
  log: { type: tail, path: ${JSON.stringify(log)}, read_from: beginning }
filters:
  access: { type: apache_access, inputs: [log], format: combined, timezone: UTC }
aggregates:
  det: { type: detect, inputs: [access], idle_timeout: 200ms, override: { scanner-user-agent: { quiet: 1500ms } } }
outputs:
  alerts: { type: stdout, inputs: [det], format: json }
${outputs.map((o) => `  ${o}\n`).join('')}  rejects: { type: stdout, inputs: [access._unparsed], format: json }
`;
}
