// `visor run` without loading oclif's command framework: bin/run.js calls this when oclif would only parse the flags
// and call the run command. Importing @oclif/core and its Config (which imports every command to list them) took
// ~0.15 s of the start-up; oclif's parser alone takes ~0.04 s. The flags are the command's (run-flags.ts) and are
// parsed by oclif's parser as the command parses them; anything it rejects goes back to oclif, which reports it.
import { parse } from '@oclif/core/parser';
import { runFlags } from './run-flags.js';
import { runPipeline } from './run-pipeline.js';

/** Runs the pipeline and returns true, or returns false at once (nothing done) when oclif must handle `argv` (the
 * arguments after `run`): the parser rejected them. */
export async function runDirect(argv: string[], version: string): Promise<boolean> {
  let config: string | undefined;
  try {
    ({ flags: { config } } = await parse(argv, { flags: runFlags, strict: true }));
  } catch {
    return false;
  }
  // What oclif's Command does around run(): swallow EPIPE on stdout (`visor run | head`), drop $VISOR_REDIRECTED.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return;
    throw err;
  });
  delete process.env.VISOR_REDIRECTED;
  try {
    await runPipeline(config, version, (code) => process.exit(code));
  } catch (err) {
    // An unexpected error: printed and turned into an exit status by oclif's handler, as through oclif.
    const { handle } = await import('@oclif/core/handle');
    await handle(err as Error);
  }
  return true;
}
