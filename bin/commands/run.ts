import { Command } from '@oclif/core';
import { EXIT_LOSSES } from '../paths.js';
import { runFlags } from '../run-flags.js';

export default class Run extends Command {
  static override description = `Run a pipeline. SIGINT/SIGTERM drain and stop it (within service.grace); SIGHUP reloads the config (an invalid one is reported and the running pipeline kept). A pipeline that ends by itself (end of input) exits 0 when everything was delivered, ${EXIT_LOSSES} when events were discarded or batches failed (counted on stderr).`;
  static override examples = ['<%= config.bin %> run -c configs/default.yaml', 'tail -f access.log | <%= config.bin %> run'];
  static override flags = runFlags;

  async run(): Promise<void> {
    const { flags } = await this.parse(Run);
    const { runPipeline } = await import('../run-pipeline.js');
    await runPipeline(flags.config, this.config.version, (code) => this.exit(code));
  }
}
