import { Args, Command, Flags } from '@oclif/core';
import { EXIT_CONFIG } from '../paths.js';

const FORMATS = ['table', 'json', 'csv'] as const;

export default class Query extends Command {
  static override description = `Read a store (the store output of a config): the events matching EXPRESSION (the where filter's language,
translated to SQL with bound values), the window rows of an aggregate (--windows), or a read-only SQL statement (--sql).
The database is opened read-only: it works while the agent writes. Exit 0 on success, 78 for a config, option or
expression problem (located), 1 when the database fails or refuses the statement.`;
  static override examples = [
    '<%= config.bin %> query -c visor.yaml --since 1h \'status >= 500 and starts_with(path, "/api/")\'',
    '<%= config.bin %> query -c visor.yaml --windows traffic --since 24h --format csv',
    '<%= config.bin %> query -c visor.yaml --sql \'SELECT status, count(*) AS n FROM events GROUP BY status\'',
  ];
  static override args = {
    expression: Args.string({ description: 'condition on events, e.g. status >= 500 and client_ip == "10.0.0.1" (default: every event)' }),
  };
  static override flags = {
    config: Flags.string({ char: 'c', description: 'pipeline config file (YAML) with the store output', required: true, env: 'VISOR_CONFIG' }),
    store: Flags.string({ description: 'id of the store output to read, when the config has several' }),
    since: Flags.string({ description: 'from this time: a duration back from now (15m, 1h, 7d) or a date/time (2026-01-02T03:00:00Z)' }),
    until: Flags.string({ description: 'before this time: a duration back from now or a date/time' }),
    windows: Flags.string({ description: 'list the window rows of this aggregate (its id) instead of events' }),
    resolution: Flags.string({ description: 'with --windows: only rows of this resolution (1m, 1h, 1d)' }),
    sql: Flags.string({ description: 'run this read-only SQL statement and print its rows' }),
    format: Flags.string({ char: 'f', description: 'table | json | csv', default: 'table', options: [...FORMATS] }),
    limit: Flags.integer({ char: 'n', description: 'most rows printed', default: 1000, min: 1 }),
  };

  private fail(message: string, code = EXIT_CONFIG): never {
    process.stderr.write(`visor query: ${message}\n`);
    return this.exit(code);
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Query);
    const { loadConfigFile } = await import('../../core/config/load.js');
    const { ExpressionError, formatDiagnostic, parseDuration } = await import('../../core/index.js');
    const { createEngine, formatRows, runQuery } = await import('../../lib/store/index.js');
    const path = await import('node:path');

    if (flags.sql !== undefined && (args.expression !== undefined || flags.windows !== undefined || flags.since || flags.until)) {
      this.fail('--sql runs the statement as it is: give no EXPRESSION, --windows, --since or --until with it');
    }
    if (flags.windows !== undefined && args.expression !== undefined) this.fail('EXPRESSION filters events: leave it out with --windows');
    if (flags.resolution !== undefined && flags.windows === undefined) this.fail('--resolution goes with --windows');
    const now = Date.now();
    const time = (name: string, text: string | undefined): number | undefined => {
      if (text === undefined) return undefined;
      const back = parseDuration(text);
      if (back !== undefined && !/^\d+$/.test(text.trim())) return now - back;
      const t = Date.parse(text);
      if (Number.isNaN(t)) this.fail(`--${name} ${JSON.stringify(text)}: expected a duration (15m, 1h, 7d) or a date/time (2026-01-02T03:00:00Z)`);
      return t;
    };
    const since = time('since', flags.since);
    const until = time('until', flags.until);

    const loaded = await loadConfigFile(flags.config);
    if (!loaded.config) {
      for (const d of loaded.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
      this.fail(`${flags.config}: invalid config`);
    }
    const config = loaded.config!;
    const stores = config.components.filter((c) => c.kind === 'output' && c.type === 'store');
    const named = flags.store === undefined ? undefined : config.components.find((c) => c.id === flags.store);
    const ids = stores.map((s) => s.id).join(', ') || 'none';
    if (flags.store !== undefined && !named) this.fail(`${flags.config}: no component "${flags.store}"; its store outputs: ${ids}`);
    if (named && !stores.includes(named)) this.fail(`${flags.config}: "${flags.store}" is a ${named.type} ${named.kind}, not a store output; its store outputs: ${ids}`);
    if (!named && stores.length !== 1) {
      this.fail(stores.length ? `${flags.config} has several store outputs (${ids}): choose one with --store` : `${flags.config} has no store output (type: store)`);
    }
    const store = named ?? stores[0];
    const engine = await createEngine(store.options as never, { baseDir: config.dir, dataDir: async () => path.join(config.service.data_dir, store.id) }, true);
    let text: string;
    try {
      const result = await runQuery(engine, {
        since, until, expression: args.expression, windows: flags.windows, resolution: flags.resolution, sql: flags.sql, limit: flags.limit,
      });
      text = formatRows(result, flags.format as (typeof FORMATS)[number]);
    } catch (err) {
      await engine.close().catch(() => undefined);
      if (err instanceof ExpressionError) {
        const caret = err.column > 0 ? `\n  ${args.expression}\n  ${' '.repeat(err.column - 1)}^` : '';
        this.fail(`expression: ${err.message}${caret}`);
      }
      this.fail(`${store.id} (${engine.location}): ${(err as Error).message}`, 1);
    }
    await engine.close();
    process.stdout.write(text!);
  }
}
