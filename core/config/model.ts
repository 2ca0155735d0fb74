// The validated, resolved configuration the runtime is built from. Produced by core/config/load.ts.
import type { PluginKind } from '../api.js';

export type Severity = 'error' | 'warning';

/** One finding about a config file, located at the offending key or value. Lines and columns are 1-based. */
export interface Diagnostic {
  file: string;
  line: number;
  col: number;
  severity: Severity;
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.col}: ${d.severity === 'warning' ? 'warning: ' : ''}${d.message}`;
}

export class ConfigError extends Error {
  constructor(readonly diagnostics: Diagnostic[]) {
    super(diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic).join('\n'));
  }
}

export interface ServiceConfig {
  /** Absolute path; relative paths in the file are resolved against the config file's directory. */
  data_dir: string;
  /** This agent's name in mails; the host name when not configured. */
  name: string;
  /** The dashboard's public address, when configured. */
  public_url?: string;
  log_level: 'debug' | 'info' | 'warn' | 'error';
  log_format: 'text' | 'json';
  /** Milliseconds. */
  grace: number;
  /** Threads the pipeline may use (the main one included); 1: everything on the main thread. */
  threads: number;
  /** Paths in `tls` as written (relative to the config file's directory). */
  http?: { listen: string; token?: string; tls?: { cert: string; key: string; ca?: string; client_ca?: string }; allowed_hosts?: string[] };
  /** Module specifiers exactly as written (paths relative to the config file's directory). */
  plugins: string[];
}

export interface RetryConfig {
  /** 0 means retry until the write succeeds or the pipeline stops. */
  attempts: number;
  /** Milliseconds. */
  backoff: number;
  max_backoff: number;
}

export interface ComponentConfig {
  id: string;
  kind: PluginKind;
  type: string;
  /** Upstream references: `id` or `id.output`. Empty for inputs. */
  inputs: string[];
  /** The plugin's own options, validated, with defaults applied and units converted. */
  options: Record<string, unknown>;
  /** Capacity of this component's input buffer, in events (not for inputs). */
  buffer: { max_events: number };
  /** Outputs only. */
  retry: RetryConfig;
}

export interface PipelineConfig {
  /** Absolute path of the config file ("<embedded>" style names are allowed for built-in defaults). */
  file: string;
  /** Directory relative paths are resolved against. */
  dir: string;
  service: ServiceConfig;
  /** In file order: inputs, filters, aggregates, outputs. */
  components: ComponentConfig[];
  /** Values of options marked `secret: true` (after ${ENV} substitution): never to be printed. */
  secrets: string[];
  warnings: Diagnostic[];
}
