// Roll-ups: window rows of a coarser resolution (1h, 1d by default) made from the stored rows of the finer one, by
// merging their mergeable states with lib/stats' shape (the same merge window_merge uses for partials: exact counts
// and accumulators, top-N with its error bound, quantile sketches, distinct sets or HyperLogLog). The simple correct
// way: after each committed batch, every coarse window a written row falls in is recomputed from all its stored finer
// rows, in a following transaction, and upserted under the same key as any window row (agent, aggregate, resolution,
// window_start, group): recomputing is idempotent, and the row only grows as finer rows arrive (the count guard of
// the windows table keeps a recount from fewer rows, e.g. after retention removed the finer ones, from replacing it).
// Each level is made from the one below it (1m -> 1h -> 1d). A rolled row has the rolled shape's fingerprint, whose
// spec (the finer spec with the coarser window) goes to `aggregates` like any other. Hopping windows overlap and are
// not rolled up; rows of another fingerprint than the newest one in a coarse window (the aggregate was reconfigured
// within it) are left out of it.
import { compileShape, STATE_TOP, storedState, type PartialGroup, type Shape, type ShapeOptions } from '../stats/index.js';
import type { StoreEngine, TableRows } from './engine.js';
import { formatResolution, type MappedRow, type RowMapper } from './rows.js';
import { TABLES } from './schema.js';

/** A window written in this batch (or rolled up): what the next level needs to know which coarse windows it touched. */
interface Written { aggregate: string; resolution: string; size: number; start: number }

const W = TABLES.windows.columns.map((c) => c.name);
const at = (name: string) => W.indexOf(name);

/** Values as both drivers return them: SQLite INTEGER and TEXT; PostgreSQL Date, jsonb (parsed) and bigint (text). */
const ms = (v: unknown) => (v instanceof Date ? v.getTime() : Number(v));
const parsed = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

export class Rollup {
  private readonly shapes = new Map<string, Shape | null>();

  /** `resolutions` in ms, coarser than the base windows. */
  constructor(
    private readonly engine: StoreEngine,
    private readonly mapper: RowMapper,
    private readonly agent: string,
    private readonly resolutions: number[] = [],
  ) {
    this.resolutions = [...new Set(resolutions ?? [])].sort((a, b) => a - b);
  }

  /** Recomputes the coarse windows the committed window rows fall in, level by level; `commit` writes each level. */
  async run(windows: MappedRow[], commit: (batch: TableRows[]) => Promise<void>): Promise<void> {
    let written: Written[] = windows
      .filter((r) => r.values[at('sketches')] !== null && r.values[at('fingerprint')] !== null)
      .map((r) => {
        const start = r.values[at('window_start')] as number;
        return { aggregate: r.values[at('aggregate')] as string, resolution: r.values[at('resolution')] as string, size: (r.values[at('window_end')] as number) - start, start };
      });
    for (const size of this.resolutions) {
      const touched = new Map<string, Written>();
      for (const w of written) {
        if (size <= w.size || size % w.size !== 0) continue;
        const start = Math.floor(w.start / size) * size;
        touched.set(JSON.stringify([w.aggregate, w.resolution, start]), { ...w, start });
      }
      if (!touched.size) continue; // this level does not fit on the one below: the next one is made from that one
      const rows: MappedRow[] = [];
      for (const w of touched.values()) rows.push(...await this.window(w, size));
      if (!rows.length) continue;
      const aggregates = new Map<string, MappedRow>();
      const windowRows = rows.filter((r) => r.table === TABLES.windows);
      for (const r of rows) if (r.table === TABLES.aggregates) aggregates.set(r.key, r);
      await commit([{ table: TABLES.aggregates, rows: [...aggregates.values()] }, { table: TABLES.windows, rows: windowRows }]);
      written = windowRows.map((r) => ({ aggregate: r.values[at('aggregate')] as string, resolution: formatResolution(size), size, start: r.values[at('window_start')] as number }));
    }
  }

  private sql(text: string): string {
    let i = 0;
    return this.engine.dialect === 'postgres' ? text.replace(/\?/g, () => `$${++i}`) : text;
  }

  private time(v: number): unknown {
    return this.engine.dialect === 'postgres' ? new Date(v).toISOString() : v;
  }

  /** The rows of one coarse window (one per group), from all the stored finer rows it covers. */
  private async window(w: Written, size: number): Promise<MappedRow[]> {
    const finer = await this.engine.query(this.sql(
      'SELECT group_key, fingerprint, sketches, window_start FROM windows WHERE agent = ? AND aggregate = ? AND resolution = ? AND window_start >= ? AND window_start < ? AND sketches IS NOT NULL AND fingerprint IS NOT NULL ORDER BY window_start',
    ), [this.agent, w.aggregate, w.resolution, this.time(w.start), this.time(w.start + size)]);
    if (!finer.length) return [];
    const fingerprint = String(finer[finer.length - 1].fingerprint);
    const shape = await this.shape(w.aggregate, fingerprint, size);
    if (!shape) return [];
    const groups = new Map<string, ReturnType<Shape['newGroup']>>();
    const notExact = shape.spec.top ? (shape.spec.top as unknown[]).map(() => false) : [];
    for (const r of finer) {
      if (String(r.fingerprint) !== fingerprint) continue;
      const p = parsed(r.sketches) as PartialGroup;
      let g = groups.get(String(r.group_key));
      if (!g) groups.set(String(r.group_key), (g = shape.newGroup(p.values)));
      // Windows of one group at different times: entries a finer row left out of its top add to the bound.
      shape.merge(g, p, notExact);
    }
    const now = Date.now();
    const out: MappedRow[] = [];
    for (const g of groups.values()) {
      const e = shape.result(w.start, w.start + size, g);
      e._window = storedState(w.aggregate, shape.spec.group_by as string[], size, shape, g, STATE_TOP);
      out.push(...this.mapper.window(e, now));
    }
    return out;
  }

  /** The shape of `aggregate` at `size`, from the stored spec of its finer rows; null when it cannot be rolled up. */
  private async shape(aggregate: string, fingerprint: string, size: number): Promise<Shape | null> {
    const k = JSON.stringify([aggregate, fingerprint, size]);
    if (this.shapes.has(k)) return this.shapes.get(k)!;
    const [row] = await this.engine.query(this.sql('SELECT spec FROM aggregates WHERE agent = ? AND aggregate = ? AND fingerprint = ?'), [this.agent, aggregate, fingerprint]);
    let shape: Shape | null = null;
    const spec = row ? parsed(row.spec) as Record<string, unknown> & { window?: { size?: number; advance?: number } } : undefined;
    if (spec?.window && spec.window.size === spec.window.advance && Array.isArray(spec.accumulators)) {
      try {
        shape = compileShape({ ...spec, window: { type: 'tumbling', size } } as unknown as ShapeOptions);
        // The finer states must hold the same accumulators, in the same order, as the rolled shape merges.
        if (JSON.stringify(shape.spec.accumulators) !== JSON.stringify(spec.accumulators)) shape = null;
      } catch {
        shape = null; // a spec this Visor cannot compile (written by another version): not rolled up
      }
    }
    this.shapes.set(k, shape);
    return shape;
  }
}
