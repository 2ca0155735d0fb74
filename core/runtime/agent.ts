// The long-lived process around one pipeline at a time: logging, metrics, the HTTP endpoint,
// shutdown within the grace period and reload on SIGHUP.
import type { Logger } from '../api.js';
import { loadConfigFile, type LoadOptions } from '../config/load.js';
import { ConfigError, formatDiagnostic, type Diagnostic, type PipelineConfig } from '../config/model.js';
import type { PluginRegistry } from '../registry.js';
import type { Clock } from './clock.js';
import { loadListenerTls, type ListenerTls } from '../tls.js';
import { startHttpServer } from './http.js';
import { createLogger, createLogSink, type LogSink } from './logger.js';
import { addLosses, type Loss } from './losses.js';
import { MetricsHub } from './metrics.js';
import { KeptValues } from './kept.js';
import { Pipeline } from './pipeline.js';

export interface AgentOptions extends LoadOptions {
  /** Where the agent's own log lines go (default: stderr). */
  writeLog?: (line: string) => void;
  version?: string;
  /** Time for the runtime's rate-limited warnings (default: the system clock); for tests. */
  clock?: Clock;
}

type HttpServer = Awaited<ReturnType<typeof startHttpServer>>;

export class Agent {
  readonly metrics: MetricsHub;
  readonly logSink: LogSink;
  readonly logger: Logger;
  private pipeline: Pipeline | undefined;
  /** The registry the running pipeline was built with, to rebuild it if a reload's pipeline fails to start. */
  private registry: PluginRegistry | undefined;
  /** `mode` is what a running listener cannot change: plain or HTTPS, with or without client certificates. */
  private http: { listen: string; mode: string; server: HttpServer } | undefined;
  private reloading: Promise<void> = Promise.resolve();
  private stopping = false;
  /** PluginContext.kept: components' in-memory state over reloads. */
  private readonly kept = new KeptValues();
  /** Losses of pipelines replaced by a reload that the current pipeline's counters do not include. */
  private carriedLosses: Loss[] = [];

  constructor(readonly configFile: string, private readonly options: AgentOptions = {}) {
    this.logSink = createLogSink('info', 'text', options.writeLog);
    this.logger = createLogger(this.logSink);
    this.metrics = new MetricsHub(options.version);
  }

  get current(): Pipeline | undefined {
    return this.pipeline;
  }

  /** Load, validate and start. Throws ConfigError on an invalid config. */
  start(): Promise<void> {
    const started = (async () => {
      const { config, registry } = await this.load();
      try {
        await this.launch(config, registry);
      } catch (err) {
        // Nothing runs: release what components kept (a dashboard's listening server).
        await this.kept.disposeAll();
        throw err;
      }
      this.logger.info('visor started', { config: this.configFile, components: config.components.length });
    })();
    // A SIGHUP that arrives while starting is handled once the start is over.
    this.reloading = started.catch(() => undefined);
    return started;
  }

  /** Resolves when the current pipeline ends by itself (finite inputs) or after stop(). */
  async finished(): Promise<void> {
    for (;;) {
      const p = this.pipeline;
      await p?.done();
      await this.reloading;
      if (this.pipeline === p) return;
    }
  }

  /** Graceful shutdown: returns false when the drain did not finish within `service.grace`. */
  async stop(): Promise<boolean> {
    this.stopping = true;
    await this.reloading;
    const inTime = this.pipeline ? await this.pipeline.stop(this.pipeline.config.service.grace) : true;
    await this.http?.server.close();
    this.http = undefined;
    await this.kept.disposeAll();
    this.logger.info(inTime ? 'visor stopped' : 'visor stopped before everything was delivered');
    return inTime;
  }

  /** Re-read the config. Invalid: log why and keep running the old pipeline. Valid: drain the old one
   * (inputs commit what was delivered) and start the new one, which resumes from those checkpoints. */
  reload(): Promise<void> {
    this.reloading = this.reloading.then(() => this.doReload());
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    if (this.stopping || !this.pipeline) return;
    this.logger.info('reloading configuration', { config: this.configFile });
    let next: { config: PipelineConfig; registry: PluginRegistry };
    try {
      next = await this.load();
    } catch (err) {
      const diagnostics = err instanceof ConfigError ? err.diagnostics : [];
      for (const d of diagnostics) this.logger.error(formatDiagnostic(d));
      if (!diagnostics.length) this.logger.error('reload failed', { error: err as Error });
      this.logger.error('configuration is invalid; the running pipeline is kept');
      return;
    }
    const old = this.pipeline!;
    if (!(await old.stop(old.config.service.grace))) this.logger.warn('old pipeline did not drain within the grace period');
    // What components that leave the config kept (a listening port) is released before the new ones start.
    await this.kept.dropComponentsNotIn(next.config.components);
    const before = old.losses();
    try {
      await this.launch(next.config, next.registry);
      this.logger.info('configuration reloaded', { components: next.config.components.length });
      this.carriedLosses = addLosses(this.carriedLosses, carried(before, old.config, next.config));
    } catch (err) {
      this.logger.error('new pipeline failed to start; restarting the previous one', { error: err as Error });
      await this.launch(old.config, this.registry!);
      this.carriedLosses = addLosses(this.carriedLosses, carried(before, old.config, old.config));
    }
  }

  /** Everything the run failed to deliver so far, over reloads (see losses.ts for what counts). */
  losses(): Loss[] {
    return addLosses(this.carriedLosses, this.pipeline?.losses() ?? []);
  }

  private async load(): Promise<{ config: PipelineConfig; registry: PluginRegistry }> {
    const result = await loadConfigFile(this.configFile, this.options);
    const errors = result.diagnostics.filter((d: Diagnostic) => d.severity === 'error');
    if (errors.length || !result.config || !result.registry) throw new ConfigError(result.diagnostics);
    for (const w of result.diagnostics) this.logger.warn(formatDiagnostic(w));
    return { config: result.config, registry: result.registry };
  }

  private async launch(config: PipelineConfig, registry: PluginRegistry): Promise<void> {
    this.logSink.level = config.service.log_level;
    this.logSink.format = config.service.log_format;
    this.logSink.secrets.clear();
    for (const s of config.secrets) this.logSink.secrets.add(s);
    await this.configureHttp(config.service.http, config.dir);
    const pipeline = await Pipeline.build(config, { registry, metrics: this.metrics, logger: this.logger, clock: this.options.clock, kept: this.kept });
    await pipeline.start();
    await this.kept.dropUnused();
    this.pipeline = pipeline;
    this.registry = registry;
    this.metrics.retain(pipeline.componentIds());
  }

  /** The endpoint belongs to the agent, not the pipeline: it stays up across reloads unless its address changes (or
   * TLS is switched on or off). Its certificate files are read again on every reload: renewed ones are served from
   * then on, on the same listener; unreadable ones leave the running listener with the certificate it had. */
  private async configureHttp(http: PipelineConfig['service']['http'], dir: string): Promise<void> {
    let tls: ListenerTls | undefined;
    if (http?.tls) {
      try {
        tls = await loadListenerTls(http.tls, dir);
      } catch (err) {
        if (!this.http || this.http.listen !== http.listen) throw err;
        this.logger.error('http server: cannot read the TLS files; serving the previous certificate', { error: err as Error });
        return;
      }
    }
    const mode = !tls ? 'http' : tls.requestCert ? 'https+client' : 'https';
    const settings = { token: http?.token || undefined, tls, allowedHosts: http?.allowed_hosts ?? [] };
    if (http && this.http?.listen === http.listen && this.http.mode === mode) {
      this.http.server.update(settings);
      return;
    }
    await this.http?.server.close();
    this.http = undefined;
    if (!http) return;
    const server = await startHttpServer({ listen: http.listen, metrics: this.metrics, health: () => this.health(), logger: this.logger, ...settings });
    this.http = { listen: http.listen, mode, server };
  }

  health(): { healthy: boolean; status: string; [k: string]: unknown } {
    if (!this.pipeline) return { healthy: false, status: 'starting' };
    const h = this.pipeline.health();
    return { healthy: h.healthy, status: h.state, components: h.components };
  }

  get httpUrl(): string | undefined {
    return this.http?.server.url;
  }
}

/** The losses of a pipeline replaced by `next` that the next one will not count again: its failed batches (counted by
 * its own nodes) and the metrics of components `next` does not keep with the same kind and type. */
function carried(losses: Loss[], old: PipelineConfig, next: PipelineConfig): Loss[] {
  const key = (c: { id: string; kind: string; type: string }) => `${c.id}\0${c.kind}\0${c.type}`;
  const kept = new Set(next.components.map(key));
  const oldById = new Map(old.components.map((c) => [c.id, c]));
  return losses.filter((l) => {
    const c = oldById.get(l.component);
    return l.what === 'failed_batches' || !c || !kept.has(key(c));
  });
}
