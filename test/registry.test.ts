import assert from 'node:assert/strict';
import path from 'node:path';
import { definePlugin } from '../core/index.js';
import { CORE_SETTINGS_SCHEMA } from '../core/config/components.js';
import { closedOptionsSchema, compileOwnSchema, createAjv, validateCollectingSecrets } from '../core/config/schema.js';
import { SERVICE_SCHEMA } from '../core/config/service.js';
import { PluginRegistry, indexRegistry, loadRegistry } from '../core/registry.js';
import { tempDir } from './support/helpers.js';

const plugin = (kind: 'input' | 'output', name: string) => definePlugin({
  kind, name, description: `${kind} ${name}`, schema: { type: 'object' },
  create: () => (kind === 'input' ? { run: async () => {} } : { write: async () => {} }) as never,
});

describe('plugin registry', () => {
  it('keeps names unique per kind: an input and an output may share a name, two inputs may not', () => {
    const r = new PluginRegistry();
    const input = plugin('input', 'wire');
    const output = plugin('output', 'wire');
    r.register(input, 'a.js');
    r.register(output, 'b.js');
    assert.equal(r.get('wire', 'input')?.plugin, input);
    assert.equal(r.get('wire', 'output')?.plugin, output);
    assert.equal(r.get('wire', 'filter'), undefined);
    assert.deepEqual(r.names(), ['wire']);
    assert.throws(() => r.register(plugin('input', 'wire'), 'c.js'), /input plugin name "wire" is already taken by a\.js/);
  });

  it('the built-in transports are registered under one name per direction', async () => {
    const r = await loadRegistry();
    for (const name of ['tcp']) {
      assert.equal(r.get(name, 'input')?.plugin.kind, 'input', `${name} input`);
      assert.equal(r.get(name, 'output')?.plugin.kind, 'output', `${name} output`);
    }
  });

  it('an indexed registry knows every built-in by name before importing any, and imports the ones asked for', async () => {
    const all = await loadRegistry();
    const indexed = await indexRegistry();
    for (const kind of ['input', 'filter', 'aggregate', 'output'] as const) assert.deepEqual(indexed.names(kind), all.names(kind), kind);
    assert.deepEqual(indexed.names(), all.names());
    assert.throws(() => indexed.get('tail', 'input'), /built-in input plugin "tail" is not loaded/);
    assert.throws(() => indexed.list(), /not loaded/);
    await indexed.load(['tcp']);
    // Every kind of that name: `get(name)` without a kind (a type in the wrong section) needs them all.
    assert.equal(indexed.get('tcp', 'input')?.plugin, all.get('tcp', 'input')?.plugin);
    assert.equal(indexed.get('tcp', 'output')?.plugin, all.get('tcp', 'output')?.plugin);
    assert.equal(indexed.get('tcp')?.plugin.kind, 'input');
    assert.throws(() => indexed.get('tail', 'input'), /not loaded/);
    await indexed.loadAll();
    assert.deepEqual(indexed.list().map((l) => `${l.plugin.kind}:${l.plugin.name}:${l.source}`), all.list().map((l) => `${l.plugin.kind}:${l.plugin.name}:${l.source}`));
  });

  it('every built-in module defines the plugin its path names (plugins/<kind>s/<name>)', async () => {
    const indexed = await indexRegistry();
    await indexed.loadAll(); // throws for a module defining another name or kind than its path says
    assert.ok(indexed.list().length > 20);
  });

  it('an external plugin taking a built-in name is refused whether or not the built-in was imported; re-exporting it is not', async () => {
    const tmp = await tempDir();
    try {
      const own = await tmp.file('own-tail.mjs', `export default { kind: 'input', name: 'tail', description: 'x', schema: { type: 'object' }, create() { return { run: async () => {} }; } };\n`);
      const builtin = path.resolve('plugins/inputs/tail/index.ts');
      const reexport = await tmp.file('reexport.mjs', `export { default } from ${JSON.stringify(builtin)};\n`);
      await assert.rejects(indexRegistry([own], tmp.dir), /input plugin name "tail" is already taken by built-in/);
      await assert.rejects(loadRegistry([own], tmp.dir), /input plugin name "tail" is already taken by built-in/);
      const r = await indexRegistry([reexport], tmp.dir);
      assert.equal(r.get('tail', 'input')?.source, reexport);
    } finally {
      await tmp.remove();
    }
  });

  it("Visor's own schemas, compiled without Ajv's meta-schema check, pass that check", async () => {
    const ajv = createAjv();
    const own = [
      ['service', SERVICE_SCHEMA], ['buffer and retry', CORE_SETTINGS_SCHEMA],
      ...(await loadRegistry()).list().map((l) => [`${l.plugin.kind} ${l.plugin.name}`, closedOptionsSchema(l.plugin.schema)] as const),
    ] as const;
    for (const [name, schema] of own) assert.equal(ajv.validateSchema(schema), true, `${name}: ${ajv.errorsText(ajv.errors)}`);
    assert.equal(ajv.validateSchema({ type: 'strnig' }), false, 'the check refuses an invalid schema');
  });

  it("a built-in's options compiled for the keys a config uses validate as the whole schema does: errors, defaults, units", async () => {
    const whole = createAjv();
    const strip = (errors: Array<{ instancePath: string; schemaPath: string; keyword: string; params: unknown; message?: string }>) =>
      errors.map((e) => ({ instancePath: e.instancePath, schemaPath: e.schemaPath, keyword: e.keyword, params: e.params, message: e.message }));
    let compared = 0;
    for (const { plugin } of (await loadRegistry()).list()) {
      const schema = closedOptionsSchema(plugin.schema);
      const properties = Object.keys((schema.properties as object | undefined) ?? {});
      // Nothing, each option alone with a value of the wrong type, and an unknown key beside the first option.
      const samples: Array<Record<string, unknown>> = [{}, ...properties.map((p) => ({ [p]: { wrong: true } })), { [properties[0] ?? 'x']: 1, not_an_option: 2 }];
      for (const sample of samples) {
        const a = structuredClone(sample);
        const b = structuredClone(sample);
        const full = validateCollectingSecrets(whole.compile(schema), a);
        const used = validateCollectingSecrets(compileOwnSchema(closedOptionsSchema(plugin.schema, true), b), b);
        assert.equal(used.valid, full.valid, `${plugin.name} ${JSON.stringify(sample)}`);
        assert.deepEqual(strip(used.errors), strip(full.errors), `${plugin.name} ${JSON.stringify(sample)}`);
        assert.deepEqual(b, a, `${plugin.name} ${JSON.stringify(sample)}: the data after validation`);
        compared++;
      }
    }
    assert.ok(compared > 100, `${compared} comparisons`);
  });
});
