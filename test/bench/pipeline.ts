// A pipeline built from YAML as `visor run` builds it (built-ins, the config's `service.plugins`), logging only
// warnings, for the benchmarks that time the core directly rather than through the CLI.
import os from 'node:os';
import path from 'node:path';
import { loadConfigText } from '../../core/config/load.js';
import { formatDiagnostic } from '../../core/config/model.js';
import { createLogger, createLogSink } from '../../core/runtime/logger.js';
import { MetricsHub } from '../../core/runtime/metrics.js';
import { Pipeline } from '../../core/runtime/pipeline.js';

/** Checks and builds (does not start) the pipeline of `yaml`; `name` is the file its diagnostics name. Throws the
 * diagnostics, formatted, for an invalid config. */
export async function buildPipeline(yaml: string, name: string): Promise<{ pipeline: Pipeline; metrics: MetricsHub }> {
  const result = await loadConfigText(yaml, path.join(os.tmpdir(), name));
  if (!result.config || !result.registry) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
  const metrics = new MetricsHub();
  const pipeline = await Pipeline.build(result.config, { registry: result.registry, metrics, logger: createLogger(createLogSink('warn')) });
  return { pipeline, metrics };
}
