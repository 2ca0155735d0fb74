// Finds and loads plugins. Built-ins are found by scanning the plugins/ directory and loaded exactly as an
// external plugin given by path is: import the module, take its default export (a plugin or an array).
// A config loads only the built-ins it names (indexRegistry + load): importing all of them cost ~100-150 ms of a
// `visor run` start-up (~350 of the ~500 modules it loaded), for plugins the pipeline does not use.
import { statSync } from 'node:fs';
import { access, readdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { AnyPlugin, PluginKind } from './api.js';
import { describeInvalidSideOutputs } from './side-outputs.js';

const KINDS: PluginKind[] = ['input', 'filter', 'aggregate', 'output'];
const NAME_PATTERN = /^[a-z][a-z0-9_]*$/;

export interface LoadedPlugin {
  plugin: AnyPlugin;
  /** Where it came from: `built-in` or the module specifier given in config. */
  source: string;
  /** The module it was imported from (what `import()` takes), when it came from one: a worker thread imports it again
   * to run the plugin there (Plugin.parallel). Undefined for plugin objects registered directly (in-process tests). */
  module?: string;
}

export class PluginLoadError extends Error {
  constructor(message: string, readonly specifier: string) {
    super(message);
  }
}

/** Names are unique per kind, as in Fluent Bit: an input and an output may share one (`tcp`, `kafka`), since
 * the config section a component sits in says which is meant. */
export class PluginRegistry {
  private readonly byKey = new Map<string, LoadedPlugin>();
  /** Built-ins known by their path (kind and name), not imported yet: key -> module file. */
  private readonly unloaded = new Map<string, string>();
  /** Imports of built-ins under way (they stay in `unloaded` until done), so that concurrent loads share one. */
  private readonly loading = new Map<string, Promise<void>>();

  register(plugin: unknown, source: string, module?: string): void {
    const problem = describeInvalidPlugin(plugin);
    if (problem) throw new PluginLoadError(`${source}: not a Visor plugin: ${problem}`, source);
    const p = plugin as AnyPlugin;
    const key = `${p.kind}:${p.name}`;
    // A built-in not imported yet holds its name; one being imported is registering itself.
    const existing = this.byKey.get(key) ?? (this.unloaded.has(key) && !this.loading.has(key) ? { source: 'built-in', plugin: undefined } : undefined);
    if (existing && existing.plugin !== p) {
      throw new PluginLoadError(`${source}: ${p.kind} plugin name "${p.name}" is already taken by ${existing.source}; rename the plugin`, source);
    }
    this.byKey.set(key, { plugin: p, source, ...(module ? { module } : {}) });
  }

  /** The plugin of that kind and name; without a kind, the first of any kind (inputs first). A built-in not
   * imported yet (see load) is a caller's bug, not an unknown plugin. */
  get(name: string, kind?: PluginKind): LoadedPlugin | undefined {
    for (const k of kind ? [kind] : KINDS) {
      const key = `${k}:${name}`;
      if (this.unloaded.has(key)) throw new Error(`built-in ${k} plugin "${name}" is not loaded: call PluginRegistry.load([${JSON.stringify(name)}]) first`);
      const found = this.byKey.get(key);
      if (found) return found;
    }
    return undefined;
  }

  list(): LoadedPlugin[] {
    if (this.unloaded.size) throw new Error(`${this.unloaded.size} built-in plugins are not loaded: call PluginRegistry.loadAll() first`);
    return [...this.byKey.values()].sort((a, b) => KINDS.indexOf(a.plugin.kind) - KINDS.indexOf(b.plugin.kind) || a.plugin.name.localeCompare(b.plugin.name));
  }

  /** Plugin names (of one kind, or of all kinds without duplicates), built-ins not imported yet included. */
  names(kind?: PluginKind): string[] {
    const keys = [...this.byKey.values()].map(({ plugin }) => ({ kind: plugin.kind, name: plugin.name }));
    for (const key of this.unloaded.keys()) {
      const [k, name] = key.split(':') as [PluginKind, string];
      keys.push({ kind: k, name });
    }
    keys.sort((a, b) => KINDS.indexOf(a.kind) - KINDS.indexOf(b.kind) || a.name.localeCompare(b.name));
    return [...new Set(keys.filter((k) => !kind || k.kind === kind).map((k) => k.name))];
  }

  /** Know a built-in by its module file without importing it; `load` imports it. */
  addBuiltin(kind: PluginKind, name: string, file: string): void {
    const key = `${kind}:${name}`;
    if (!this.byKey.has(key)) this.unloaded.set(key, file);
  }

  /** Import the built-ins of these names (of every kind: `get(name)` without a kind looks at all of them), at once:
   * their file reads overlap (tail, apache_access and blackhole: 21 ms instead of 28 one after the other). */
  async load(names: Iterable<string>): Promise<void> {
    const wanted = new Set(names);
    await Promise.all([...this.unloaded.keys()].filter((key) => wanted.has(key.slice(key.indexOf(':') + 1))).map((key) => this.loadBuiltin(key)));
  }

  /** Import every built-in (for listings and docs), one after the other: a failure is always the same one. */
  async loadAll(): Promise<void> {
    for (const key of [...this.unloaded.keys()]) await this.loadBuiltin(key);
  }

  private loadBuiltin(key: string): Promise<void> {
    const file = this.unloaded.get(key);
    if (file === undefined) return Promise.resolve();
    let loading = this.loading.get(key);
    if (!loading) {
      loading = this.loadModule(file, BUILTIN_ROOT, 'built-in').then(() => {
        if (!this.byKey.has(key)) {
          const [kind, name] = key.split(':');
          throw new PluginLoadError(`built-in module ${file} does not define the ${kind} plugin "${name}" its path names`, file);
        }
      }).finally(() => {
        this.unloaded.delete(key);
        this.loading.delete(key);
      });
      this.loading.set(key, loading);
    }
    return loading;
  }

  /** Import one module (a path relative to `baseDir`, or an npm package name resolved from there). */
  async loadModule(specifier: string, baseDir: string, source = specifier): Promise<void> {
    const url = resolveSpecifier(specifier, baseDir);
    let mod: Record<string, unknown>;
    try {
      mod = await importWithin(url, specifier, importTimeoutMs());
    } catch (err) {
      if (err instanceof PluginLoadError) throw err;
      throw new PluginLoadError(`cannot load plugin module "${specifier}": ${(err as Error).message}`, specifier);
    }
    const exported = mod.default ?? mod.plugins ?? mod.plugin;
    if (exported === undefined) {
      throw new PluginLoadError(`plugin module "${specifier}" has no default export; export default definePlugin({...}) or an array of plugins`, specifier);
    }
    const plugins: unknown[] = Array.isArray(exported) ? exported : [exported];
    // A module exporting a built-in's key (its own copy, or the built-in itself re-exported): the built-in is
    // imported first, so that register() tells the two apart as it did when every built-in was loaded up front.
    if (source !== 'built-in') {
      for (const p of plugins) {
        if (p && typeof p === 'object') await this.loadBuiltin(`${(p as AnyPlugin).kind}:${(p as AnyPlugin).name}`);
      }
    }
    for (const p of plugins) this.register(p, source, url);
  }
}

/** How long a plugin module may take to import (its top-level code and awaits). A module whose import never settles
 * would otherwise hang the agent, or end it with Node's silent exit 13 ("unsettled top-level await"). */
export const PLUGIN_IMPORT_TIMEOUT_MS = 10_000;

/** VISOR_PLUGIN_IMPORT_TIMEOUT (milliseconds) overrides the default, for slow disks or for tests. */
function importTimeoutMs(): number {
  const value = Number(process.env.VISOR_PLUGIN_IMPORT_TIMEOUT);
  return Number.isFinite(value) && value > 0 ? value : PLUGIN_IMPORT_TIMEOUT_MS;
}

async function importWithin(url: string, specifier: string, ms: number): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // Not unref'd: this timer is what keeps Node from exiting with 13 while the import hangs.
    timer = setTimeout(() => reject(new PluginLoadError(
      `plugin module "${specifier}" did not finish loading within ${ms / 1000} s (a top-level await that never settles?); `
      + 'a plugin module must only define its plugins when imported and do its work in create()/start()', specifier)), ms);
  });
  try {
    return await Promise.race([import(url) as Promise<Record<string, unknown>>, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function resolveSpecifier(specifier: string, baseDir: string): string {
  if (specifier.startsWith('.') || path.isAbsolute(specifier)) {
    const file = path.resolve(baseDir, specifier);
    // A plugin directory (a plugin project checked out beside the config): its package.json "main" or index.js,
    // as require() finds it; import() alone refuses directories.
    if (isDirectory(file)) {
      try {
        return pathToFileURL(createRequire(path.join(baseDir, 'noop.js')).resolve(file)).href;
      } catch {
        throw new PluginLoadError(`cannot load plugin module "${specifier}": ${file} is a directory without a package.json "main" or an index.js`, specifier);
      }
    }
    return pathToFileURL(file).href;
  }
  try {
    return pathToFileURL(createRequire(path.join(baseDir, 'noop.js')).resolve(specifier)).href;
  } catch {
    // ESM-only packages without a "require" condition: let import() resolve it relative to Visor itself.
    return specifier;
  }
}

function isDirectory(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

function describeInvalidPlugin(p: unknown): string | undefined {
  if (!p || typeof p !== 'object') return 'expected an object';
  const o = p as Record<string, unknown>;
  if (typeof o.name !== 'string' || !NAME_PATTERN.test(o.name)) return `"name" must match ${NAME_PATTERN} (got ${JSON.stringify(o.name)})`;
  if (!KINDS.includes(o.kind as PluginKind)) return `"kind" must be one of ${KINDS.join(', ')}`;
  if (typeof o.description !== 'string') return '"description" must be a string';
  if (!o.schema || typeof o.schema !== 'object') return '"schema" must be a JSON schema object';
  if (typeof o.create !== 'function') return '"create" must be a function';
  if (o.outputs !== undefined && typeof o.outputs !== 'function') return '"outputs" must be a function of the options';
  const sideOutputs = describeInvalidSideOutputs(o.sideOutputs);
  if (sideOutputs) return sideOutputs;
  return undefined;
}

const BUILTIN_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../plugins');
const BUILTIN_DIRS: ReadonlyArray<readonly [dir: string, kind: PluginKind]> = [['inputs', 'input'], ['filters', 'filter'], ['aggregates', 'aggregate'], ['outputs', 'output']];

/** Each built-in is a file `plugins/<kind>s/<name>.(ts|js)` or a folder `<name>` with an index file, defining the
 * plugin of that kind and name (loadBuiltin checks it). */
async function builtinModules(): Promise<Array<{ kind: PluginKind; name: string; file: string }>> {
  const ext = path.extname(fileURLToPath(import.meta.url)); // .ts under tsx, .js when built
  const found: Array<{ kind: PluginKind; name: string; file: string }> = [];
  for (const [dir, kind] of BUILTIN_DIRS) {
    let entries;
    try {
      entries = await readdir(path.join(BUILTIN_ROOT, dir), { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      if (e.isDirectory()) {
        // A folder is a plugin when it has an index file; others hold code shared by several plugins.
        const index = path.join(BUILTIN_ROOT, dir, e.name, `index${ext}`);
        if (await access(index).then(() => true, () => false)) found.push({ kind, name: e.name, file: index });
      }
      else if (e.name.endsWith(ext) && !e.name.endsWith(`.d${ext}`) && !e.name.includes('.test.')) found.push({ kind, name: e.name.slice(0, -ext.length), file: path.join(BUILTIN_ROOT, dir, e.name) });
    }
  }
  // Code-unit order, as sort() orders strings: the first localeCompare initialises ICU's collator (6-17 ms).
  return found.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}

/** A registry that knows every built-in without importing any (PluginRegistry.load imports the ones a config
 * names), and holds the given external plugin modules, imported. */
export async function indexRegistry(externals: string[] = [], baseDir = process.cwd()): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  for (const { kind, name, file } of await builtinModules()) registry.addBuiltin(kind, name, file);
  for (const spec of externals) await registry.loadModule(spec, baseDir);
  return registry;
}

/** A registry holding the built-ins and the given external plugin modules, all imported. */
export async function loadRegistry(externals: string[] = [], baseDir = process.cwd()): Promise<PluginRegistry> {
  const registry = await indexRegistry([], baseDir);
  await registry.loadAll();
  for (const spec of externals) await registry.loadModule(spec, baseDir);
  return registry;
}
