// YAML parsing with positions kept for diagnostics.
import { isAlias, isCollection, isPair, isScalar, LineCounter, parseDocument, visit, type Document, type Node, type YAMLMap } from 'yaml';
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
    ...(firstError ? [source.diagnosticAtOffset(firstError.pos[0], 'error', syntaxMessage(firstError, text))] : []),
    ...doc.warnings.map((w) => source.diagnosticAtOffset(w.pos[0], 'warning', w.message)),
  ];
  if (!firstError) diagnostics.push(...shapeProblems(doc, source));
  return { doc, source, diagnostics };
}

/** Deepest nesting accepted. Visor configs need under 10 levels; beyond this the checks that follow (and plugins
 * reading their options) would recurse into a stack overflow. */
export const MAX_NESTING = 64;
/** Most values aliases may add by expansion (`*name` copies its anchor's whole subtree). A YAML "billion laughs"
 * (9 anchors of 9 aliases each: 387 million values) stays a few hundred bytes of text until something walks it. */
export const MAX_ALIAS_EXPANSION = 100_000;

function syntaxMessage(error: { code: string; message: string; pos: [number, number] }, text: string): string {
  // The parser catches its own stack overflow: say what it means in this file rather than quoting the JS error.
  if (error.code === 'RESOURCE_EXHAUSTION') return `the YAML is nested too deeply to parse (a config needs at most ${MAX_NESTING} levels)`;
  return error.message + flowHint(text, error.pos[0]);
}

/** Too deep or alias-bombed documents, found without recursion into an unchecked depth or expanding any alias. */
function shapeProblems(doc: Document, source: SourceMap): Diagnostic[] {
  // Depth first, iteratively: the expansion count below recurses, so it runs only on a tree known to be shallow.
  const stack: [Node | null | undefined, number][] = [[doc.contents as Node | null, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (!isCollection(node)) continue;
    if (depth > MAX_NESTING) return [source.diagnostic(node, 'error', `nested more than ${MAX_NESTING} levels deep; a pipeline config needs far fewer (was this file generated?)`)];
    for (const item of node.items) {
      if (isPair(item)) {
        stack.push([item.value as Node | null, depth + 1]);
        if (isCollection(item.key)) stack.push([item.key, depth + 1]);
      } else {
        stack.push([item as Node, depth + 1]);
      }
    }
  }

  // Values each anchor stands for, in document order (an alias refers to the latest anchor of that name before it).
  const anchored = new Map<string, number>();
  let added = 0;
  let culprit: Node | undefined;
  const size = (node: unknown): number => {
    if (culprit) return 0;
    if (isAlias(node)) {
      const n = anchored.get(node.source) ?? 0;
      added += n;
      if (added > MAX_ALIAS_EXPANSION) culprit = node;
      return n;
    }
    let n = 1;
    if (isPair(node)) n = size(node.key) + size(node.value);
    else if (isCollection(node)) for (const item of node.items) n += size(item);
    const anchor = (node as { anchor?: string } | null)?.anchor;
    if (anchor) anchored.set(anchor, n);
    return n;
  };
  size(doc.contents);
  if (!culprit) return [];
  return [source.diagnostic(culprit, 'error', `aliases expand this document to over ${MAX_ALIAS_EXPANSION} more values (an alias bomb, "billion laughs"?); use each anchor a few times, not aliases of aliases`)];
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
