// The one Ajv setup used for every schema in Visor (service section, core component keys, plugin options), with
// Visor's keywords: `duration` and `size` convert human-friendly strings in place, `secret` marks values to hide (and
// refuses ones too short to hide), `expression` checks that a condition compiles, `check` runs a plugin's own check
// of a value (a language of its own), `file` checks that a file the config names (relative to it) exists.
// Exported so that other parts (e.g. `visor plugins` docs) validate and describe options exactly as the loader does.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type KeywordDefinition, type ValidateFunction } from 'ajv';
import type { JsonSchema, Plugin } from '../api.js';
import { validateExpression } from '../expr/index.js';
import { refuseShortSecret } from '../secrets.js';
import { DURATION_HINT, parseDuration, parseSize, SIZE_HINT } from './units.js';

/** The part of Ajv's data context a keyword needs to replace the value it validated. */
interface DataContext {
  parentData?: Record<string | number, unknown>;
  parentDataProperty?: string | number;
  rootData?: unknown;
}

/** A keyword that parses its value with `parse` and stores the result in place of the original. */
function convertingKeyword(keyword: string, parse: (value: unknown) => number | undefined, describe: (value: unknown) => string): KeywordDefinition {
  const validate = (enabled: boolean, data: unknown, _parentSchema: unknown, cxt?: DataContext): boolean => {
    if (!enabled) return true;
    const converted = parse(data);
    if (converted === undefined) {
      validate.errors = [{ keyword, message: describe(data), params: {} }];
      return false;
    }
    // At the root there is no parent to write into; the value is still validated.
    if (cxt?.parentData && cxt.parentDataProperty !== undefined) cxt.parentData[cxt.parentDataProperty] = converted;
    return true;
  };
  validate.errors = [] as Partial<ErrorObject>[];
  return { keyword, schemaType: 'boolean', modifying: true, errors: true, validate };
}

function showValue(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

// Secrets are gathered per validation run, keyed by the root object being validated: Ajv keywords have no other
// per-call context unless `passContext` is set, which would impose a calling convention on everyone sharing the setup.
const secretSinks = new WeakMap<object, Set<string>>();

function collectStrings(value: unknown, into: Set<string>): void {
  if (typeof value === 'string') into.add(value);
  else if (Array.isArray(value)) value.forEach((v) => collectStrings(v, into));
  else if (value && typeof value === 'object') Object.values(value).forEach((v) => collectStrings(v, into));
}

/** What the validation run of `cxt`'s root object registered in `registry` (validateCollectingSecrets), for keywords
 * that need more than their own value: the secret sink, the config's directory, the pipeline's components. */
function perRun<T>(registry: WeakMap<object, T>, cxt?: DataContext): T | undefined {
  return cxt?.rootData && typeof cxt.rootData === 'object' ? registry.get(cxt.rootData) : undefined;
}

/** A keyword's result from its one problem (or none): sets the errors Ajv reads from the validate function. */
function reportProblem(validate: unknown, keyword: string, problem: string | undefined): boolean {
  (validate as { errors?: Partial<ErrorObject>[] }).errors = problem ? [{ keyword, message: problem, params: {} }] : [];
  return problem === undefined;
}

/** `secret: true`: the value's strings are gathered (to be masked wherever Visor prints) and each must be long
 * enough to be masked safely (core/secrets.ts), or the value is refused here, located, without showing it. */
const secretKeyword: KeywordDefinition = {
  keyword: 'secret',
  schemaType: 'boolean',
  errors: true,
  validate: function validate(enabled: boolean, data: unknown, _parentSchema: unknown, cxt?: DataContext): boolean {
    if (!enabled) return true;
    const strings = new Set<string>();
    collectStrings(data, strings);
    const sink = perRun(secretSinks, cxt);
    if (sink) for (const s of strings) sink.add(s);
    const problem = [...strings].map(refuseShortSecret).find((p) => p !== undefined);
    return reportProblem(validate, 'secret', problem);
  },
};

// The config file's directory, per validation run and keyed by the root object, as for secrets.
const fileBases = new WeakMap<object, string>();

/** `file: true`: the string names a file, relative to the config file's directory, that must exist and be readable, so that a
 * missing certificate is reported at its line by `visor validate` (and refuses a reload) rather than when the
 * component is created. Checked only when the loader says where the config is (validateCollectingSecrets's baseDir). */
const fileKeyword: KeywordDefinition = {
  keyword: 'file',
  schemaType: 'boolean',
  errors: true,
  validate: function validate(enabled: boolean, data: unknown, _parentSchema: unknown, cxt?: DataContext): boolean {
    const base = perRun(fileBases, cxt);
    const full = enabled && base !== undefined && typeof data === 'string' && data !== '' ? path.resolve(base, data) : undefined;
    const problem = full !== undefined ? fileProblem(full) : undefined;
    return reportProblem(validate, 'file', problem);
  },
};

/** Why a `file: true` path cannot be read as a file (missing, a directory, no read permission), or undefined.
 * Devices and pipes pass (`/dev/null` stands for an empty file). */
function fileProblem(full: string): string | undefined {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(full).isDirectory();
  } catch {
    return `${full} does not exist (a path relative to the config file)`;
  }
  if (isDirectory) return `${full} is a directory, not a file (a path relative to the config file)`;
  try {
    accessSync(full, fsConstants.R_OK);
  } catch {
    return `${full} cannot be read by this user (check its permissions)`;
  }
  return undefined;
}

// The pipeline's components (id -> plugin type), per validation run and keyed by the root object, as for secrets.
const componentSets = new WeakMap<object, ReadonlyMap<string, string>>();

/** `component: TYPE`: the string is the id of a component of this pipeline whose plugin type is TYPE (e.g. the
 * dashboard's `store: db` names a `store` output), so that a dangling reference is reported at its line by
 * `visor validate` rather than when the pipeline starts. Checked only when the loader passes the pipeline's
 * components (validateCollectingSecrets's components). */
const componentKeyword: KeywordDefinition = {
  keyword: 'component',
  schemaType: 'string',
  errors: true,
  validate: function validate(type: string, data: unknown, _parentSchema: unknown, cxt?: DataContext): boolean {
    const components = perRun(componentSets, cxt);
    let problem: string | undefined;
    if (components && typeof data === 'string' && data !== '') {
      const candidates = [...components].filter(([, t]) => t === type).map(([id]) => id);
      const fix = candidates.length ? `the ${type} components here: ${candidates.join(', ')}` : `add a component with type: ${type}`;
      const actual = components.get(data);
      if (actual === undefined) problem = `no component "${data}" in this pipeline: set it to the id of a ${type} component (${fix})`;
      else if (actual !== type) problem = `component "${data}" is of type ${actual}, not ${type} (${fix})`;
    }
    return reportProblem(validate, 'component', problem);
  },
};

/** `expression: true`: the string must compile as a condition/expression, so a bad one is reported at its place in
 * the file rather than when the component is created. Non-strings are left to the `type` keyword. */
const expressionKeyword: KeywordDefinition = {
  keyword: 'expression',
  schemaType: 'boolean',
  errors: true,
  validate: function validate(enabled: boolean, data: unknown): boolean {
    const problem = enabled && typeof data === 'string' ? validateExpression(data) : undefined;
    return reportProblem(validate, 'expression', problem);
  },
};

/** Where in the checked value a problem is: keys and list positions from that value down to the key it is about. */
export type CheckPath = string | number | readonly (string | number)[];

/** A problem a check found, reported at the key `at` of the checked value (e.g. the option that conflicts with
 * another), or at the value itself without `at`. `message` says what is wrong and how to fix it. */
export interface CheckProblem {
  message: string;
  at?: CheckPath;
}

/** A plugin's own check of one value: why it is invalid (a readable message, or problems located inside it), or
 * undefined when it is valid. */
export type ValueCheck = (value: unknown) => string | CheckProblem | readonly CheckProblem[] | undefined;

/** A ValueCheck for a `duration: true` option that must be greater than 0 (an interval: 0 would make a timer fire
 * continuously). `example` is the fix shown, e.g. `interval: 10s`. */
export const positiveDuration = (example: string): ValueCheck => (ms: unknown) =>
  typeof ms === 'number' && !(ms > 0) ? `needs a duration greater than 0, e.g. ${example}` : undefined;

/** A ValueCheck from a parser that throws on bad input: its error message is the problem. */
export function checkByParsing(parse: (value: unknown) => unknown): ValueCheck {
  return (value) => {
    try {
      parse(value);
      return undefined;
    } catch (err) {
      return (err as Error)?.message ?? String(err);
    }
  };
}

/** The problems a check returned, as a list. */
function checkProblems(result: ReturnType<ValueCheck>): CheckProblem[] {
  if (result === undefined) return [];
  if (typeof result === 'string') return [{ message: result }];
  return (Array.isArray(result) ? result : [result]) as CheckProblem[];
}

/** `check: fn` (a ValueCheck): the plugin validates what the core cannot know — a value in a language of its own, or
 * a combination of options (a check on an object) — at config validation, so a bad value is reported at its place in
 * the file like any schema error. It runs after every other keyword of its schema (`post`), so it sees the value
 * with defaults applied and durations and sizes converted; values of the wrong type reach it too (guard them: the
 * `type` error is reported anyway). A problem with `at` is reported at that key of the value, as the check words it. */
const checkKeyword: KeywordDefinition = {
  keyword: 'check',
  post: true,
  errors: true,
  validate: function validate(check: unknown, data: unknown): boolean {
    let problems: CheckProblem[];
    if (typeof check !== 'function') problems = [{ message: 'the schema keyword "check" must be a function (value) => message | undefined' }];
    else {
      try {
        problems = checkProblems((check as ValueCheck)(data));
      } catch (err) {
        problems = [{ message: (err as Error)?.message ?? String(err) }];
      }
    }
    (validate as { errors?: Partial<ErrorObject>[] }).errors = problems.map((p) => ({
      keyword: 'check',
      message: String(p.message),
      params: p.at === undefined ? {} : { at: (Array.isArray(p.at) ? p.at : [p.at]) as (string | number)[] },
    }));
    return problems.length === 0;
  },
};

export const DURATION_KEYWORD = 'duration';
export const SIZE_KEYWORD = 'size';

/** Add Visor's `duration`, `size`, `secret`, `expression`, `check`, `file` and `component` keywords to an Ajv instance. A `duration`/`size`
 * option should not declare `type: number`: the type check runs before the keyword, so `5s` would be rejected
 * before conversion. */
export function addVisorKeywords(ajv: Ajv): Ajv {
  ajv.addKeyword(convertingKeyword(DURATION_KEYWORD, parseDuration, (v) => `invalid duration ${showValue(v)}: ${DURATION_HINT}`));
  ajv.addKeyword(convertingKeyword(SIZE_KEYWORD, parseSize, (v) => `invalid size ${showValue(v)}: ${SIZE_HINT}`));
  ajv.addKeyword(secretKeyword);
  ajv.addKeyword(expressionKeyword);
  ajv.addKeyword(checkKeyword);
  ajv.addKeyword(fileKeyword);
  ajv.addKeyword(componentKeyword);
  return ajv;
}

/** A new Ajv configured as the loader's: all errors at once, defaults applied, strings coerced (env values are
 * strings), lenient about unknown keywords in plugin schemas, errors carrying the data and schema (`verbose`).
 * No logger: Ajv would print "unknown format ignored" for plugin schemas straight to the agent's stderr.
 * No optimisation pass over the generated code (`code.optimize`): it only folds and drops code, the validators
 * behave the same, and it was a third of the compile time (the service and tail schemas: 29-40 ms with it, 16-25
 * without), paid at every start-up for validators that run once per config load. */
export function createAjv(): Ajv {
  return addVisorKeywords(new Ajv({ allErrors: true, useDefaults: true, coerceTypes: true, strict: false, verbose: true, logger: false, code: { optimize: false } }));
}

let shared: Ajv | undefined;
/** The Ajv instance the loader uses; compiled plugin schemas are cached on it. */
export function sharedAjv(): Ajv {
  return (shared ??= createAjv());
}

const closedSchemas = new WeakMap<JsonSchema, JsonSchema>();

/** A plugin's options schema as the loader applies it: an object that rejects unknown options unless it says otherwise.
 * `same`: the same object for the same schema (what compiled validators are cached by). */
export function closedOptionsSchema(schema: JsonSchema, same = false): JsonSchema {
  const closed = same ? closedSchemas.get(schema) : undefined;
  if (closed) return closed;
  const made = { type: 'object', ...schema, additionalProperties: schema.additionalProperties ?? false };
  if (same) closedSchemas.set(schema, made);
  return made;
}

/** Compile one of Visor's own schemas (the service section, the core's component keys, a built-in plugin's options)
 * without Ajv's check of the schema itself against the JSON Schema meta-schema: that check compiled the meta-schema
 * and ran it cold, 50-90 ms of every `visor run` start-up. These schemas are fixed; a test checks each of them
 * against the meta-schema instead (test/registry.test.ts). Cached by schema object, as compile() caches.
 *
 * With `data` (the object about to be validated), only the properties it has, or that have a default, keep their
 * schema; the others' become `true`. Ajv evaluates a property's schema only when the property is there or gets its
 * default (useDefaults), so errors, defaults and converted units are the same as with the whole schema; the keys
 * stay, for the "valid options" lists. Compiling only what a config uses halved the compile of the service section
 * (its http and tls parts) and the tail options; one validator per set of keys used. */
export function compileOwnSchema(schema: JsonSchema, data?: unknown): ValidateFunction {
  const used = data && typeof data === 'object' && !Array.isArray(data) ? usedPropertiesSchema(schema, data as Record<string, unknown>) : schema;
  const ajv = sharedAjv();
  ajv._addSchema(used, undefined, undefined, false);
  return ajv.compile(used); // finds the entry just added: compiles it, without the meta-schema check
}

const usedSchemas = new WeakMap<JsonSchema, Map<string, JsonSchema>>();

/** `schema` with the properties `data` does not use replaced by `true` (see compileOwnSchema); the same object for
 * the same keys, so that the validator compiled for it is reused. */
function usedPropertiesSchema(schema: JsonSchema, data: Record<string, unknown>): JsonSchema {
  const properties = schema.properties as Record<string, JsonSchema | boolean> | undefined;
  if (!properties || typeof properties !== 'object') return schema;
  const keep = (name: string) => Object.hasOwn(data, name) || (typeof properties[name] === 'object' && (properties[name] as JsonSchema).default !== undefined);
  const names = Object.keys(properties).filter(keep);
  const key = names.join('\0');
  let bySet = usedSchemas.get(schema);
  if (!bySet) usedSchemas.set(schema, (bySet = new Map()));
  let used = bySet.get(key);
  if (!used) {
    used = { ...schema, properties: Object.fromEntries(Object.entries(properties).map(([name, sub]) => [name, keep(name) ? sub : true])) };
    bySet.set(key, used);
  }
  return used;
}

const optionValidators = new WeakMap<Plugin, ValidateFunction>();

/** The compiled options validator of a plugin (cached). Throws when the plugin's schema itself is invalid, which
 * is checked for all but Visor's own plugins (`builtIn`: see compileOwnSchema, which also compiles only the options
 * `options` has, when given). */
export function optionsValidator(plugin: Plugin, builtIn = false, options?: Record<string, unknown>): ValidateFunction {
  if (builtIn) return compileOwnSchema(closedOptionsSchema(plugin.schema, true), options);
  let validator = optionValidators.get(plugin);
  if (!validator) {
    validator = sharedAjv().compile(closedOptionsSchema(plugin.schema));
    optionValidators.set(plugin, validator);
  }
  return validator;
}

export interface ValidationOutcome {
  valid: boolean;
  errors: ErrorObject[];
  /** String values under `secret: true` schemas, whether or not they were valid. */
  secrets: string[];
}

/** Validate `data` in place (defaults applied, units converted) and gather its secret values; with `baseDir` (the
 * config file's directory), `file: true` values must name existing files; with `components` (id -> type, the
 * pipeline's), `component: TYPE` values must name one of them of that type. */
export function validateCollectingSecrets(validator: ValidateFunction, data: object, baseDir?: string, components?: ReadonlyMap<string, string>): ValidationOutcome {
  const secrets = new Set<string>();
  secretSinks.set(data, secrets);
  if (baseDir !== undefined) fileBases.set(data, baseDir);
  if (components !== undefined) componentSets.set(data, components);
  try {
    const valid = validator(data) as boolean;
    return { valid, errors: valid ? [] : [...(validator.errors ?? [])], secrets: [...secrets] };
  } finally {
    secretSinks.delete(data);
    fileBases.delete(data);
    componentSets.delete(data);
  }
}
