// Option tables generated from plugin schemas: the single source for `visor plugins` and the docs.
import type { AnyPlugin, JsonSchema } from './api.js';
import { sideOutput } from './side-outputs.js';

export interface OptionDoc {
  name: string;
  type: string;
  default?: string;
  required: boolean;
  secret: boolean;
  description: string;
}

/** Flatten an object schema into one row per option, nested options included: `parent.child` for an object's,
 * `list[].child` for those of a list's items, `map.<key>.child` for those of a map's values (and the options of an
 * alternative that is an object, e.g. `tls: true | { ca, ... }`). */
export function describeOptions(schema: JsonSchema, prefix = ''): OptionDoc[] {
  const properties = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((schema.required ?? []) as string[]);
  const rows: OptionDoc[] = [];
  for (const [key, prop] of Object.entries(properties)) {
    const name = prefix + key;
    rows.push({
      name,
      type: describeType(prop),
      default: prop.default === undefined ? undefined : JSON.stringify(prop.default),
      required: required.has(key),
      secret: prop.secret === true,
      description: String(prop.description ?? ''),
    });
    const seen = new Set(rows.map((r) => r.name));
    for (const row of nestedOptions(prop, name)) {
      if (!seen.has(row.name)) rows.push(row);
      seen.add(row.name);
    }
  }
  return rows;
}

const isSchema = (value: unknown): value is JsonSchema => typeof value === 'object' && value !== null && !Array.isArray(value);

/** The rows of the options inside a value written at `name`: its properties, its items', its map values', those of
 * its alternatives. */
function nestedOptions(schema: JsonSchema, name: string): OptionDoc[] {
  const rows: OptionDoc[] = [];
  if (isSchema(schema.properties)) rows.push(...describeOptions(schema, `${name}.`));
  if (isSchema(schema.items)) rows.push(...nestedOptions(schema.items, `${name}[]`));
  if (isSchema(schema.additionalProperties)) rows.push(...nestedOptions(schema.additionalProperties, `${name}.<key>`));
  for (const branch of [...((schema.anyOf ?? []) as unknown[]), ...((schema.oneOf ?? []) as unknown[])]) {
    if (isSchema(branch)) rows.push(...nestedOptions(branch, name));
  }
  return rows;
}

export function describeType(s: JsonSchema): string {
  if (s.duration) return 'duration';
  if (s.size) return 'size';
  if (s.expression) return 'expression';
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v).replace(/^"|"$/g, '')).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alternatives = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (alternatives) return alternatives.map(describeType).join(' | ');
  if (s.type === 'array') return `${s.items ? describeType(s.items as JsonSchema) : 'any'}[]`;
  if (Array.isArray(s.type)) return s.type.join(' | ');
  return String(s.type ?? 'any');
}

/** The side outputs a plugin declares (`sideOutputs`), one phrase each: `ID._late: events that arrive late`. */
export function describeSideOutputs(plugin: AnyPlugin): string[] {
  return Object.keys(plugin.sideOutputs ?? {}).map((name) => {
    const s = sideOutput(plugin, name);
    return `ID.${name}: ${s.description}${s.unread === 'drop' ? ' (when nobody reads it, they are dropped: no warning)' : ''}`;
  });
}

/** Plain-text reference of one plugin, as `visor plugins NAME` prints it. */
export function renderPlugin(plugin: AnyPlugin, source: string): string {
  const rows = describeOptions(plugin.schema);
  const lines = [`${plugin.name} (${plugin.kind}${source === 'built-in' ? '' : `, from ${source}`})`, `  ${plugin.description}`, ''];
  const sides = describeSideOutputs(plugin);
  if (sides.length) lines.push('  side outputs:', ...sides.map((s) => `    ${s}`), '');
  if (!rows.length) lines.push('  (no options)');
  const width = Math.max(...rows.map((r) => r.name.length), 6);
  for (const r of rows) {
    const flags = [r.required ? 'required' : undefined, r.default !== undefined ? `default ${r.default}` : undefined, r.secret ? 'secret' : undefined].filter(Boolean).join(', ');
    lines.push(`  ${r.name.padEnd(width)}  ${r.type}${flags ? `  (${flags})` : ''}`);
    if (r.description) lines.push(`  ${''.padEnd(width)}    ${r.description}`);
  }
  return lines.join('\n');
}

/** Markdown table of a plugin's options, for README/PLUGINS.md. */
export function renderPluginMarkdown(plugin: AnyPlugin): string {
  const rows = describeOptions(plugin.schema);
  const esc = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [`### \`${plugin.name}\` (${plugin.kind})`, '', plugin.description, ''];
  const sides = describeSideOutputs(plugin);
  if (sides.length) lines.push(`Side outputs: ${sides.map((s) => s.replace(/^(\S+):/, '`$1`:')).join('; ')}.`, '');
  if (rows.length) {
    lines.push('| option | type | default | description |', '| --- | --- | --- | --- |');
    for (const r of rows) lines.push(`| \`${r.name}\`${r.required ? ' (required)' : ''} | ${esc(r.type)} | ${r.default !== undefined ? `\`${esc(r.default)}\`` : ''} | ${esc(r.description)}${r.secret ? ' (secret)' : ''} |`);
  }
  return lines.join('\n');
}
