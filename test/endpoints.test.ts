// The agent's HTTP listeners (service.http's /metrics and /health, the dashboard) as a deployment meets them: a real
// `visor run` process, real TLS with throwaway certificates made by openssl, Host headers set by hand (what a
// DNS-rebinding page sends), curl as a client nobody here wrote, a SIGHUP with renewed certificate files.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFile, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { CliProcess, freePort, onPath, runCli, skipWhenMissing, tempDir } from './support/helpers.js';

const TOKEN = 'endpoints-test-token-0123';

interface Certs {
  dir: string;
  /** sha256 fingerprints as Node prints them (AB:CD:...). */
  fingerprint: { server1: string; server2: string };
}

/** A CA, two server certificates it signed (the second one is the "renewed" one), and a client CA with a client
 * certificate: what a deployment would have, made with openssl the way an admin would. */
function makeCerts(dir: string): Certs {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=visor test CA');
  ssl('req', '-x509', ...key, '-keyout', 'client-ca.key', '-out', 'client-ca.pem', '-days', '2', '-subj', '/CN=visor test client CA');
  const sign = (name: string, ca: string, cn: string, ext: string) => {
    ssl('req', '-new', ...key, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`);
    execFileSync('sh', ['-c', `printf '%s\\n' '${ext}' > ${name}.ext`], { cwd: dir });
    ssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-set_serial', String(Date.now() + name.length), '-days', '2', '-out', `${name}.pem`, '-extfile', `${name}.ext`);
  };
  sign('server1', 'ca', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1');
  sign('server2', 'ca', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1');
  sign('client', 'client-ca', 'scraper', 'extendedKeyUsage=clientAuth');
  const fp = (name: string) => /Fingerprint=(.*)/.exec(ssl('x509', '-noout', '-fingerprint', '-sha256', '-in', `${name}.pem`))![1]!.trim();
  return { dir, fingerprint: { server1: fp('server1'), server2: fp('server2') } };
}

interface Answer {
  status: number;
  body: string;
  fingerprint?: string;
}

/** One request with the Host header set by hand; an event stream is read up to its headers, then closed. */
function request(url: string, opts: { host?: string; headers?: Record<string, string>; ca?: Buffer | string; cert?: Buffer; key?: Buffer } = {}): Promise<Answer> {
  const u = new URL(url);
  const lib = u.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(
      u,
      {
        agent: false,
        headers: { ...(opts.host !== undefined ? { host: opts.host } : {}), ...opts.headers },
        ...(u.protocol === 'https:' ? { ca: opts.ca, cert: opts.cert, key: opts.key, servername: 'localhost' } : {}),
      },
      (res) => {
        const fingerprint = res.socket instanceof tls.TLSSocket ? res.socket.getPeerCertificate().fingerprint256 : undefined;
        if (String(res.headers['content-type']).startsWith('text/event-stream')) {
          res.destroy();
          return resolve({ status: res.statusCode!, body: '', fingerprint });
        }
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode!, body, fingerprint }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** curl's status code for a request (`-k` never: curl checks the certificate against `--cacert`). */
function curl(args: string[]): { code: number | null; status: string; stderr: string } {
  const r = spawnSync('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '10', ...args], { encoding: 'utf8' });
  return { code: r.status, status: r.stdout, stderr: r.stderr };
}

describe('HTTP endpoints: Host check, tokens, TLS', function () {
  this.timeout(60_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let certs: Certs;
  let read: (name: string) => Buffer;
  const hasCurl = onPath('curl') !== undefined;
  const running: CliProcess[] = [];

  before(async function () {
    skipWhenMissing(this, onPath('openssl') ? undefined : 'openssl is not installed (apt-get install openssl)');
    tmp = await tempDir();
    certs = makeCerts(tmp.dir);
    const { readFileSync } = await import('node:fs');
    read = (name) => readFileSync(path.join(certs.dir, name));
  });

  afterEach(async () => {
    for (const p of running.splice(0)) {
      p.child.kill('SIGTERM');
      await p.exited;
    }
  });

  after(() => tmp?.remove());

  const start = async (name: string, yaml: string): Promise<CliProcess> => {
    const file = await tmp.file(name, yaml);
    const p = new CliProcess(['run', '-c', file]);
    running.push(p);
    await p.waitForStderr(/visor started/);
    return p;
  };

  it('answers 421 to Host names that are not the listener\'s on /metrics, /health and every dashboard endpoint; loopback names and allowed_hosts pass', async () => {
    const [hp, dp] = [await freePort(), await freePort()];
    await start('hosts.yaml', `
service:
  http: { listen: 127.0.0.1:${hp}, allowed_hosts: [visor.example.net] }
inputs: { in: { type: stdin } }
outputs:
  dash: { type: dashboard, inputs: [in], listen: '127.0.0.1:${dp}', allowed_hosts: ['dash.example.net:${dp}'] }
`);
    const endpoints = [
      ...['/metrics', '/health'].map((p) => ({ port: hp, path: p, allowed: ['visor.example.net', `visor.example.net:${hp}`] })),
      ...['/', '/index.html', '/api/state', '/api/history', '/events'].map((p) => ({ port: dp, path: p, allowed: [`dash.example.net:${dp}`] })),
    ];
    for (const { port, path: p, allowed } of endpoints) {
      const url = `http://127.0.0.1:${port}${p}`;
      for (const host of ['evil.example.com', `evil.example.com:${port}`, `localhost:${port + 1}`, `127.0.0.1:${port + 1}`, 'dash.example.net.evil.com', ...(port === dp ? ['dash.example.net', 'visor.example.net'] : ['dash.example.net:' + dp])]) {
        const a = await request(url, { host });
        assert.equal(a.status, 421, `${host} ${url}: ${a.body}`);
        assert.match(JSON.parse(a.body).error, /host not allowed: .* add it to allowed_hosts/, url);
      }
      for (const host of ['localhost', `localhost:${port}`, 'LOCALHOST', '127.0.0.1', `127.0.0.1:${port}`, '[::1]', `[::1]:${port}`, ...allowed]) {
        const a = await request(url, { host });
        // /api/history answers 404 without a store: after the Host check, which is what is tested.
        assert.equal(a.status, p === '/api/history' ? 404 : 200, `${host} ${url}: ${a.body}`);
      }
      if (hasCurl) {
        assert.equal(curl(['-H', 'Host: evil.example.com', url]).status, '421', `curl ${url}`);
        // /events never ends: curl's timeout stops it once the headers are in.
        const plain = p === '/events' ? curl(['--max-time', '1', url]) : curl([url]);
        assert.equal(plain.status, p === '/api/history' ? '404' : '200', `curl ${url}: ${plain.stderr}`);
      }
    }
  });

  it('a SIGHUP applies a new token and allowed_hosts to service.http on the same listener; HTTP/1.0 without Host passes', async () => {
    const hp = await freePort();
    const yaml = (token: string, hosts: string) => `
service:
  http: { listen: 127.0.0.1:${hp}, token: ${token}, allowed_hosts: [${hosts}] }
inputs: { in: { type: stdin } }
outputs: { out: { type: blackhole, inputs: [in] } }
`;
    const p = await start('rotate.yaml', yaml(TOKEN, ''));
    const url = `http://127.0.0.1:${hp}/health`;
    const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
    assert.equal((await request(url, { headers: bearer(TOKEN) })).status, 200);
    assert.equal((await request(url, { host: 'metrics.example.net', headers: bearer(TOKEN) })).status, 421);
    const next = 'rotated-token-abcdef-0123';
    await tmp.file('rotate.yaml', yaml(next, 'metrics.example.net'));
    p.child.kill('SIGHUP');
    await p.waitForStderr(/configuration reloaded/);
    assert.equal((p.stderr.match(/http server listening/g) ?? []).length, 1, 'the listener was not re-opened');
    assert.equal((await request(url, { headers: bearer(TOKEN) })).status, 401, 'the old token no longer works');
    assert.equal((await request(url, { headers: bearer(next) })).status, 200);
    assert.equal((await request(url, { host: 'metrics.example.net', headers: bearer(next) })).status, 200);
    // An HTTP/1.0 client without a Host header is no browser: accepted (the token still applies).
    const raw = (head: string) => new Promise<string>((resolve, reject) => {
      const socket = net.connect(hp, '127.0.0.1', () => socket.end(head));
      let got = '';
      socket.setEncoding('utf8').on('data', (d: string) => (got += d)).on('end', () => resolve(got)).on('error', reject);
    });
    assert.match(await raw(`GET /health HTTP/1.0\r\nAuthorization: Bearer ${next}\r\n\r\n`), /^HTTP\/1\.1 200 /);
    assert.match(await raw('GET /health HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 401 /);
    assert.match(await raw(`GET /health HTTP/1.0\r\nHost: evil.example.com\r\nAuthorization: Bearer ${next}\r\n\r\n`), /^HTTP\/1\.1 421 /);
  });

  it('visor validate: service.http beyond loopback without a token is a located error (exit 78) naming the fix', async () => {
    const file = await tmp.file('exposed.yaml', `inputs: { in: { type: stdin } }
service:
  http:
    listen: 0.0.0.0:2020
outputs: { out: { type: stdout, inputs: [in] } }
`);
    const r = await runCli(['validate', '-c', file]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:\\d+: .*refusing to serve /metrics and /health on 0\\.0\\.0\\.0:2020 without a token: .*Set service\\.http\\.token .* or listen on 127\\.0\\.0\\.1`));
    // The dashboard keeps its rule, worded by the same check.
    const dash = await tmp.file('exposed-dash.yaml', `inputs: { in: { type: stdin } }
outputs: { dash: { type: dashboard, inputs: [in], listen: '0.0.0.0:8080' } }
`);
    const d = await runCli(['validate', '-c', dash]);
    assert.equal(d.code, 78, d.stderr);
    assert.match(d.stderr, /:2:\d+: .*refusing to serve the dashboard on 0\.0\.0\.0:8080 without a token: .*Set token \(e\.g\. token: "\$\{DASHBOARD_TOKEN\}"\)/);
    const ok = await tmp.file('token.yaml', `inputs: { in: { type: stdin } }
service:
  http: { listen: 0.0.0.0:2020, token: "\${HTTP_TOKEN}" }
outputs: { out: { type: stdout, inputs: [in] } }
`);
    const v = await runCli(['validate', '-c', ok], { env: { HTTP_TOKEN: TOKEN } });
    assert.equal(v.code, 0, v.stderr);
  });

  it('beyond loopback without TLS: warns that the token travels in clear text, requires the token, accepts the machine\'s own addresses as Host', async () => {
    const [hp, dp] = [await freePort(), await freePort()];
    const p = await start('clear.yaml', `
service:
  http: { listen: '0.0.0.0:${hp}', token: ${TOKEN} }
inputs: { in: { type: stdin } }
outputs:
  dash: { type: dashboard, inputs: [in], listen: '0.0.0.0:${dp}', token: ${TOKEN} }
`);
    assert.match(p.stderr, new RegExp(`the http server on 0\\.0\\.0\\.0:${hp} is served without TLS: the token travels in clear text`));
    assert.match(p.stderr, new RegExp(`the dashboard on 0\\.0\\.0\\.0:${dp} is served without TLS: the token travels in clear text`));
    assert.doesNotMatch(p.stderr, new RegExp(TOKEN), 'the token is masked in the log');
    const metrics = `http://127.0.0.1:${hp}/metrics`;
    assert.equal((await request(metrics)).status, 401);
    assert.equal((await request(metrics, { headers: { authorization: 'Bearer wrong-token-0123456789' } })).status, 401);
    assert.equal((await request(metrics, { headers: { authorization: `Bearer ${TOKEN}` } })).status, 200);
    assert.equal((await request(`${metrics}?token=${TOKEN}`)).status, 200);
    // The Host check comes first: a foreign name learns nothing, even with the token.
    assert.equal((await request(metrics, { host: 'evil.example.com', headers: { authorization: `Bearer ${TOKEN}` } })).status, 421);
    // Listening on 0.0.0.0, the machine's own interface addresses are its names.
    const { networkInterfaces } = await import('node:os');
    const own = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (own) {
      const a = await request(`http://${own.address}:${dp}/api/state`, { headers: { authorization: `Bearer ${TOKEN}` } });
      assert.equal(a.status, 200, a.body);
    }
    // A loopback listener without TLS has nothing to warn about (checked in the first test's process too).
  });

  it('serves HTTPS on both listeners, and after a SIGHUP with renewed files serves the new certificate on the same listener', async () => {
    const [hp, dp] = [await freePort(), await freePort()];
    await copyFile(path.join(certs.dir, 'server1.pem'), path.join(certs.dir, 'live.pem'));
    await copyFile(path.join(certs.dir, 'server1.key'), path.join(certs.dir, 'live.key'));
    const p = await start('tls.yaml', `
service:
  http: { listen: 127.0.0.1:${hp}, tls: { cert: live.pem, key: live.key } }
inputs: { in: { type: stdin } }
outputs:
  dash: { type: dashboard, inputs: [in], listen: '127.0.0.1:${dp}', tls: { cert: live.pem, key: live.key } }
`);
    assert.match(p.stderr, new RegExp(`http server listening.*https://127\\.0\\.0\\.1:${hp}`));
    assert.match(p.stderr, new RegExp(`dashboard listening.*https://127\\.0\\.0\\.1:${dp}/`));
    assert.doesNotMatch(p.stderr, /clear text/);
    const ca = read('ca.pem');
    for (const url of [`https://127.0.0.1:${hp}/metrics`, `https://localhost:${hp}/health`, `https://127.0.0.1:${dp}/api/state`]) {
      const a = await request(url, { ca });
      assert.equal(a.status, 200, url);
      assert.equal(a.fingerprint, certs.fingerprint.server1, url);
      // The Host check holds over TLS too.
      assert.equal((await request(url, { ca, host: 'evil.example.com' })).status, 421, url);
    }
    // An unknown CA is refused by the client: the server really presents the certificate it was given.
    await assert.rejects(request(`https://127.0.0.1:${hp}/metrics`), /self-signed|unable to verify|certificate/i);
    if (hasCurl) {
      assert.equal(curl(['--cacert', path.join(certs.dir, 'ca.pem'), `https://localhost:${hp}/metrics`]).status, '200');
      assert.equal(curl(['--cacert', path.join(certs.dir, 'ca.pem'), `https://localhost:${dp}/`]).status, '200');
      assert.notEqual(curl([`https://localhost:${hp}/metrics`]).code, 0, 'curl without the CA refuses the certificate');
    }

    // A connection opened before the reload: service.http's listener is not closed by the reload, so it lives on.
    const held = tls.connect({ host: '127.0.0.1', port: hp, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => held.once('secureConnect', resolve).once('error', reject));
    assert.equal(held.getPeerCertificate().fingerprint256, certs.fingerprint.server1);
    const heldDash = tls.connect({ host: '127.0.0.1', port: dp, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => heldDash.once('secureConnect', resolve).once('error', reject));

    await copyFile(path.join(certs.dir, 'server2.pem'), path.join(certs.dir, 'live.pem'));
    await copyFile(path.join(certs.dir, 'server2.key'), path.join(certs.dir, 'live.key'));
    const reloads = (p.stderr.match(/configuration reloaded/g) ?? []).length;
    p.child.kill('SIGHUP');
    await p.waitFor((q) => (q.stderr.match(/configuration reloaded/g) ?? []).length > reloads, 'the reload');
    assert.equal((p.stderr.match(/http server listening/g) ?? []).length, 1, 'service.http was not restarted');
    // The dashboard is rebuilt with the pipeline, on the server it kept: a connection opened before is still open.
    assert.equal(heldDash.destroyed, false, 'the dashboard connection opened before the reload is open');

    for (const url of [`https://127.0.0.1:${hp}/metrics`, `https://127.0.0.1:${dp}/api/state`]) {
      const a = await request(url, { ca });
      assert.equal(a.status, 200, url);
      assert.equal(a.fingerprint, certs.fingerprint.server2, `${url} serves the renewed certificate`);
    }
    if (hasCurl) assert.equal(curl(['--cacert', path.join(certs.dir, 'ca.pem'), `https://localhost:${hp}/health`]).status, '200');
    // The old connection still answers, over the session it had.
    const answer = new Promise<string>((resolve) => {
      let got = '';
      held.setEncoding('utf8').on('data', (d: string) => {
        got += d;
        if (got.includes('\r\n\r\n')) resolve(got);
      });
    });
    held.write('GET /health HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    assert.match(await answer, /^HTTP\/1\.1 200 /);
    held.destroy();
    const dashAnswer = new Promise<string>((resolve) => {
      let got = '';
      heldDash.setEncoding('utf8').on('data', (d: string) => {
        got += d;
        if (got.includes('\r\n\r\n')) resolve(got);
      });
    });
    heldDash.write('GET /api/state HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    assert.match(await dashAnswer, /^HTTP\/1\.1 200 /);
    heldDash.destroy();
  });

  it('a SIGHUP with certificate files that do not go together or are missing keeps the certificate served before', async () => {
    const [hp, dp] = [await freePort(), await freePort()];
    await copyFile(path.join(certs.dir, 'server1.pem'), path.join(certs.dir, 'half.pem'));
    await copyFile(path.join(certs.dir, 'server1.key'), path.join(certs.dir, 'half.key'));
    const p = await start('half.yaml', `
service:
  http: { listen: 127.0.0.1:${hp}, tls: { cert: half.pem, key: half.key } }
inputs: { in: { type: stdin } }
outputs:
  dash: { type: dashboard, inputs: [in], listen: '127.0.0.1:${dp}', tls: { cert: half.pem, key: half.key } }
`);
    const ca = read('ca.pem');
    const reload = async () => {
      const n = (p.stderr.match(/configuration reloaded|configuration is invalid/g) ?? []).length;
      p.child.kill('SIGHUP');
      await p.waitFor((q) => (q.stderr.match(/configuration reloaded|configuration is invalid/g) ?? []).length > n, 'the reload');
    };
    // A renewal half done: the new certificate is in place, its key not yet.
    await copyFile(path.join(certs.dir, 'server2.pem'), path.join(certs.dir, 'half.pem'));
    await reload();
    assert.match(p.stderr, /http server: cannot read the TLS files; serving the previous certificate.*key values mismatch/);
    assert.match(p.stderr, /dashboard: cannot read the TLS files; serving the previous certificate.*key values mismatch/);
    for (const url of [`https://127.0.0.1:${hp}/metrics`, `https://127.0.0.1:${dp}/api/state`]) {
      const a = await request(url, { ca });
      assert.equal(a.status, 200, url);
      assert.equal(a.fingerprint, certs.fingerprint.server1, `${url} still serves the previous certificate`);
    }
    // The key is gone altogether: the config check refuses the reload (a file option names a missing file), and
    // the running listeners keep serving what they had.
    await rm(path.join(certs.dir, 'half.key'));
    await reload();
    assert.match(p.stderr, /half\.key does not exist|tls\.key: cannot read .*half\.key: ENOENT/);
    for (const url of [`https://127.0.0.1:${hp}/metrics`, `https://127.0.0.1:${dp}/api/state`]) {
      assert.equal((await request(url, { ca })).fingerprint, certs.fingerprint.server1, url);
    }
    // The renewal completed: the new certificate is served.
    await copyFile(path.join(certs.dir, 'server2.key'), path.join(certs.dir, 'half.key'));
    await reload();
    for (const url of [`https://127.0.0.1:${hp}/metrics`, `https://127.0.0.1:${dp}/api/state`]) {
      assert.equal((await request(url, { ca })).fingerprint, certs.fingerprint.server2, url);
    }
  });

  it('the dashboard keeps its server over a reload; a renamed, moved or removed dashboard frees its port', async () => {
    const [dp, dp2] = [await freePort(), await freePort()];
    const yaml = (outputs: string) => `
inputs: { in: { type: stdin } }
outputs:
${outputs}
`;
    const p = await start('moves.yaml', yaml(`  dash: { type: dashboard, inputs: [in], listen: '127.0.0.1:${dp}' }`));
    const reload = async (outputs: string) => {
      await tmp.file('moves.yaml', yaml(outputs));
      const n = (p.stderr.match(/configuration reloaded/g) ?? []).length;
      p.child.kill('SIGHUP');
      await p.waitFor((q) => (q.stderr.match(/configuration reloaded|new pipeline failed/g) ?? []).length > n, 'the reload');
      assert.doesNotMatch(p.stderr, /new pipeline failed/);
    };
    const status = (port: number) => request(`http://127.0.0.1:${port}/api/state`).then((a) => a.status, (err: NodeJS.ErrnoException) => err.code);
    assert.equal(await status(dp), 200);
    // Renamed (another component): the old one's server is closed before the new one opens the same port.
    await reload(`  board: { type: dashboard, inputs: [in], listen: '127.0.0.1:${dp}' }`);
    assert.equal(await status(dp), 200);
    // Moved: the new port serves, the old one is closed.
    await reload(`  board: { type: dashboard, inputs: [in], listen: '127.0.0.1:${dp2}' }`);
    assert.equal(await status(dp2), 200);
    assert.equal(await status(dp), 'ECONNREFUSED');
    // TLS switched on at the same address: a new server, serving HTTPS there.
    await reload(`  board: { type: dashboard, inputs: [in], listen: '127.0.0.1:${dp2}', tls: { cert: server1.pem, key: server1.key } }`);
    assert.equal((await request(`https://127.0.0.1:${dp2}/api/state`, { ca: read('ca.pem') })).fingerprint, certs.fingerprint.server1);
    // Removed: nothing listens any more.
    await reload(`  out: { type: blackhole, inputs: [in] }`);
    assert.equal(await status(dp2), 'ECONNREFUSED');
  });

  it('client_ca requires a client certificate it signed (mutual TLS) on both listeners', async () => {
    const [hp, dp] = [await freePort(), await freePort()];
    const tlsYaml = `{ cert: server1.pem, key: server1.key, client_ca: client-ca.pem }`;
    const p = await start('mtls.yaml', `
service:
  http: { listen: 127.0.0.1:${hp}, tls: ${tlsYaml} }
inputs: { in: { type: stdin } }
outputs:
  dash: { type: dashboard, inputs: [in], listen: '127.0.0.1:${dp}', tls: ${tlsYaml} }
`);
    assert.match(p.stderr, /http server listening.*client_certificates/);
    const ca = read('ca.pem');
    for (const url of [`https://127.0.0.1:${hp}/metrics`, `https://127.0.0.1:${dp}/api/state`]) {
      await assert.rejects(request(url, { ca }), (err: NodeJS.ErrnoException) => /certificate|ECONNRESET|handshake|alert/i.test(`${err.code} ${err.message}`), `${url} without a client certificate`);
      // A certificate the client CA did not sign (the server's own, from the other CA) is refused too.
      await assert.rejects(request(url, { ca, cert: read('server1.pem'), key: read('server1.key') }), Error, `${url} with a foreign certificate`);
      const a = await request(url, { ca, cert: read('client.pem'), key: read('client.key') });
      assert.equal(a.status, 200, url);
    }
    if (hasCurl) {
      const base = ['--cacert', path.join(certs.dir, 'ca.pem')];
      assert.notEqual(curl([...base, `https://localhost:${hp}/metrics`]).code, 0, 'curl without a client certificate is refused');
      const ok = curl([...base, '--cert', path.join(certs.dir, 'client.pem'), '--key', path.join(certs.dir, 'client.key'), `https://localhost:${hp}/metrics`]);
      assert.equal(ok.status, '200', ok.stderr);
    }
  });

  it('visor validate: tls needs cert and key and files that exist, located (exit 78); an unusable file stops the start naming it', async () => {
    const file = await tmp.file('tls-bad.yaml', `inputs: { in: { type: stdin } }
service:
  http: { listen: 127.0.0.1:0, tls: { cert: server1.pem, client_ca: nope.pem } }
outputs: { out: { type: stdout, inputs: [in] } }
`);
    const r = await runCli(['validate', '-c', file]);
    assert.equal(r.code, 78, r.stderr);
    assert.match(r.stderr, /:3:\d+: .*key/);
    assert.match(r.stderr, /:3:\d+: .*nope\.pem does not exist/);
    // A file that exists but is no certificate: the start fails with the files named.
    const garbage = await tmp.file('garbage.pem', 'not a certificate\n');
    const unusable = await tmp.file('tls-unusable.yaml', `inputs: { in: { type: stdin } }
service:
  http: { listen: 127.0.0.1:0, tls: { cert: ${path.basename(garbage)}, key: server1.key } }
outputs: { out: { type: stdout, inputs: [in] } }
`);
    const p = new CliProcess(['run', '-c', unusable]);
    p.child.stdin!.end();
    const done = await p.exited;
    assert.notEqual(done.code, 0);
    assert.match(done.stderr, /tls: cannot use .*garbage\.pem with .*server1\.key/);
  });

});
