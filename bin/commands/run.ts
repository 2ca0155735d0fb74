import { Command, Flags } from '@oclif/core';
import { DEFAULT_CONFIG, EXIT_CONFIG, EXIT_LOSSES } from '../paths.js';

export default class Run extends Command {
  static override description = `Run a pipeline. SIGINT/SIGTERM drain and stop it (within service.grace); SIGHUP reloads the config (an invalid one is reported and the running pipeline kept). A pipeline that ends by itself (end of input) exits 0 when everything was delivered, ${EXIT_LOSSES} when events were discarded or batches failed (counted on stderr).`;
  static override examples = ['<%= config.bin %> run -c configs/default.yaml', 'tail -f access.log | <%= config.bin %> run'];
  static override flags = {
    config: Flags.string({ char: 'c', description: 'pipeline config file (YAML); default: $VISOR_CONFIG or the built-in default (stdin -> stdout)', env: 'VISOR_CONFIG' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Run);
    const { Agent } = await import('../../core/runtime/agent.js');
    const { ConfigError, formatDiagnostic } = await import('../../core/config/model.js');
    const { logProcessWarnings } = await import('../../core/runtime/warnings.js');
    const file = flags.config ?? DEFAULT_CONFIG;
    const agent = new Agent(file, { version: this.config.version });
    let signals = 0;
    const shutdown = (signal: string, failed = false) => {
      if (++signals > 1) {
        agent.logger.warn('second signal: exiting without draining', { signal });
        process.exit(130);
      }
      agent.logger.info('shutting down', { signal });
      agent.stop().then((inTime) => process.exit(inTime && !failed ? 0 : 1), () => process.exit(1));
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGHUP', () => void agent.reload());
    // Node's warnings (e.g. MaxListenersExceededWarning from a plugin) as structured log lines, not bare stderr text.
    logProcessWarnings(agent.logger);
    // A plugin's stray promise must not take the agent down; it is logged and counted as a bug to fix.
    process.on('unhandledRejection', (reason) => agent.logger.error('unhandled promise rejection (a plugin bug)', { error: reason as Error }));
    process.on('uncaughtException', (err) => {
      agent.logger.error('uncaught exception; shutting down', { error: err });
      shutdown('uncaughtException', true);
    });

    try {
      await agent.start();
    } catch (err) {
      if (err instanceof ConfigError) {
        for (const d of err.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
        this.exit(EXIT_CONFIG);
      }
      agent.logger.error('failed to start', { error: err as Error });
      this.exit(1);
    }
    if (!flags.config && process.stdin.isTTY) agent.logger.info('reading lines from standard input (type a line, or pipe a log: cat access.log | npm start)');

    await agent.finished();
    if (!signals) {
      await agent.stop();
      const losses = agent.losses();
      if (losses.length) {
        const { describeLosses } = await import('../../core/runtime/losses.js');
        agent.logger.error(`the run did not deliver everything: ${describeLosses(losses)}; exit status ${EXIT_LOSSES}`);
        process.exit(EXIT_LOSSES);
      }
      process.exit(0);
    }
    await new Promise(() => {}); // the signal handler exits
  }
}
