// `visor run`'s work, shared by the oclif command (bin/commands/run.ts) and run-direct.ts (bin/run.js's path that skips oclif).
import { DEFAULT_CONFIG, EXIT_CONFIG, EXIT_LOSSES } from './paths.js';

/** Runs the pipeline of `configFile` (the built-in default when undefined) until it ends or a signal stops it.
 * `exit` ends the process with a status and never returns (oclif's Command#exit, or process.exit). */
export async function runPipeline(configFile: string | undefined, version: string, exit: (code: number) => never): Promise<void> {
  const { Agent } = await import('../core/runtime/agent.js');
  const { ConfigError, formatDiagnostic } = await import('../core/config/model.js');
  const { logProcessWarnings } = await import('../core/runtime/warnings.js');
  const file = configFile ?? DEFAULT_CONFIG;
  const agent = new Agent(file, { version });
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
      exit(EXIT_CONFIG);
    }
    agent.logger.error('failed to start', { error: err as Error });
    exit(1);
  }
  if (!configFile && process.stdin.isTTY) agent.logger.info('reading lines from standard input (type a line, or pipe a log: cat access.log | npm start)');

  await agent.finished();
  if (!signals) {
    await agent.stop();
    const losses = agent.losses();
    if (losses.length) {
      const { describeLosses } = await import('../core/runtime/losses.js');
      agent.logger.error(`the run did not deliver everything: ${describeLosses(losses)}; exit status ${EXIT_LOSSES}`);
      process.exit(EXIT_LOSSES);
    }
    process.exit(0);
  }
  await new Promise(() => {}); // the signal handler exits
}
