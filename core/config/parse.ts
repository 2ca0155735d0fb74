// YAML parsing with positions kept for diagnostics.
import { isScalar, LineCounter, parseDocument, visit, type Document, type YAMLMap } from 'yaml';
import type { Diagnostic } from './model.js';
import { keyText, SourceMap } from './source.js';

export interface ParsedYaml {
  doc: Document;
  source: SourceMap;
  /** Syntax errors (the document cannot be trusted when there are any) and YAML warnings. */
  diagnostics: Diagnostic[];
}

export function parseYaml(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  // Duplicate keys are reported by duplicateKeys() instead, with wording that fits where they occur.
  // `merge` allows `<<: *defaults`, the usual way to share settings between components.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: false, merge: true });
  const source = new SourceMap(file, doc, lineCounter);
  // Only the first syntax error: the parser's recovery turns one mistake into a cascade of follow-up errors.
  const [firstError] = doc.errors;
  const diagnostics = [
    ...(firstError ? [source.diagnosticAtOffset(firstError.pos[0], 'error', firstError.message + flowHint(text, firstError.pos[0]))] : []),
    ...doc.warnings.map((w) => source.diagnosticAtOffset(w.pos[0], 'warning', w.message)),
  ];
  return { doc, source, diagnostics };
}

/** Inside `{ }` or `[ ]`, an unquoted `${VAR}` reads as the start of a flow map: say so where that is what happened. */
function flowHint(text: string, offset: number): string {
  const isReference = text[offset] === '{' && text[offset - 1] === '$';
  return isReference ? '; quote values containing ${...} inside { } or [ ], e.g. token: "${TOKEN}"' : '';
}

/** A `duplicate key` error at each repeated key, in every map except `skip` (whose duplicates mean something else). */
export function duplicateKeys(doc: Document, source: SourceMap, skip: ReadonlySet<YAMLMap>): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  visit(doc, {
    Map(_key, map) {
      if (skip.has(map)) return;
      const seen = new Set<string>();
      for (const pair of map.items) {
        const name = keyText(pair);
        if (name === undefined) continue;
        if (seen.has(name)) diagnostics.push(source.diagnostic(isScalar(pair.key) ? pair.key : undefined, 'error', `duplicate key "${name}"`));
        seen.add(name);
      }
    },
  });
  return diagnostics;
}
