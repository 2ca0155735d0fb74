// Wiring checks over the whole pipeline (Vector-style `inputs:` references): unique ids, references that resolve
// to something readable, no cycles, and warnings for outputs whose events go nowhere (a component nobody reads, a
// side output nobody reads).
import type { Node } from 'yaml';
import type { PluginKind } from '../api.js';
import type { SideOutput } from '../side-outputs.js';
import type { Diagnostic } from './model.js';
import type { SourceMap } from './source.js';
import { closest } from './suggest.js';

export interface GraphComponent {
  id: string;
  kind: PluginKind;
  keyNode: Node | undefined;
  inputs: { ref: string; node: Node | undefined }[];
  /** Side outputs when known; undefined when the component's plugin or options are invalid (nothing to check against). */
  sideOutputs?: SideOutput[];
}

/** `access._unparsed` → { id: 'access', output: '_unparsed' }. Ids cannot contain dots, so the first dot splits. */
export function parseInputRef(ref: string): { id: string; output?: string } {
  const dot = ref.indexOf('.');
  return dot < 0 ? { id: ref } : { id: ref.slice(0, dot), output: ref.slice(dot + 1) };
}

/** Components must be given in file order. */
export function checkGraph(components: readonly GraphComponent[], source: SourceMap): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const error = (node: Node | undefined, message: string) => diagnostics.push(source.diagnostic(node, 'error', message));

  const byId = new Map<string, GraphComponent>();
  for (const c of components) {
    const first = byId.get(c.id);
    if (first) error(c.keyNode, `duplicate component id "${c.id}" (first defined at line ${source.position(first.keyNode).line}); ids must be unique across inputs, filters, aggregates and outputs`);
    else byId.set(c.id, c);
  }

  const readable = components.filter((c) => c.kind !== 'output' && byId.get(c.id) === c).map((c) => c.id);
  /** Downstream components of each id, for cycle detection. */
  const readers = new Map<string, Set<string>>();
  const mainRead = new Set<string>();
  const sideRead = new Map<string, string[]>();
  /** Components (and `id.side` outputs) a misspelt reference most likely meant: warning that they are unread would
   * only add noise. */
  const probablyRead = new Set<string>();

  for (const c of components) {
    for (const { ref, node } of c.inputs) {
      const { id, output } = parseInputRef(ref);
      const upstream = byId.get(id);
      if (!upstream) {
        const meant = closest(id, readable);
        if (meant === undefined) {
          error(node, `unknown input "${ref}"; components that can be read: ${readable.join(', ') || 'none'}`);
        } else {
          error(node, `unknown input "${ref}" — did you mean "${meant}${output === undefined ? '' : `.${output}`}"?`);
          probablyRead.add(meant);
        }
        continue;
      }
      if (upstream.kind === 'output') {
        error(node, `"${id}" is an output; outputs cannot be read from`);
        continue;
      }
      if (output !== undefined && upstream.sideOutputs && !upstream.sideOutputs.some((s) => s.name === output)) {
        const names = upstream.sideOutputs.map((s) => s.name);
        const has = names.length > 0 ? `it has: ${names.join(', ')}` : 'it has no side outputs';
        error(node, `component "${id}" has no output "${output}"; ${has}`);
        const meant = closest(output, names);
        if (meant !== undefined) probablyRead.add(`${id}.${meant}`);
        continue;
      }
      if (output === undefined) mainRead.add(id);
      else sideRead.set(id, [...(sideRead.get(id) ?? []), ref]);
      // A duplicate's edges would be attributed to the first component of that id (and could fake a cycle).
      if (byId.get(c.id) !== c) continue;
      if (!readers.has(id)) readers.set(id, new Set());
      readers.get(id)!.add(c.id);
    }
  }

  for (const cycle of findCycles([...byId.keys()], readers)) {
    error(byId.get(cycle[0])!.keyNode, `cycle in the pipeline: ${[...cycle, cycle[0]].join(' -> ')}; data must flow from inputs towards outputs`);
  }

  // Events sent where nobody reads are counted and discarded at run time: say so now, for the main output and for
  // every side output not declared as dropped by design (such as where's _rejected).
  for (const c of byId.values()) {
    if (c.kind === 'output' || probablyRead.has(c.id)) continue;
    const side = sideRead.get(c.id);
    if (!mainRead.has(c.id)) {
      const message = side
        ? `the main output of component "${c.id}" is not read by any component (only ${side.join(', ')} is)`
        : `component "${c.id}" is not read by any component`;
      diagnostics.push(source.diagnostic(c.keyNode, 'warning', message));
    }
    for (const output of c.sideOutputs ?? []) {
      const ref = `${c.id}.${output.name}`;
      if (output.unread === 'drop' || side?.includes(ref) || probablyRead.has(ref)) continue;
      diagnostics.push(source.diagnostic(c.keyNode, 'warning', unreadSideOutputWarning(c.id, output)));
    }
  }
  return diagnostics;
}

/** `"p" sends lines it cannot parse to "p._unparsed", which no component reads: ...` */
export function unreadSideOutputWarning(id: string, output: SideOutput): string {
  const ref = `${id}.${output.name}`;
  return `"${id}" sends ${output.description} to "${ref}", which no component reads: they are counted and discarded; add "${ref}" to some component's inputs to keep them`;
}

/** One cycle per strongly connected component (Tarjan), starting at its member that comes first in the file, in the
 * direction data flows. `ids` are in file order; `edges` map an id to the ids reading from it. */
export function findCycles(ids: readonly string[], edges: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const order = new Map(ids.map((id, i) => [id, i]));
  const index = new Map<string, number>();
  const lowlink = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];

  const visit = (id: string) => {
    index.set(id, index.size);
    lowlink.set(id, index.get(id)!);
    stack.push(id);
    onStack.add(id);
    for (const next of edges.get(id) ?? []) {
      if (!index.has(next)) {
        visit(next);
        lowlink.set(id, Math.min(lowlink.get(id)!, lowlink.get(next)!));
      } else if (onStack.has(next)) {
        lowlink.set(id, Math.min(lowlink.get(id)!, index.get(next)!));
      }
    }
    if (lowlink.get(id) === index.get(id)) {
      const group: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        group.push(member);
      } while (member !== id);
      groups.push(group);
    }
  };
  for (const id of ids) if (!index.has(id)) visit(id);

  const cycles: string[][] = [];
  for (const group of groups) {
    const start = group.reduce((a, b) => (order.get(b)! < order.get(a)! ? b : a));
    const isCycle = group.length > 1 || edges.get(start)?.has(start);
    if (isCycle) cycles.push(shortestCycle(start, new Set(group), edges));
  }
  return cycles.sort((a, b) => order.get(a[0])! - order.get(b[0])!);
}

/** The shortest path from `start` back to itself within `members` (breadth-first), without repeating `start`. */
function shortestCycle(start: string, members: ReadonlySet<string>, edges: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const next of edges.get(id) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [id];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return path;
      }
      if (!previous.has(next)) {
        previous.set(next, id);
        queue.push(next);
      }
    }
  }
  return [start]; // unreachable for a strongly connected group
}
