import assert from 'node:assert/strict';
import { definePlugin } from '../core/index.js';
import { PluginRegistry, loadRegistry } from '../core/registry.js';

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
});
