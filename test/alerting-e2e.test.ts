// configs/alerting.yaml as shipped, run by the real CLI against real log files and a real SMTP server.
import assert from 'node:assert/strict';
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { CliProcess, ROOT, tempDir } from './support/helpers.js';
import { startSmtp, waitFor, type TestSmtp } from './support/smtp.js';

describe('configs/alerting.yaml end to end', function () {
  this.timeout(60000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let smtp: TestSmtp;
  let agent: CliProcess | undefined;

  beforeEach(async () => {
    tmp = await tempDir();
    smtp = await startSmtp({ auth: { user: 'visor', pass: 'sekrit-pass-123' } });
  });
  afterEach(async () => {
    agent?.child.kill('SIGKILL');
    await smtp.close();
    await tmp.remove();
  });

  it('a 500 in the access log and an error line each reach the mailbox as alerts; the password is never logged', async () => {
    const logs = path.join(tmp.dir, 'apache');
    await mkdir(logs);
    await writeFile(path.join(logs, 'access.log'), '');
    await writeFile(path.join(logs, 'error.log'), '');
    agent = new CliProcess(['run', '-c', path.join(ROOT, 'configs/alerting.yaml')], {
      env: {
        APACHE_LOG_DIR: logs, VISOR_DATA_DIR: path.join(tmp.dir, 'data'), VISOR_HTTP_LISTEN: '127.0.0.1:0', SMTP_HOST: '127.0.0.1', SMTP_PORT: String(smtp.port),
        SMTP_REQUIRE_TLS: 'false', SMTP_USER: 'visor', SMTP_PASS: 'sekrit-pass-123', ALERT_TO: 'ops@example.test', HOSTNAME: 'web01',
      },
    });
    await agent.waitForStderr(/visor started/);
    const url = /http server listening url=(\S+)/.exec(agent.stderr)![1];
    // read_from: end — lines written before the tailer has opened the files are history: wait until it has.
    await waitFor(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return (text.match(/visor_tail_files_watched\{[^}]*\} 1/g) ?? []).length === 2;
    }, 10_000, 'both logs to be watched');
    await appendFile(path.join(logs, 'access.log'), '203.0.113.9 - - [25/Nov/2026:10:00:00 +0000] "GET /api/orders HTTP/1.1" 503 12 "-" "curl/8"\n');
    await appendFile(path.join(logs, 'error.log'), '[Wed Nov 25 10:00:01.123456 2026] [proxy:error] [pid 7:tid 8] [client 203.0.113.9:5555] AH00957: HTTP: attempt to connect to 127.0.0.1:8080 failed\n');
    await waitFor(() => smtp.messages.length >= 2, 20_000, 'two alert messages').catch((err) => {
      throw new Error(`${(err as Error).message}\nreceived: ${smtp.messages.map((m) => m.subject).join(', ')}\nstderr: ${agent!.stderr.slice(-3000)}`);
    });
    const subjects = smtp.messages.map((m) => m.subject).sort();
    assert.deepEqual(subjects, [`[visor ${hostname()}] warning error-log`, `[visor ${hostname()}] warning server-error`], 'service.name defaults to the host name');
    const serverError = smtp.messages.find((m) => m.subject.endsWith('server-error'))!;
    assert.deepEqual(serverError.to, ['ops@example.test']);
    assert.match(serverError.text, /203\.0\.113\.9 GET \/api\/orders 503/);
    agent.child.kill('SIGTERM');
    const r = await agent.exited;
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr + r.stdout, /sekrit-pass-123/);
  });
});
