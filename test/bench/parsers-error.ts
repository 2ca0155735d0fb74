// apache_error parse throughput on generated 2.4 and 2.2 lines, beside a split-only baseline on the same text.
import type { Event, FilterInstance } from '../../core/index.js';
import errorPlugin from '../../plugins/filters/apache_error.js';
import { pluginContext } from '../support/corpora.js';
import { rng } from './apache-lines.js';


const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const PATHS = ['/var/www/html/favicon.ico', '/var/www/html/wp-login.php', '/var/www/html/.env', '/var/www/html/apple-touch-icon.png', '/var/www/html/robots.txt'];
const REFERERS = ['https://www.example.com/', 'https://www.google.com/', 'http://192.168.1.10/admin/'];

/** Messages as 2.4 writes them after the prefix parts (errno, client) the generator adds. */
const MESSAGES_24: Array<(r: () => number) => { module: string; level: string; errno?: string; client: boolean; text: string }> = [
  (r) => ({ module: 'core', level: 'error', client: true, text: `AH00128: File does not exist: ${PATHS[Math.floor(r() * PATHS.length)]}` }),
  (r) => ({ module: 'authz_core', level: 'error', client: true, text: `AH01630: client denied by server configuration: ${PATHS[Math.floor(r() * PATHS.length)]}` }),
  () => ({ module: 'php7', level: 'error', client: true, text: 'PHP Warning:  Undefined variable $user in /var/www/html/index.php on line 42' }),
  () => ({ module: 'proxy_http', level: 'error', errno: '(70007)The timeout specified has expired', client: true, text: 'AH01102: error reading status line from remote server 127.0.0.1:8080' }),
  () => ({ module: 'proxy', level: 'error', errno: '(111)Connection refused', client: false, text: 'AH00957: HTTP: attempt to connect to 127.0.0.1:8080 (localhost) failed' }),
  () => ({ module: 'ssl', level: 'info', errno: '(70014)End of file found', client: true, text: 'AH02008: SSL library error 1 in handshake (server www.example.com:443)' }),
  () => ({ module: 'mpm_event', level: 'notice', client: false, text: 'AH00489: Apache/2.4.57 (Debian) OpenSSL/3.0.11 configured -- resuming normal operations' }),
  () => ({ module: 'cgi', level: 'error', client: true, text: 'AH01215: sudo: no tty present and no askpass program specified: /usr/lib/cgi-bin/status.cgi' }),
];
const MESSAGES_22 = [
  (r: () => number) => `[error] [client 192.168.5.${Math.floor(r() * 250)}] File does not exist: ${PATHS[Math.floor(r() * PATHS.length)]}`,
  () => '[notice] Apache/2.2.22 (Debian) PHP/5.4.4-14+deb7u8 configured -- resuming normal operations',
  (r: () => number) => `[error] [client 10.0.0.${Math.floor(r() * 250)}] PHP Notice:  Undefined index: id in /var/www/item.php on line 7`,
];

function ctime(ms: number, usec: number | undefined): string {
  const d = new Date(ms);
  const p2 = (n: number) => String(n).padStart(2, '0');
  const frac = usec === undefined ? '' : `.${String(usec).padStart(6, '0')}`;
  return `${DAYS[d.getUTCDay()]} ${MONTHS[d.getUTCMonth()]} ${p2(d.getUTCDate())} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}${frac} ${d.getUTCFullYear()}`;
}

/** `count` lines: a busy 2.4 server (a line every few ms), with a share of 2.2 lines when `share22` > 0. */
export function errorLines(count: number, share22: number, seed = 7): string[] {
  const r = rng(seed);
  const lines: string[] = new Array(count);
  let ms = Date.UTC(2024, 2, 30, 23, 50, 0);
  for (let i = 0; i < count; i++) {
    ms += Math.floor(r() * 8);
    if (r() < share22) {
      lines[i] = `[${ctime(ms, undefined)}] ${MESSAGES_22[Math.floor(r() * MESSAGES_22.length)](r)}`;
      continue;
    }
    const m = MESSAGES_24[Math.floor(r() * MESSAGES_24.length)](r);
    const pid = 2000 + Math.floor(r() * 40);
    const client = m.client ? `[client 203.0.113.${Math.floor(r() * 250)}:${1024 + Math.floor(r() * 60000)}] ` : '';
    const referer = m.client && r() < 0.3 ? `, referer: ${REFERERS[Math.floor(r() * REFERERS.length)]}` : '';
    lines[i] = `[${ctime(ms, Math.floor(r() * 1e6))}] [${m.module}:${m.level}] [pid ${pid}:tid 1401${Math.floor(r() * 1e10)}] ${m.errno ? m.errno + ': ' : ''}${client}${m.text}${referer}`;
  }
  return lines;
}

const fmt = (x: number) => Math.round(x).toLocaleString('en-US');

/** Lines decoded from the text one by one, as the stdin and file inputs hand them over (flat strings). */
function decodeLines(text: Buffer): string[] {
  const lines: string[] = [];
  for (let start = 0, end = text.indexOf(10); end >= 0; start = end + 1, end = text.indexOf(10, start)) lines.push(text.toString('utf8', start, end));
  return lines;
}

async function measure(label: string, generated: string[]): Promise<string[]> {
  const count = generated.length;
  const text = Buffer.from(generated.join('\n') + '\n');
  const lines = decodeLines(text);
  const mb = text.length / 1e6;
  const filter = (await errorPlugin.create({ field: 'message', timezone: 'Europe/Paris', unescape: true }, pluginContext('errors', 'apache_error'))) as FilterInstance;
  const ctx = { emit: () => undefined, hold: () => { throw new Error('no holds in a filter'); } };
  const split = () => {
    let n = 0;
    for (let i = text.indexOf(10); i >= 0; i = text.indexOf(10, i + 1)) n++;
    return n;
  };
  const parse = () => {
    let parsed = 0;
    for (let i = 0; i < count; i += 1000) {
      const end = Math.min(i + 1000, count);
      const batch: Event[] = new Array(end - i);
      for (let k = i; k < end; k++) batch[k - i] = { message: lines[k] };
      parsed += (filter.process(batch, ctx) as Event[]).length;
    }
    return parsed;
  };
  split();
  parse(); // warm-up: let the JIT settle
  let t = process.hrtime.bigint();
  const n = split();
  const splitSecs = Number(process.hrtime.bigint() - t) / 1e9;
  t = process.hrtime.bigint();
  const parsed = parse();
  const parseSecs = Number(process.hrtime.bigint() - t) / 1e9;
  if (parsed !== count || n !== count) throw new Error(`parsed ${parsed} / split ${n} of ${count}`);
  const row = (what: string, secs: number, note: string) =>
    `  ${what.padEnd(34)} ${fmt(count / secs).padStart(12)} lines/s ${(mb / secs).toFixed(0).padStart(6)} MB/s ${((secs * 1e9) / count).toFixed(0).padStart(5)} ns/line ${note}`;
  return [
    `apache_error (${label}) on ${fmt(count)} generated lines, ${mb.toFixed(1)} MB, in memory:`,
    row('split lines only (Buffer indexOf)', splitSecs, '(baseline)'),
    row('parse into 12 fields', parseSecs, `(${((splitSecs / parseSecs) * 100).toFixed(1)}% of baseline speed)`),
  ];
}

export async function benchErrorParser(count = Number(process.env.BENCH_ERROR_LINES ?? 300_000)): Promise<string[]> {
  return [
    ...(await measure('typical 2.4 lines', errorLines(count, 0))),
    ...(await measure('2.4 with 20% 2.2 lines', errorLines(count, 0.2))),
  ];
}

if (process.argv[1]?.endsWith('parsers-error.js') || process.argv[1]?.endsWith('parsers-error.ts')) {
  benchErrorParser().then((l) => console.log(l.join('\n')));
}
