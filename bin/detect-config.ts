// `visor analyze`'s attack-detection options: those of a detect aggregate, validated by the config loader as
// `visor validate` validates them (the plugin's schema is their whole contract, so analyze has no checks of its
// own): with --detect-config, the one detect aggregate of the user's pipeline config, the rules the agent runs;
// without, the defaults of an embedded pipeline holding a bare detect aggregate (the default pack).
import type { DetectSettings } from '../lib/detect/index.js';

const DEFAULT_PIPELINE = `
inputs: { in: { type: stdin } }
aggregates: { detect: { type: detect, inputs: [in] } }
outputs: { out: { type: blackhole, inputs: [detect] } }
`;

export class DetectConfigError extends Error {}

/** The options, or DetectConfigError with every problem as FILE:LINE:COL: message (exit 78). */
export async function detectSettings(file: string | undefined): Promise<DetectSettings> {
  const { loadConfigFile, loadConfigText } = await import('../core/config/load.js');
  const { formatDiagnostic } = await import('../core/config/model.js');
  const result = file === undefined ? await loadConfigText(DEFAULT_PIPELINE, '<default detect pipeline>') : await loadConfigFile(file);
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length || !result.config) throw new DetectConfigError(`${errors.map(formatDiagnostic).join('\n')}\n${file}: ${errors.length} error${errors.length === 1 ? '' : 's'}`);
  const detects = result.config.components.filter((c) => c.kind === 'aggregate' && c.type === 'detect');
  if (detects.length !== 1) {
    throw new DetectConfigError(`${file}: ${detects.length === 0 ? 'has no detect aggregate (type: detect) to take the rules from'
      : `has ${detects.length} detect aggregates (${detects.map((c) => c.id).join(', ')}); analyze runs one: give it a config with only the one you want`}`);
  }
  return detects[0]!.options as unknown as DetectSettings;
}
