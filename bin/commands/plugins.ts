import { Args, Command, Flags } from '@oclif/core';

export default class Plugins extends Command {
  static override description = 'List every plugin, built-in and external, with its options, types, defaults and descriptions (generated from the plugin schemas).';
  static override examples = [
    '<%= config.bin %> plugins',
    '<%= config.bin %> plugins stdout',
    '<%= config.bin %> plugins -c pipeline.yaml   # includes the plugins that config loads',
    '<%= config.bin %> plugins --plugin ./my-plugin.js',
  ];
  static override args = {
    name: Args.string({ description: 'show only this plugin', required: false }),
  };
  static override flags = {
    config: Flags.string({ char: 'c', description: 'also list the external plugins this config loads (service.plugins)' }),
    plugin: Flags.string({ char: 'p', description: 'also load this plugin module (path or package name)', multiple: true }),
    json: Flags.boolean({ description: 'print the plugins and their schemas as JSON' }),
    markdown: Flags.boolean({ description: 'print Markdown option tables (for docs)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Plugins);
    const path = await import('node:path');
    const { loadRegistry } = await import('../../core/registry.js');
    const { renderPlugin, renderPluginMarkdown, describeOptions } = await import('../../core/plugin-docs.js');
    const externals: string[] = [...(flags.plugin ?? [])].map((p) => (p.startsWith('.') ? path.resolve(p) : p));
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
    const registry = await loadRegistry(externals, baseDir);
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
    const render = flags.markdown ? (l: (typeof list)[number]) => renderPluginMarkdown(l.plugin) : (l: (typeof list)[number]) => renderPlugin(l.plugin, l.source);
    process.stdout.write(list.map(render).join('\n\n') + '\n');
  }
}
