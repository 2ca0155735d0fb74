// An npm registry on loopback that serves exactly the packages of the repository's package-lock.json, their tarballs
// read from npm's own cache (which `npm ci` filled), so that `npm install -g ./visor-*.tgz` can be tested with no
// network at all. A plain `--offline` install cannot do it: installing a tarball resolves its dependencies' version
// ranges, which needs each package's metadata (its packument), and `npm ci` caches tarballs only, never packuments.
// Run as a script (`node --import tsx npm-registry.ts LOCKFILE CACHE -- COMMAND...`) it serves while COMMAND runs
// with npm_config_registry pointing at it, and exits with its status (1 when something was not found): the test
// runs that inside `unshare -n`, with only loopback up.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

interface LockEntry {
  name?: string;
  version?: string;
  resolved?: string;
  integrity?: string;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, unknown>;
  bin?: Record<string, string> | string;
  engines?: Record<string, string>;
  os?: string[];
  cpu?: string[];
  libc?: string[];
  hasInstallScript?: boolean;
}

export interface LocalRegistry {
  url: string;
  /** Every path requested, in order. */
  requests: string[];
  /** Requests it could not answer (a package not in the lockfile, a tarball not in the cache), except the
   * optional peer dependencies npm asks after and does without (pg-native). */
  missing: string[];
  close(): Promise<void>;
}

/** Where cacache keeps content of that integrity (`sha512-BASE64`): content-v2/ALGO/xx/yy/rest-of-hex. */
function cachedContent(cacheDir: string, integrity: string): string {
  const [algo, b64] = integrity.split(' ')[0].split(/-(.*)/s);
  const hex = Buffer.from(b64, 'base64').toString('hex');
  return path.join(cacheDir, '_cacache', 'content-v2', algo, hex.slice(0, 2), hex.slice(2, 4), hex.slice(4));
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  const pb = b.split(/[.+-]/).map((x) => (/^\d+$/.test(x) ? Number(x) : x));
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? -1, y = pb[i] ?? -1;
    if (x === y) continue;
    return typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
  }
  return 0;
}

/** Serves the lockfile's registry packages. `files` adds other downloads by path (prebuilt native binaries). */
export async function startLockfileRegistry(lockfile: string, cacheDir: string, files: Record<string, Buffer> = {}): Promise<LocalRegistry> {
  const lock = JSON.parse(readFileSync(lockfile, 'utf8')) as { packages: Record<string, LockEntry> };
  const byName = new Map<string, Map<string, LockEntry>>();
  const optionalPeers = new Set<string>();
  for (const [key, entry] of Object.entries(lock.packages)) {
    for (const [peer, meta] of Object.entries(entry.peerDependenciesMeta ?? {})) if ((meta as { optional?: boolean }).optional) optionalPeers.add(peer);
    // Registry packages only: this lockfile records no `resolved` for them (links and git/file sources do).
    if (!key || entry.link || !entry.version || !entry.integrity || (entry.resolved && !entry.resolved.startsWith('https://registry.npmjs.org/'))) continue;
    const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    if (!byName.has(name)) byName.set(name, new Map());
    byName.get(name)!.set(entry.version, entry);
  }
  const requests: string[] = [];
  const missing: string[] = [];
  let base = '';
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent((req.url ?? '/').split('?')[0]);
    requests.push(url);
    const fail = () => { if (!optionalPeers.has(url.slice(1))) missing.push(url); res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}'); };
    if (Object.prototype.hasOwnProperty.call(files, url)) {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(files[url]);
      return;
    }
    // Tarballs: /-/NAME/VERSION.tgz (our own scheme: dist.tarball below says where).
    const tarball = /^\/-\/(.+)\/([^/]+)\.tgz$/.exec(url);
    if (tarball) {
      const entry = byName.get(tarball[1])?.get(tarball[2]);
      const file = entry && cachedContent(cacheDir, entry.integrity!);
      if (!file || !existsSync(file)) return fail();
      res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(readFileSync(file));
      return;
    }
    const versions = byName.get(url.slice(1));
    if (!versions) return fail();
    const name = url.slice(1);
    const manifests: Record<string, unknown> = {};
    for (const [version, e] of versions) {
      manifests[version] = {
        name, version,
        dependencies: e.dependencies, optionalDependencies: e.optionalDependencies,
        peerDependencies: e.peerDependencies, peerDependenciesMeta: e.peerDependenciesMeta,
        bin: e.bin, engines: e.engines, os: e.os, cpu: e.cpu, libc: e.libc,
        hasInstallScript: e.hasInstallScript,
        dist: { tarball: `${base}/-/${name}/${version}.tgz`, integrity: e.integrity },
      };
    }
    const latest = [...versions.keys()].sort(compareVersions).at(-1);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ name, 'dist-tags': { latest }, versions: manifests }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base, requests, missing,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** better-sqlite3's prebuilt binary as prebuild-install downloads it from GitHub (build/Release/*.node in a
 * .tar.gz), made from the copy `npm ci` compiled for this Node: served from `hostPath`, it spares the install a
 * 1-2 minute compile of SQLite. Its URL is what prebuild-install asks for with npm_config_better_sqlite3_binary_host. */
export function betterSqlitePrebuild(root: string, hostPath: string): Record<string, Buffer> {
  const pkgDir = path.join(root, 'node_modules', 'better-sqlite3');
  const { version } = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string };
  const name = `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'visor-prebuild-'));
  try {
    const out = path.join(tmp, name);
    const tar = spawnSync('tar', ['czf', out, '-C', pkgDir, 'build/Release/better_sqlite3.node']);
    if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);
    return { [`${hostPath}/v${version}/${name}`]: readFileSync(out) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

// As a script: serve, run the command with npm (and prebuild-install) pointed at it, exit with its status.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const [lockfile, cacheDir, dashes, ...command] = process.argv.slice(2);
  if (dashes !== '--' || command.length === 0) throw new Error('usage: npm-registry.ts LOCKFILE CACHE -- COMMAND...');
  const root = path.dirname(lockfile);
  const registry = await startLockfileRegistry(lockfile, cacheDir, betterSqlitePrebuild(root, '/prebuilds'));
  const child = spawn(command[0], command.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, npm_config_registry: registry.url, npm_config_better_sqlite3_binary_host: `${registry.url}/prebuilds` },
  });
  const code = await new Promise<number>((resolve) => child.on('close', (c, signal) => resolve(c ?? (signal ? 128 : 1))));
  await registry.close();
  process.stderr.write(`local registry: ${registry.requests.length} requests\n`);
  if (registry.missing.length) process.stderr.write(`local registry: not found (is npm's cache filled by npm ci?): ${registry.missing.join(', ')}\n`);
  process.exit(code || (registry.missing.length ? 1 : 0));
}
