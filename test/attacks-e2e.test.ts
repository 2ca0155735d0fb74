// Attack alerts end to end, through the real CLI: real log files tailed → apache_access / apache_error → detect →
// email to a real SMTP server on loopback (configs/attacks-email.yaml as shipped), and → http to a real HTTP
// server (configs/alerts-webhook.yaml, the Slack-style recipe; and format: json, the whole alert). What a person
// reads: the rule, the client and vhost, the counts, first and last time and the raw lines; one mail per detection
// and per quiet-period digest; across a restart, nothing twice: what was spooled is sent once, and the tail
// checkpoints keep old lines from alerting again.
import assert from 'node:assert/strict';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { hostname } from 'node:os';
import type net from 'node:net';
import path from 'node:path';
import { CliProcess, freePort, ROOT, runCli, tempDir } from './support/helpers.js';
import { startSmtp, waitFor, type Received, type TestSmtp } from './support/smtp.js';

const VHOST = 'www.example.com';
/** service.name: the recipe leaves it to its default, the host name. */
const HOST = hostname();
/** A vhost_combined access line (format: auto reads it) at 10:MM:SS on 2026-12-03, UTC. */
const access = (ip: string, time: string, target: string, status = 404) =>
  `${VHOST}:443 ${ip} - - [03/Dec/2026:${time} +0000] "GET ${target} HTTP/1.1" ${status} 196 "-" "curl/8.4.0"`;
const errorLine = (ip: string, time: string, text: string) => `[Thu Dec 03 ${time}.000000 2026] [cgi:error] [pid 7005:tid 1406] [client ${ip}:51234] ${text}`;

const textOf = (m: Received) => m.text.replace(/\r\n/g, '\n');
const messageId = (m: Received) => /^Message-ID: (.*)$/im.exec(m.raw.slice(0, m.raw.indexOf('\r\n\r\n')))?.[1]?.trim();

/** `visor run` with `config`, once its tail inputs watch `files` files (lines written earlier would be history),
 * read from its /metrics; with `files` 0, once the tail says no file matches yet (a file that appears later is
 * read from its beginning), for a config without the http server. */
async function startAgent(config: string, env: Record<string, string>, files: number): Promise<{ agent: CliProcess; metrics: () => Promise<string> }> {
  const agent = new CliProcess(['run', '-c', config], { env: { TZ: 'UTC', VISOR_HTTP_LISTEN: '127.0.0.1:0', ...env } });
  if (files === 0) {
    await agent.waitFor((p) => /no file matches the path globs yet/.test(p.stdout + p.stderr), 'the tail watching for its log');
    return { agent, metrics: async () => '' };
  }
  await agent.waitForStderr(/visor started/);
  const url = /http server listening url=(\S+)/.exec(agent.stderr)![1];
  const metrics = async () => (await fetch(`${url}/metrics`)).text();
  await waitFor(async () => ((await metrics()).match(/visor_tail_files_watched\{[^}]*\} 1/g) ?? []).length === files, 10_000, 'the logs to be watched');
  return { agent, metrics };
}

async function stop(agent: CliProcess): Promise<void> {
  agent.child.kill('SIGTERM');
  const r = await agent.exited;
  assert.equal(r.code, 0, r.stderr);
}

describe('attack alerts end to end', function () {
  this.timeout(90_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  const agents: CliProcess[] = [];
  let smtp: TestSmtp | undefined;

  beforeEach(async () => {
    tmp = await tempDir('visor-attacks-e2e-');
  });
  afterEach(async () => {
    for (const a of agents.splice(0)) a.child.kill('SIGKILL');
    await smtp?.close();
    smtp = undefined;
    await tmp.remove();
  });

  it('configs/attacks-email.yaml: one mail per detection and digest naming rule, client, vhost, counts, times and lines; a restart sends the spool once and re-reads nothing', async () => {
    const logs = path.join(tmp.dir, 'apache');
    await mkdir(logs);
    const accessLog = path.join(logs, 'access.log');
    const errorLog = path.join(logs, 'error.log');
    await writeFile(accessLog, '');
    await writeFile(errorLog, '');
    const port = await freePort();
    const env = {
      APACHE_LOG_DIR: logs, VISOR_DATA_DIR: path.join(tmp.dir, 'data'), SMTP_HOST: '127.0.0.1', SMTP_PORT: String(port), SMTP_REQUIRE_TLS: 'false',
      SMTP_USER: 'visor', SMTP_PASS: 'attack-mail-pass-42', ALERT_TO: 'security@example.test',
    };
    const config = path.join(ROOT, 'configs/attacks-email.yaml');

    // Run 1, the mail server down: everything is spooled.
    const { agent: first, metrics } = await startAgent(config, env, 2);
    agents.push(first);
    const attack = [
      access('198.51.100.7', '10:00:01', '/.env'),
      access('198.51.100.7', '10:00:02', '/.git/config', 403),
      access('198.51.100.7', '10:00:03', '/wp-config.php~'), // the third: sensitive-files fires
      access('198.51.100.7', '10:01:00', '/.htpasswd'), // during its 10m quiet period
      access('198.51.100.7', '10:02:00', '/backup-2026.zip'),
      access('127.0.0.1', '10:03:00', '/.env'), // allow_networks: the recipe's own host is no attacker
    ];
    await appendFile(accessLog, attack.join('\n') + '\n');
    const shellshock = errorLine('198.51.100.9', '10:05:00', "AH01215: /bin/bash: error importing function definition for `HTTP_USER_AGENT': /usr/lib/cgi-bin/test.sh");
    await appendFile(errorLog, shellshock + '\n');
    // A benign request at 10:11 moves event time past the quiet period's end (10:10:03): the digest is due.
    await appendFile(accessLog, access('203.0.113.20', '10:11:00', '/index.html', 200) + '\n');
    // The two firings and the digest, on disk (a restart finds them there).
    await waitFor(async () => /visor_email_queued\{[^}]*\} 3$/m.test(await metrics()), 20_000, 'three mails spooled').catch((err) => {
      throw new Error(`${(err as Error).message}\n${first.stderr.slice(-3000)}`);
    });
    // The server is down: the failed attempt is logged (its log line may follow the spooling by a moment).
    await waitFor(async () => /email delivery failed/.test(first.stderr), 20_000, 'the failed delivery logged');
    await stop(first);

    // Run 2, the server up; a line written while the agent was down is read from the checkpoint.
    smtp = await startSmtp({ port, auth: { user: 'visor', pass: 'attack-mail-pass-42' } });
    const traversal = access('192.0.2.50', '10:12:00', '/cgi-bin/.%2e/.%2e/.%2e/etc/passwd', 400);
    await appendFile(accessLog, traversal + '\n');
    const { agent: second } = await startAgent(config, env, 2);
    agents.push(second);
    await waitFor(() => smtp!.messages.length >= 4, 20_000, 'four mails').catch((err) => {
      throw new Error(`${(err as Error).message}: ${smtp!.messages.map((m) => m.subject).join(' | ')}\n${second.stderr.slice(-3000)}`);
    });
    await stop(second);
    // Both runs are over: whatever they were going to send has been sent.
    const mails = smtp.messages;
    assert.deepEqual(mails.map((m) => m.subject).sort(), [
      `[visor ${HOST}] critical exploit-strings 198.51.100.9`,
      `[visor ${HOST}] critical path-traversal 192.0.2.50 on ${VHOST}`,
      `[visor ${HOST}] warning sensitive-files 198.51.100.7 on ${VHOST}`,
      `[visor ${HOST}] warning sensitive-files 198.51.100.7 on ${VHOST}: 2 more in 10m`,
    ], 'one mail per detection and digest, none twice, the allowed client in none');
    assert.equal(new Set(mails.map(messageId)).size, 4, 'a Message-ID each');
    for (const m of mails) assert.deepEqual(m.to, ['security@example.test']);

    const firing = textOf(mails.find((m) => m.subject.endsWith(VHOST))!);
    assert.equal(firing.split('\n\nfields:\n')[0], [
      `[warning] sensitive-files: 198.51.100.7 on ${VHOST} — 3 matching requests from 2026-12-03 10:00:01 +00:00 to 2026-12-03 10:00:03 +00:00 — e.g. ${attack[0]}`,
      `host: ${HOST}`,
      'firing since 2026-12-03 10:00:01 +00:00',
      'samples:',
      ...attack.slice(0, 3).map((l) => `  ${l}`),
    ].join('\n'));
    for (const field of ['rule: sensitive-files', 'client_ip: 198.51.100.7', `vhost: ${VHOST}`, 'count: 3', 'first: 2026-12-03 10:00:01 +00:00', 'last: 2026-12-03 10:00:03 +00:00']) {
      assert.ok(firing.split('\n').includes(field), `${field} in\n${firing}`);
    }
    assert.doesNotMatch(firing, /17\d{11}/, 'no epoch milliseconds');

    const digest = textOf(mails.find((m) => m.subject.endsWith('2 more in 10m'))!);
    assert.equal(digest.split('\n\nfields:\n')[0], [
      `[warning] sensitive-files: 198.51.100.7 on ${VHOST} — 2 more matching requests during the 10m quiet period after the alert from 2026-12-03 10:01:00 +00:00 to 2026-12-03 10:02:00 +00:00 — e.g. ${attack[3]}`,
      `host: ${HOST}`,
      '2 more matches in 10m from 2026-12-03 10:01:00 +00:00 to 2026-12-03 10:02:00 +00:00',
      'samples:',
      ...attack.slice(3, 5).map((l) => `  ${l}`),
    ].join('\n'));
    assert.ok(digest.split('\n').includes('state: digest'));
    assert.match(textOf(mails.find((m) => m.subject.includes('exploit-strings'))!), new RegExp(`^ {2}${shellshock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'), 'the error-log line as evidence');
    assert.match(textOf(mails.find((m) => m.subject.includes('path-traversal'))!), /— 1 matching request from 2026-12-03 10:12:00 \+00:00 to 2026-12-03 10:12:00 \+00:00 —/);
    assert.doesNotMatch(first.stderr + first.stdout + second.stderr + second.stdout, /attack-mail-pass-42/, 'the password is never logged');
  });

  it('configs/alerts-webhook.yaml: a detection and its digest each become one {"text"} POST naming rule, client, vhost, counts, times and a line', async () => {
    const { received, until, server } = await receiver();
    try {
      const { agent } = await startAgent(path.join(ROOT, 'configs/alerts-webhook.yaml'), {
        APACHE_LOG_DIR: tmp.dir, VISOR_DATA_DIR: path.join(tmp.dir, 'data'), WEBHOOK_URL: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/services/T0/B0/x`,
      }, 0);
      agents.push(agent);
      const lines = [
        access('198.51.100.8', '10:00:00', '/.env'), access('198.51.100.8', '10:00:01', '/.git/HEAD'), access('198.51.100.8', '10:00:02', '/.aws/credentials'),
        access('198.51.100.8', '10:04:00', '/.ssh/id_rsa'), // quiet period: into the digest
        access('203.0.113.21', '10:20:00', '/', 200), // event time passes the quiet period's end
      ];
      await appendFile(path.join(tmp.dir, 'access.log'), lines.join('\n') + '\n');
      await until(2);
      await stop(agent);
      const texts = received.map((b) => (JSON.parse(b) as { text: string }).text);
      assert.deepEqual(texts, [
        `firing [warning] sensitive-files: 198.51.100.8 on ${VHOST} — 3 matching requests from 2026-12-03 10:00:00 +00:00 to 2026-12-03 10:00:02 +00:00 — e.g. ${lines[0]} (3 events)`,
        `digest [warning] sensitive-files: 198.51.100.8 on ${VHOST} — 1 more matching request during the 10m quiet period after the alert from 2026-12-03 10:04:00 +00:00 to 2026-12-03 10:04:00 +00:00 — e.g. ${lines[3]} (1 events)`,
      ], 'in that order, nothing more (the 200 is no server error)');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('detect -> http as JSON: each request body is the whole alert, every evidence line and the times with it', async () => {
    const { received, server } = await receiver();
    try {
      const lines = [
        access('198.51.100.10', '10:00:00', '/.env'), access('198.51.100.10', '10:00:05', '/.git/config'), access('198.51.100.10', '10:00:09', '/db.sql'),
        access('198.51.100.10', '10:03:00', '/.htaccess'), access('198.51.100.10', '10:04:00', '/site.tar.gz'),
      ];
      const log = await tmp.file('access.log', lines.join('\n') + '\n');
      const config = await tmp.file('json.yaml', `service: { data_dir: ${JSON.stringify(path.join(tmp.dir, 'data'))} }
inputs:
  access_log: { type: tail, path: ${JSON.stringify(log)}, read_from: beginning, exit_on_eof: true }
filters:
  access: { type: apache_access, inputs: [access_log], format: auto }
aggregates:
  attacks: { type: detect, inputs: [access], samples: 5 }
outputs:
  hook: { type: http, inputs: [attacks], url: "http://127.0.0.1:${(server.address() as net.AddressInfo).port}/alerts", format: json, batch: { max_events: 1 } }
`);
      const r = await runCli(['run', '-c', config], { env: { TZ: 'UTC' } });
      assert.equal(r.code, 0, r.stderr);
      const [firing, digest, ...rest] = received.map((b) => JSON.parse(b) as Record<string, unknown>);
      assert.deepEqual(rest, [], 'one request per alert');
      assert.deepEqual({ ...firing, time: 0 }, {
        name: 'sensitive-files', rule: 'sensitive-files', severity: 'warning', kind: 'detect', state: 'firing',
        message: `[warning] sensitive-files: 198.51.100.10 on ${VHOST} — 3 matching requests from 2026-12-03 10:00:00 +00:00 to 2026-12-03 10:00:09 +00:00 — e.g. ${lines[0]}`,
        time: 0, count: 3, samples: lines.slice(0, 3), evidence: lines.slice(0, 3), since: Date.UTC(2026, 11, 3, 10, 0, 0), first: Date.UTC(2026, 11, 3, 10, 0, 0),
        last: Date.UTC(2026, 11, 3, 10, 0, 9), client_ip: '198.51.100.10', vhost: VHOST, distinct: 0, quiet_matches: 0,
      });
      assert.equal(digest!.state, 'digest');
      assert.deepEqual(digest!.evidence, lines.slice(3));
      assert.deepEqual([digest!.count, digest!.first, digest!.last, digest!.quiet_ended], [2, Date.UTC(2026, 11, 3, 10, 3, 0), Date.UTC(2026, 11, 3, 10, 4, 0), false],
        'the file ended inside the quiet period: reported at shutdown, before the output closed');
    } finally {
      await new Promise((r) => server.close(r));
    }
  });
});

/** A loopback HTTP server that answers 200 and keeps each request body; `until(n)` resolves at n bodies. */
async function receiver(): Promise<{ received: string[]; until(n: number): Promise<void>; server: http.Server }> {
  const received: string[] = [];
  let notify = () => {};
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200).end('ok');
      notify();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const until = (n: number) => new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${n} requests: ${received.join('\n')}`)), 20_000);
    notify = () => { if (received.length >= n) { clearTimeout(timer); resolve(); } };
    notify();
  });
  return { received, until, server };
}
