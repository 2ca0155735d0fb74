// The email output as the person who gets the alert reads it, against a real SMTP server on loopback: the host and
// the dashboard link, local times, subjects that say digest / resolved / stopped, the short message before the
// fields, one Message-ID per message across retries and restarts, no listener leak over 600 mails, and a warning
// when configured credentials go unused because the server offers no AUTH.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfigText } from '../core/config/load.js';
import { formatDiagnostic } from '../core/config/model.js';
import type { Event } from '../core/index.js';
import { formatLocalTime } from '../core/index.js';
import { startPipeline, type Harness } from './support/pipeline-harness.js';
import { freePort, startSmtp, waitFor, type Received, type TestSmtp } from './support/smtp.js';

/** 2026-12-02 06:41:05 UTC: 07:41:05 in Paris (+01:00 in December). */
const T0 = Date.UTC(2026, 11, 2, 6, 41, 5);

const messageId = (m: Received) => /^Message-ID: (.*)$/im.exec(m.raw.slice(0, m.raw.indexOf('\r\n\r\n')))?.[1]?.trim();
const textOf = (m: Received) => m.text.replace(/\r\n/g, '\n');

describe('email output in production', function () {
  this.timeout(30_000);
  let dir: string;
  const servers: TestSmtp[] = [];
  const harnesses: Harness[] = [];
  let tz: string | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'visor-email-prod-'));
    // The server's zone: Node reads TZ again when it changes, so the times below have a known offset.
    tz = process.env.TZ;
    process.env.TZ = 'Europe/Paris';
  });
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.pipeline.stop(2000);
    for (const s of servers.splice(0)) await s.close();
    if (tz === undefined) delete process.env.TZ;
    else process.env.TZ = tz;
    await rm(dir, { recursive: true, force: true });
  });

  async function server(opts: Parameters<typeof startSmtp>[0] = {}): Promise<TestSmtp> {
    const s = await startSmtp(opts);
    servers.push(s);
    return s;
  }

  /** `events` (after the `aggregates` section, if any) into an email output `mail` on 127.0.0.1:`port`. */
  async function pipeline(events: Event[], port: number, o: { email?: string; service?: string; aggregates?: string; from?: string } = {}): Promise<Harness> {
    const h = await startPipeline(`
service: { data_dir: ${JSON.stringify(dir)}, log_level: debug${o.service ?? ''} }
inputs:
  src: { type: test_script }
${o.aggregates ?? ''}
outputs:
  mail:
    type: email
    inputs: [${o.from ?? 'src'}]
    from: visor@example.com
    to: [ops@example.com]
    backoff: 50ms
    max_backoff: 200ms
    drain_timeout: 300ms
    host: 127.0.0.1
    port: ${port}
${(o.email ?? '').trim().split('\n').map((l) => '    ' + l.trim()).join('\n')}
`);
    harnesses.push(h);
    if (events.length) void h.script('src').send(events.map((e) => ({ ...e })));
    return h;
  }

  it('service.name and service.public_url are checked with the config, each error located', async () => {
    const check = async (service: string) => (await loadConfigText(`service: { ${service} }
inputs:
  in: { type: stdin }
outputs:
  out: { type: stdout, inputs: [in] }
`, '/tmp/visor.yaml', { env: {} })).diagnostics.map(formatDiagnostic);
    assert.deepEqual(await check('name: web01, public_url: "https://visor.example.com/"'), []);
    const [url] = await check('public_url: "visor.example.com"');
    assert.match(url!, /^\/tmp\/visor\.yaml:1:24: invalid value "visor\.example\.com" for service\.public_url — must be an http:\/\/ or https:\/\/ address/);
    const [name] = await check('name: ""');
    assert.match(name!, /^\/tmp\/visor\.yaml:1:18: invalid value "" for service\.name — must be one non-empty line/);
  });

  it('formats local times with zone', () => {
    assert.equal(formatLocalTime(T0), '2026-12-02 07:41:05 +01:00');
    assert.equal(formatLocalTime(Date.UTC(2026, 6, 1, 12, 0, 0)), '2026-07-01 14:00:00 +02:00', 'summer time');
  });

  it('alert mails: host in subject and body, dashboard link, local times, a short message first, then the fields', async () => {
    const s = await server();
    const firing: Event = { name: 'server-error', severity: 'warning', kind: 'event', state: 'firing', message: '[warning] server-error: status >= 500 — 203.0.113.7 GET /api 503', time: T0, since: T0, count: 1, samples: ['203.0.113.7 GET /api 503'] };
    const digest: Event = { ...firing, state: 'digest', message: '[warning] server-error: 49 more matches of status >= 500 in 30s after the alert', count: 49, since: T0 + 1000, time: T0 + 30_000, cooldown: '30s', samples: Array.from({ length: 7 }, (_, i) => `203.0.113.${i} GET /x${i} 500`) };
    const resolved: Event = { name: 'high-5xx', severity: 'critical', kind: 'threshold', state: 'resolved', message: '[critical] high-5xx: resolved after 5m', time: T0 + 300_000, since: T0, duration: '5m', duration_ms: 300_000, count: 1, samples: [] };
    const stopped: Event = { ...resolved, state: 'stopped', message: '[critical] high-5xx: the agent stopped while the alert was firing', time: T0 + 60_000 };
    await pipeline([firing, digest, resolved, stopped], s.port, { service: ', name: web01, public_url: "https://visor.example.com/"', email: 'max_per_minute: 0' });
    await waitFor(() => s.messages.length === 4, 10_000, 'messages');
    const [f, d, r, st] = s.messages;
    assert.equal(f!.subject, '[visor web01] warning server-error');
    assert.equal(d!.subject, '[visor web01] warning server-error: 49 more in 30s');
    assert.equal(r!.subject, '[visor web01] critical high-5xx resolved after 5m');
    assert.equal(st!.subject, '[visor web01] critical high-5xx stopped: the agent stopped while it was firing');

    const ft = textOf(f!);
    assert.equal(ft.split('\n\nfields:\n')[0], [
      '[warning] server-error: status >= 500 — 203.0.113.7 GET /api 503',
      'host: web01',
      'firing since 2026-12-02 07:41:05 +01:00',
      'samples:',
      '  203.0.113.7 GET /api 503',
      'dashboard: https://visor.example.com/',
    ].join('\n'), 'what, where, since when, samples, the link: then the fields');
    assert.match(ft, /^time: 2026-12-02 07:41:05 \+01:00$/m, 'the field table shows times the same way');
    for (const m of s.messages) assert.doesNotMatch(m.text, /17\d{11}/, `${m.subject}: no epoch milliseconds`);
    assert.match(f!.html, /<a href="https:\/\/visor\.example\.com\/">https:\/\/visor\.example\.com\/<\/a>/);
    assert.match(f!.html, /<th align="left">since<\/th><td>2026-12-02 07:41:05 \+01:00<\/td>/);
    assert.ok(f!.html.indexOf('host: web01') < f!.html.indexOf('<table'), 'the message comes before the table');

    const dt = textOf(d!);
    assert.match(dt, /^49 more matches in 30s from 2026-12-02 07:41:06 \+01:00 to 2026-12-02 07:41:35 \+01:00$/m);
    assert.match(dt, /^ {2}… 2 more in the fields below$/m, 'five samples in the message, the rest in the table');
    assert.match(textOf(r!), /^resolved at 2026-12-02 07:46:05 \+01:00 after 5m \(firing since 2026-12-02 07:41:05 \+01:00\)$/m);
    assert.match(textOf(st!), /^the agent stopped at 2026-12-02 07:42:05 \+01:00 while the alert was firing since 2026-12-02 07:41:05 \+01:00/m);
  });

  it('a digest from the real alert aggregate says so and how many in its subject; without public_url no link; the host name by default', async () => {
    const s = await server();
    const h = await pipeline([], s.port, {
      email: 'max_per_minute: 0',
      aggregates: `aggregates:
  alerts:
    type: alert
    inputs: [src]
    rules:
      - { name: server-error, when: 'status >= 500', cooldown: 300ms, samples: 2 }`,
      from: 'alerts',
    });
    await h.script('src').send([{ path: '/a', status: 500 }]);
    await waitFor(() => s.messages.length === 1, 10_000, 'the alert');
    await h.script('src').send([{ path: '/b', status: 502 }, { path: '/c', status: 503 }, { path: '/d', status: 504 }]);
    await waitFor(() => s.messages.length === 2, 10_000, 'the digest');
    const host = (await import('node:os')).hostname();
    assert.equal(s.messages[0]!.subject, `[visor ${host}] warning server-error`);
    assert.equal(s.messages[1]!.subject, `[visor ${host}] warning server-error: 3 more in 300ms`);
    assert.match(textOf(s.messages[1]!), new RegExp(`^host: ${host.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
    assert.ok(!s.messages.some((m) => /dashboard:/.test(m.text)), 'no link without service.public_url');
  });

  it('report mails: host and link before the report, local times', async () => {
    const s = await server();
    const h = await pipeline([], s.port, {
      service: ', name: web01, public_url: "https://visor.example.com/"',
      aggregates: `aggregates:
  rep: { type: report, inputs: [src], interval: 1h, title: traffic, emit_empty: false }`,
      from: 'rep',
    });
    await h.script('src').send([{ status: 200, path: '/', client_ip: '10.0.0.1', bytes: 10 }]);
    await h.script('src').end();
    await waitFor(() => s.messages.length === 1, 10_000, 'the report');
    const m = s.messages[0]!;
    assert.equal(m.subject, '[visor web01] report traffic');
    const text = textOf(m);
    assert.match(text, /^host: web01\ndashboard: https:\/\/visor\.example\.com\/\n\nreport traffic: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[12]:00 - \d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0[12]:00\n/);
    assert.match(m.html, /<a href="https:\/\/visor\.example\.com\/">/);
  });

  it('one Message-ID per message: the same on a retry after the server took the whole message and refused it', async () => {
    const s = await server({ refuseData: [451] });
    await pipeline([{ name: 'a', severity: 'warning', message: 'first' }, { name: 'b', severity: 'warning', message: 'second' }], s.port, { email: 'max_per_minute: 0' });
    await waitFor(() => s.messages.length === 2, 10_000, 'messages');
    assert.equal(s.refused.length, 1);
    const ids = s.messages.map(messageId);
    assert.match(ids[0]!, /^<[0-9a-f-]{36}@example\.com>$/, 'a Message-ID in the sender\'s domain');
    assert.equal(messageId(s.refused[0]!), ids[0], 'the retry carries the Message-ID of the refused attempt');
    assert.notEqual(ids[0], ids[1], 'each message its own');
    assert.equal(s.messages[0]!.raw.replace(/\r\n/g, '\n'), s.refused[0]!.raw.replace(/\r\n/g, '\n'), 'the very same message, Date included');
  });

  it('a rate-limit digest has an id of its own that follows from what it merges: the same on its retry', async () => {
    // The first message is accepted, the digest of the three others refused once after DATA, then accepted.
    const s = await server({ refuseData: [0, 451] });
    await pipeline(Array.from({ length: 4 }, (_, i) => ({ name: `d${i}`, severity: 'info' })), s.port, { service: ', name: web01', email: 'max_per_minute: 1' });
    await waitFor(() => s.messages.length === 2, 10_000, 'the message and the digest');
    const digest = s.messages[1]!;
    assert.equal(digest.subject, '[visor web01] digest: 3 more messages (limit 1/min)');
    assert.match(textOf(digest), /^host: web01$/m);
    assert.equal(s.refused.length, 1);
    assert.equal(messageId(s.refused[0]!), messageId(digest));
    assert.notEqual(messageId(digest), messageId(s.messages[0]!));
  });

  it('the Message-ID is spooled: a message sent after a restart carries the id it got when it was spooled', async () => {
    const port = await freePort();
    const h1 = await pipeline([{ name: 'later', severity: 'info' }], port);
    const spool = path.join(dir, 'mail', 'spool.jsonl');
    await waitFor(() => h1.logs.some((l) => l.includes('email delivery failed')), 10_000, 'a failed attempt');
    const spooled = JSON.parse((await readFile(spool, 'utf8')).trim()) as { message_id: string };
    assert.match(spooled.message_id, /^<[0-9a-f-]{36}@example\.com>$/);
    assert.equal(await h1.pipeline.stop(5000), true);
    harnesses.splice(harnesses.indexOf(h1), 1);

    const s = await server({ port });
    await pipeline([], port);
    await waitFor(() => s.messages.length === 1, 10_000, 'the message after the restart');
    assert.equal(messageId(s.messages[0]!), spooled.message_id);
  });

  it('a spool written by an older version (entries without an id) gets ids on load, kept on disk, and is sent', async () => {
    const spoolDir = path.join(dir, 'mail');
    await mkdir(spoolDir, { recursive: true });
    const old = { id: 1, at: T0, subject: '[visor] info old', text: 'name: old\n', html: '<p>old</p>' };
    await writeFile(path.join(spoolDir, 'spool.jsonl'), JSON.stringify(old) + '\n');
    const port = await freePort();
    const h1 = await pipeline([], port);
    await waitFor(() => h1.logs.some((l) => l.includes('email delivery failed')), 10_000, 'a failed attempt');
    const named = JSON.parse((await readFile(path.join(spoolDir, 'spool.jsonl'), 'utf8')).trim()) as { message_id: string; subject: string };
    assert.equal(named.subject, '[visor] info old');
    assert.match(named.message_id, /^<[0-9a-f-]{36}@example\.com>$/, 'the id is written to the spool at once');
    assert.equal(await h1.pipeline.stop(5000), true);
    harnesses.splice(harnesses.indexOf(h1), 1);
    const s = await server({ port });
    await pipeline([], port);
    await waitFor(() => s.messages.length === 1, 10_000, 'the old message');
    assert.equal(messageId(s.messages[0]!), named.message_id);
    assert.match(s.messages[0]!.raw, /^Date: Wed, 02 Dec 2026 06:41:05 \+0000$/m, 'dated when it was spooled');
  });

  it('600 mails to a real SMTP server: no listener piles up (no MaxListenersExceededWarning), every mail arrives once', async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => void warnings.push(w);
    process.on('warning', onWarning);
    try {
      const s = await server();
      const events = Array.from({ length: 600 }, (_, i) => ({ name: `r${i}`, severity: 'info' }));
      await pipeline(events, s.port, { email: `max_per_minute: 0
        queue_size: 1000` });
      await waitFor(() => s.messages.length === 600, 25_000, '600 messages');
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      assert.deepEqual(warnings.map((w) => `${w.name}: ${w.message}`), []);
      assert.equal(new Set(s.messages.map(messageId)).size, 600, 'a Message-ID each');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('credentials configured but the server offers no AUTH: the mail goes out and a warning says it went unauthenticated', async () => {
    const s = await server();
    const h = await pipeline([{ name: 'a', severity: 'info' }, { name: 'b', severity: 'info' }], s.port, { email: `auth: { user: alice, pass: 'pw-never-logged' }
      max_per_minute: 0` });
    await waitFor(() => s.messages.length === 2, 10_000, 'messages');
    await waitFor(() => h.logs.some((l) => l.includes('offers no AUTH')), 5000, 'the warning');
    assert.equal(s.auths.length, 0, 'no AUTH attempted');
    assert.equal(h.logs.filter((l) => l.includes('offers no AUTH')).length, 1, 'once per connection, not per message');
    assert.ok(h.logs.some((l) => /WARN/.test(l) && l.includes('offers no AUTH') && l.includes('user=alice')), h.logs.join('\n'));
    assert.ok(!h.logs.some((l) => l.includes('pw-never-logged')), 'the password is never logged');
  });

  it('with a server that offers AUTH, the login is used and nothing is said', async () => {
    const s = await server({ auth: { user: 'alice', pass: 'pw-long-enough' } });
    const h = await pipeline([{ name: 'a', severity: 'info' }], s.port, { email: `auth: { user: alice, pass: pw-long-enough }` });
    await waitFor(() => s.messages.length === 1, 10_000, 'message');
    assert.equal(s.messages[0]!.user, 'alice');
    assert.ok(!h.logs.some((l) => l.includes('offers no AUTH')));
  });
});
