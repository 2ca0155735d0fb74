// How another component of the same pipeline (the dashboard's `store: ID`) reaches a store: each `store` output
// registers, under its id, an opener of a read-only connection to its database, in the pipeline's shared state
// (PluginContext.shared). The reader never names the plugin: it looks the id up, lazily, since the store may be
// created or started after it. One map per running pipeline: a reload builds new openers.
import type { PluginContext } from '../../core/index.js';
import type { StoreEngine } from './engine.js';

export interface StoreReader {
  /** The store component's id. */
  readonly id: string;
  readonly dialect: 'sqlite' | 'postgres';
  /** Whether the store keeps raw events (`events: true`): the events table can then answer any filter. */
  readonly events: boolean;
  /** A read-only connection, opened on the first call and shared by every later one; rejects while the database
   * cannot be opened yet (e.g. the SQLite file before the store's first start): call again later. */
  open(): Promise<StoreEngine>;
  /** Closes the read-only connection (the store's close does it). */
  close(): Promise<void>;
}

/** The stores of this pipeline by component id (register with `set`, look up with `get`). */
export function storeReaders(context: Pick<PluginContext, 'shared'>): Map<string, StoreReader> {
  return context.shared('store/readers', () => new Map<string, StoreReader>());
}

/** A StoreReader over an opener of read-only engines: one engine at a time, opened again after a failure. */
export function storeReader(id: string, dialect: 'sqlite' | 'postgres', events: boolean, create: () => Promise<StoreEngine>): StoreReader {
  let engine: Promise<StoreEngine> | undefined;
  return {
    id, dialect, events,
    open() {
      engine ??= (async () => {
        const e = await create();
        try {
          await e.open();
        } catch (err) {
          await e.close().catch(() => undefined);
          throw err;
        }
        return e;
      })().catch((err) => {
        engine = undefined;
        throw err;
      });
      return engine;
    },
    async close() {
      const e = engine;
      engine = undefined;
      if (e) await (await e.catch(() => undefined))?.close();
    },
  };
}
