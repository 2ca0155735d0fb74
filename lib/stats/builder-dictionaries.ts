// The main thread's side of the string dictionaries of worker threads' PartialBuilders (window's and detect's
// splits): one StringTable per builder, extended by each of its partials' deltas, and dropped once the builder is
// gone (its worker thread died and was replaced: AggregatePartialContext.goneBuilders), so that the dictionaries
// kept are those of the live builders, not one more per worker death.
import type { Gauge } from '../../core/index.js';
import { StringTable, type StringDelta } from './shape.js';

/** What of an AggregatePartialContext says whose partial this is. */
export interface PartialSource { readonly builder: string; readonly goneBuilders: readonly string[] }

export class BuilderDictionaries {
  private readonly tables = new Map<string, StringTable>();
  /** `kept`: set to the number of dictionaries kept. */
  constructor(private readonly kept?: Gauge) {}

  get size(): number {
    return this.tables.size;
  }

  /** The dictionary of the partial's builder with the partial's strings added: call first and at once, as the next
   * partial of the same builder counts on these strings being known. */
  add(source: PartialSource, delta: StringDelta): StringTable {
    for (const gone of source.goneBuilders) this.tables.delete(gone);
    let table = this.tables.get(source.builder);
    if (!table) this.tables.set(source.builder, (table = new StringTable()));
    table.add(delta);
    this.kept?.set(this.tables.size);
    return table;
  }
}
