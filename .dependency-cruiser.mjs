// The layer rules of the source tree (issue 15), checked by `npm run lint:imports` and at the start of
// `npm test`. Layers, from the bottom: core/ (the runtime and the plugin API) <- lib/<area>/ (shared
// libraries, each with one public index.ts) <- plugins/ and bin/. A layer imports only the public entry
// points of the layers below it, so any file behind an entry point can move or change without touching
// its users. Inside one lib area or one plugin (plugins/<kind>/<name>.ts or plugins/<kind>/<name>/**)
// files import each other freely. Tests (*.test.ts, test/**) are not checked: they may reach internals.
//
// Paths in the rules are relative to the repository root (depcruise runs there); `$1`/`$2` refer to the
// groups the rule's `from.path` captured, so "the same plugin" and "the same lib area" need no list.

/** Entry points other layers may import. */
const CORE_ENTRY = '^core/index\\.ts$';
const LIB_ENTRY = '^lib/[^/]+/index\\.ts$';
const TESTS = ['\\.test\\.ts$', '^test/'];

export default {
  forbidden: [
    {
      name: 'plugin-imports-internals',
      severity: 'error',
      comment:
        'A plugin imports only core/index.ts, lib/<area>/index.ts and its own files: not another plugin, ' +
        'core or lib internals, nor bin/. Export what it needs from core/index.ts or a lib area\'s index.ts ' +
        '(or move shared code into lib/).',
      from: { path: '^plugins/([^/]+)/([^/.]+)', pathNot: TESTS },
      to: {
        path: '^(core|lib|plugins|bin)/',
        pathNot: [CORE_ENTRY, LIB_ENTRY, '^plugins/$1/$2(\\.ts$|/)'],
      },
    },
    {
      name: 'lib-imports-plugins-or-bin',
      severity: 'error',
      comment: 'lib/ sits below plugins/ and bin/: a library never imports a plugin or the CLI.',
      from: { path: '^lib/', pathNot: TESTS },
      to: { path: '^(plugins|bin)/' },
    },
    {
      name: 'lib-imports-internals',
      severity: 'error',
      comment:
        'A lib area imports only core/index.ts, other lib areas\' index.ts and its own files. Export what it ' +
        'needs from there.',
      from: { path: '^lib/([^/]+)/', pathNot: TESTS },
      to: { path: '^(core|lib)/', pathNot: [CORE_ENTRY, LIB_ENTRY, '^lib/$1/'] },
    },
    {
      name: 'lib-areas-cycle',
      severity: 'error',
      comment:
        'lib areas form a hierarchy: no import cycle may pass through two areas (a cycle inside one area ' +
        'is that area\'s own business).',
      from: { path: '^lib/([^/]+)/', pathNot: TESTS },
      to: { circular: true, via: { pathNot: '^lib/$1/' } },
    },
    {
      name: 'bin-imports-internals',
      severity: 'error',
      comment:
        'The CLI embeds the runtime, so it may use core internals (config loader, agent, logger), but of ' +
        'the layers above core only lib entry points, and never a plugin: plugins are found by the registry ' +
        'at run time, and code both a plugin and the CLI need belongs in lib/.',
      from: { path: '^bin/', pathNot: TESTS },
      to: { path: '^(lib|plugins)/', pathNot: LIB_ENTRY },
    },
    {
      name: 'core-imports-upper-layers',
      severity: 'error',
      comment:
        'core/ knows no library and no plugin by name (the registry finds built-ins by scanning plugins/ ' +
        'at run time, which is not an import).',
      from: { path: '^core/', pathNot: TESTS },
      to: { path: '^(lib|plugins|bin)/' },
    },
  ],
  options: {
    // Only the layered source: node_modules, dist/ and the tests are not the subject of these rules.
    includeOnly: '^(core|lib|plugins|bin)/',
    exclude: { path: TESTS },
    // Type-only imports couple layers as much as value imports do.
    tsPreCompilationDeps: true,
    // TypeScript 7 (the Go port) has no JavaScript compiler API for dependency-cruiser's tsc parser, so
    // TypeScript is parsed with swc (@swc/core, a devDependency).
    parser: 'swc',
  },
};
