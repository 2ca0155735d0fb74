// Maps places in the parsed YAML back to file:line:col, so every diagnostic points at the offending key or value.
import { isAlias, isMap, isNode, isScalar, isSeq, type Document, type LineCounter, type Node, type Pair } from 'yaml';
import type { Diagnostic, Severity } from './model.js';

/** A step into a YAML collection: a map key or a sequence index. */
export type PathSegment = string | number;

/** The key and value nodes found at one step of a lookup. */
interface Step {
  key?: Node;
  value?: Node;
}

export class SourceMap {
  constructor(
    readonly file: string,
    private readonly doc: Document,
    private readonly lineCounter: LineCounter,
  ) {}

  /** A diagnostic at the node's start, or at 1:1 when there is no node (e.g. an empty file). */
  diagnostic(at: Node | null | undefined, severity: Severity, message: string): Diagnostic {
    return { file: this.file, ...this.position(at), severity, message };
  }

  diagnosticAtOffset(offset: number, severity: Severity, message: string): Diagnostic {
    const { line, col } = this.lineCounter.linePos(offset);
    return { file: this.file, line, col, severity, message };
  }

  position(at: Node | null | undefined): { line: number; col: number } {
    const offset = at?.range?.[0];
    if (offset === undefined) return { line: 1, col: 1 };
    return this.lineCounter.linePos(offset);
  }

  /** The node holding the value at `path` below `from`; where the path stops early, the deepest thing that exists
   * (usually the key under which the missing value belongs). */
  valueNode(from: Node | null | undefined, path: readonly PathSegment[]): Node | undefined {
    let found: Node | undefined = from ?? undefined;
    for (const step of this.walk(from, path)) found = step.value ?? step.key ?? found;
    return found;
  }

  /** The key node of the last segment of `path` (e.g. to point at an unknown option's name); falls back like valueNode. */
  keyNode(from: Node | null | undefined, path: readonly PathSegment[]): Node | undefined {
    const steps = this.walk(from, path);
    const last = steps.length === path.length ? steps[steps.length - 1] : undefined;
    // Sequence items have no key: point at the item itself.
    return last?.key ?? last?.value ?? this.valueNode(from, path);
  }

  /** The steps that exist along `path`, stopping at the first segment that does not. */
  private walk(from: Node | null | undefined, path: readonly PathSegment[]): Step[] {
    const steps: Step[] = [];
    let node = this.resolve(from);
    for (const segment of path) {
      if (isMap(node)) {
        const pair = findPair(node.items, segment);
        if (!pair) break;
        const step = { key: isNode(pair.key) ? pair.key : undefined, value: this.resolve(pair.value) };
        steps.push(step);
        node = step.value;
      } else if (isSeq(node)) {
        const index = typeof segment === 'number' ? segment : Number(segment);
        const item = Number.isInteger(index) ? node.items[index] : undefined;
        if (item === undefined) break;
        const value = this.resolve(item);
        steps.push({ value });
        node = value;
      } else {
        break;
      }
    }
    return steps;
  }

  /** The node itself, or for an alias (`*name`) the anchored node it stands for, which is where the value is written. */
  resolve(node: unknown): Node | undefined {
    if (isAlias(node)) return this.resolve(node.resolve(this.doc));
    return isNode(node) ? node : undefined;
  }
}

/** The pair whose key equals `segment`. Keys are compared as strings because JSON pointers (ajv) carry strings only. */
export function findPair(items: Pair[], segment: PathSegment): Pair | undefined {
  return items.find((pair) => keyText(pair) === String(segment));
}

/** A pair's key as text (`8080: x` has a numeric key), or undefined for complex keys. */
export function keyText(pair: Pair): string | undefined {
  const key = pair.key;
  if (isScalar(key)) return String(key.value);
  if (key === null || typeof key !== 'object') return key === null ? undefined : String(key);
  return undefined;
}
