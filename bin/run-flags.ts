// `visor run`'s flags, declared once: the oclif command (bin/commands/run.ts) takes them, and bin/run.js parses them
// with oclif's own parser when it runs the pipeline without the rest of oclif (run-direct.ts).
import { string } from '@oclif/core/flags';

export const runFlags = {
  config: string({ char: 'c', description: 'pipeline config file (YAML); default: $VISOR_CONFIG or the built-in default (stdin -> stdout)', env: 'VISOR_CONFIG' }),
};
