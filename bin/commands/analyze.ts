import { Args, Command, Flags } from '@oclif/core';
import { ERROR_LOG_LEVELS, MESSAGE_LEVEL_DEFAULT } from '../../lib/stats/index.js';
import { EXIT_CONFIG } from '../paths.js';

export default class Analyze extends Command {
  static override description = `Analyse existing Apache logs once and print a summary report (the report aggregate's figures).
Each FILE may be plain or gzip (told by its content, e.g. a rotated set: access.log access.log.1 access.log.2.gz);
access vs error format is detected per file from its first non-empty lines unless --format or --log-format says.
A progress bar is shown on a terminal. --store also writes the parsed lines, per-minute window rows (rolled up to
1h and 1d) and the report into a store (a SQLite file, created if missing, or a postgres:// URL), keyed as the agent
keys them: running it again, or tailing the same files later, adds nothing twice. Attack detection (the detect
aggregate's default pack, or the detect aggregate of --detect-config's pipeline) runs over every access and error
line: its alerts are in the report's attacks section, in --json (alerts) and on the --html page's Attacks panel;
--no-detect turns it off. Exit 0 on success, 78 for an unknown --format or an invalid --log-format or
--detect-config, 1 when a file could not be read (after analysing the others) or the
store could not be written or refused rows, 65 when there were lines but not one parsed (a wrong --format or
--log-format: a warning on stderr says so; the summary is still printed).`;
  static override examples = [
    '<%= config.bin %> analyze /var/log/apache2/access.log /var/log/apache2/access.log.1 /var/log/apache2/access.log.2.gz',
    '<%= config.bin %> analyze --format error /var/log/apache2/error.log',
    '<%= config.bin %> analyze --json access.log > summary.json',
    '<%= config.bin %> analyze --html report.html access.log*',
    '<%= config.bin %> analyze --detect-config /etc/visor/visor.yaml access.log error.log',
    // oclif renders examples as EJS templates twice (example, then section): `%%%>` comes out as `%>` (test/cli-warts).
    '<%= config.bin %> analyze --log-format \'%h %l %u %t "%r" %%%>s %b %D\' access.log',
    '<%= config.bin %> analyze --store data/history/visor.db /var/log/apache2/access.log.1 /var/log/apache2/access.log.2.gz',
    'PGPASSWORD=... <%= config.bin %> analyze --store postgres://visor@db.example:5432/visor access.log*',
  ];
  static override strict = false;
  static override args = {
    file: Args.string({ description: 'log files (plain or .gz)', required: true }),
  };
  static override flags = {
    format: Flags.string({ char: 'f', description: 'auto (default: detect per file) | access | error | an access LogFormat nickname: common, combined, vhost_combined, combinedio, vhost_common' }),
    'log-format': Flags.string({ description: 'an Apache LogFormat string for the access logs (as in httpd.conf)' }),
    'error-log-format': Flags.string({ description: 'the server\'s ErrorLogFormat, when it sets one' }),
    timezone: Flags.string({ description: 'time zone of times written without an offset (error logs): local, UTC, +0100, Europe/Paris', default: 'local' }),
    top: Flags.integer({ char: 'n', description: 'entries in each top list', default: 10, min: 1 }),
    capacity: Flags.integer({ description: 'distinct values counted exactly per top list (beyond: Space-Saving, with an error bound)', default: 10000, min: 1 }),
    'message-level': Flags.string({ description: 'error logs: the least severe level whose messages are listed in the top error messages (notice lines such as "resuming normal operations" are no errors)', options: [...ERROR_LOG_LEVELS], default: MESSAGE_LEVEL_DEFAULT }),
    title: Flags.string({ description: 'name of the report', default: 'visor' }),
    json: Flags.boolean({ description: 'print the summary as JSON' }),
    html: Flags.string({ description: 'also write a self-contained HTML report (the dashboard\'s charts and tables) to this file' }),
    progress: Flags.boolean({ description: 'progress bar on stderr when it is a terminal', default: true, allowNo: true }),
    store: Flags.string({ description: 'also backfill this store: a SQLite file (created with the schema if missing) or a postgres:// URL (password from PGPASSWORD or ~/.pgpass keeps it out of ps)' }),
    agent: Flags.string({ description: 'with --store: the agent name in the rows (default: the host name, as the store output\'s; give the agent\'s when it is set)', dependsOn: ['store'] }),
    aggregate: Flags.string({ description: 'with --store: the name of the stored 1-minute window aggregate (default: analyze)', dependsOn: ['store'] }),
    detect: Flags.boolean({ description: 'attack detection (the detect aggregate\'s default pack, or --detect-config\'s rules): alerts in the report, --json and --html; --no-detect: none', default: true, allowNo: true }),
    'detect-config': Flags.string({ description: 'a pipeline config whose one detect aggregate gives the rules, allow-lists and limits (validated as visor validate does)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Analyze);
    // Loaded here, not at the top: listing or helping with commands must not load the engine.
    const { FormatUsageError, runAnalyze } = await import('../../lib/analyze/index.js');
    const { DetectConfigError, detectSettings } = await import('../detect-config.js');
    let code: number;
    try {
      if (!flags.detect && flags['detect-config'] !== undefined) throw new DetectConfigError('--detect-config and --no-detect cannot be combined');
      code = await runAnalyze({
        files: argv as string[],
        format: flags.format,
        logFormat: flags['log-format'],
        errorLogFormat: flags['error-log-format'],
        timezone: flags.timezone,
        top: flags.top,
        capacity: flags.capacity,
        messageLevel: flags['message-level'],
        title: flags.title,
        json: flags.json,
        html: flags.html,
        progress: flags.progress,
        store: flags.store,
        agent: flags.agent,
        aggregate: flags.aggregate,
        detect: flags.detect ? await detectSettings(flags['detect-config']) : undefined,
      });
    } catch (err) {
      if (!(err instanceof FormatUsageError || err instanceof DetectConfigError)) throw err;
      process.stderr.write(`visor analyze: ${err.message}\n`);
      code = EXIT_CONFIG;
    }
    if (code !== 0) this.exit(code);
  }
}
