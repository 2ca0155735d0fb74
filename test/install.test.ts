// Visor as a user installs it: `npm pack`, then `npm install -g --prefix TMP ./visor-0.1.0.tgz` with no network
// (the dependencies come from npm's cache through test/support/npm-registry.ts, inside `unshare -n` when it can),
// then the installed `visor` run from elsewhere: --version, validate, the dashboard with its assets, the SQLite
// store (a native module), and a TypeScript plugin project compiled against the tarball's types. Also the systemd
// unit (configs/systemd/visor.service) checked by `systemd-analyze verify`.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, existsSync, lstatSync, readFileSync, readlinkSync, realpathSync, writeFileSync } from 'node:fs';
import { copyFile, cp, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitUntil } from './support/apache.js';
import { ROOT, freePort, onPath, skipWhenMissing, tempDir } from './support/helpers.js';

const REGISTRY_SCRIPT = path.join(ROOT, 'test', 'support', 'npm-registry.ts');
const TSX = fileURLToPath(import.meta.resolve('tsx'));
/** What the copy packed from leaves out: what a clean clone has not (the build makes dist/ again), and git's own. */
const NOT_COPIED = new Set(['node_modules', 'dist', '.git', 'data', '.tmp']);
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

interface Result { code: number | null; stdout: string; stderr: string }

function run(command: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; input?: string } = {}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? '');
  });
}

/** A long-running process whose stderr is watched for a line. */
class Running {
  stdout = '';
  stderr = '';
  readonly exited: Promise<Result>;
  private waiters: Array<() => void> = [];
  constructor(readonly child: ChildProcess) {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => { this.stdout += d; this.poke(); });
    child.stderr!.setEncoding('utf8').on('data', (d: string) => { this.stderr += d; this.poke(); });
    this.exited = new Promise((resolve) => child.on('close', (code) => { this.poke(); resolve({ code, stdout: this.stdout, stderr: this.stderr }); }));
  }
  private poke(): void { for (const w of this.waiters) w(); }
  waitFor(test: () => boolean, what: string, ms = 20_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const done = () => { clearTimeout(timer); this.waiters = this.waiters.filter((w) => w !== check); };
      const check = () => {
        if (test()) { done(); resolve(); }
        else if (this.child.exitCode !== null) { done(); reject(new Error(`exited while waiting for ${what}\n${this.stderr.slice(-2000)}`)); }
      };
      const timer = setTimeout(() => { done(); reject(new Error(`timed out waiting for ${what}\nstdout: ${this.stdout.slice(-1500)}\nstderr: ${this.stderr.slice(-1500)}`)); }, ms);
      this.waiters.push(check);
      check();
    });
  }
}

/** Whether `unshare -n` works here (root, or a user namespace allowed): then installs run with loopback only. */
function networkIsolation(): string[] | undefined {
  if (!onPath('unshare') || !onPath('ip', ['/usr/sbin', '/sbin'])) return undefined;
  const probe = spawnSync('unshare', ['-n', '--', 'sh', '-c', 'ip link set lo up'], { encoding: 'utf8', env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  return probe.status === 0 ? ['unshare', '-n', '--', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'] : undefined;
}

describe('installed from the packed tarball (npm pack, npm install -g)', function () {
  this.timeout(60_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let prefix: string;
  let pkg: string;
  let tarball: string;
  let packed: string[];
  let isolation: string[] | undefined;
  let npmCache: string;
  /** PATH as on a server: the prefix's bin and the system's, nothing from this repository. */
  let env: NodeJS.ProcessEnv;

  /** npm against the lockfile registry, offline (in a network namespace with loopback only, when possible). */
  function npmOffline(args: string[], cwd: string): Promise<Result> {
    const npm = ['npm', ...args, '--cache', path.join(tmp.dir, 'npm-cache'), '--no-audit', '--no-fund', '--no-update-notifier'];
    const command = [...(isolation ?? []), process.execPath, '--import', TSX, REGISTRY_SCRIPT, path.join(ROOT, 'package-lock.json'), npmCache, '--', ...npm];
    return run(command[0], command.slice(1), { cwd, env: { ...process.env, PATH: `${process.env.PATH}:/usr/sbin:/sbin` } });
  }

  before(async function () {
    this.timeout(180_000);
    tmp = await tempDir('visor-install-');
    prefix = path.join(tmp.dir, 'prefix');
    pkg = path.join(prefix, 'lib', 'node_modules', 'visor');
    env = { PATH: [path.join(prefix, 'bin'), path.dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'].join(':'), HOME: tmp.dir, LANG: 'C.UTF-8' };
    isolation = networkIsolation();
    if (!isolation) console.log('    note: unshare -n is not permitted here: the install uses only the loopback registry, without a network namespace to prove it');
    npmCache = (await run('npm', ['config', 'get', 'cache'])).stdout.trim();
    // `prepare` builds dist/ with tsc at pack time: the tarball carries the compiled package, never sources.
    // Packed from a copy of the checkout (its node_modules linked): that build rewrites every file of dist/, and
    // under mocha --parallel the other worker's tests start the CLI from ROOT's dist/ at any moment.
    const source = path.join(tmp.dir, 'source');
    await cp(ROOT, source, { recursive: true, filter: (src) => !NOT_COPIED.has(path.relative(ROOT, src)) });
    await symlink(realpathSync(path.join(ROOT, 'node_modules')), path.join(source, 'node_modules'));
    const pack = await run('npm', ['pack', '--json', '--pack-destination', tmp.dir], { cwd: source });
    assert.equal(pack.code, 0, pack.stderr);
    const info = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    tarball = path.join(tmp.dir, info[0].filename);
    packed = info[0].files.map((f) => f.path);
    const install = await npmOffline(['install', '-g', '--prefix', prefix, '--allow-scripts=better-sqlite3', `./${info[0].filename}`], tmp.dir);
    assert.equal(install.code, 0, `npm install -g failed:\n${install.stdout}\n${install.stderr}`);
  });

  after(async () => {
    await tmp?.remove();
  });

  it('packs the built package: compiled commands, types, the page, configs and the unit; no sources, no tests', () => {
    for (const f of ['bin/run.js', 'dist/bin/commands/run.js', 'dist/core/index.js', 'dist/core/index.d.ts', 'dist/core/testing/index.d.ts',
      'lib/dashboard/page/app.js', 'lib/dashboard/page/app.css', 'lib/dashboard/page/panels.js', 'lib/dashboard/page/panels.css', 'lib/dashboard/page/error-log.js', 'lib/dashboard/page/attacks.js', 'configs/demo.yaml', 'configs/systemd/visor.service', 'PLUGINS.md', 'README.md']) {
      assert.ok(packed.includes(f), `${f} is in the tarball`);
    }
    assert.deepEqual(packed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')), []);
    assert.deepEqual(packed.filter((f) => f.startsWith('dist/test/')), []);
  });

  it('gives a visor command in the prefix that runs from anywhere', async () => {
    const link = path.join(prefix, 'bin', 'visor');
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(path.resolve(path.dirname(link), readlinkSync(link)), path.join(pkg, 'bin', 'run.js'));
    const r = await run('visor', ['--version'], { cwd: tmp.dir, env });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^visor/${VERSION.replace(/\./g, '\\.')} `));
  });

  it('validates the shipped configs', async () => {
    for (const config of ['demo.yaml', 'apache-tail.yaml', 'alerting.yaml']) {
      const r = await run('visor', ['validate', '-c', path.join(pkg, 'configs', config)], { cwd: tmp.dir, env });
      assert.equal(r.code, 0, `${config}: ${r.stdout}${r.stderr}`);
    }
    const bad = await run('visor', ['validate', '-c', await tmp.file('bad.yaml', 'inputs: { in: { type: stdn } }\n')], { cwd: tmp.dir, env });
    assert.equal(bad.code, 78, bad.stderr);
  });

  it('runs the demo with its dashboard: the page and its assets (uPlot from node_modules, page/) are served', async () => {
    const port = await freePort();
    const data = path.join(tmp.dir, 'demo-data');
    const agent = new Running(spawn('visor', ['run', '-c', path.join(pkg, 'configs', 'demo.yaml')], {
      cwd: tmp.dir, env: { ...env, VISOR_DATA_DIR: data, DASHBOARD_LISTEN: `127.0.0.1:${port}` }, stdio: ['pipe', 'pipe', 'pipe'],
    }));
    try {
      await agent.waitFor(() => /dashboard listening/.test(agent.stderr), 'the dashboard to listen');
      const page = await fetch(`http://127.0.0.1:${port}/`);
      assert.equal(page.status, 200);
      const html = await page.text();
      const assets = [...html.matchAll(/(?:href|src)="(assets\/[^"]+)"/g)].map((m) => m[1]);
      assert.deepEqual(assets.sort(), ['assets/app.css', 'assets/app.js', 'assets/attacks.js', 'assets/error-log.js', 'assets/panels.css', 'assets/panels.js', 'assets/uPlot.iife.min.js', 'assets/uPlot.min.css']);
      const expected: Record<string, [string, RegExp]> = {
        'assets/app.js': [path.join(pkg, 'lib/dashboard/page/app.js'), /javascript/],
        'assets/app.css': [path.join(pkg, 'lib/dashboard/page/app.css'), /css/],
        'assets/error-log.js': [path.join(pkg, 'lib/dashboard/page/error-log.js'), /javascript/],
        'assets/panels.js': [path.join(pkg, 'lib/dashboard/page/panels.js'), /javascript/],
        'assets/attacks.js': [path.join(pkg, 'lib/dashboard/page/attacks.js'), /javascript/],
        'assets/panels.css': [path.join(pkg, 'lib/dashboard/page/panels.css'), /css/],
        'assets/uPlot.iife.min.js': [path.join(pkg, 'node_modules/uplot/dist/uPlot.iife.min.js'), /javascript/],
        'assets/uPlot.min.css': [path.join(pkg, 'node_modules/uplot/dist/uPlot.min.css'), /css/],
      };
      for (const a of assets) {
        const res = await fetch(`http://127.0.0.1:${port}/${a}`);
        assert.equal(res.status, 200, a);
        assert.match(res.headers.get('content-type') ?? '', expected[a][1], a);
        const body = Buffer.from(await res.arrayBuffer());
        assert.ok(body.length > 1000, `${a}: ${body.length} bytes`);
        assert.ok(body.equals(readFileSync(expected[a][0])), `${a} is the installed package's file`);
      }
      // The pipeline runs: the generator's traffic reaches the dashboard's state (published once a second).
      await waitUntil(async () => {
        const state = await (await fetch(`http://127.0.0.1:${port}/api/state`)).json() as { totals: { requests: number } };
        return state.totals.requests > 0;
      }, 'requests on /api/state', 10_000);
    } finally {
      agent.child.kill('SIGTERM');
    }
    const result = await agent.exited;
    assert.equal(result.code, 0, result.stderr);
  });

  it('stores into SQLite with the installed better-sqlite3', async function () {
    const sqlite3 = onPath('sqlite3');
    skipWhenMissing(this, sqlite3 ? undefined : 'sqlite3 is not installed (Debian package sqlite3)');
    const db = path.join(tmp.dir, 'store.db');
    const config = await tmp.file('store.yaml', `service: { data_dir: ${path.join(tmp.dir, 'store-data')} }
inputs: { in: { type: stdin } }
filters: { access: { type: apache_access, inputs: [in], format: combined } }
outputs: { db: { type: store, inputs: [access], path: ${db}, events: true } }
`);
    const line = (i: number) => `203.0.113.${i} - - [02/Dec/2026:10:00:0${i} +0000] "GET /p${i} HTTP/1.1" 200 ${100 + i} "-" "curl/8"`;
    const r = await run('visor', ['run', '-c', config], { cwd: tmp.dir, env, input: [1, 2, 3].map(line).join('\n') + '\n' });
    assert.equal(r.code, 0, r.stderr);
    const q = spawnSync(sqlite3!, [db, 'SELECT count(*), sum(bytes) FROM events'], { encoding: 'utf8' });
    assert.equal(q.stdout.trim(), '3|306', q.stderr);
  });

  it('reads Apache-style logs (root:adm 0640 in a root:adm 0750 directory) as an unprivileged user in group adm, as User=visor Group=adm', async function () {
    const setpriv = onPath('setpriv');
    if (process.getuid?.() !== 0 || !setpriv) {
      skipWhenMissing(this, process.getuid?.() === 0 ? 'setpriv is not installed (util-linux)' : undefined);
      console.log('    skipped: needs root to create root:adm files and drop to another user');
      this.skip();
    }
    const UID = 65534; // nobody: a user with no rights of its own, as the unit's visor
    const ADM = 4; // Debian's adm group, which owns /var/log/apache2 and its logs
    const { chmod, chown } = await import('node:fs/promises');
    await chmod(tmp.dir, 0o755); // the prefix is inside it; nothing secret here
    const logs = path.join(tmp.dir, 'apache2');
    await mkdir(logs);
    await chown(logs, 0, ADM);
    await chmod(logs, 0o750);
    const access = path.join(logs, 'access.log');
    await writeFile(access, '203.0.113.9 - - [02/Dec/2026:10:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"\n');
    await chown(access, 0, ADM);
    await chmod(access, 0o640);
    const config = await tmp.file('adm.yaml', `service: { data_dir: "\${VISOR_DATA_DIR}" }
inputs: { log: { type: tail, path: ${logs}/*access.log, read_from: beginning, exit_on_eof: true } }
filters: { access: { type: apache_access, inputs: [log], format: combined } }
outputs: { out: { type: stdout, inputs: [access], format: json } }
`);
    await chmod(config, 0o644);
    const asUser = async (gid: number, name: string) => {
      const data = path.join(tmp.dir, `data-${name}`);
      await mkdir(data);
      await chown(data, UID, gid);
      const wrap = [setpriv!, `--reuid=${UID}`, `--regid=${gid}`, '--clear-groups', '--no-new-privs', '--inh-caps=-all', '--bounding-set=-all', '--'];
      return new Running(spawn(wrap[0], [...wrap.slice(1), path.join(prefix, 'bin', 'visor'), 'run', '-c', config], {
        cwd: tmp.dir, env: { ...env, VISOR_DATA_DIR: data }, stdio: ['ignore', 'pipe', 'pipe'],
      }));
    };
    const adm = await asUser(ADM, 'adm');
    const result = await adm.exited;
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /"client_ip":"203\.0\.113\.9"/);
    // The same user without group adm reads nothing: the directory is closed to it (so the run above proves the
    // group is what gives access), and the tail says why.
    const other = await asUser(65534, 'nogroup');
    const denied = await other.exited;
    assert.match(denied.stderr, /permission denied: this user cannot list the directory.*group adm/);
    assert.ok(denied.stderr.includes(logs), denied.stderr);
    assert.equal(other.stdout, '');
  });

  describe('a TypeScript plugin project (PLUGINS.md, "A plugin project")', () => {
    let project: string;

    before(async function () {
      this.timeout(120_000);
      project = path.join(tmp.dir, 'visor-plugin-greet');
      await mkdir(path.join(project, 'src'), { recursive: true });
      // The files as PLUGINS.md shows them.
      await writeFile(path.join(project, 'package.json'), pluginsMdBlock('package.json'));
      await writeFile(path.join(project, 'tsconfig.json'), pluginsMdBlock('tsconfig.json'));
      await writeFile(path.join(project, 'src', 'index.ts'), pluginsMdBlock('src/index.ts'));
      const install = await npmOffline(['install', '--save-dev', `../${path.basename(tarball)}`, 'typescript', '@types/node@20'], project);
      assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
      const build = await run('npm', ['run', 'build'], { cwd: project, env });
      assert.equal(build.code, 0, `${build.stdout}\n${build.stderr}`);
    });

    it('compiles against the tarball\'s types: a wrong option type is a compile error', async () => {
      assert.ok(existsSync(path.join(project, 'dist', 'index.js')));
      const wrong = (await readFile(path.join(project, 'src', 'index.ts'), 'utf8')).replace('options.greeting +', 'options.greeting * 2 +');
      await writeFile(path.join(project, 'src', 'wrong.ts'), wrong);
      const r = await run(path.join(project, 'node_modules', '.bin', 'tsc'), ['-p', '.', '--noEmit'], { cwd: project, env });
      assert.notEqual(r.code, 0);
      assert.match(r.stdout, /wrong\.ts.*error TS2362/);
      await writeFile(path.join(project, 'src', 'wrong.ts'), 'export {};\n');
    });

    it('packed and installed globally beside visor, is found by its package name from a config without node_modules', async () => {
      const pack = await run('npm', ['pack', '--json'], { cwd: project, env });
      assert.equal(pack.code, 0, pack.stderr);
      const [{ filename, files }] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
      assert.deepEqual(files.map((f) => f.path).filter((f) => !f.startsWith('dist/')), ['package.json']);
      const install = await npmOffline(['install', '-g', '--prefix', prefix, `./${filename}`], project);
      assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
      const etc = path.join(tmp.dir, 'etc-visor');
      await mkdir(etc);
      await writeFile(path.join(etc, 'visor.yaml'), `service: { plugins: [visor-plugin-greet], data_dir: ${path.join(tmp.dir, 'etc-data')} }
inputs: { in: { type: stdin } }
filters: { greeted: { type: greet, inputs: [in] } }
outputs: { out: { type: stdout, inputs: [greeted], format: json } }
`);
      const r = await run('visor', ['run', '-c', path.join(etc, 'visor.yaml')], { cwd: tmp.dir, env, input: 'world\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '{"message":"hello, world"}\n');
    });

    it('is loaded by the installed visor, its metric gets the visor_ prefix, and SIGHUP keeps the code it loaded', async () => {
      const port = await freePort();
      const log = path.join(tmp.dir, 'greet.log');
      writeFileSync(log, 'one\n');
      const config = path.join(project, 'pipeline.yaml');
      await writeFile(config, `service:
  plugins: [./dist/index.js]
  data_dir: ${path.join(tmp.dir, 'greet-data')}
  http: { listen: 127.0.0.1:${port} }
inputs: { lines: { type: tail, path: ${log}, read_from: beginning } }
filters: { greeted: { type: greet, inputs: [lines], greeting: 'hello, ' } }
outputs: { out: { type: stdout, inputs: [greeted], format: json } }
`);
      const agent = new Running(spawn('visor', ['run', '-c', config], { cwd: tmp.dir, env, stdio: ['pipe', 'pipe', 'pipe'] }));
      try {
        await agent.waitFor(() => /"message":"hello, one"/.test(agent.stdout), 'the greeted line');
        const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        assert.match(metrics, /^visor_greet_greeted_total\{component_id="greeted",component_kind="filter",component_type="greet"\} 1$/m);
        // Change the compiled code, reload: the module already imported is what runs.
        const js = path.join(project, 'dist', 'index.js');
        await copyFile(js, `${js}.orig`);
        writeFileSync(js, readFileSync(js, 'utf8').replace('options.greeting +', '"changed: " + options.greeting +'));
        agent.child.kill('SIGHUP');
        await agent.waitFor(() => /configuration reloaded/.test(agent.stderr), 'the reload');
        appendFileSync(log, 'two\n');
        await agent.waitFor(() => /"message":"hello, two"/.test(agent.stdout), 'the second line, greeted by the code loaded first');
        assert.doesNotMatch(agent.stdout, /changed: /);
        await copyFile(`${js}.orig`, js);
      } finally {
        agent.child.kill('SIGTERM');
      }
      const result = await agent.exited;
      assert.equal(result.code, 0, result.stderr);
    });
  });
});

/** The fenced block of PLUGINS.md that follows a line naming `file` — the test runs the documented example. */
function pluginsMdBlock(file: string): string {
  const md = readFileSync(path.join(ROOT, 'PLUGINS.md'), 'utf8');
  const at = md.indexOf(`\`${file}\`:\n`);
  assert.ok(at >= 0, `PLUGINS.md shows ${file}`);
  const m = /```\w*\n([\s\S]*?)```/.exec(md.slice(at));
  assert.ok(m, `a code block after ${file}`);
  return m[1];
}

describe('configs/systemd/visor.service', () => {
  const unit = path.join(ROOT, 'configs', 'systemd', 'visor.service');
  let analyze: string | undefined;
  let tmp: Awaited<ReturnType<typeof tempDir>>;

  before(async function () {
    analyze = onPath('systemd-analyze');
    skipWhenMissing(this, analyze ? undefined : 'systemd-analyze is not installed (Debian package systemd)');
    tmp = await tempDir('visor-unit-');
  });
  after(async () => { await tmp?.remove(); });

  /** The unit with ExecStart pointing at an executable that exists here (verify checks it). */
  async function unitHere(edit = (s: string) => s): Promise<string> {
    const text = (await readFile(unit, 'utf8')).replace('/usr/local/bin/visor', path.join(ROOT, 'bin', 'run.js'));
    return tmp.file('visor.service', edit(text));
  }

  it('passes systemd-analyze verify with nothing to say (and verify does read its directives)', async () => {
    const ok = spawnSync(analyze!, ['verify', await unitHere()], { encoding: 'utf8' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout + ok.stderr, '');
    const typo = spawnSync(analyze!, ['verify', await unitHere((s) => s.replace(/^ProtectSystem=strict$/m, 'ProtectSystm=strict'))], { encoding: 'utf8' });
    assert.match(typo.stderr, /Unknown key 'ProtectSystm'/);
  });

  it('reloads with SIGHUP, runs as visor:adm, may write only /var/lib/visor, and rates OK in systemd-analyze security', async () => {
    const text = readFileSync(unit, 'utf8');
    for (const line of ['ExecReload=/bin/kill -HUP $MAINPID', 'User=visor', 'Group=adm', 'ProtectSystem=strict', 'ReadWritePaths=/var/lib/visor',
      'NoNewPrivileges=yes', 'PrivateTmp=yes', 'ProtectHome=yes', 'ExecStart=/usr/local/bin/visor run -c /etc/visor/visor.yaml']) {
      assert.ok(text.split('\n').includes(line), line);
    }
    assert.doesNotMatch(text, /^MemoryDenyWriteExecute=yes/m, 'V8 needs writable executable memory');
    const sec = spawnSync(analyze!, ['security', '--offline=yes', await unitHere()], { encoding: 'utf8' });
    const m = /Overall exposure level for \S+: ([\d.]+)/.exec(sec.stdout);
    assert.ok(m, sec.stdout + sec.stderr);
    assert.ok(Number(m[1]) <= 2.0, `exposure ${m[1]} (systemd rates up to 2.0 as OK)`);
  });
});
