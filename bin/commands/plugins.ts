import { Args, Command, Flags } from '@oclif/core';

export default class Plugins extends Command {
  static override description = 'List every plugin, built-in and external, with its options, types, defaults and descriptions (generated from the plugin schemas).';
  static override examples = [
    '<%= config.bin %> plugins',
    '<%= config.bin %> plugins stdout',
    '<%= config.bin %> plugins -c pipeline.yaml   # includes the plugins that config loads',
    '<%= config.bin %> plugins --list                        # one line per plugin',
    '<%= config.bin %> plugins anonymize_ip --plugin configs/plugins/anonymize_ip.js',
    '<%= config.bin %> plugins --plugin ../my-plugin-project my_filter   # a plugin directory (package.json main or index.js)',
  ];
  static override args = {
    name: Args.string({ description: 'show only this plugin', required: false }),
  };
  static override flags = {
    config: Flags.string({ char: 'c', description: 'also list the external plugins this config loads (service.plugins)' }),
    // Non-greedy: `--plugin X NAME` takes NAME as the plugin to show, not as a second module (repeat -p for more).
    plugin: Flags.string({ char: 'p', description: 'also load this plugin module: a file, a plugin directory or an npm package name (repeat for several)', multiple: true, multipleNonGreedy: true }),
    list: Flags.boolean({ char: 'l', description: 'one line per plugin: name, kind, where it comes from, what it does', exclusive: ['json', 'markdown'] }),
    json: Flags.boolean({ description: 'print the plugins and their schemas as JSON' }),
    markdown: Flags.boolean({ description: 'print Markdown option tables (for docs)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Plugins);
    const path = await import('node:path');
    const { existsSync } = await import('node:fs');
    const { loadRegistry, PluginLoadError } = await import('../../core/registry.js');
    const { renderPlugin, renderPluginMarkdown, describeOptions } = await import('../../core/plugin-docs.js');
    // Something that exists here is a path even without ./ (`configs/plugins/x.js`); anything else a package name.
    const externals: string[] = [...(flags.plugin ?? [])].map((p) => (p.startsWith('.') || existsSync(p) ? path.resolve(p) : p));
    let baseDir = process.cwd();
    if (flags.config) {
      const { loadConfigFile } = await import('../../core/config/load.js');
      const { formatDiagnostic } = await import('../../core/config/model.js');
      const result = await loadConfigFile(flags.config);
      if (!result.registry) {
        for (const d of result.diagnostics) process.stderr.write(formatDiagnostic(d) + '\n');
        this.exit(78);
      }
      baseDir = path.dirname(path.resolve(flags.config));
      externals.unshift(...(result.config?.service.plugins ?? []).map((p) => (p.startsWith('.') ? path.resolve(baseDir, p) : p)));
    }
    let registry;
    try {
      registry = await loadRegistry(externals, baseDir);
    } catch (err) {
      if (!(err instanceof PluginLoadError)) throw err;
      process.stderr.write(`visor plugins: ${err.message}\n`);
      return this.exit(78);
    }
    let list = registry.list();
    if (args.name) {
      list = list.filter((l) => l.plugin.name === args.name);
      if (!list.length) {
        const { closest } = await import('fastest-levenshtein');
        const names = registry.names();
        this.error(`no plugin named "${args.name}"; did you mean "${closest(args.name, names)}"? (visor plugins lists them all)`, { exit: 2 });
      }
    }
    if (flags.json) {
      const out = list.map(({ plugin, source }) => ({ name: plugin.name, kind: plugin.kind, description: plugin.description, source, options: describeOptions(plugin.schema), schema: plugin.schema, ...(plugin.sideOutputs ? { side_outputs: plugin.sideOutputs } : {}) }));
      process.stdout.write(JSON.stringify(out, null, 2) + '\n');
      return;
    }
    if (flags.list) {
      const nameWidth = Math.max(...list.map((l) => l.plugin.name.length));
      const sourceWidth = Math.max(...list.map((l) => l.source.length));
      const lines = list.map(({ plugin, source }) => `${plugin.name.padEnd(nameWidth)}  ${plugin.kind.padEnd(9)}  ${source.padEnd(sourceWidth)}  ${plugin.description.replace(/\s*\n\s*/g, ' ')}`);
      process.stdout.write(lines.join('\n') + '\n');
      return;
    }
    const render = flags.markdown ? (l: (typeof list)[number]) => renderPluginMarkdown(l.plugin) : (l: (typeof list)[number]) => renderPlugin(l.plugin, l.source);
    process.stdout.write(list.map(render).join('\n\n') + '\n');
  }
}
