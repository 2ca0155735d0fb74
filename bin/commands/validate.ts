import { Command, Flags } from '@oclif/core';
import { EXIT_CONFIG } from '../paths.js';

export default class Validate extends Command {
  static override description = 'Check a pipeline config: YAML syntax, plugin options, wiring. Prints every problem as FILE:LINE:COL: message; exits 0 when valid, 78 when not.';
  static override examples = ['<%= config.bin %> validate -c configs/default.yaml'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'pipeline config file (YAML)', required: true }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Validate);
    const { loadConfigFile } = await import('../../core/config/load.js');
    const { formatDiagnostic } = await import('../../core/config/model.js');
    const result = await loadConfigFile(flags.config);
    for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
    const errors = result.diagnostics.filter((d) => d.severity === 'error').length;
    if (errors || !result.config) {
      process.stderr.write(`${flags.config}: ${errors} error${errors === 1 ? '' : 's'}\n`);
      this.exit(EXIT_CONFIG);
    }
    process.stdout.write(`${flags.config}: valid (${result.config!.components.length} components)\n`);
  }
}
