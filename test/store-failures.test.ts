// The store output when its database fails, with real components: `visor run` (tail -> apache_access -> store,
// its /health and /metrics over real HTTP) against a SQLite file that Debian's sqlite3 CLI holds locked, a SQLite
// file on a real filesystem that fills up (a small tmpfs), and a real PostgreSQL served over TLS with a certificate
// made here by openssl (a throwaway CA), that is down at start, or refuses the password. Each time: write() fails and
// the core retries with backoff (no busy loop), nothing is acknowledged (the tail's committed checkpoint stays before
// the unwritten lines), /health names the store and says why (never the password), good rows are never dead-lettered
// for a failure of the database, and once it is fixed every line arrives exactly once. Plus the error classification
// (which failures are retried and which rows are refused one at a time) and the tls option's file checks.
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { appendFile, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Event, OutputInstance, PluginContext } from '../core/index.js';
import { MetricsHub } from '../core/runtime/metrics.js';
import { describeError, refusesRow } from '../lib/store/index.js';
import storePlugin from '../plugins/outputs/store/index.js';
import { pluginContext } from './support/corpora.js';
import { CliProcess, freePort, onPath, runCli, skipWhenMissing, tempDir } from './support/helpers.js';
import { PostgresServer, postgresMissing } from './support/postgres.js';
import { accessLog, recount } from './support/store.js';
import { checkpointOf, sleep, waitUntil } from './support/tail-harness.js';

const run = promisify(execFile);
const SQLITE3 = onPath('sqlite3');
const OPENSSL = onPath('openssl');

/** tail (positions, checkpoints every 100 ms, runs until stopped) -> apache_access -> store (events only, so that a
 * line is acknowledged as soon as its row commits), with a short retry schedule and /health on `port`. */
function failureConfig(port: number, store: string): string {
  return `service: { data_dir: ./state, log_level: warn, grace: 2s, http: { listen: "127.0.0.1:${port}" } }
inputs:
  logs: { type: tail, path: access.log, read_from: beginning, position_field: position, checkpoint_interval: 100ms, batch_size: 200 }
filters:
  access: { type: apache_access, inputs: [logs], timezone: UTC }
outputs:
  db: { type: store, inputs: [access], events: true, agent: test-agent, rollups: [], retry: { backoff: 200ms, max_backoff: 1s }, ${store} }
  unparsed: { type: blackhole, inputs: [access._unparsed] }
`;
}

interface Health { status: number; body: { healthy: boolean; components?: Record<string, { healthy: boolean; reason?: string; details?: Record<string, unknown> }> } }
async function health(port: number): Promise<Health | undefined> {
  const r = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
  return r ? { status: r.status, body: await r.json() as Health['body'] } : undefined;
}
/** Waits until /health is 503 with the store's reason matching `re`; returns that reason. */
async function unhealthyStore(port: number, re: RegExp, p: CliProcess, ms = 20_000): Promise<string> {
  let last: Health | undefined;
  await waitUntil(async () => {
    last = await health(port);
    return last?.status === 503 && re.test(last.body.components?.db?.reason ?? '');
  }, `/health to say ${re}`, ms, () => `${JSON.stringify(last?.body)}\n${p.stderr.slice(-2000)}`);
  return last!.body.components!.db.reason!;
}
async function healthy(port: number, p: CliProcess): Promise<void> {
  let last: Health | undefined;
  await waitUntil(async () => (last = await health(port))?.status === 200, '/health 200', 20_000, () => `${JSON.stringify(last?.body)}\n${p.stderr.slice(-2000)}`);
}
/** The store's failed writes so far (visor_component_errors_total{component_id="db",error_type="write"}). */
async function writeErrors(port: number): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('visor_component_errors_total{') && l.includes('component_id="db"') && l.includes('error_type="write"'));
  const m = line && /\} (\d+)$/.exec(line);
  return m ? Number(m[1]) : 0;
}

const TICK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** CPU time (user + system, ms) a process has used, from /proc. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / TICK;
}

/** Rows in a SQLite store's events table, read by the sqlite3 CLI (-1 before the agent created it). */
function storedEvents(db: string): number {
  try {
    return Number(execFileSync(SQLITE3!, ['-readonly', '-cmd', '.timeout 5000', db, 'SELECT count(*) FROM events'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim());
  } catch {
    return -1;
  }
}

/** Byte offset after `n` lines. */
const bytesOf = (lines: string[]) => lines.reduce((n, l) => n + Buffer.byteLength(l) + 1, 0);

/** Each stored origin is one line's offset, once, and every line is there. */
function assertExactlyOnce(lines: string[], origins: string[]): void {
  const offsets = origins.map((o) => Number(o.slice(o.lastIndexOf(':') + 1)));
  assert.equal(new Set(offsets).size, offsets.length, 'no line stored twice');
  assert.deepEqual(offsets.sort((a, b) => a - b), recount(lines).events.map((e) => e.offset), 'every line stored');
}

/** Holds a lock on a SQLite file from Debian's sqlite3 CLI (another process) until release(). */
async function holdLock(file: string, statement: 'BEGIN EXCLUSIVE' | 'BEGIN IMMEDIATE'): Promise<{ release(): Promise<void>; child: ChildProcess }> {
  const child = spawn(SQLITE3!, [file], { stdio: ['pipe', 'pipe', 'pipe'] });
  // With a busy timeout, in case the agent is committing at that moment.
  child.stdin!.write(`.timeout 5000\n${statement};\nSELECT 'held';\n`);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => { out += d; if (out.includes('held')) resolve(); });
    child.on('close', (code) => reject(new Error(`sqlite3 exited (${code}) before holding the lock`)));
  });
  return {
    child,
    release: async () => {
      const closed = new Promise((r) => child.on('close', r));
      child.stdin!.end('COMMIT;\n');
      await closed;
    },
  };
}

describe('store output: failures of the database (real processes, real HTTP)', function () {
  this.timeout(120_000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let agent: CliProcess | undefined;
  beforeEach(async () => { tmp = await tempDir('visor-store-fail-'); });
  afterEach(async () => {
    if (agent && agent.child.exitCode === null && agent.child.signalCode === null) {
      agent.child.kill('SIGKILL');
      await agent.exited;
    }
    agent = undefined;
    await tmp.remove();
  });

  /** Stops the agent (SIGTERM) and expects a clean exit. */
  async function stop(p: CliProcess): Promise<void> {
    p.child.kill('SIGTERM');
    const r = await p.exited;
    assert.equal(r.code, 0, r.stderr);
  }

  it('classifies failures: the database\'s are retried, a row\'s own are dead-lettered; descriptions say what a code means', () => {
    const err = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    for (const code of ['SQLITE_BUSY', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_LOCKED', 'SQLITE_FULL', 'SQLITE_IOERR', 'SQLITE_IOERR_WRITE', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_CORRUPT']) {
      assert.equal(refusesRow('sqlite', err(code)), false, `${code} is retried`);
    }
    for (const code of ['SQLITE_CONSTRAINT_NOTNULL', 'SQLITE_CONSTRAINT_DATATYPE', 'SQLITE_CONSTRAINT_CHECK', 'SQLITE_MISMATCH', 'SQLITE_TOOBIG']) {
      assert.equal(refusesRow('sqlite', err(code)), true, `${code} is the row's`);
    }
    assert.equal(refusesRow('sqlite', new TypeError('cannot bind')), true);
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', '08006', '08001', '08P01', '53100', '53200', '53300', '57P01', '57P02', '57P03', '57014', '40001', '40P01', '28P01', '3D000', '42P01', 'XX000', '']) {
      assert.equal(refusesRow('postgres', code ? err(code) : new Error('Connection terminated unexpectedly')), false, `${code || 'no code'} is retried`);
    }
    for (const code of ['22P02', '22021', '22003', '22001', '23502', '23505', '23514', '21000', '54000', '42804']) {
      assert.equal(refusesRow('postgres', err(code)), true, `${code} is the row's`);
    }
    assert.equal(describeError(err('SQLITE_BUSY', 'database is locked')), 'database is locked (SQLITE_BUSY: another connection or process holds a lock on the database file)');
    assert.match(describeError(err('SQLITE_FULL', 'database or disk is full')), /^database or disk is full \(SQLITE_FULL: disk full/);
    assert.match(describeError(err('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5')), /ECONNREFUSED: nothing listens/);
    assert.equal(describeError(err('23514', 'new row violates check constraint "c"')), 'new row violates check constraint "c" (23514)');
    assert.equal(describeError(err('SQLITE_CONSTRAINT_DATATYPE', 'cannot store REAL value in INTEGER column events.status')), 'cannot store REAL value in INTEGER column events.status (SQLITE_CONSTRAINT_DATATYPE)');
  });

  describe('SQLite', () => {
    before(function () { skipWhenMissing(this, SQLITE3 ? undefined : 'sqlite3 is not installed (apt-get install sqlite3)'); });

    for (const statement of ['BEGIN EXCLUSIVE', 'BEGIN IMMEDIATE'] as const) {
      it(`locked by another process (sqlite3 holding ${statement}): retried with backoff and no busy loop, /health says locked (busy), the checkpoint waits, then every line once`, async function () {
        const all = accessLog(3000, 21);
        const first = all.slice(0, 1000);
        const log = path.join(tmp.dir, 'access.log');
        await writeFile(log, first.join('\n') + '\n');
        const port = await freePort();
        const db = path.join(tmp.dir, 'out.db');
        const config = await tmp.file('c.yaml', failureConfig(port, 'path: out.db'));
        const p = (agent = new CliProcess(['run', '-c', config], { cwd: tmp.dir }));
        const stored = () => storedEvents(db);
        const checkpoint = () => checkpointOf(path.join(tmp.dir, 'state'), log);
        await waitUntil(async () => existsSync(db) && stored() === 1000 && (await checkpoint()) === bytesOf(first), 'the first 1000 lines stored and checkpointed', 30_000, () => p.stderr);
        await healthy(port, p);

        const lock = await holdLock(db, statement);
        await appendFile(log, all.slice(1000).join('\n') + '\n');
        const reason = await unhealthyStore(port, /database is locked/, p);
        assert.match(reason, /^\d+ consecutive write failures: cannot write to sqlite .*out\.db: database is locked \(SQLITE_BUSY: another connection or process holds a lock on the database file\)$/);
        assert.ok(reason.includes(db), `the reason names the file: ${reason}`);

        // Over 4 s of lock: few attempts (backoff 200 ms doubling to 1 s) and little CPU.
        const errors0 = await writeErrors(port);
        const cpu0 = cpuMs(p.child.pid!);
        await sleep(4000);
        const cpu = cpuMs(p.child.pid!) - cpu0;
        const attempts = (await writeErrors(port)) - errors0;
        assert.ok(attempts >= 2 && attempts <= 8, `attempts during 4 s of lock: ${attempts}`);
        assert.ok(cpu < 1000, `CPU used during 4 s of lock: ${cpu} ms (a busy loop would use most of the 4 s)`);
        assert.equal(stored(), 1000, 'nothing written while locked');
        assert.equal(await checkpoint(), bytesOf(first), 'the committed checkpoint stays before the unwritten lines');
        assert.match(p.stderr, /write failed.*database is locked/, 'the failure is logged');
        assert.ok(!existsSync(path.join(tmp.dir, 'state', 'db', 'rejected.jsonl')), 'nothing dead-lettered for a lock');

        await lock.release();
        await waitUntil(async () => stored() === 3000 && (await checkpoint()) === bytesOf(all), 'every line stored and checkpointed after the lock', 30_000, () => p.stderr);
        await healthy(port, p);
        await stop(p);
        assertExactlyOnce(all, execFileSync(SQLITE3!, ['-readonly', db, 'SELECT origin FROM events'], { encoding: 'utf8' }).trim().split('\n'));
        console.log(`      ${statement}: ${attempts} attempts and ${cpu} ms CPU during 4 s of lock`);
      });
    }

    it('disk full (a real 16 MB tmpfs): retried, /health says disk full with the path, nothing acknowledged nor dead-lettered; space freed: every line once', async function () {
      // A real full filesystem needs mount(2) (root with CAP_SYS_ADMIN, as here and in CI). SQLite's PRAGMA
      // max_page_count is no stand-in set from outside: it is a setting of the connection that runs it (a second
      // connection sees the default again), so the sqlite3 CLI cannot impose it on the agent's connection.
      const mnt = path.join(tmp.dir, 'mnt');
      await mkdir(mnt);
      const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mnt]).then(() => true, (err: Error) => err.message.split('\n')[0]);
      skipWhenMissing(this, mounted === true ? undefined : `cannot mount a tmpfs here (${mounted})`);
      try {
        const all = accessLog(8000, 23);
        const first = all.slice(0, 500);
        const log = path.join(tmp.dir, 'access.log');
        await writeFile(log, first.join('\n') + '\n');
        const port = await freePort();
        const db = path.join(mnt, 'visor.db');
        const config = await tmp.file('c.yaml', failureConfig(port, `path: ${db}, synchronous: normal`));
        const p = (agent = new CliProcess(['run', '-c', config], { cwd: tmp.dir }));
        const stored = () => storedEvents(db);
        const checkpoint = () => checkpointOf(path.join(tmp.dir, 'state'), log);
        await waitUntil(async () => existsSync(db) && stored() === 500 && (await checkpoint()) === bytesOf(first), 'the first 500 lines stored', 30_000, () => p.stderr);
        // Fill what is left of the filesystem (dd stops at ENOSPC).
        await run('dd', ['if=/dev/zero', `of=${path.join(mnt, 'filler')}`, 'bs=64k']).catch(() => undefined);
        await appendFile(log, all.slice(500).join('\n') + '\n');
        const reason = await unhealthyStore(port, /SQLITE_FULL/, p, 30_000);
        assert.match(reason, /cannot write to sqlite .*visor\.db: database or disk is full \(SQLITE_FULL: disk full/);
        assert.ok(reason.includes(db), `the reason names the file: ${reason}`);
        const errors0 = await writeErrors(port);
        await sleep(2500);
        const atFull = stored();
        assert.ok(atFull < all.length, `not everything fit: ${atFull}`);
        const cp = (await checkpoint())!;
        assert.ok(cp <= bytesOf(all.slice(0, atFull)), `the committed checkpoint (${cp}) is not past the stored lines (${atFull})`);
        assert.ok((await writeErrors(port)) - errors0 >= 1, 'still retrying');
        assert.ok(!existsSync(path.join(tmp.dir, 'state', 'db', 'rejected.jsonl')), 'no good row dead-lettered because the disk is full');

        await rm(path.join(mnt, 'filler'));
        await waitUntil(async () => stored() === all.length && (await checkpoint()) === bytesOf(all), 'every line once space is freed', 60_000, () => p.stderr);
        await healthy(port, p);
        await stop(p);
        assertExactlyOnce(all, execFileSync(SQLITE3!, ['-readonly', db, 'SELECT origin FROM events'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 }).trim().split('\n'));
        console.log(`      disk full at ${atFull} of ${all.length} stored lines (${statSync(db).size} bytes of database)`);
      } finally {
        if (agent && agent.child.exitCode === null && agent.child.signalCode === null) {
          agent.child.kill('SIGKILL');
          await agent.exited;
        }
        await run('umount', [mnt]).catch(() => run('umount', ['-l', mnt]));
      }
    });
  });

  describe('PostgreSQL over TLS (a throwaway CA made by openssl; the server refuses plain TCP)', () => {
    let server: PostgresServer;
    let certs: { dir: string; ca: string; otherCa: string };
    let n = 0;
    const PASSWORD = 'Correct-Horse-7';

    before(async function () {
      skipWhenMissing(this, postgresMissing() ?? (OPENSSL ? undefined : 'openssl is not installed (apt-get install openssl)'));
      const dir = (await tempDir('visor-pg-certs-')).dir;
      const ossl = (...args: string[]) => run(OPENSSL!, args, { cwd: dir });
      for (const ca of ['ca', 'other-ca']) {
        await ossl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=Visor test ${ca}`,
          '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
      }
      await ossl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost');
      await writeFile(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
      await ossl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf');
      certs = { dir, ca: path.join(dir, 'ca.pem'), otherCa: path.join(dir, 'other-ca.pem') };
      server = await PostgresServer.start({
        ssl: { cert: path.join(dir, 'server.pem'), key: path.join(dir, 'server.key') },
        // The role visor must give its password; only TLS connections over TCP are accepted.
        hba: ['hostssl all visor 127.0.0.1/32 scram-sha-256', 'hostssl all all 127.0.0.1/32 trust'],
      });
      await server.psql(`CREATE ROLE visor LOGIN SUPERUSER PASSWORD '${PASSWORD}'`);
    });
    after(async () => {
      await server?.destroy();
      if (certs) await rm(certs.dir, { recursive: true, force: true });
    });

    const dbName = () => `visor_tls_${++n}`;
    const rows = (db: string, sql: string) => server.psql(sql, db);
    /** Rows in events (-1 while the agent has not created the table). */
    const stored = async (db: string) => Number(await server.psql('SELECT count(*) FROM events', db).catch(() => '-1'));
    const origins = async (db: string) => (await rows(db, 'SELECT origin FROM events')).split('\n');

    it('verified TLS: rows stored over an encrypted connection (pg_stat_ssl), read back with psql; without tls the server refuses', async () => {
      const db = dbName();
      await server.createDatabase(db);
      const lines = accessLog(2000, 31);
      const log = path.join(tmp.dir, 'access.log');
      await writeFile(log, lines.join('\n') + '\n');
      const port = await freePort();
      const url = `postgres://postgres@127.0.0.1:${server.port}/${db}`;
      const config = await tmp.file('c.yaml', failureConfig(port, `engine: postgres, url: "${url}", timeout: 2s, tls: { ca: ${certs.ca} }`));
      const p = (agent = new CliProcess(['run', '-c', config], { cwd: tmp.dir }));
      await waitUntil(async () => (await stored(db)) === lines.length, 'every line stored', 30_000, () => p.stderr);
      const ssl = await rows(db, "SELECT s.ssl, s.version FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.application_name = 'visor' LIMIT 1");
      assert.match(ssl, /^t\|TLSv1\.[23]$/, `the agent's connection is encrypted: ${ssl}`);
      await healthy(port, p);
      await stop(p);
      assertExactlyOnce(lines, await origins(db));

      // The same store without tls: the server refuses plain TCP, and /health says so.
      await writeFile(config, failureConfig(port, `engine: postgres, url: "${url}", timeout: 2s`));
      const plain = (agent = new CliProcess(['run', '-c', config], { cwd: tmp.dir }));
      const reason = await unhealthyStore(port, /no encryption/, plain);
      assert.match(reason, /cannot write to postgres postgres:\/\/postgres@127\.0\.0\.1:\d+\/visor_tls_\d+: no pg_hba\.conf entry .*no encryption \(28000: PostgreSQL refused the credentials\)/);
      await stop(plain);
    });

    it('a wrong CA: a clear failure in /health and the log, retried, nothing acknowledged; fixed by a reload (SIGHUP): every line exactly once', async () => {
      const db = dbName();
      await server.createDatabase(db);
      const lines = accessLog(1500, 33);
      const log = path.join(tmp.dir, 'access.log');
      await writeFile(log, lines.join('\n') + '\n');
      const port = await freePort();
      const url = `postgres://postgres@127.0.0.1:${server.port}/${db}`;
      const config = await tmp.file('c.yaml', failureConfig(port, `engine: postgres, url: "${url}", timeout: 2s, tls: { ca: ${certs.otherCa} }`));
      const p = (agent = new CliProcess(['run', '-c', config], { cwd: tmp.dir }));
      const reason = await unhealthyStore(port, /certificate/, p);
      assert.match(reason, /cannot write to postgres .*: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE: the server's TLS certificate does not verify \(check tls\.ca and tls\.servername\)\)/);
      await waitUntil(async () => (await writeErrors(port)) >= 3, 'three failed attempts', 20_000, () => p.stderr);
      assert.match(p.stderr, /store not reachable at start; writes will retry.*UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
      assert.match(p.stderr, /write failed.*unable to verify the first certificate/);
      assert.equal(await rows(db, "SELECT count(*) FROM pg_tables WHERE tablename = 'events'"), '0', 'nothing reached the database');
      assert.equal(await checkpointOf(path.join(tmp.dir, 'state'), log) ?? 0, 0, 'nothing acknowledged');

      await writeFile(config, failureConfig(port, `engine: postgres, url: "${url}", timeout: 2s, tls: { ca: ${certs.ca} }`));
      p.child.kill('SIGHUP');
      await waitUntil(async () => (await stored(db)) === lines.length
        && (await checkpointOf(path.join(tmp.dir, 'state'), log)) === bytesOf(lines), 'every line stored after the reload', 30_000, () => p.stderr);
      await healthy(port, p);
      await stop(p);
      assertExactlyOnce(lines, await origins(db));
    });

    it('the server down at start: the agent starts, /health says why without the password, and every line arrives once it is up', async () => {
      const db = dbName();
      await server.createDatabase(db);
      const lines = accessLog(1500, 35);
      await writeFile(path.join(tmp.dir, 'access.log'), lines.join('\n') + '\n');
      const port = await freePort();
      const url = `postgres://visor:${PASSWORD}@127.0.0.1:${server.port}/${db}`;
      const config = await tmp.file('c.yaml', failureConfig(port, `engine: postgres, url: "${url}", timeout: 2s, tls: { ca: ${certs.ca} }`));
      await server.stop();
      let up = false;
      try {
        const p = (agent = new CliProcess(['run', '-c', config], { cwd: tmp.dir }));
        const reason = await unhealthyStore(port, /ECONNREFUSED/, p);
        assert.match(reason, /cannot write to postgres postgres:\/\/visor:\*\*\*@127\.0\.0\.1:\d+\/visor_tls_\d+: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(ECONNREFUSED: nothing listens at that address/);
        const body = JSON.stringify((await health(port))!.body);
        assert.ok(!body.includes(PASSWORD), `/health shows no password: ${body}`);
        await waitUntil(async () => (await writeErrors(port)) >= 2, 'retries', 20_000, () => p.stderr);
        await server.resume();
        up = true;
        await waitUntil(async () => (await stored(db)) === lines.length, 'every line once the server is up', 30_000, () => p.stderr);
        await healthy(port, p);
        await stop(p);
        assert.ok(!p.stderr.includes(PASSWORD), 'the log shows no password');
        assert.match(p.stderr, /write failed/);
        assertExactlyOnce(lines, await origins(db));
      } finally {
        if (!up) await server.resume();
      }
    });

    it('a wrong password: /health and the log say authentication failed, never the password', async () => {
      const db = dbName();
      await server.createDatabase(db);
      await writeFile(path.join(tmp.dir, 'access.log'), accessLog(10, 37).join('\n') + '\n');
      const port = await freePort();
      const wrong = 'Wrong-Battery-9';
      const config = await tmp.file('c.yaml', failureConfig(port, `engine: postgres, url: "postgres://visor:${wrong}@127.0.0.1:${server.port}/${db}", timeout: 2s, tls: { ca: ${certs.ca} }`));
      const p = (agent = new CliProcess(['run', '-c', config], { cwd: tmp.dir }));
      const reason = await unhealthyStore(port, /password authentication failed/, p);
      assert.match(reason, /postgres:\/\/visor:\*\*\*@127\.0\.0\.1:\d+\/visor_tls_\d+: password authentication failed for user "visor" \(28P01: PostgreSQL refused the credentials\)/);
      await waitUntil(async () => (await writeErrors(port)) >= 2, 'retries', 20_000, () => p.stderr);
      const body = JSON.stringify((await health(port))!.body);
      for (const secret of [wrong, PASSWORD]) {
        assert.ok(!body.includes(secret), `/health shows no password: ${body}`);
        assert.ok(!p.stderr.includes(secret), `the log shows no password: ${p.stderr}`);
      }
      await stop(p).catch(() => undefined);
    });

    it('a row the database refuses (a CHECK constraint, 23514) is dead-lettered alone; the rest of its batch commits', async () => {
      const db = dbName();
      const url = await server.createDatabase(db);
      const hub = new MetricsHub();
      const base = pluginContext('db', 'store', hub, 'output');
      const dataDir = path.join(tmp.dir, 'db');
      const context: PluginContext = { ...base, configDir: tmp.dir, dataDir: async () => { await mkdir(dataDir, { recursive: true }); return dataDir; } };
      const out = (await storePlugin.create({
        engine: 'postgres', url, tls: { ca: certs.ca }, synchronous: 'full', busy_timeout: 100, timeout: 10_000, events: true, event_exclude: [], position_field: 'position',
        kafka_field: 'kafka', batch_size: 2000, batch_timeout: 50, agent: 'a1', rollups: [], retention: {}, retention_interval: 600_000,
      } as never, context)) as OutputInstance;
      await out.start?.();
      await rows(db, 'ALTER TABLE events ADD CONSTRAINT status_known CHECK (status < 600)');
      const t = Date.UTC(2026, 0, 1);
      const ev = (i: number, status: number): Event => ({ timestamp: t + i, status, message: `l${i}`, position: { file: 'f', offset: i } });
      await out.write([ev(0, 200), ev(1, 700), ev(2, 404), ev(3, 999), ev(4, 500)]);
      await out.close?.();
      assert.equal(await rows(db, 'SELECT string_agg(status::text, \',\' ORDER BY status) FROM events'), '200,404,500');
      const dead = readFileSync(path.join(dataDir, 'rejected.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(dead.map((d) => d.event.status), [700, 999]);
      for (const d of dead) assert.match(d.error, /violates check constraint "status_known".*23514/);
      assert.equal(hub.snapshot().db.custom['visor_store_rejected_rows_total'], 2);
    });
  });

  it('tls files that do not exist: validate and run report each at its line, with the path; a url whose sslmode would replace tls is refused', async () => {
    await tmp.file('k.pem', 'not checked here: it exists');
    const config = await tmp.file('c.yaml', 'inputs: { i: { type: stdin } }\noutputs:\n  o:\n    type: store\n    inputs: [i]\n    engine: postgres\n    url: "postgres://u:Secret-Pass-1@127.0.0.1:1/db"\n    tls: { ca: missing-ca.pem, cert: c.pem, key: k.pem }\n');
    for (const command of ['validate', 'run']) {
      const r = await runCli([command, '-c', config], { input: '' });
      assert.equal(r.code, 78, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`c\\.yaml:8:\\d+: .*tls\\.ca .*${tmp.dir}/missing-ca\\.pem does not exist`));
      assert.match(r.stderr, new RegExp(`c\\.yaml:8:\\d+: .*tls\\.cert .*${tmp.dir}/c\\.pem does not exist`));
      assert.doesNotMatch(r.stderr, /tls\.key/, 'the key exists');
      assert.doesNotMatch(r.stderr, /Secret-Pass-1/);
    }
    // node-postgres lets a url's sslmode replace the tls option whole (tls.ca ignored): refused, at tls.
    await writeFile(path.join(tmp.dir, 'ca.pem'), 'exists');
    const both = await tmp.file('b.yaml', 'inputs: { i: { type: stdin } }\noutputs:\n  o:\n    type: store\n    inputs: [i]\n    engine: postgres\n    url: "postgres://u:Secret-Pass-1@127.0.0.1:1/db?sslmode=require"\n    tls: { ca: ca.pem }\n');
    const r = await runCli(['validate', '-c', both]);
    assert.equal(r.code, 78, r.stdout + r.stderr);
    assert.match(r.stderr, /b\.yaml:8:\d+: the url's sslmode would replace tls \(its ca and certificates ignored\): remove sslmode from the url, or remove tls/);
    assert.doesNotMatch(r.stderr, /Secret-Pass-1/);
  });
});
