// Builds the PluginContext each component receives, and owns its timers so they die with it.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger, PipelineView, PluginContext, ServiceIdentity, Timers } from '../api.js';
import type { ComponentMetricsImpl } from './metrics.js';

export class ComponentTimers implements Timers {
  private readonly live = new Set<NodeJS.Timeout>();
  constructor(private readonly logger: Logger) {}

  every(ms: number, fn: () => void | Promise<void>): { cancel(): void } {
    const t = setInterval(() => this.call(fn), ms);
    this.live.add(t);
    return { cancel: () => { clearInterval(t); this.live.delete(t); } };
  }

  after(ms: number, fn: () => void | Promise<void>): { cancel(): void } {
    const t = setTimeout(() => { this.live.delete(t); this.call(fn); }, ms);
    this.live.add(t);
    return { cancel: () => { clearTimeout(t); this.live.delete(t); } };
  }

  cancelAll(): void {
    for (const t of this.live) clearTimeout(t); // clearTimeout clears intervals too
    this.live.clear();
  }

  private call(fn: () => void | Promise<void>): void {
    try {
      const r = fn();
      if (r && typeof (r as Promise<void>).catch === 'function') (r as Promise<void>).catch((err) => this.logger.error('timer callback failed', { error: err }));
    } catch (err) {
      this.logger.error('timer callback failed', { error: err as Error });
    }
  }
}

export function createPluginContext(opts: {
  id: string;
  logger: Logger;
  metrics: ComponentMetricsImpl;
  timers: ComponentTimers;
  dataRoot: string;
  configDir: string;
  service: ServiceIdentity;
  pipeline: () => PipelineView;
  shared: PluginContext['shared'];
  kept: PluginContext['kept'];
  downstreamFields?: ReadonlySet<string>;
}): PluginContext {
  let dir: Promise<string> | undefined;
  return {
    id: opts.id,
    logger: opts.logger,
    metrics: opts.metrics,
    timers: opts.timers,
    configDir: opts.configDir,
    service: opts.service,
    pipeline: opts.pipeline,
    shared: opts.shared,
    kept: opts.kept,
    downstreamFields: opts.downstreamFields,
    dataDir: () => (dir ??= (async () => {
      const d = path.join(opts.dataRoot, opts.id);
      await mkdir(d, { recursive: true });
      return d;
    })()),
  };
}
