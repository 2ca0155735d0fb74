// A real Apache httpd for end-to-end tests: its own config, document root, CGI and logs in a temp dir,
// listening on a free loopback port, run in the foreground as a child of the test process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, onPath, skipWhenMissing, tempDir } from './helpers.js';

const run = promisify(execFile);

const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin'];
const MODULE_DIRS = ['/usr/lib/apache2/modules', '/usr/lib64/httpd/modules', '/usr/lib/httpd/modules', '/usr/libexec/apache2'];
const MODULES: Array<[string, string]> = [
  ['mpm_event_module', 'mod_mpm_event.so'],
  ['authz_core_module', 'mod_authz_core.so'],
  ['mime_module', 'mod_mime.so'],
  ['dir_module', 'mod_dir.so'],
  ['alias_module', 'mod_alias.so'],
  ['cgid_module', 'mod_cgid.so'],
];

interface Tools { httpd: string; modules: string; ab: string }

function findTools(): Tools | string {
  const httpd = onPath('apache2', SBIN) ?? onPath('httpd', SBIN);
  if (!httpd) return 'apache2 is not installed (apt-get install apache2)';
  const modules = MODULE_DIRS.find((d) => MODULES.every(([, file]) => existsSync(path.join(d, file))));
  if (!modules) return `no Apache module directory with ${MODULES.map(([, f]) => f).join(', ')}`;
  const ab = onPath('ab', SBIN);
  if (!ab) return 'ab is not installed (apt-get install apache2-utils)';
  return { httpd, modules, ab };
}

/** Why the Apache tests cannot run here, or undefined when they can. */
export function apacheMissing(): string | undefined {
  const tools = findTools();
  return typeof tools === 'string' ? tools : undefined;
}

/** In a `before` hook: skip the suite with a one-line reason when Apache is missing — but fail under CI=true,
 * where .ci/run installs it and a silent skip would hide a broken test. */
export function requireApache(ctx: Mocha.Context): void {
  skipWhenMissing(ctx, apacheMissing());
}

/** Polls `test` every `every` ms until it holds; rejects after `ms` with `what` (and `detail()`, if given). */
export async function waitUntil(test: () => boolean | Promise<boolean>, what: string, ms = 60000, detail?: () => string, every = 100): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await test()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${detail ? `\n${detail()}` : ''}`);
    await new Promise((r) => setTimeout(r, every));
  }
}

async function readOr(file: string, otherwise = ''): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    return otherwise;
  }
}

export interface AbResult { complete: number; failed: number; non2xx: number; output: string }

export class ApacheServer {
  readonly url: string;
  readonly accessLog: string;
  readonly errorLog: string;
  readonly docRoot: string;
  private exitCode: number | null | undefined;
  private output = '';
  private readonly killOnExit = () => { try { this.child.kill('SIGKILL'); } catch { /* gone */ } };

  private constructor(
    readonly dir: string,
    readonly conf: string,
    readonly port: number,
    private readonly tools: Tools,
    private readonly child: ChildProcess,
    private readonly removeDir: () => Promise<void>,
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.accessLog = path.join(dir, 'logs', 'access.log');
    this.errorLog = path.join(dir, 'logs', 'error.log');
    this.docRoot = path.join(dir, 'htdocs');
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { this.output += d; });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { this.output += d; });
    child.on('exit', (code) => { this.exitCode = code; process.off('exit', this.killOnExit); });
    process.on('exit', this.killOnExit); // never leave an httpd behind, even when the test process dies
  }

  /**
   * Starts httpd on a free 127.0.0.1 port with LogLevel info (a missing file logs AH00128), the combined
   * access log, and /cgi-bin/fail.cgi: a CGI that writes `visor-cgi-failure q=QUERY` to stderr and exits 1,
   * which Apache copies raw into the error log. Resolves once it logged AH00489 (ready).
   */
  static async start(): Promise<ApacheServer> {
    const tools = findTools();
    if (typeof tools === 'string') throw new Error(tools);
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) { // the free port may be taken between probe and bind
      const tmp = await tempDir('visor-apache-');
      try {
        return await ApacheServer.startIn(tmp.dir, tools, await freePort(), tmp.remove);
      } catch (err) {
        lastError = err;
        await tmp.remove();
        if (!/Address already in use|could not bind/i.test(String(err))) break;
      }
    }
    throw lastError;
  }

  private static async startIn(dir: string, tools: Tools, port: number, removeDir: () => Promise<void>): Promise<ApacheServer> {
    const root = process.getuid?.() === 0;
    await chmod(dir, 0o755); // the server runs as www-data when started as root: it must reach htdocs and cgi-bin
    for (const sub of ['htdocs', 'cgi-bin', 'logs', 'run']) await mkdir(path.join(dir, sub), { mode: 0o755 });
    await writeFile(path.join(dir, 'htdocs', 'index.html'), '<h1>visor</h1>\n');
    await writeFile(path.join(dir, 'cgi-bin', 'fail.cgi'), '#!/bin/sh\necho "visor-cgi-failure q=$QUERY_STRING" >&2\nexit 1\n', { mode: 0o755 });
    const user = root ? (os.platform() === 'linux' && existsSync('/etc/debian_version') ? 'www-data' : 'nobody') : undefined;
    if (user) {
      const { stdout } = await run('id', ['-u', user]);
      await chown(path.join(dir, 'run'), Number(stdout.trim()), 0); // the cgid daemon's socket
    }
    const conf = path.join(dir, 'httpd.conf');
    const q = (p: string) => JSON.stringify(p);
    await writeFile(conf, [
      `ServerRoot ${q(dir)}`,
      'ServerName 127.0.0.1',
      `PidFile ${q(path.join(dir, 'run', 'httpd.pid'))}`,
      `DefaultRuntimeDir ${q(path.join(dir, 'run'))}`,
      `Mutex file:${path.join(dir, 'run')} default`,
      `Listen 127.0.0.1:${port}`,
      ...(user ? [`User ${user}`, `Group ${user === 'nobody' ? 'nogroup' : user}`] : []),
      ...MODULES.map(([name, file]) => `LoadModule ${name} ${q(path.join(tools.modules, file))}`),
      `ScriptSock ${q(path.join(dir, 'run', 'cgid.sock'))}`,
      ...(existsSync('/etc/mime.types') ? ['TypesConfig /etc/mime.types'] : []),
      `DocumentRoot ${q(path.join(dir, 'htdocs'))}`,
      'DirectoryIndex index.html',
      `ScriptAlias /cgi-bin/ ${q(path.join(dir, 'cgi-bin') + '/')}`,
      '<Directory />',
      '  Require all granted',
      '</Directory>',
      'StartServers 2',
      `ErrorLog ${q(path.join(dir, 'logs', 'error.log'))}`,
      'LogLevel info',
      'LogFormat "%h %l %u %t \\"%r\\" %>s %O \\"%{Referer}i\\" \\"%{User-Agent}i\\"" combined',
      `CustomLog ${q(path.join(dir, 'logs', 'access.log'))} combined`,
      '',
    ].join('\n'));
    const child = spawn(tools.httpd, ['-f', conf, '-D', 'FOREGROUND'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    const server = new ApacheServer(dir, conf, port, tools, child, removeDir);
    try {
      await waitUntil(
        async () => {
          if (server.exitCode !== undefined) throw new Error(`apache2 exited with ${server.exitCode}: ${server.output}${await readOr(server.errorLog)}`);
          return /AH00489/.test(await readOr(server.errorLog));
        },
        'apache2 to start (AH00489 in its error log)', 30000, () => server.output, 50);
    } catch (err) {
      await server.stop().catch(() => undefined);
      throw err;
    }
    return server;
  }

  /** Rotates both logs as logrotate does without compression (LOG.N -> LOG.N+1, ..., LOG -> LOG.1), then
   * `-k graceful`; resolves once Apache has created the new files. */
  async rotate(): Promise<void> {
    for (const log of [this.accessLog, this.errorLog]) {
      let n = 1;
      while (existsSync(`${log}.${n}`)) n++;
      for (; n > 1; n--) await rename(`${log}.${n - 1}`, `${log}.${n}`);
      await rename(log, `${log}.1`);
    }
    await run(this.tools.httpd, ['-f', this.conf, '-k', 'graceful'], { cwd: this.dir });
    await waitUntil(() => existsSync(this.accessLog) && existsSync(this.errorLog), 'apache2 to reopen its logs after graceful', 30000, () => this.output, 25);
  }

  /** `ab -n N -c C URL`; throws unless every request completed. */
  async ab(n: number, urlPath: string, concurrency = 4): Promise<AbResult> {
    const { stdout } = await run(this.tools.ab, ['-q', '-n', String(n), '-c', String(concurrency), this.url + urlPath], { maxBuffer: 1 << 20 });
    const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? 0);
    const result = { complete: num(/Complete requests:\s+(\d+)/), failed: num(/Failed requests:\s+(\d+)/), non2xx: num(/Non-2xx responses:\s+(\d+)/), output: stdout };
    if (result.complete !== n || result.failed !== 0) throw new Error(`ab ${urlPath}: ${result.complete} of ${n} complete, ${result.failed} failed\n${stdout}`);
    return result;
  }

  /** One GET with a fresh connection; resolves with the status code. */
  get(urlPath: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const req = http.get(this.url + urlPath, { agent: false, headers: { 'user-agent': 'visor-e2e' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.setTimeout(30000, () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    });
  }

  /** Stops httpd (SIGTERM, then SIGKILL after 10 s) and removes its directory unless `keep`. */
  async stop(keep = false): Promise<void> {
    if (this.exitCode === undefined) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
    if (!keep) await this.removeDir();
  }
}
