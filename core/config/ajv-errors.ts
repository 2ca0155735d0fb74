// Turns Ajv errors into located, readable diagnostics: one message per real problem, pointing at the offending key
// or value, with suggestions, and never echoing a secret.
import type { ErrorObject } from 'ajv';
import type { Node } from 'yaml';
import type { JsonSchema } from '../api.js';
import type { Diagnostic } from './model.js';
import type { PathSegment, SourceMap } from './source.js';
import { closest, suggestOrList } from './suggest.js';

/** What was validated, where it sits in the file, and how to phrase problems with its keys. */
export interface ValidationSubject {
  source: SourceMap;
  /** The YAML node of the validated object and the key it is written under. */
  node: Node | undefined;
  keyNode: Node | undefined;
  /** The validated data (after validation) and its schema, to tell list indices and secret values apart. */
  data: unknown;
  schema: JsonSchema;
  /** Prefix for value names in messages (`service` gives `service.log_level`; '' for plugin options). */
  label: string;
  /** `option` or `key`: how unknown keys are called in the "valid ..." list. */
  noun: string;
  /** Keys accepted at the top level besides the schema's properties (the core's component keys), for suggestions. */
  extraKeys?: readonly string[];
  /** Start of the message for an unknown key, e.g. `unknown option "fromat" for stdout`. */
  unknownKey(name: string): string;
  /** Message for a missing required key. */
  missingKey(name: string): string;
  /** Known secret values: never put in a message. */
  secrets: readonly string[];
}

/** Stands for an anyOf/oneOf whose branches all rejected the value's shape: what each branch would have accepted. */
interface AlternativesError extends ErrorObject {
  params: { expected: string[] };
}

export function ajvDiagnostics(errors: readonly ErrorObject[], subject: ValidationSubject): Diagnostic[] {
  return pruneCascades(errors).map((error) => toDiagnostic(error, subject));
}

const SHALLOW_KEYWORDS = new Set(['type', 'const', 'enum', 'alternatives']);

/** Ajv with allErrors reports every failing branch of anyOf/oneOf plus the combinator itself, and `if` adds a
 * "must match then schema" on top of the real error. Keep what helps: the errors of the branch whose shape
 * matched (its errors are about details), or one summary "expected X or Y" when no branch matched the shape. */
function pruneCascades(input: readonly ErrorObject[]): ErrorObject[] {
  // `if` errors only repeat what the `then`/`else` errors say (kept if, oddly, nothing else is left).
  let errors = input.filter((e) => e.keyword !== 'if' || input.length === 1);
  // A value of the wrong type also fails the schema's other checks (enum, pattern...): the type error says it all.
  const place = (e: ErrorObject) => `${parentSchemaPath(e.schemaPath)} at ${e.instancePath}`;
  const wrongType = new Set(errors.filter((e) => e.keyword === 'type').map(place));
  errors = errors.filter((e) => e.keyword === 'type' || !wrongType.has(place(e)));
  const combinators = errors
    .filter((e) => (e.keyword === 'anyOf' || e.keyword === 'oneOf') && !('passingSchemas' in e.params && e.params.passingSchemas))
    .sort((a, b) => b.schemaPath.length - a.schemaPath.length); // innermost first, so outer ones see summaries
  for (const combinator of combinators) {
    const prefix = `${combinator.schemaPath}/`;
    const inside = errors.filter((e) => e.schemaPath.startsWith(prefix));
    if (inside.length === 0) continue;
    const branches = new Map<string, ErrorObject[]>();
    for (const e of inside) {
      const branch = e.schemaPath.slice(prefix.length).split('/')[0];
      branches.set(branch, [...(branches.get(branch) ?? []), e]);
    }
    const isShallow = (e: ErrorObject) => e.instancePath === combinator.instancePath && SHALLOW_KEYWORDS.has(e.keyword);
    const matchedShape = [...branches.values()].filter((branch) => !branch.every(isShallow));
    if (matchedShape.length > 0) {
      const best = matchedShape.reduce((a, b) => (b.length < a.length ? b : a));
      errors = errors.filter((e) => e !== combinator && (!inside.includes(e) || best.includes(e)));
    } else {
      const summary: AlternativesError = { ...combinator, keyword: 'alternatives', params: { expected: inside.flatMap(expectedForms) } };
      errors = errors.filter((e) => !inside.includes(e)).map((e) => (e === combinator ? summary : e));
    }
  }
  return errors;
}

function expectedForms(error: ErrorObject): string[] {
  switch (error.keyword) {
    case 'type':
      return [typeWords(String(error.params.type))];
    case 'const':
      return [JSON.stringify(error.params.allowedValue)];
    case 'enum':
      return (error.params.allowedValues as unknown[]).map((v) => JSON.stringify(v));
    case 'alternatives':
      return (error as AlternativesError).params.expected;
    default:
      return [];
  }
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string', integer: 'an integer', number: 'a number', boolean: 'true or false', object: 'a map', array: 'a list', null: 'null',
};

function typeWords(types: string): string {
  return types.split(',').map((t) => TYPE_WORDS[t] ?? t).join(' or ');
}

function toDiagnostic(error: ErrorObject, subject: ValidationSubject): Diagnostic {
  const { source } = subject;
  const path = instanceSegments(error.instancePath, subject.data);
  const label = labelOf([...(subject.label ? [subject.label] : []), ...path]) || 'value';
  const secret = isSecret(error, subject);
  const shown = secret ? undefined : showScalar(error.data);
  const invalid = shown === undefined ? `invalid value for ${label}` : `invalid value ${shown} for ${label}`;
  const at = (node: Node | undefined, message: string) => source.diagnostic(node, 'error', message);

  switch (error.keyword) {
    case 'additionalProperties': {
      const name = String(error.params.additionalProperty);
      const holder = (error.parentSchema as JsonSchema | undefined) ?? schemaAt(subject.schema, parentSchemaPath(error.schemaPath));
      const known = Object.keys((holder?.properties as object | undefined) ?? {});
      if (path.length === 0) known.push(...(subject.extraKeys ?? []));
      const head = subject.unknownKey(path.length > 0 ? `${labelOf(path)}.${name}` : name);
      return at(source.keyNode(subject.node, [...path, name]), head + suggestOrList(name, known, `valid ${subject.noun}s`));
    }
    case 'required': {
      const name = String(error.params.missingProperty);
      const node = path.length > 0 ? source.keyNode(subject.node, path) : subject.keyNode;
      return at(node, subject.missingKey(path.length > 0 ? `${labelOf(path)}.${name}` : name));
    }
    case 'type':
      return at(source.valueNode(subject.node, path), `${invalid} — expected ${typeWords(String(error.params.type))}${gotCollection(error.data)}`);
    case 'enum': {
      const allowed = (error.params.allowedValues as unknown[]).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
      const suggestion = !secret && typeof error.data === 'string' ? closest(error.data, allowed) : undefined;
      const tail = suggestion === undefined ? '' : `; did you mean "${suggestion}"?`;
      return at(source.valueNode(subject.node, path), `${invalid} — expected one of: ${allowed.join(', ')}${tail}`);
    }
    case 'const':
      return at(source.valueNode(subject.node, path), `${invalid} — expected ${JSON.stringify(error.params.allowedValue)}`);
    case 'alternatives':
      return at(source.valueNode(subject.node, path), `${invalid} — expected ${(error as AlternativesError).params.expected.join(' or ')}${gotCollection(error.data)}`);
    case 'duration':
    case 'size':
      // The keyword's own message shows the value and the accepted forms.
      return at(source.valueNode(subject.node, path), secret ? `invalid ${error.keyword} for ${label}` : (error.message ?? invalid));
    case 'check': {
      // A problem the check located at a key inside the value (e.g. an option that conflicts with another): reported
      // at that key, in the check's own words, after the name of the checked value (none for a component's options).
      const inside = (error.params as { at?: PathSegment[] }).at;
      if (inside) return at(source.keyNode(subject.node, [...path, ...inside]), path.length ? `${label}: ${error.message}` : `${error.message}`);
      // A plugin's own check of a whole object (e.g. a combination of options) says everything itself.
      if (shown === undefined && !secret) return at(source.valueNode(subject.node, path), path.length ? `${label}: ${error.message}` : `${error.message}`);
      return at(source.valueNode(subject.node, path), `${invalid} — ${error.message}`);
    }
    default:
      return at(source.valueNode(subject.node, path), `${invalid} — ${error.message ?? `fails ${error.keyword}`}`);
  }
}

/** JSON pointer segments, with list positions as numbers (told apart by looking at the data). */
function instanceSegments(pointer: string, data: unknown): PathSegment[] {
  if (pointer === '') return [];
  const segments: PathSegment[] = [];
  let current = data;
  for (const raw of pointer.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const segment = Array.isArray(current) ? Number(key) : key;
    segments.push(segment);
    current = current && typeof current === 'object' ? (current as Record<string | number, unknown>)[segment] : undefined;
  }
  return segments;
}

/** `tls.ca`, `fields[2].name`. */
function labelOf(path: readonly PathSegment[]): string {
  return path.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

/** A scalar as written in a message, or undefined for collections (described separately). */
function showScalar(value: unknown): string | undefined {
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return undefined;
}

function gotCollection(value: unknown): string {
  if (Array.isArray(value)) return ', got a list';
  if (value && typeof value === 'object') return ', got a map';
  return '';
}

function isSecret(error: ErrorObject, subject: ValidationSubject): boolean {
  if ((error.parentSchema as JsonSchema | undefined)?.secret === true) return true;
  if (schemaAt(subject.schema, parentSchemaPath(error.schemaPath))?.secret === true) return true;
  return typeof error.data === 'string' && subject.secrets.includes(error.data);
}

/** `#/properties/a/enum` → `#/properties/a`: the schema object holding the failing keyword. */
function parentSchemaPath(schemaPath: string): string {
  return schemaPath.slice(0, schemaPath.lastIndexOf('/'));
}

/** The sub-schema at a local `#/...` pointer, or undefined (e.g. inside a $ref'd schema). */
function schemaAt(root: JsonSchema, pointer: string): (JsonSchema & { properties?: Record<string, unknown> }) | undefined {
  if (!pointer.startsWith('#')) return undefined;
  let current: unknown = root;
  for (const raw of pointer.slice(1).split('/').slice(1)) {
    if (!current || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return current && typeof current === 'object' ? (current as JsonSchema) : undefined;
}
