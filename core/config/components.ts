// One component entry (`my_id: { type: ..., inputs: [...], ...options }`): its id, its plugin, the keys the core
// handles itself (type, inputs, buffer, retry) and the plugin's own options, validated against the plugin's schema.
import { isMap, isScalar, isSeq, type Document, type Node, type Pair } from 'yaml';
import type { AnyPlugin, JsonSchema, PluginKind } from '../api.js';
import type { LoadedPlugin, PluginRegistry } from '../registry.js';
import { backoffOrder } from '../backoff.js';
import { sideOutputsOf, type SideOutput } from '../side-outputs.js';
import { ajvDiagnostics } from './ajv-errors.js';
import type { ComponentConfig, Diagnostic, RetryConfig } from './model.js';
import { closedOptionsSchema, compileOwnSchema, optionsValidator, validateCollectingSecrets } from './schema.js';
import { keyText, type SourceMap } from './source.js';
import { suggestOrList } from './suggest.js';

export const COMPONENT_ID_PATTERN = /^[A-Za-z_][A-Za-z0-9_-]*$/;

const BUFFER_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: { max_events: { type: 'integer', minimum: 1, default: 10000 } },
};
const RETRY_SCHEMA: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  check: backoffOrder,
  properties: {
    attempts: { type: 'integer', minimum: 0, default: 0 },
    backoff: { duration: true, default: '500ms' },
    max_backoff: { duration: true, default: '30s' },
  },
};
/** The core's keys of a component besides `type` and `inputs`, validated here rather than by the plugin. */
export const CORE_SETTINGS_SCHEMA: JsonSchema = { type: 'object', properties: { buffer: BUFFER_SCHEMA, retry: RETRY_SCHEMA } };

/** Keys the core reads from a component of each kind; everything else is the plugin's options. */
const CORE_KEYS: Record<PluginKind, string[]> = {
  input: ['type'],
  filter: ['type', 'inputs', 'buffer'],
  aggregate: ['type', 'inputs', 'buffer'],
  output: ['type', 'inputs', 'buffer', 'retry'],
};

/** Core keys that exist but belong to other kinds: explained rather than reported as unknown plugin options. */
const MISPLACED_KEY_HINT: Record<string, string> = {
  inputs: 'inputs read from outside the pipeline, so they take no inputs:; remove it',
  buffer: 'buffer: applies only to filters, aggregates and outputs; remove it',
  retry: 'retry: applies only to outputs; remove it',
};

/** A component as far as it could be understood; `config` only when it is entirely valid. */
export interface CheckedComponent {
  id: string;
  kind: PluginKind;
  keyNode: Node | undefined;
  /** Upstream references with the node they are written at. */
  inputs: { ref: string; node: Node | undefined }[];
  /** Side outputs, when the plugin and its options are known to be valid; undefined when they cannot be known. */
  sideOutputs?: SideOutput[];
  config?: ComponentConfig;
  /** Values of `secret: true` options. */
  secrets: string[];
}

export interface ComponentContext {
  doc: Document;
  source: SourceMap;
  registry: PluginRegistry;
  /** Some plugin modules failed to load: an unknown type may be one of theirs, so it is not reported. */
  pluginsIncomplete: boolean;
  /** The config file's directory (what `file: true` paths are relative to). */
  dir?: string;
  /** Every component of the pipeline, id -> type as written (what `component: TYPE` options may name). */
  components?: ReadonlyMap<string, string>;
}

const ARTICLE: Record<PluginKind, string> = { input: 'an input', filter: 'a filter', aggregate: 'an aggregate', output: 'an output' };

/** Defaults for the core settings, used as-is for kinds that do not have them (the model always carries both). */
export const DEFAULT_BUFFER = { max_events: 10000 };
export const DEFAULT_RETRY: RetryConfig = { attempts: 0, backoff: 500, max_backoff: 30_000 };

export function checkComponent(pair: Pair, kind: PluginKind, ctx: ComponentContext, diagnostics: Diagnostic[]): CheckedComponent | undefined {
  const { source } = ctx;
  const keyNode = isScalar(pair.key) ? pair.key : undefined;
  const id = keyText(pair);
  const error = (node: Node | undefined, message: string) => diagnostics.push(source.diagnostic(node ?? keyNode, 'error', message));

  if (id === undefined) {
    error(keyNode, `a component id must be a plain name like app_log`);
    return undefined;
  }
  if (!COMPONENT_ID_PATTERN.test(id)) {
    const why = id.includes('.') ? ' (dots are reserved for side outputs such as access._unparsed)' : '';
    error(keyNode, `invalid component id "${id}": use letters, digits, _ and -, starting with a letter or _${why}`);
  }
  const component: CheckedComponent = { id, kind, keyNode, inputs: [], secrets: [] };
  const valueNode = source.resolve(pair.value);
  if (!isMap(valueNode)) {
    error(valueNode ?? keyNode, `${kind} "${id}" must be a map of settings with at least a type, e.g. ${id}: { type: ... }`);
    return component;
  }
  // No alias limit here: parseYaml already bounded the whole document's expansion (MAX_ALIAS_EXPANSION), and
  // yaml's own per-call count (100) refuses ordinary sharing, e.g. a list of 12 aliases of one anchor of aliases.
  const data = valueNode.toJS(ctx.doc, { maxAliasCount: -1 }) as Record<string, unknown>;
  const keyAt = (key: string) => source.keyNode(valueNode, [key]);

  const loaded = resolvePlugin(id, kind, data, valueNode, keyNode, ctx, error);
  const plugin = loaded?.plugin;

  // Keys of the core, and the misplaced ones (unless the plugin takes an option of that name).
  const coreKeys = CORE_KEYS[kind];
  const pluginProperties = plugin ? Object.keys((plugin.schema.properties as object | undefined) ?? {}) : [];
  const isMisplaced = (key: string) => key in MISPLACED_KEY_HINT && !coreKeys.includes(key) && !pluginProperties.includes(key);
  for (const key of Object.keys(data)) {
    if (isMisplaced(key)) error(keyAt(key), `${ARTICLE[kind]} cannot have ${key}: ${MISPLACED_KEY_HINT[key]}`);
  }
  if (kind !== 'input') component.inputs = checkInputsList(id, kind, data, valueNode, keyNode, source, error);

  const settings = coreSettings(kind, data, { source, valueNode, keyNode }, diagnostics);

  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (!coreKeys.includes(key) && !isMisplaced(key)) options[key] = value;
  }
  if (!plugin) return component;

  const where = { source, valueNode, keyNode, typeNode: source.valueNode(valueNode, ['type']), dir: ctx.dir, components: ctx.components };
  const outcome = validateOptions(plugin, loaded.source === 'built-in', options, coreKeys, where, diagnostics);
  component.secrets = outcome.secrets;
  // Without an outputs() function the side outputs do not depend on the options: still checkable.
  if (!outcome.valid) {
    if (!plugin.outputs) component.sideOutputs = sideOutputsOf(plugin, undefined);
    return component;
  }
  try {
    component.sideOutputs = sideOutputsOf(plugin, options);
  } catch (err) {
    error(where.typeNode, `plugin "${plugin.name}" failed to list its outputs: ${(err as Error).message}`);
    return component;
  }
  if (settings) {
    component.config = {
      id, kind, type: plugin.name, inputs: component.inputs.map((i) => i.ref), options,
      buffer: settings.buffer ?? { ...DEFAULT_BUFFER }, retry: settings.retry ?? { ...DEFAULT_RETRY },
    };
  }
  return component;
}

/** Validate (defaults applied, units converted) the plugin's options in place. */
function validateOptions(
  plugin: AnyPlugin,
  builtIn: boolean,
  options: Record<string, unknown>,
  coreKeys: string[],
  where: { source: SourceMap; valueNode: Node; keyNode: Node | undefined; typeNode: Node | undefined; dir?: string; components?: ReadonlyMap<string, string> },
  diagnostics: Diagnostic[],
): { valid: boolean; secrets: string[] } {
  let validator;
  try {
    validator = optionsValidator(plugin, builtIn, options);
  } catch (err) {
    diagnostics.push(where.source.diagnostic(where.typeNode, 'error', `plugin "${plugin.name}" has an invalid options schema: ${(err as Error).message}`));
    return { valid: false, secrets: [] };
  }
  const outcome = validateCollectingSecrets(validator, options, where.dir, where.components);
  diagnostics.push(...ajvDiagnostics(outcome.errors, {
    source: where.source, node: where.valueNode, keyNode: where.keyNode, data: options, schema: closedOptionsSchema(plugin.schema),
    label: '', noun: 'option', extraKeys: coreKeys, secrets: outcome.secrets,
    unknownKey: (name) => `unknown option "${name}" for ${plugin.name}`,
    missingKey: (name) => `missing required option "${name}" for ${plugin.name}`,
  }));
  return outcome;
}

function availableTypes(kind: PluginKind, names: string[]): string {
  return names.length > 0 ? `available ${kind} types: ${names.join(', ')}` : `no ${kind} plugins are installed`;
}

type ReportError = (node: Node | undefined, message: string) => void;

/** The plugin named by `type`, reporting a missing, misspelt or misplaced type. */
function resolvePlugin(id: string, kind: PluginKind, data: Record<string, unknown>, valueNode: Node, keyNode: Node | undefined, ctx: ComponentContext, error: ReportError): LoadedPlugin | undefined {
  // Only for the messages: names() sorts with localeCompare, whose first call initialises ICU's collator (6-17 ms).
  const available = () => ctx.registry.names(kind);
  const typeNode = ctx.source.valueNode(valueNode, ['type']);
  if (!('type' in data) || data.type === null) {
    error(keyNode, `missing required key "type" for ${kind} "${id}"; ${availableTypes(kind, available())}`);
    return undefined;
  }
  if (typeof data.type !== 'string') {
    error(typeNode, `type must be the name of ${ARTICLE[kind]} plugin; ${availableTypes(kind, available())}`);
    return undefined;
  }
  const exact = ctx.registry.get(data.type, kind);
  if (exact) return exact;
  const found = ctx.registry.get(data.type);
  if (found) {
    error(typeNode, `"${data.type}" is ${ARTICLE[found.plugin.kind]} plugin; move it to ${found.plugin.kind}s:`);
  } else if (!ctx.pluginsIncomplete) {
    error(typeNode, `unknown type "${data.type}"${suggestOrList(data.type, available(), `available ${kind} types`)}`);
  }
  return undefined;
}

/** The `inputs:` list of a filter, aggregate or output; entries that are not strings are reported and dropped. */
function checkInputsList(id: string, kind: PluginKind, data: Record<string, unknown>, valueNode: Node, keyNode: Node | undefined, source: SourceMap, error: ReportError): CheckedComponent['inputs'] {
  const noInputs = `${kind} ${id} has no inputs; add inputs: [<id>]`;
  const listNode = source.valueNode(valueNode, ['inputs']);
  if (!('inputs' in data)) {
    error(keyNode, noInputs);
    return [];
  }
  const list = data.inputs;
  if (typeof list === 'string') {
    error(listNode, `inputs must be a list of component ids: write inputs: [${list}]`);
    return [{ ref: list, node: listNode }]; // still wired, so the graph checks do not pile up follow-up warnings
  }
  if (!Array.isArray(list)) {
    error(listNode, list === null ? noInputs : `inputs must be a list of component ids, e.g. inputs: [<id>]`);
    return [];
  }
  if (list.length === 0) error(listNode, noInputs);
  const refs: CheckedComponent['inputs'] = [];
  list.forEach((ref, index) => {
    const node = isSeq(listNode) ? source.valueNode(listNode, [index]) : listNode;
    if (typeof ref !== 'string') error(node, `inputs[${index}] must be a component id (a string)`);
    else if (refs.some((r) => r.ref === ref)) error(node, `"${ref}" is listed twice in inputs`);
    else refs.push({ ref, node });
  });
  return refs;
}

/** buffer and retry with defaults applied; undefined when they are invalid (errors reported). */
function coreSettings(kind: PluginKind, data: Record<string, unknown>, where: { source: SourceMap; valueNode: Node; keyNode: Node | undefined }, diagnostics: Diagnostic[]): { buffer?: { max_events: number }; retry?: RetryConfig } | undefined {
  const settings: Record<string, unknown> = {};
  if (kind !== 'input') settings.buffer = data.buffer ?? {}; // `buffer:` with nothing after it means defaults
  if (kind === 'output') settings.retry = data.retry ?? {};
  if (Object.keys(settings).length === 0) return {};
  const outcome = validateCollectingSecrets(compileOwnSchema(CORE_SETTINGS_SCHEMA, settings), settings);
  diagnostics.push(...ajvDiagnostics(outcome.errors, {
    source: where.source, node: where.valueNode, keyNode: where.keyNode, data: settings, schema: CORE_SETTINGS_SCHEMA,
    label: '', noun: 'key', secrets: [],
    // Names arrive as `buffer.max_event`: say which of the core's settings the key is unknown in.
    unknownKey: (name) => {
      const [setting, ...rest] = name.split('.');
      return `unknown key "${rest.join('.')}" in ${setting}`;
    },
    missingKey: (name) => `missing required key "${name}"`,
  }));
  return outcome.valid ? (settings as { buffer?: { max_events: number }; retry?: RetryConfig }) : undefined;
}
