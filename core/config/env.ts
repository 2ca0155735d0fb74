// ${VAR} / ${VAR:-default} substitution. It runs on the parsed YAML tree, scalar values only (never keys), so that
// positions stay those of the file and an environment value can never inject YAML structure: it is always one string.
import { visit, type Document } from 'yaml';
import type { Diagnostic } from './model.js';
import type { SourceMap } from './source.js';

export type Environment = Record<string, string | undefined>;

/** `$${...}` (escaped), `${...}` (a reference), or a `${` that is never closed. */
const REFERENCE = /\$(\$?)\{([^}]*)\}|\$\{/g;
const NAME_WITH_DEFAULT = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

export type ExpandResult = { value: string } | { problem: string };

/** Expand the references in one string. The first problem found is returned instead of a value. */
export function expandEnv(text: string, env: Environment): ExpandResult {
  let problem: string | undefined;
  const value = text.replace(REFERENCE, (whole, escaped: string | undefined, inner: string | undefined) => {
    if (inner === undefined) {
      problem ??= 'unterminated "${" in value; write ${NAME} or ${NAME:-default}, or $${ for a literal "${"';
      return whole;
    }
    if (escaped) return `\${${inner}}`;
    const ref = NAME_WITH_DEFAULT.exec(inner);
    if (!ref) {
      problem ??= `invalid environment reference "\${${inner}}": write \${NAME} or \${NAME:-default}`;
      return whole;
    }
    const [, name, fallback] = ref;
    const set = env[name];
    // Like the shell's ${VAR:-default}: the default also replaces an empty value.
    if (fallback !== undefined) return set ? set : fallback;
    if (set === undefined) {
      problem ??= `environment variable "${name}" is not set; set it or write \${${name}:-default}`;
      return whole;
    }
    return set;
  });
  return problem === undefined ? { value } : { problem };
}

/** Substitute in place in every string scalar that is a value; one diagnostic per scalar with a problem. */
export function substituteEnv(doc: Document, env: Environment, source: SourceMap): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return;
      const result = expandEnv(node.value, env);
      if ('problem' in result) diagnostics.push(source.diagnostic(node, 'error', result.problem));
      else node.value = result.value;
    },
  });
  return diagnostics;
}
