import { Args, Command, loadHelpClass } from '@oclif/core';

// oclif's plugin-help is not a dependency: the core's help class prints the same pages `--help` does.
export default class Help extends Command {
  static override description = 'Show help for visor, or for one command (visor help analyze is visor analyze --help).';
  static override examples = ['<%= config.bin %> help', '<%= config.bin %> help analyze'];
  static override strict = false;
  static override args = {
    command: Args.string({ description: 'the command to show help for', required: false }),
  };

  async run(): Promise<void> {
    const { argv } = await this.parse(Help);
    const HelpClass = await loadHelpClass(this.config);
    // Unknown commands: the help class exits 2 with "command X not found", as a mistyped command does.
    await new HelpClass(this.config, this.config.pjson.oclif.helpOptions ?? this.config.pjson.helpOptions).showHelp(argv as string[]);
  }
}
