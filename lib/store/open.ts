// The engine an output's options name, built from them (the plugin stays wiring only).
import path from 'node:path';
import { loadTlsFiles, type TlsClientOptions } from '../../core/index.js';
import type { StoreEngine } from './engine.js';
import { PostgresEngine } from './postgres.js';
import { SqliteEngine } from './sqlite.js';

export interface EngineOptions {
  engine: 'sqlite' | 'postgres';
  /** SQLite: the database file (relative to baseDir); default `<dataDir>/visor.db`. */
  path?: string;
  synchronous: 'full' | 'normal';
  busy_timeout: number;
  /** PostgreSQL. */
  url?: string;
  tls?: TlsClientOptions;
  timeout: number;
}

/** readOnly: for `visor query` beside a running agent (a reader waits up to 5 s for a lock, e.g. a WAL recovery). */
export async function createEngine(options: EngineOptions, dirs: { baseDir: string; dataDir: () => Promise<string> }, readOnly = false): Promise<StoreEngine> {
  if (options.engine === 'sqlite') {
    const file = options.path ? path.resolve(dirs.baseDir, options.path) : path.join(await dirs.dataDir(), 'visor.db');
    const busyTimeout = readOnly ? Math.max(options.busy_timeout, 5000) : options.busy_timeout;
    return new SqliteEngine({ file, synchronous: options.synchronous, busyTimeout, readOnly });
  }
  if (!options.url) throw new Error('engine: postgres needs url');
  let ssl;
  if (options.tls) {
    const files = await loadTlsFiles(options.tls, dirs.baseDir);
    ssl = {
      ...files, passphrase: options.tls.key_passphrase, rejectUnauthorized: options.tls.reject_unauthorized ?? true,
      ...(options.tls.servername ? { servername: options.tls.servername } : {}),
    };
  }
  return new PostgresEngine({ url: options.url, ssl, timeout: options.timeout, readOnly });
}
