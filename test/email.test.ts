import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';
import type { Event } from '../core/index.js';
import { fitDigest, fitEvent } from '../plugins/outputs/email/fit.js';
import { renderDigest, renderEvent, renderTemplate, type RenderedMail } from '../plugins/outputs/email/render.js';
import { ReportAccumulator } from '../lib/stats/index.js';
import { startPipeline, type Harness } from './support/pipeline-harness.js';
import { freePort, startSmtp, waitFor, type TestSmtp } from './support/smtp.js';

const alert: Event = { name: 'high_5xx_rate', severity: 'critical', value: 0.12, threshold: 0.05, host: 'web1', message: 'error rate <script>alert(1)</script> above threshold' };
const report: Event = {
  report: 'hourly_traffic',
  window_start: '2026-01-01T10:00:00Z',
  requests: 12345,
  top_paths: [{ path: '/index.html', hits: 900 }, { path: '/<script>x</script>', hits: 12 }],
};

describe('email output', function () {
  this.timeout(20_000);
  let dir: string;
  const servers: TestSmtp[] = [];
  const harnesses: Harness[] = [];

  beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), 'visor-email-')); });
  afterEach(async () => {
    for (const h of harnesses.splice(0)) await h.pipeline.stop(2000);
    for (const s of servers.splice(0)) await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function server(opts: Parameters<typeof startSmtp>[0] = {}): Promise<TestSmtp> {
    const s = await startSmtp(opts);
    servers.push(s);
    return s;
  }

  /** `events` into an email output sending to the SMTP server on 127.0.0.1:`port`, with `emailYaml`'s options. */
  async function pipeline(events: Event[], port: number, emailYaml = '', serviceYaml = ''): Promise<Harness> {
    const h = await startPipeline(`
service: { data_dir: ${JSON.stringify(dir)}, log_level: debug, name: web01${serviceYaml} }
inputs:
  src: { type: test_script }
outputs:
  mail:
    type: email
    inputs: [src]
    from: visor@example.com
    to: [ops@example.com]
    backoff: 50ms
    max_backoff: 400ms
    drain_timeout: 300ms
    host: 127.0.0.1
    port: ${port}
${emailYaml.trim().split('\n').map((l) => '    ' + l.trim()).join('\n')}
`);
    harnesses.push(h);
    // One batch, and the input stays up: the output is never drained by an end of input.
    if (events.length) void h.script('src').send(events.map((e) => ({ ...e })));
    return h;
  }

  const spoolFile = () => path.join(dir, 'mail', 'spool.jsonl');
  const spoolLines = async () => (await readFile(spoolFile(), 'utf8').catch(() => '')).split('\n').filter(Boolean).length;

  async function tlsFiles() {
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      algorithm: 'sha256', keySize: 2048,
      extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'localhost' }, { type: 7, ip: '127.0.0.1' }] }],
    });
    const ca = path.join(dir, 'ca.pem');
    await writeFile(ca, pems.cert);
    return { key: pems.private, cert: pems.cert, ca };
  }

  it('sends over plain SMTP with AUTH, using the configured credentials and recipients', async () => {
    const s = await server({ auth: { user: 'alice', pass: 's3cret!-pass' } });
    const h = await pipeline([alert], s.port, `
      cc: [boss@example.com]
      auth: { user: alice, pass: 's3cret!-pass' }`);
    await waitFor(() => s.messages.length === 1, 10_000, 'message');
    assert.deepEqual(s.auths, [{ user: 'alice', pass: 's3cret!-pass' }]);
    const m = s.messages[0]!;
    assert.equal(m.user, 'alice');
    assert.equal(m.from, 'visor@example.com');
    assert.deepEqual(m.to.sort(), ['boss@example.com', 'ops@example.com']);
    assert.equal(m.secure, false);
    assert.ok(!h.logs.some((l) => l.includes('s3cret!-pass')), 'password never logged');
  });

  it('fails (and keeps the message) when AUTH is refused, without logging the password', async () => {
    const s = await server({ auth: { user: 'alice', pass: 'right' } });
    const h = await pipeline([alert], s.port, `
      auth: { user: alice, pass: 'wrong-pass' }`);
    await waitFor(() => s.auths.length >= 2, 10_000, 'auth retries');
    assert.equal(s.messages.length, 0);
    assert.equal(await spoolLines(), 1);
    assert.ok(h.logs.some((l) => l.includes('email delivery failed')));
    assert.ok(!h.logs.some((l) => l.includes('wrong-pass')), 'password never logged');
  });

  it('requires STARTTLS and verifies the server with the configured CA', async () => {
    const { key, cert, ca } = await tlsFiles();
    const s = await server({ key, cert });
    await pipeline([alert], s.port, `
      require_tls: true
      tls: { ca: ${JSON.stringify(ca)} }`);
    await waitFor(() => s.messages.length === 1, 10_000, 'message');
    assert.equal(s.messages[0]!.secure, true, 'upgraded with STARTTLS');
  });

  it('refuses to send in clear when STARTTLS is required but not offered', async () => {
    const s = await server();
    await pipeline([alert], s.port, `
      require_tls: true`);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(s.messages.length, 0);
    assert.equal(await spoolLines(), 1);
  });

  it('does not trust an unknown certificate unless told to', async () => {
    const { key, cert } = await tlsFiles();
    const s = await server({ key, cert, secure: true });
    await pipeline([alert], s.port, `
      secure: true`);
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(s.messages.length, 0);
  });

  it('sends over implicit TLS', async () => {
    const { key, cert, ca } = await tlsFiles();
    const s = await server({ key, cert, secure: true });
    await pipeline([alert], s.port, `
      secure: true
      tls: { ca: ${JSON.stringify(ca)}, servername: localhost }`);
    await waitFor(() => s.messages.length === 1, 10_000, 'message');
    assert.equal(s.messages[0]!.secure, true);
  });

  it('renders subject, text and an escaped HTML table for alert and report events', async () => {
    const s = await server();
    await pipeline([alert, report, { n: 1 }], s.port, `
      subject: '[visor] {{severity}} {{name}} {{missing}}on {{host}}'`);
    await waitFor(() => s.messages.length === 3, 10_000, 'messages');
    const [a, r, plain] = s.messages;
    assert.equal(a!.subject, '[visor] critical high_5xx_rate on web1');
    assert.equal(r!.subject, '[visor] on', 'missing fields render empty');
    assert.equal(plain!.subject, '[visor] on');
    assert.match(a!.text, /^severity: critical$/m);
    assert.match(a!.text, /^threshold: 0.05$/m);
    assert.match(a!.html, /<th align="left">name<\/th><td>high_5xx_rate<\/td>/);
    assert.ok(a!.html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'));
    assert.ok(!a!.html.includes('<script>'));
    // the report's top list is a sub-table with a header row
    assert.match(r!.html, /<th align="left">top_paths<\/th><td><table[^>]*><tr><th>path<\/th><th>hits<\/th><\/tr><tr><td>\/index.html<\/td><td>900<\/td><\/tr>/);
    assert.ok(r!.html.includes('/&lt;script&gt;x&lt;/script&gt;'));
    assert.ok(!r!.html.includes('<script>'));
    assert.match(r!.text, /1\. path=\/index.html, hits=900/);
  });

  it('default subjects work for alerts, reports and any event; templates never evaluate code', () => {
    assert.equal(renderEvent(alert, undefined).subject, '[visor] critical high_5xx_rate');
    assert.equal(renderEvent(report, undefined).subject, '[visor] report hourly_traffic');
    assert.equal(renderEvent({ message: 'GET /x 500\nnext' }, undefined).subject, '[visor] GET /x 500 next');
    assert.equal(renderTemplate('{{constructor}}|{{a.b}}|{{__proto__}}|{{ process.env.HOME }}', { a: { b: 2 } }), '|2||');
    assert.equal(renderTemplate('x{{a}}\r\nBcc: evil@example.com', { a: 'y\r\nz' }), 'xy z Bcc: evil@example.com');
  });

  /** Five events (`name`0 to `name`4) for an SMTP server on a free port that is not up yet: resolves once two
   * delivery attempts have failed. */
  async function whileServerDown(name: string, severity: string, emailYaml: string): Promise<{ port: number; events: Event[] }> {
    const port = await freePort();
    const events = Array.from({ length: 5 }, (_, i) => ({ name: `${name}${i}`, severity }));
    const h = await pipeline(events, port, emailYaml);
    await waitFor(() => h.logs.filter((l) => l.includes('email delivery failed')).length >= 2, 10_000, 'failed attempts');
    return { port, events };
  }

  it('retries while the server is down and delivers everything once it is up; the spool ends empty', async () => {
    const { port, events } = await whileServerDown('a', 'warning', 'max_per_minute: 0');
    assert.equal(await spoolLines(), 5, 'all spooled while the server is down');
    const s = await server({ port });
    await waitFor(() => s.messages.length === 5, 10_000, 'messages');
    assert.deepEqual(s.messages.map((m) => m.subject), events.map((e) => `[visor web01] warning ${e.name}`));
    await waitFor(async () => (await spoolLines()) === 0, 5000, 'empty spool');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.messages.length, 5, 'no duplicates');
  });

  it('applies backpressure when the spool is full instead of dropping', async () => {
    const { port, events } = await whileServerDown('b', 'info', `
      queue_size: 2
      max_per_minute: 0`);
    assert.equal(await spoolLines(), 2, 'the spool never exceeds queue_size');
    const s = await server({ port });
    await waitFor(() => s.messages.length === 5, 10_000, 'messages');
    assert.deepEqual(s.messages.map((m) => m.subject), events.map((e) => `[visor web01] info ${e.name}`));
  });

  it('retries when the server refuses (451, then 550) and delivers once it accepts', async () => {
    const s = await server({ refuse: [451, 550, 451] });
    await pipeline([alert], s.port);
    await waitFor(() => s.messages.length === 1, 10_000, 'message');
    assert.equal(s.rcptAttempts, 4);
    await waitFor(async () => (await spoolLines()) === 0, 5000, 'empty spool');
  });

  it('keeps undelivered messages across a restart and sends them when the server is up', async () => {
    const port = await freePort();
    const events = [{ name: 'one', severity: 'info' }, { name: 'two', severity: 'info' }];
    const h1 = await pipeline(events, port);
    await waitFor(async () => (await spoolLines()) === 2, 5000, 'spooled');
    await waitFor(() => h1.logs.some((l) => l.includes('email delivery failed')), 5000, 'a failed attempt');
    assert.equal(await h1.pipeline.stop(5000), true);
    harnesses.splice(harnesses.indexOf(h1), 1);
    assert.equal(await spoolLines(), 2, 'kept in the data dir');

    const s = await server({ port });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(s.messages.length, 0, 'nothing sent while no pipeline runs');
    const h2 = await pipeline([], port);
    await waitFor(() => s.messages.length === 2, 10_000, 'messages after restart');
    assert.deepEqual(s.messages.map((m) => m.subject), ['[visor web01] info one', '[visor web01] info two']);
    await waitFor(async () => (await spoolLines()) === 0, 5000, 'empty spool');
    assert.ok(h2.logs.some((l) => l.includes('resuming delivery')));
  });

  it('max_per_minute: 3 with 10 events sends 3 messages and one digest of the 7 others', async () => {
    const s = await server();
    const events = Array.from({ length: 10 }, (_, i) => ({ name: `alert_${i}`, severity: 'warning', message: `first line ${i}` }));
    await pipeline(events, s.port, `
      max_per_minute: 3`);
    await waitFor(() => s.messages.length === 4, 10_000, 'messages');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(s.messages.length, 4);
    assert.deepEqual(s.messages.slice(0, 3).map((m) => m.subject), ['[visor web01] warning alert_0', '[visor web01] warning alert_1', '[visor web01] warning alert_2']);
    const digest = s.messages[3]!;
    assert.match(digest.subject, /digest: 7 more messages/);
    for (let i = 3; i < 10; i++) {
      assert.ok(digest.text.includes(`[visor web01] warning alert_${i}`), `digest lists alert_${i}`);
      assert.ok(digest.html.includes(`alert_${i}`));
    }
    assert.ok(!digest.text.includes('alert_2\n'));
    await waitFor(async () => (await spoolLines()) === 0, 5000, 'empty spool');
  });

  it('an amended alert (detect\'s digest made again for late lines) is not mailed a second time, and is counted', async () => {
    const s = await server();
    const digest = { name: 'sql-injection', rule: 'sql-injection', kind: 'detect', severity: 'critical', state: 'digest', client_ip: '198.51.100.7', count: 2, since: 1, cooldown: '10m', amended: false, message: 'two more' };
    // The amended one first in its batch with the next alert: were it mailed, it would come before that one.
    const h = await pipeline([digest, { ...digest, count: 3, amended: true, message: 'three more (amended)' }, { ...digest, client_ip: '198.51.100.8', message: 'another client' }], s.port);
    await waitFor(() => s.messages.length === 2, 10_000, 'messages');
    assert.deepEqual(s.messages.map((m) => m.text.includes('three more')), [false, false], 'the amended digest was not mailed');
    assert.ok(s.messages[1]!.text.includes('another client'));
    assert.equal(h.run.stats('mail').custom.visor_email_amended_skipped_total, 1);
    await waitFor(async () => (await spoolLines()) === 0, 5000, 'empty spool');
  });

  it('max_message_bytes: a huge digest arrives as one message under the cap, with a note; its counts cover every alert', async () => {
    const s = await server();
    const cap = 64 * 1024;
    // 1 sent on its own, then one digest of the other 1000 (the most merged at once): 5 rules, long first lines.
    const events = Array.from({ length: 1001 }, (_, i) => ({ name: `rule_${i % 5}`, severity: 'critical', message: `match ${i} ${'x'.repeat(400)}`, samples: [`sample ${i}`] }));
    await pipeline(events, s.port, `
      max_per_minute: 1
      queue_size: 2000
      max_message_bytes: 64KiB`);
    await waitFor(() => s.messages.length === 2, 15_000, 'the alert and the digest');
    const digest = s.messages[1]!;
    const text = digest.text.replace(/\r\n/g, '\n');
    assert.ok(Buffer.byteLength(digest.raw) <= cap, `digest is ${Buffer.byteLength(digest.raw)} bytes, over ${cap}`);
    assert.ok(Buffer.byteLength(digest.raw) > cap / 2, 'the room is used');
    assert.match(digest.subject, /digest: 1000 more messages/);
    assert.match(text, /^1000 messages exceeded the limit of 1 per minute and were merged/);
    const note = /… ([\d,]+) more messages not shown/.exec(text);
    assert.ok(note, 'the text says how many were left out');
    const listed = text.split('\n').filter((l) => /^\d+\. \[visor web01\] critical rule_\d$/.test(l)).length;
    assert.ok(listed > 0 && listed < 1000);
    assert.equal(listed + Number(note[1]!.replace(/,/g, '')), 1000, 'listed + not shown = merged');
    const tally = [...text.matchAll(/^ {2}([\d,]+) × \[visor web01\] critical rule_(\d)$/gm)];
    assert.equal(tally.length, 5);
    assert.equal(tally.reduce((n, m) => n + Number(m[1]!.replace(/,/g, '')), 0), 1000, 'the tally per subject accounts for every alert');
    assert.ok(digest.html.includes(`${note[1]} more messages not shown`), 'the HTML part says it too');
    await waitFor(async () => (await spoolLines()) === 0, 5000, 'empty spool');
  });

  it('max_message_bytes: an alert with a huge samples list and a huge report are cut under the cap, saying what was left out', async () => {
    const s = await server();
    const cap = 16 * 1024;
    const samples = Array.from({ length: 5000 }, (_, i) => `203.0.113.${i % 250} GET /path/${i} 500`);
    const big: Event = { name: 'server-error', severity: 'critical', state: 'digest', count: 123456, message: 'many 5xx', samples };
    const acc = new ReportAccumulator(0, 100_000);
    for (let i = 0; i < 20_000; i++) acc.add({ status: i % 7 ? 200 : 503, client_ip: `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, path: `/p${i % 3000}`, bytes: 10 });
    const rep = acc.toEvent(60_000, 'web01', 20_000, true);
    await pipeline([big, rep, alert], s.port, `
      max_per_minute: 0
      max_message_bytes: 16KiB`);
    await waitFor(() => s.messages.length === 3, 15_000, 'messages');
    const [a, r, small] = s.messages.map((m) => ({ ...m, text: m.text.replace(/\r\n/g, '\n') }));
    for (const m of s.messages) assert.ok(Buffer.byteLength(m.raw) <= cap, `${m.subject}: ${Buffer.byteLength(m.raw)} bytes`);
    assert.equal(a!.subject, '[visor web01] critical server-error: 123,456 more', 'a digest says so, and how many');
    assert.match(a!.text, /^count: 123456$/m, 'small fields are kept whole');
    const left = /… ([\d,]+) more samples not shown/.exec(a!.text);
    assert.ok(left, 'says how many samples were left out');
    const shown = (/^samples: (.*)$/m.exec(a!.text)?.[1] ?? '').split(', ').length;
    assert.equal(shown + Number(left[1]!.replace(/,/g, '')), 5000, 'shown + not shown = all samples');
    assert.ok(shown > 10);
    assert.ok(a!.text.includes('samples: 203.0.113.0 GET /path/0 500, 203.0.113.1 GET /path/1 500'), 'the first samples are kept, in order');
    assert.ok(a!.html.includes(`${left[1]} more samples not shown`));
    assert.equal(r!.subject, '[visor web01] report web01');
    assert.match(r!.text, /^\[shortened to fit the message size limit of 16,384 bytes\] \(the HTML part, [\d,]+ bytes, is replaced by the text\)$/m);
    assert.match(r!.text, /^report web01: /m);
    assert.match(r!.text, /^requests: 20000 /m, 'the short lines are whole');
    assert.match(r!.text, /^top clients: .* … \([\d,]+ more characters not shown\)$/m);
    assert.match(r!.html, /<pre>host: web01\r?\n\r?\nreport web01: /, 'the host first, then the report, in the text that replaces the HTML');
    assert.ok(!small!.text.includes('shortened'), 'a small message is untouched');
  });

  it('max_message_bytes below 4KiB is refused', async () => {
    await assert.rejects(pipeline([alert], 25, `
      max_message_bytes: 1000`), /pipeline\.yaml:16:24: invalid value 1000 for max_message_bytes — must be at least 4096 bytes/);
  });

  it('digest rendering escapes HTML', () => {
    const d = renderDigest([renderEvent({ name: '<b>x</b>', severity: 'a' }, undefined), renderEvent({ n: 1 }, undefined)], 1);
    assert.ok(d.html.includes('&lt;b&gt;x&lt;/b&gt;'));
    assert.ok(!d.html.includes('<b>x'));
    assert.match(d.text, /2 messages exceeded the limit of 1 per minute/);
  });
});

describe('email rendering of self-rendered events', () => {
  it('an event with message text and prerendered html (the report aggregate) is sent with both as they are', async () => {
    const mail = renderEvent({ report: 'web01', message: 'requests: 10', html: '<table><tr><td>10</td></tr></table>' }, undefined);
    assert.equal(mail.text, 'requests: 10\n');
    assert.equal(mail.html, '<table><tr><td>10</td></tr></table>');
    const plain = renderEvent({ message: '<b>x</b>' }, undefined);
    assert.ok(plain.html.includes('&lt;b&gt;x&lt;/b&gt;'), 'other events are still escaped into a table');
  });
});

describe('email size cuts (rendering)', () => {
  const size = (m: RenderedMail) => Buffer.byteLength(m.subject) + Buffer.byteLength(m.text) + Buffer.byteLength(m.html);
  const within = (cap: number) => async (m: RenderedMail) => size(m) <= cap;

  it('are deterministic, cut the largest field first and keep the others whole', async () => {
    const event: Event = { name: 'r', severity: 'warning', note: 'n'.repeat(3000), samples: Array.from({ length: 2000 }, (_, i) => `s${i}`), count: 2000 };
    const a = await fitEvent(event, undefined, 20_000, within(20_000));
    const b = await fitEvent(event, undefined, 20_000, within(20_000));
    assert.deepEqual(a, b);
    assert.equal(a.cut, true);
    assert.ok(size(a.mail) <= 20_000);
    assert.ok(a.mail.text.includes(`note: ${'n'.repeat(3000)}\n`), 'the smaller long field is whole');
    assert.match(a.mail.text, /… [\d,]+ more samples not shown/);
    assert.match(a.mail.text, /^count: 2000$/m);
    const fine = await fitEvent(alert, undefined, 20_000, within(20_000));
    assert.deepEqual(fine, { mail: renderEvent(alert, undefined), cut: false });
  });

  it('a digest keeps its total and tally when even the list does not fit', async () => {
    const mails = Array.from({ length: 300 }, (_, i) => renderEvent({ name: `rule_${i % 3}`, severity: 'info', message: `m${i}` }, undefined));
    const { mail, cut } = await fitDigest(mails, 5, 1500, within(1500));
    assert.equal(cut, true);
    assert.ok(size(mail) <= 1500);
    assert.match(mail.subject, /digest: 300 more messages/);
    const note = /… ([\d,]+) more messages not shown/.exec(mail.text);
    assert.ok(note);
    assert.equal(mail.text.split('\n').filter((l) => /^\d+\. \[visor\]/.test(l)).length + Number(note[1]), 300);
    assert.match(mail.text, /^ {2}100 × \[visor\] info rule_0$/m);
  });
});
