// A real PostgreSQL server for tests: Debian's `postgresql` binaries, a cluster made by initdb in a temporary
// directory, a free port on 127.0.0.1 and its unix socket in that directory. PostgreSQL refuses to run as root,
// so under root initdb and the server run as the `postgres` user (or `nobody`) through runuser. `psql` — a client
// nobody here wrote — is what the tests read the tables back with.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chmod, chown, copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort, onPath } from './helpers.js';

const run = promisify(execFile);

/** The newest installed PostgreSQL's bin directory, or undefined. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0], 'bin') : undefined;
}

/** Why a PostgreSQL server cannot be started here (for skipWhenMissing), or undefined. */
export function postgresMissing(): string | undefined {
  if (!postgresBin()) return 'PostgreSQL is not installed (apt-get install postgresql)';
  if (!onPath('psql')) return 'psql is not installed (apt-get install postgresql-client)';
  return undefined;
}

export interface PostgresServerOptions {
  /** Serve TLS (ssl=on) with this certificate and key (PEM files, copied into the server's directory). */
  ssl?: { cert: string; key: string };
  /** pg_hba.conf lines replacing initdb's (e.g. `hostssl all all 127.0.0.1/32 trust` to refuse plain TCP);
   * the unix socket stays trusted. */
  hba?: string[];
}

/** The environment variable through which test/support/postgres-fixture.ts hands its server to every test file. */
const SHARED_ENV = 'VISOR_TEST_POSTGRES';

/** A server for a test file that neither stops it nor changes its settings, with its own databases: the one the
 * mocha run shares (test/support/postgres-fixture.ts, a global fixture of .mocharc.json, starts it once in mocha's
 * main process; parallel workers inherit its address), else one of the file's own. `release` destroys only the
 * latter. initdb, start and stop took 1.5 + 0.8 s a server on the 2-core machine at load 4, and more under load. */
export async function sharedPostgres(): Promise<{ server: PostgresServer; release(): Promise<void> }> {
  const shared = process.env[SHARED_ENV];
  if (shared) return { server: PostgresServer.attach(shared), release: async () => undefined };
  const server = await PostgresServer.start();
  return { server, release: () => server.destroy() };
}

export class PostgresServer {
  readonly host = '127.0.0.1';
  private sslArgs = '';
  /** Another process's server (attach): other files use it at the same moment, so it is never stopped from here. */
  private shared = false;
  private constructor(readonly dir: string, readonly port: number, private readonly bin: string, private readonly user: string | undefined) {}

  /** Makes this server the one sharedPostgres() gives (in this process and the processes it starts). */
  share(): void {
    process.env[SHARED_ENV] = JSON.stringify({ dir: this.dir, port: this.port, bin: this.bin, user: this.user });
  }

  /** The server another process started and shared (share()). */
  static attach(shared: string): PostgresServer {
    const { dir, port, bin, user } = JSON.parse(shared) as { dir: string; port: number; bin: string; user?: string };
    const server = new PostgresServer(dir, port, bin, user);
    server.shared = true;
    return server;
  }

  /** initdb + start. */
  static async start(options: PostgresServerOptions = {}): Promise<PostgresServer> {
    const bin = postgresBin();
    if (!bin) throw new Error('PostgreSQL is not installed');
    const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-pg-'));
    let user: string | undefined;
    if (process.getuid?.() === 0) {
      user = await run('id', ['-u', 'postgres']).then(() => 'postgres', () => 'nobody');
      const { stdout } = await run('id', ['-u', user]);
      const { stdout: gid } = await run('id', ['-g', user]);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    const server = new PostgresServer(dir, await freePort(), bin, user);
    await server.as('initdb', ['-D', server.data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    if (options.ssl) {
      // The server reads its key as its own user, and refuses a key others can read.
      for (const [name, from] of [['server.crt', options.ssl.cert], ['server.key', options.ssl.key]] as const) {
        const to = path.join(dir, name);
        await copyFile(from, to);
        await chmod(to, 0o600);
        if (user) await run('chown', [user, to]);
      }
      server.sslArgs = ` -c ssl=on -c ssl_cert_file=${path.join(dir, 'server.crt')} -c ssl_key_file=${path.join(dir, 'server.key')}`;
    }
    if (options.hba) {
      const hba = path.join(server.data, 'pg_hba.conf');
      await writeFile(hba, ['local all all trust', ...options.hba].join('\n') + '\n');
      if (user) await run('chown', [user, hba]);
    }
    await server.resume();
    return server;
  }

  private get data(): string {
    return path.join(this.dir, 'data');
  }

  /** A program of the server's bin directory, as the server's user. */
  private async as(program: string, args: string[]): Promise<string> {
    if (this.shared) throw new Error(`${program}: the shared PostgreSQL server is used by other test files at once; a test that stops or restarts its server starts its own (PostgresServer.start)`);
    const cmd = path.join(this.bin, program);
    const [file, argv] = this.user ? ['runuser', ['-u', this.user, '--', cmd, ...args]] : [cmd, args];
    const { stdout } = await run(file, argv, { cwd: this.dir, timeout: 60_000 });
    return stdout;
  }

  url(database = 'postgres'): string {
    return `postgres://postgres@${this.host}:${this.port}/${database}`;
  }

  /** Starts (again, after stop) the server on the same port and data. */
  async resume(): Promise<void> {
    await this.as('pg_ctl', ['-D', this.data, '-l', path.join(this.dir, 'server.log'), '-w', '-t', '60',
      '-o', `-p ${this.port} -k ${this.dir} -c listen_addresses=${this.host}${this.sslArgs}`, 'start']);
  }

  /** Stops the server (fast shutdown: connected clients are disconnected, as in an outage). */
  async stop(): Promise<void> {
    await this.as('pg_ctl', ['-D', this.data, '-m', 'fast', '-w', 'stop']);
  }

  /** Runs SQL with psql; rows as lines, columns separated by |. */
  async psql(sql: string, database = 'postgres'): Promise<string> {
    const { stdout } = await run('psql', ['-X', '-A', '-t', '-q', '-v', 'ON_ERROR_STOP=1', '-h', this.host, '-p', String(this.port), '-U', 'postgres', '-d', database, '-c', sql], { timeout: 60_000, maxBuffer: 512 * 1024 * 1024 });
    return stdout.trim();
  }

  async createDatabase(name: string): Promise<string> {
    await this.psql(`CREATE DATABASE ${name}`);
    return this.url(name);
  }

  /** Stops the server if it runs, and removes its directory. */
  async destroy(): Promise<void> {
    if (this.shared) throw new Error('the shared PostgreSQL server is removed by its fixture at the end of the run, not by a test file');
    await this.stop().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
