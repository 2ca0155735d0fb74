// Entry point of the config loader: YAML text → validated PipelineConfig, or every problem found, each located at
// file:line:col. Never throws for bad input: problems are diagnostics.
import path from 'node:path';
import { isMap, isScalar, isSeq, type Document, type Node, type Pair, type YAMLMap } from 'yaml';
import type { PluginKind } from '../api.js';
import { indexRegistry, PluginRegistry } from '../registry.js';
import { checkComponent, type CheckedComponent } from './components.js';
import { finalizeDiagnostics } from './diagnostics.js';
import { substituteEnv, type Environment } from './env.js';
import { checkGraph } from './graph.js';
import type { ComponentConfig, Diagnostic, PipelineConfig } from './model.js';
import { duplicateKeys, parseYaml } from './parse.js';
import { readConfigText } from './read.js';
import { resolveService } from './service.js';
import { findPair, keyText, type SourceMap } from './source.js';
import { suggestOrList } from './suggest.js';

export interface LoadOptions {
  /** Variables for ${VAR} substitution; default process.env. */
  env?: Environment;
  /** Builds the plugin registry (built-ins plus `service.plugins`, relative to `baseDir`); default indexRegistry
   * (the built-ins the config names are imported once the config is parsed). */
  registryFor?: (plugins: string[], baseDir: string) => Promise<PluginRegistry>;
}

export interface LoadResult {
  /** Set only when there are no errors (warnings allowed). */
  config?: PipelineConfig;
  registry?: PluginRegistry;
  /** Errors and warnings, in file order. */
  diagnostics: Diagnostic[];
}

/** Component sections in the order components are listed in the result. */
const SECTIONS: readonly (readonly [section: string, kind: PluginKind])[] = [
  ['inputs', 'input'],
  ['filters', 'filter'],
  ['aggregates', 'aggregate'],
  ['outputs', 'output'],
];
const TOP_LEVEL_KEYS = ['service', ...SECTIONS.map(([section]) => section)];
const NEEDS_INPUT_AND_OUTPUT = 'a pipeline needs at least one input and one output';

export async function loadConfigFile(file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const read = await readConfigText(file);
  if ('problem' in read) return { diagnostics: [{ file, line: 1, col: 1, severity: 'error', message: read.problem }] };
  return loadConfigText(read.text, file, opts);
}

export async function loadConfigText(text: string, file: string, opts: LoadOptions = {}): Promise<LoadResult> {
  const dir = path.resolve(path.dirname(file));
  const { doc, source, diagnostics: syntax } = parseYaml(text, file);
  // After a syntax error the tree is a guess: reporting on it would mostly add noise.
  if (syntax.some((d) => d.severity === 'error')) return { diagnostics: finalizeDiagnostics(syntax, []) };

  const envErrors = substituteEnv(doc, opts.env ?? process.env, source);
  const diagnostics: Diagnostic[] = [...syntax, ...envErrors];
  const error = (node: Node | null | undefined, message: string) => diagnostics.push(source.diagnostic(node, 'error', message));

  const root = doc.contents;
  if (root !== null && !isMap(root)) {
    error(root, `the config must be a map with service:, inputs:, filters:, aggregates: and outputs:`);
    return { diagnostics: finalizeDiagnostics(diagnostics, []) };
  }
  const topPairs = root?.items ?? [];
  for (const pair of topPairs) {
    const name = keyText(pair);
    if (name !== undefined && !TOP_LEVEL_KEYS.includes(name)) {
      error(pair.key as Node, `unknown top-level key "${name}"${suggestOrList(name, TOP_LEVEL_KEYS, 'valid keys')}`);
    }
  }

  const servicePair = findPair(topPairs, 'service');
  const serviceValue = source.resolve(servicePair?.value);
  const serviceResult = resolveService(
    servicePair?.key as Node | undefined,
    serviceValue,
    serviceValue?.toJS(doc, { maxAliasCount: -1 }), // expansion bounded by parseYaml, as in components.ts
    source,
    dir,
  );
  diagnostics.push(...serviceResult.diagnostics);

  const { registry, pluginsIncomplete } = await buildRegistry(serviceResult.plugins, dir, opts, serviceValue, source, diagnostics);

  const sections = SECTIONS.map(([section, kind]) => ({ section, kind, ...sectionEntries(topPairs, section, source, diagnostics) }));
  diagnostics.push(...duplicateKeys(doc, source, new Set(sections.flatMap((s) => (s.map ? [s.map] : [])))));
  checkNotEmpty(sections, root, source, diagnostics);

  const components = componentTypes(sections, source);
  // A built-in that failed to import is reported where it is named, not a second time as an unknown type.
  const namedFailed = await loadNamedPlugins(registry, doc, sections, source, diagnostics);
  const checked: CheckedComponent[] = [];
  for (const { kind, entries } of sections) {
    for (const pair of entries) {
      const component = checkComponent(pair, kind, { doc, source, registry, pluginsIncomplete: pluginsIncomplete || namedFailed, dir, components }, diagnostics);
      if (component) checked.push(component);
    }
  }
  diagnostics.push(...checkGraph(checked, source));

  const secrets = [...new Set([...serviceResult.secrets, ...checked.flatMap((c) => c.secrets)])].filter((s) => s !== '');
  const final = finalizeDiagnostics(withoutFollowUps(diagnostics, envErrors), secrets);
  if (final.some((d) => d.severity === 'error') || !serviceResult.service) return { registry, diagnostics: final };

  const config: PipelineConfig = {
    file: /^<.*>$/.test(file) ? file : path.resolve(file),
    dir,
    service: serviceResult.service,
    components: checked.map((c) => c.config).filter((c): c is ComponentConfig => c !== undefined),
    secrets,
    warnings: final.filter((d) => d.severity === 'warning'),
  };
  return { config, registry, diagnostics: final };
}

/** Every component's id and `type` as written (before any is checked), for options that name another component. */
function componentTypes(sections: Array<{ entries: Pair[] }>, source: SourceMap): Map<string, string> {
  const types = new Map<string, string>();
  for (const { entries } of sections) {
    for (const pair of entries) {
      const id = keyText(pair);
      const value = source.resolve(pair.value);
      const type = isMap(value) ? value.get('type') : undefined;
      if (id !== undefined && typeof type === 'string') types.set(id, type);
    }
  }
  return types;
}

/** Imports the built-ins named by the components' `type`s (of every kind, so that a type in the wrong section is
 * told where it belongs); a module that fails to import is reported at each `type` naming it (true: one did). */
async function loadNamedPlugins(registry: PluginRegistry, doc: Document, sections: Array<{ entries: Pair[] }>, source: SourceMap, diagnostics: Diagnostic[]): Promise<boolean> {
  const typeNodes = new Map<string, Array<Node | undefined>>();
  for (const { entries } of sections) {
    for (const pair of entries) {
      const value = source.resolve(pair.value);
      if (!isMap(value)) continue;
      // The type as checkComponent reads it (aliases and merge keys resolved), not only a literal `type:`.
      const type = (value.toJS(doc, { maxAliasCount: -1 }) as Record<string, unknown>).type;
      if (typeof type === 'string') typeNodes.set(type, [...(typeNodes.get(type) ?? []), source.valueNode(value, ['type'])]);
    }
  }
  // All at once (their file reads overlap), each failure reported at its own types.
  const failures = await Promise.all([...typeNodes.keys()].map((type) => registry.load([type]).then(() => undefined, (err: unknown) => err ?? new Error('failed'))));
  [...typeNodes.values()].forEach((nodes, i) => {
    const err = failures[i];
    if (err !== undefined) for (const node of nodes) diagnostics.push(source.diagnostic(node, 'error', `cannot load plugins: ${(err as Error)?.message ?? String(err)}`));
  });
  return failures.some((err) => err !== undefined);
}

/** A value whose ${VAR} could not be substituted is reported once, not a second time for then being invalid. */
function withoutFollowUps(diagnostics: Diagnostic[], envErrors: Diagnostic[]): Diagnostic[] {
  const place = (d: Diagnostic) => `${d.line}:${d.col}`;
  const unresolved = new Set(envErrors.map(place));
  return diagnostics.filter((d) => envErrors.includes(d) || !unresolved.has(place(d)));
}

/** The registry, or — when some plugin module fails to load — the built-ins alone, with the failure reported at
 * the `service.plugins` entry that caused it. */
async function buildRegistry(
  plugins: string[],
  dir: string,
  opts: LoadOptions,
  serviceNode: Node | null | undefined,
  source: SourceMap,
  diagnostics: Diagnostic[],
): Promise<{ registry: PluginRegistry; pluginsIncomplete: boolean }> {
  const registryFor = opts.registryFor ?? indexRegistry;
  try {
    return { registry: await registryFor(plugins, dir), pluginsIncomplete: false };
  } catch (err) {
    const specifier = (err as { specifier?: unknown }).specifier;
    const listNode = isMap(serviceNode) ? findPair(serviceNode.items, 'plugins') : undefined;
    const entry = isSeq(listNode?.value) ? listNode.value.items.find((item) => isScalar(item) && item.value === specifier) : undefined;
    const at = (entry as Node | undefined) ?? (listNode?.key as Node | undefined) ?? serviceNode;
    const message = (err as Error)?.message ?? String(err);
    diagnostics.push(source.diagnostic(at, 'error', typeof specifier === 'string' ? message : `cannot load plugins: ${message}`));
  }
  try {
    return { registry: await registryFor([], dir), pluginsIncomplete: true };
  } catch {
    return { registry: new PluginRegistry(), pluginsIncomplete: true };
  }
}

/** The component entries of one section (`inputs:` etc.); a section that is not a map is reported and skipped. */
function sectionEntries(topPairs: Pair[], section: string, source: SourceMap, diagnostics: Diagnostic[]): { keyNode?: Node; map?: YAMLMap; entries: Pair[] } {
  const pair = findPair(topPairs, section);
  if (!pair) return { entries: [] };
  const keyNode = pair.key as Node;
  const value = source.resolve(pair.value) ?? null;
  if (value === null || (isScalar(value) && value.value === null)) return { keyNode, entries: [] }; // `filters:` with nothing
  if (!isMap(value)) {
    diagnostics.push(source.diagnostic(value as Node, 'error', `${section} must be a map from component ids to their settings, e.g. ${section}: { my_id: { type: ... } }`));
    return { keyNode, entries: [] };
  }
  return { keyNode, map: value, entries: value.items };
}

function checkNotEmpty(sections: { section: string; keyNode?: Node; entries: Pair[] }[], root: YAMLMap | null, source: SourceMap, diagnostics: Diagnostic[]): void {
  const empty = sections.filter((s) => (s.section === 'inputs' || s.section === 'outputs') && s.entries.length === 0);
  if (empty.length === 0) return;
  if (!root || root.items.length === 0 || empty.length === 2) {
    diagnostics.push(source.diagnostic(undefined, 'error', NEEDS_INPUT_AND_OUTPUT));
    return;
  }
  const [{ section, keyNode }] = empty;
  diagnostics.push(source.diagnostic(keyNode, 'error', `${NEEDS_INPUT_AND_OUTPUT}; add one under ${section}:`));
}
