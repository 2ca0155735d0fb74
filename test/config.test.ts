import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { definePlugin } from '../core/api.js';
import { loadConfigFile, loadConfigText, type LoadOptions, type LoadResult } from '../core/config/load.js';
import { formatDiagnostic } from '../core/config/model.js';
import { createAjv, validateCollectingSecrets } from '../core/config/schema.js';
import { parseDuration, parseSize } from '../core/config/units.js';
import { expandEnv } from '../core/config/env.js';
import { PluginLoadError, PluginRegistry } from '../core/registry.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/config');
/** Configs given as text are "located" in the fixtures directory, so relative paths resolve there. */
const FILE = path.relative(process.cwd(), path.join(FIXTURES, 'visor.yaml'));

function testRegistry(): PluginRegistry {
  const registry = new PluginRegistry();
  const plugins = [
    definePlugin({ kind: 'input', name: 'stdin', description: 'Lines from stdin.', schema: { type: 'object', properties: {} }, create: () => ({ run: async () => {} }) }),
    definePlugin({
      kind: 'input', name: 'file', description: 'Tails files.',
      schema: { type: 'object', required: ['path'], properties: { path: { type: 'string' }, max_line_bytes: { size: true, default: '64KiB' } } },
      create: () => ({ run: async () => {} }),
    }),
    definePlugin({
      kind: 'filter', name: 'apache_access', description: 'Parses access logs.',
      schema: { type: 'object', properties: { format: { type: 'string', enum: ['combined', 'common'], default: 'combined' } } },
      outputs: () => ['_unparsed'],
      create: () => ({ process: (events) => events }),
    }),
    definePlugin({
      kind: 'filter', name: 'parser', description: 'Parses lines; declares what its side outputs carry.',
      schema: { type: 'object', properties: {} },
      sideOutputs: { _unparsed: 'lines it cannot parse', _skipped: { description: 'lines it was told to skip', unread: 'drop' } },
      create: () => ({ process: (events) => events }),
    }),
    definePlugin({
      kind: 'aggregate', name: 'windowed', description: 'Late events go to _late, in event time only.',
      schema: { type: 'object', properties: { time: { enum: ['event', 'processing'], default: 'event' } } },
      sideOutputs: { _late: 'events that arrive after their window was emitted' },
      outputs: (o: { time: string }) => (o.time === 'event' ? ['_late'] : []),
      create: () => ({ process: () => {} }),
    }),
    definePlugin({
      kind: 'aggregate', name: 'count', description: 'Counts events per window.',
      schema: { type: 'object', properties: { window: { duration: true, default: '10s' }, limit: { anyOf: [{ const: 'none' }, { type: 'integer', minimum: 1 }] } } },
      create: () => ({ process: () => {} }),
    }),
    definePlugin({
      kind: 'output', name: 'stdout', description: 'Prints events.',
      schema: {
        type: 'object',
        properties: {
          format: { type: 'string', enum: ['json', 'text'], default: 'text' },
          token: { type: 'string', secret: true, pattern: '^[A-Za-z0-9_-]+$' },
          timeout: { duration: true, default: '5s' },
          max_line_bytes: { size: true, default: '64KiB' },
          port: { type: 'integer' },
        },
      },
      create: () => ({ write: async () => {} }),
    }),
    definePlugin({
      kind: 'output', name: 'vault', description: 'Secret enum (test).',
      schema: { type: 'object', properties: { tier: { type: 'string', secret: true, enum: ['gold-tier', 'silver-tier'] } } },
      create: () => ({ write: async () => {} }),
    }),
  ];
  for (const p of plugins) registry.register(p, 'test');
  return registry;
}

const withTestPlugins: LoadOptions['registryFor'] = async () => testRegistry();

function lines(...text: string[]): string {
  return text.join('\n') + '\n';
}

async function load(text: string, opts: LoadOptions = {}): Promise<LoadResult> {
  return loadConfigText(text, FILE, { env: {}, registryFor: withTestPlugins, ...opts });
}

/** Diagnostics as the CLI prints them, without the file name (always FILE here). */
function printed(result: LoadResult): string[] {
  return result.diagnostics.map((d) => {
    assert.equal(d.file, FILE);
    return formatDiagnostic(d).slice(FILE.length + 1);
  });
}

/** A minimal valid pipeline around the given component lines. */
const PIPE_HEAD = ['inputs:', '  app: { type: stdin }'];

describe('config loader', () => {
  describe('a valid file', () => {
    it('resolves service defaults, component defaults and file order', async () => {
      const result = await load(lines(
        'service:',
        '  http: {}',
        'outputs:',
        '  console: { type: stdout, inputs: [access, access._unparsed], format: json }',
        'filters:',
        '  access: { type: apache_access, inputs: [app] }',
        'inputs:',
        '  app: { type: stdin }',
      ));
      assert.deepEqual(result.diagnostics, []);
      const config = result.config!;
      assert.equal(config.file, path.join(FIXTURES, 'visor.yaml'));
      assert.equal(config.dir, FIXTURES);
      assert.deepEqual(config.service, {
        data_dir: path.join(FIXTURES, 'data'), name: hostname(), log_level: 'info', log_format: 'text', grace: 5000,
        threads: 1, http: { listen: '127.0.0.1:2020' }, plugins: [],
      });
      // inputs, filters, aggregates, outputs, whatever order the sections are written in
      assert.deepEqual(config.components.map((c) => [c.id, c.kind, c.type]), [
        ['app', 'input', 'stdin'], ['access', 'filter', 'apache_access'], ['console', 'output', 'stdout'],
      ]);
      const [app, access, console] = config.components;
      assert.deepEqual(app.inputs, []);
      assert.deepEqual(access.inputs, ['app']);
      assert.deepEqual(access.options, { format: 'combined' });
      assert.deepEqual(access.buffer, { max_events: 10000 });
      assert.deepEqual(console.inputs, ['access', 'access._unparsed']);
      assert.deepEqual(console.options, { format: 'json', timeout: 5000, max_line_bytes: 65536 });
      assert.deepEqual(console.retry, { attempts: 0, backoff: 500, max_backoff: 30000 });
      assert.deepEqual(config.secrets, []);
      assert.deepEqual(config.warnings, []);
      assert.ok(result.registry?.get('stdout'));
    });

    it('takes explicit service, buffer and retry settings, converting units', async () => {
      const result = await load(lines(
        'service:',
        '  data_dir: /var/lib/visor',
        '  log_level: debug',
        '  log_format: json',
        '  grace: 1m30s',
        '  threads: 3',
        '  http: { listen: 0.0.0.0:9000, token: config-test-token-0123 }',
        ...PIPE_HEAD,
        'outputs:',
        '  console:',
        '    type: stdout',
        '    inputs: [app]',
        '    buffer: { max_events: 50 }',
        '    retry: { attempts: 3, backoff: 250ms, max_backoff: 1m }',
      ));
      assert.deepEqual(result.diagnostics, []);
      const { service, components } = result.config!;
      assert.deepEqual(service, { data_dir: '/var/lib/visor', name: hostname(), log_level: 'debug', log_format: 'json', grace: 90000, threads: 3, http: { listen: '0.0.0.0:9000', token: 'config-test-token-0123' }, plugins: [] });
      assert.deepEqual(components[1].buffer, { max_events: 50 });
      assert.deepEqual(components[1].retry, { attempts: 3, backoff: 250, max_backoff: 60000 });
    });

    it('leaves http unset when not configured, and enables it with defaults for an empty `http:`', async () => {
      const pipe = [...PIPE_HEAD, 'outputs:', '  o: { type: stdout, inputs: [app] }'];
      assert.equal((await load(lines(...pipe))).config!.service.http, undefined);
      assert.deepEqual((await load(lines('service:', '  http:', ...pipe))).config!.service.http, { listen: '127.0.0.1:2020' });
    });

    it('accepts anchors, aliases and merge keys for shared settings', async () => {
      const result = await load(lines(
        'inputs:',
        '  app: &plain { type: stdin }',
        '  other: *plain',
        'outputs:',
        '  a: &out { type: stdout, inputs: [app, other], format: json }',
        '  b: { <<: *out, format: text }',
      ));
      assert.deepEqual(result.diagnostics, []);
      assert.deepEqual(result.config!.components.map((c) => [c.id, c.type, c.options.format]), [
        ['app', 'stdin', undefined], ['other', 'stdin', undefined], ['a', 'stdout', 'json'], ['b', 'stdout', 'text'],
      ]);
    });

    it('loads a file from disk, resolving data_dir against its directory', async () => {
      const file = path.join(FIXTURES, 'pipeline.yaml');
      const result = await loadConfigFile(file, { registryFor: withTestPlugins });
      assert.deepEqual(result.diagnostics, []);
      assert.equal(result.config!.service.data_dir, path.join(FIXTURES, 'state'));
      assert.deepEqual(result.config!.components.map((c) => c.id), ['app_log', 'console']);
    });
  });

  describe('file and syntax problems', () => {
    it('reports a missing file at 1:1 instead of throwing', async () => {
      const file = path.join(FIXTURES, 'no-such-file.yaml');
      const result = await loadConfigFile(file, { registryFor: withTestPlugins });
      assert.equal(result.config, undefined);
      assert.equal(result.diagnostics.length, 1);
      assert.deepEqual({ ...result.diagnostics[0], message: undefined }, { file, line: 1, col: 1, severity: 'error', message: undefined });
      assert.match(result.diagnostics[0].message, /^cannot read config file: ENOENT/);
    });

    it('reports a YAML syntax error at its position, once', async () => {
      const result = await load(lines(
        'inputs:',
        '  app: { type: stdin',
        'outputs:',
        '  o: { type: stdout, inputs: [app] }',
      ));
      assert.deepEqual(printed(result), ['3:1: Flow map in block collection must be sufficiently indented and end with a }']);
      assert.equal(result.config, undefined);
    });

    it('explains an unquoted ${VAR} inside a flow map', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  o: { type: stdout, inputs: [app], token: ${TOKEN} }'));
      assert.deepEqual(printed(result), [
        '4:45: Unexpected flow-map-start at node end; quote values containing ${...} inside { } or [ ], e.g. token: "${TOKEN}"',
      ]);
    });

    it('rejects an empty file and a pipeline without outputs', async () => {
      assert.deepEqual(printed(await load('')), ['1:1: a pipeline needs at least one input and one output']);
      assert.deepEqual(printed(await load('# nothing yet\n')), ['1:1: a pipeline needs at least one input and one output']);
      assert.deepEqual(printed(await load(lines(...PIPE_HEAD, 'outputs: {}'))), [
        '2:3: warning: component "app" is not read by any component',
        '3:1: a pipeline needs at least one input and one output; add one under outputs:',
      ]);
    });

    it('rejects unknown top-level keys with a suggestion', async () => {
      const result = await load(lines(...PIPE_HEAD, 'ouputs:', '  o: { type: stdout, inputs: [app] }', 'sinks: {}'));
      assert.deepEqual(printed(result), [
        '1:1: a pipeline needs at least one input and one output; add one under outputs:',
        '2:3: warning: component "app" is not read by any component',
        '3:1: unknown top-level key "ouputs" — did you mean "outputs"?',
        '5:1: unknown top-level key "sinks"; valid keys: service, inputs, filters, aggregates, outputs',
      ]);
    });
  });

  describe('component types', () => {
    it('suggests the closest type of the right kind', async () => {
      const result = await load(lines(...PIPE_HEAD, 'filters:', '  access: { type: apache_acess, inputs: [app] }', 'outputs:', '  o: { type: stdout, inputs: [access] }'));
      assert.deepEqual(printed(result), ['4:19: unknown type "apache_acess" — did you mean "apache_access"?']);
    });

    it('lists the available types when nothing is close', async () => {
      const result = await load(lines('inputs:', '  app: { type: kafka }', 'outputs:', '  o: { type: stdout, inputs: [app] }'));
      assert.deepEqual(printed(result), ['2:16: unknown type "kafka"; available input types: file, stdin']);
    });

    it('says where a plugin of another kind belongs', async () => {
      const result = await load(lines(...PIPE_HEAD, 'filters:', '  f: { type: stdout, inputs: [app] }', 'outputs:', '  o: { type: stdout, inputs: [f] }'));
      assert.deepEqual(printed(result), ['4:14: "stdout" is an output plugin; move it to outputs:']);
    });

    it('reports a missing type at the component id', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  console:', '    inputs: [app]', '    format: json'));
      assert.deepEqual(printed(result), ['4:3: missing required key "type" for output "console"; available output types: stdout, vault']);
    });

    it('reports a component that is not a map', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  console: stdout'));
      assert.deepEqual(printed(result), [
        '2:3: warning: component "app" is not read by any component',
        '4:12: output "console" must be a map of settings with at least a type, e.g. console: { type: ... }',
      ]);
    });

    it('rejects ids with dots', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  my.out: { type: stdout, inputs: [app] }'));
      assert.deepEqual(printed(result), [
        '4:3: invalid component id "my.out": use letters, digits, _ and -, starting with a letter or _ (dots are reserved for side outputs such as access._unparsed)',
      ]);
    });
  });

  describe('plugin options', () => {
    it('suggests the option meant by an unknown one, pointing at its key', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  o: { type: stdout, inputs: [app], fromat: json }'));
      assert.deepEqual(printed(result), ['4:37: unknown option "fromat" for stdout — did you mean "format"?']);
    });

    it('suggests core keys too, and lists valid options when nothing is close', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  o:', '    type: stdout', '    inptus: [app]', '    colour: red'));
      assert.deepEqual(printed(result), [
        '2:3: warning: component "app" is not read by any component',
        '4:3: output o has no inputs; add inputs: [<id>]',
        '6:5: unknown option "inptus" for stdout — did you mean "inputs"?',
        '7:5: unknown option "colour" for stdout; valid options: format, token, timeout, max_line_bytes, port, type, inputs, buffer, retry',
      ]);
    });

    it('suggests the enum value meant', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  o: { type: stdout, inputs: [app], format: jsn }'));
      assert.deepEqual(printed(result), ['4:45: invalid value "jsn" for format — expected one of: json, text; did you mean "json"?']);
    });

    it('reports values of the wrong type', async () => {
      const result = await load(lines(
        ...PIPE_HEAD,
        'outputs:',
        '  o:',
        '    type: stdout',
        '    inputs: [app]',
        '    port: eighty',
        '    format: [json]',
        '    buffer: { max_events: 0 }',
      ));
      assert.deepEqual(printed(result), [
        '7:11: invalid value "eighty" for port — expected an integer',
        '8:13: invalid value for format — expected a string, got a list',
        '9:27: invalid value 0 for buffer.max_events — must be >= 1',
      ]);
    });

    it('reports a missing required option at the component id', async () => {
      const result = await load(lines('inputs:', '  logs: { type: file }', 'outputs:', '  o: { type: stdout, inputs: [logs] }'));
      assert.deepEqual(printed(result), ['2:3: missing required option "path" for file']);
    });

    it('reports one message for a failed anyOf', async () => {
      const result = await load(lines(
        ...PIPE_HEAD,
        'aggregates:',
        '  per_min: { type: count, inputs: [app], limit: lots }',
        '  per_hour: { type: count, inputs: [app], limit: 0 }',
        'outputs:',
        '  o: { type: stdout, inputs: [per_min, per_hour] }',
      ));
      assert.deepEqual(printed(result), [
        '4:49: invalid value "lots" for limit — expected "none" or an integer',
        // the integer branch matched the type: its own error is the useful one
        '5:50: invalid value 0 for limit — must be >= 1',
      ]);
    });

    it('keeps core keys out of the options and rejects them on the wrong kind', async () => {
      const result = await load(lines(
        'inputs:',
        '  app: { type: stdin, inputs: [x], retry: { attempts: 1 } }',
        'filters:',
        '  f: { type: apache_access, inputs: [app], retry: {} }',
        'outputs:',
        '  o: { type: stdout, inputs: [f], retry: { atempts: 2 } }',
      ));
      assert.deepEqual(printed(result), [
        '2:23: an input cannot have inputs: inputs read from outside the pipeline, so they take no inputs:; remove it',
        '2:36: an input cannot have retry: retry: applies only to outputs; remove it',
        `4:3: warning: "f" sends events to "f._unparsed", which no component reads: they are counted and discarded; add "f._unparsed" to some component's inputs to keep them`,
        '4:44: a filter cannot have retry: retry: applies only to outputs; remove it',
        '6:44: unknown key "atempts" in retry — did you mean "attempts"?',
      ]);
    });
  });

  describe('units', () => {
    it('converts durations and sizes in options, including string defaults', async () => {
      const result = await load(lines(
        'inputs:',
        '  logs: { type: file, path: /var/log/a.log, max_line_bytes: 1.5KB }',
        '  more: { type: file, path: /var/log/b.log }',
        'aggregates:',
        '  per_min: { type: count, inputs: [logs, more], window: 1h30m }',
        'outputs:',
        '  o: { type: stdout, inputs: [per_min], timeout: 0.25, max_line_bytes: 64k }',
      ));
      assert.deepEqual(result.diagnostics, []);
      const options = Object.fromEntries(result.config!.components.map((c) => [c.id, c.options]));
      assert.deepEqual(options.logs, { path: '/var/log/a.log', max_line_bytes: 1500 });
      assert.deepEqual(options.more, { path: '/var/log/b.log', max_line_bytes: 65536 });
      assert.deepEqual(options.per_min, { window: 5_400_000 });
      assert.deepEqual(options.o, { format: 'text', timeout: 250, max_line_bytes: 65536 });
    });

    it('reports invalid durations and sizes with the accepted forms', async () => {
      const result = await load(lines(
        'service:',
        '  grace: 5x',
        ...PIPE_HEAD,
        'outputs:',
        '  o: { type: stdout, inputs: [app], max_line_bytes: 10XB }',
      ));
      assert.deepEqual(printed(result), [
        '2:10: invalid duration "5x": use a number of seconds or a string like 250ms, 5s, 1m, 1h',
        '6:53: invalid size "10XB": use a number of bytes or a string like 512, 64KiB, 10MB, 1.5GiB',
      ]);
    });

    it('parses durations', () => {
      assert.equal(parseDuration('250ms'), 250);
      assert.equal(parseDuration('5s'), 5000);
      assert.equal(parseDuration('1m'), 60_000);
      assert.equal(parseDuration('1h'), 3_600_000);
      assert.equal(parseDuration('1h30m'), 5_400_000);
      assert.equal(parseDuration('2d'), 172_800_000);
      assert.equal(parseDuration(2), 2000);
      assert.equal(parseDuration('1.5'), 1500);
      assert.equal(parseDuration('1.5s'), 1500);
      for (const bad of ['5x', '', 's', '1h 30m', '-1s', 'ms', '5 minutes', -1, Infinity, null]) assert.equal(parseDuration(bad), undefined, String(bad));
    });

    it('parses sizes', () => {
      assert.equal(parseSize(512), 512);
      assert.equal(parseSize('512'), 512);
      assert.equal(parseSize('100b'), 100);
      assert.equal(parseSize('64KiB'), 65_536);
      assert.equal(parseSize('10MB'), 10_000_000);
      assert.equal(parseSize('10mb'), 10_000_000);
      assert.equal(parseSize('1.5GiB'), 1_610_612_736);
      assert.equal(parseSize('64k'), 65_536);
      assert.equal(parseSize('2M'), 2_097_152);
      assert.equal(parseSize('1g'), 1_073_741_824);
      assert.equal(parseSize('1.5KB'), 1500);
      for (const bad of ['10XB', '', 'KiB', '-1', 'lots', -5, NaN]) assert.equal(parseSize(bad), undefined, String(bad));
    });

    it('exposes the same Ajv setup for reuse, converting string defaults', () => {
      const validate = createAjv().compile({
        type: 'object',
        properties: { wait: { duration: true, default: '1m' }, cap: { size: true, default: '1MiB' }, key: { type: 'string', secret: true } },
      });
      const data: Record<string, unknown> = { key: 'k-1-long-key' };
      const outcome = validateCollectingSecrets(validate, data);
      assert.equal(outcome.valid, true);
      assert.deepEqual(data, { key: 'k-1-long-key', wait: 60_000, cap: 1_048_576 });
      assert.deepEqual(outcome.secrets, ['k-1-long-key']);
    });
  });

  describe('wiring', () => {
    it('suggests the component meant by an unknown input', async () => {
      const result = await load(lines(
        ...PIPE_HEAD,
        'filters:',
        '  access: { type: apache_access, inputs: [app] }',
        'outputs:',
        '  o: { type: stdout, inputs: [acess] }',
        '  p: { type: stdout, inputs: [nothing_like_it] }',
      ));
      assert.deepEqual(printed(result), [
        '6:31: unknown input "acess" — did you mean "access"?',
        '7:31: unknown input "nothing_like_it"; components that can be read: app, access',
      ]);
      const side = await load(lines(...PIPE_HEAD, 'filters:', '  access: { type: apache_access, inputs: [app] }', 'outputs:', '  o: { type: stdout, inputs: [acess._unparsed] }'));
      // no "access is not read" warning on top: the misspelt reference meant it
      assert.deepEqual(printed(side), ['6:31: unknown input "acess._unparsed" — did you mean "access._unparsed"?']);
    });

    it('checks side output names against what the component declares', async () => {
      const result = await load(lines(
        ...PIPE_HEAD,
        'filters:',
        '  access: { type: apache_access, inputs: [app] }',
        'outputs:',
        '  o: { type: stdout, inputs: [access, access._unparsd, app._x] }',
      ));
      assert.deepEqual(printed(result), [
        '6:39: component "access" has no output "_unparsd"; it has: _unparsed',
        '6:56: component "app" has no output "_x"; it has no side outputs',
      ]);
    });

    it('reports an output with no inputs', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  console: { type: stdout, inputs: [] }', '  other: { type: stdout }'));
      assert.deepEqual(printed(result), [
        '2:3: warning: component "app" is not read by any component',
        '4:36: output console has no inputs; add inputs: [<id>]',
        '5:3: output other has no inputs; add inputs: [<id>]',
      ]);
    });

    it('explains that inputs is a list', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  o: { type: stdout, inputs: app }'));
      assert.deepEqual(printed(result), ['4:30: inputs must be a list of component ids: write inputs: [app]']);
    });

    it('refuses to read from an output', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  a: { type: stdout, inputs: [app] }', '  b: { type: stdout, inputs: [a] }'));
      assert.deepEqual(printed(result), ['5:31: "a" is an output; outputs cannot be read from']);
    });

    it('names a cycle, located at its first component', async () => {
      const result = await load(lines(
        ...PIPE_HEAD,
        'filters:',
        '  a: { type: apache_access, inputs: [app, c] }',
        '  b: { type: apache_access, inputs: [a] }',
        '  c: { type: apache_access, inputs: [b] }',
        '  d: { type: apache_access, inputs: [d] }',
        'outputs:',
        '  o: { type: stdout, inputs: [c] }',
      ));
      const unread = (id: string) => `warning: "${id}" sends events to "${id}._unparsed", which no component reads: they are counted and discarded; add "${id}._unparsed" to some component's inputs to keep them`;
      assert.deepEqual(printed(result), [
        '4:3: cycle in the pipeline: a -> b -> c -> a; data must flow from inputs towards outputs',
        `4:3: ${unread('a')}`,
        `5:3: ${unread('b')}`,
        `6:3: ${unread('c')}`,
        '7:3: cycle in the pipeline: d -> d; data must flow from inputs towards outputs',
        `7:3: ${unread('d')}`,
      ]);
    });

    it('warns about a component nobody reads, and about a side output nobody reads', async () => {
      const result = await load(lines(
        ...PIPE_HEAD,
        '  spare: { type: stdin }',
        'filters:',
        '  access: { type: apache_access, inputs: [app] }',
        '  errors_only: { type: apache_access, inputs: [app] }',
        'outputs:',
        '  o: { type: stdout, inputs: [access, errors_only._unparsed] }',
      ));
      const expected = [
        '3:3: warning: component "spare" is not read by any component',
        `5:3: warning: "access" sends events to "access._unparsed", which no component reads: they are counted and discarded; add "access._unparsed" to some component's inputs to keep them`,
        '6:3: warning: the main output of component "errors_only" is not read by any component (only errors_only._unparsed is)',
      ];
      assert.deepEqual(printed(result), expected);
      assert.ok(result.config, 'warnings do not prevent loading');
      assert.deepEqual(result.config.warnings.map((d) => formatDiagnostic(d).slice(FILE.length + 1)), expected);
    });

    describe('side outputs nobody reads', () => {
      const unparsedWarning = `warning: "p" sends lines it cannot parse to "p._unparsed", which no component reads: they are counted and discarded; add "p._unparsed" to some component's inputs to keep them`;

      it('are warned about at the component, saying what it sends there and what becomes of it', async () => {
        const result = await load(lines(...PIPE_HEAD, 'filters:', '  p: { type: parser, inputs: [app] }', 'outputs:', '  o: { type: stdout, inputs: [p] }'));
        // _skipped is declared unread: 'drop': leaving it unread is no warning
        assert.deepEqual(printed(result), [`4:3: ${unparsedWarning}`]);
        assert.ok(result.config, 'a warning does not prevent loading');
        assert.deepEqual(result.config.warnings.map((d) => formatDiagnostic(d).slice(FILE.length + 1)), [`4:3: ${unparsedWarning}`]);
      });

      it('are not warned about once some component reads them', async () => {
        const result = await load(lines(...PIPE_HEAD, 'filters:', '  p: { type: parser, inputs: [app] }', 'outputs:', '  o: { type: stdout, inputs: [p] }', '  bad: { type: stdout, inputs: [p._unparsed] }'));
        assert.deepEqual(printed(result), []);
      });

      it('follow the options when the plugin lists them with outputs(options)', async () => {
        const event = await load(lines(...PIPE_HEAD, 'aggregates:', '  w: { type: windowed, inputs: [app] }', 'outputs:', '  o: { type: stdout, inputs: [w] }'));
        assert.deepEqual(printed(event), [
          `4:3: warning: "w" sends events that arrive after their window was emitted to "w._late", which no component reads: they are counted and discarded; add "w._late" to some component's inputs to keep them`,
        ]);
        const processing = await load(lines(...PIPE_HEAD, 'aggregates:', '  w: { type: windowed, inputs: [app], time: processing }', 'outputs:', '  o: { type: stdout, inputs: [w] }'));
        assert.deepEqual(printed(processing), []);
      });

      it('a side output of a plugin that does not describe it is called "events"', async () => {
        const result = await load(lines(...PIPE_HEAD, 'filters:', '  a: { type: apache_access, inputs: [app] }', 'outputs:', '  o: { type: stdout, inputs: [a] }'));
        assert.deepEqual(printed(result), [
          `4:3: warning: "a" sends events to "a._unparsed", which no component reads: they are counted and discarded; add "a._unparsed" to some component's inputs to keep them`,
        ]);
      });

      it('a malformed sideOutputs declaration is refused when the plugin is registered', () => {
        const registry = new PluginRegistry();
        const plugin = { kind: 'filter', name: 'bad', description: '', schema: { type: 'object' }, create: () => ({ process: () => {} }) };
        assert.throws(() => registry.register({ ...plugin, sideOutputs: { _x: { unread: 'drop' } } }, './bad.js'),
          /^Error: \.\/bad\.js: not a Visor plugin: "sideOutputs" must map each side output name to a description, or to \{ description, unread: "drop" \} \("_x" is not\)$/);
        assert.throws(() => registry.register({ ...plugin, sideOutputs: ['_x'] }, './bad.js'), /"sideOutputs" must map/);
        registry.register({ ...plugin, sideOutputs: { _x: 'lines it cannot parse', _y: { description: 'dropped ones', unread: 'drop' } } }, './good.js');
      });
    });

    it('rejects duplicate ids across and within sections', async () => {
      const result = await load(lines(
        ...PIPE_HEAD,
        'filters:',
        '  app: { type: apache_access, inputs: [app] }',
        'outputs:',
        '  o: { type: stdout, inputs: [app] }',
        '  o: { type: stdout, inputs: [app] }',
      ));
      assert.deepEqual(printed(result), [
        '4:3: duplicate component id "app" (first defined at line 2); ids must be unique across inputs, filters, aggregates and outputs',
        '7:3: duplicate component id "o" (first defined at line 6); ids must be unique across inputs, filters, aggregates and outputs',
      ]);
    });

    it('rejects duplicate keys elsewhere', async () => {
      const result = await load(lines(...PIPE_HEAD, 'outputs:', '  o: { type: stdout, inputs: [app], format: json, format: text }'));
      assert.deepEqual(printed(result), ['4:51: duplicate key "format"']);
    });
  });

  describe('environment variables', () => {
    const pipe = (...outputLines: string[]) => lines(...PIPE_HEAD, 'outputs:', '  o:', '    type: stdout', '    inputs: [app]', ...outputLines);

    it('substitutes set variables and defaults, coercing to the schema type', async () => {
      const result = await load(pipe('    format: ${FORMAT}', '    port: ${PORT:-8080}', '    token: "${TOKEN:-}x${USER_ID}"'), { env: { FORMAT: 'json', USER_ID: '4200042' } });
      assert.deepEqual(result.diagnostics, []);
      assert.deepEqual(result.config!.components[1].options, { format: 'json', port: 8080, token: 'x4200042', timeout: 5000, max_line_bytes: 65536 });
    });

    it('reports a missing variable at its value', async () => {
      const result = await load(pipe('    format: ${FORMAT}', '    port: ${PORT}'), { env: { FORMAT: 'json' } });
      assert.deepEqual(printed(result), ['8:11: environment variable "PORT" is not set; set it or write ${PORT:-default}']);
    });

    it('keeps $${X} as a literal ${X}', async () => {
      const result = await load(pipe('    token: "$${NOT_EXPANDED}"'), { env: { NOT_EXPANDED: 'oops' } });
      // the literal fails the token pattern: the point is that it was not expanded (and not echoed: it is a secret)
      assert.deepEqual(printed(result), ['7:12: invalid value for token — must match pattern "^[A-Za-z0-9_-]+$"']);
      assert.deepEqual(expandEnv('a $${B} ${C}', { B: 'no', C: 'c' }), { value: 'a ${B} c' });
    });

    it('never lets a value inject YAML structure', async () => {
      const result = await load(pipe('    format: ${FORMAT}'), { env: { FORMAT: 'json\n    evil: x' } });
      assert.deepEqual(printed(result), ['7:13: invalid value "json\\n    evil: x" for format — expected one of: json, text']);
      const values = await load(lines('service:', '  data_dir: ${DIR}', ...PIPE_HEAD, 'outputs:', '  o: { type: stdout, inputs: [app] }'), { env: { DIR: 'x\nlog_level: debug' } });
      assert.equal(values.config!.service.data_dir, path.join(FIXTURES, 'x\nlog_level: debug'));
      assert.equal(values.config!.service.log_level, 'info');
    });

    it('does not substitute in keys', async () => {
      const result = await load(pipe('    ${FORMAT}: json'), { env: { FORMAT: 'format' } });
      assert.deepEqual(printed(result), ['7:5: unknown option "${FORMAT}" for stdout; valid options: format, token, timeout, max_line_bytes, port, type, inputs, buffer, retry']);
    });
  });

  describe('secrets', () => {
    it('collects secret values and never shows them in diagnostics', async () => {
      const result = await load(lines(
        ...PIPE_HEAD,
        'outputs:',
        '  o: { type: stdout, inputs: [app], token: "${TOKEN}" }',
        '  bad: { type: stdout, inputs: [app], token: "has spaces!", port: x }',
        '  v: { type: vault, inputs: [app], tier: gold-tire }',
      ), { env: { TOKEN: 'tok-from-env' } });
      assert.deepEqual(printed(result), [
        '5:46: invalid value for token — must match pattern "^[A-Za-z0-9_-]+$"',
        '5:67: invalid value "x" for port — expected an integer',
        '6:42: invalid value for tier — expected one of: gold-tier, silver-tier',
      ]);
      const everything = JSON.stringify(result.diagnostics);
      for (const secret of ['has spaces!', 'gold-tire']) assert.ok(!everything.includes(secret), secret);
    });

    it('lists the final values in config.secrets', async () => {
      const result = await load(lines(
        ...PIPE_HEAD,
        'outputs:',
        '  o: { type: stdout, inputs: [app], token: "${TOKEN}" }',
        '  v: { type: vault, inputs: [app], tier: silver-tier }',
      ), { env: { TOKEN: 'tok-from-env' } });
      assert.deepEqual(result.diagnostics, []);
      assert.deepEqual(result.config!.secrets, ['tok-from-env', 'silver-tier']);
    });
  });

  describe('service', () => {
    it('validates settings with suggestions', async () => {
      const result = await load(lines(
        'service:',
        '  loglevel: debug',
        '  log_format: jsno',
        '  http: { listn: x }',
        ...PIPE_HEAD,
        'outputs:',
        '  o: { type: stdout, inputs: [app] }',
      ));
      assert.deepEqual(printed(result), [
        '2:3: unknown key "loglevel" in service — did you mean "log_level"?',
        '3:15: invalid value "jsno" for service.log_format — expected one of: text, json; did you mean "json"?',
        '4:11: unknown key "http.listn" in service — did you mean "listen"?',
      ]);
    });
  });

  describe('external plugins', () => {
    const registryLoading: LoadOptions['registryFor'] = async (plugins, baseDir) => {
      const registry = testRegistry();
      for (const spec of plugins) await registry.loadModule(spec, baseDir);
      return registry;
    };

    it('loads plugin paths relative to the config file', async () => {
      const result = await load(lines(
        'service:',
        '  plugins: [./plugins/geo.js]',
        ...PIPE_HEAD,
        'filters:',
        '  geo: { type: geo, inputs: [app] }',
        'outputs:',
        '  o: { type: stdout, inputs: [geo] }',
      ), { registryFor: registryLoading });
      assert.deepEqual(result.diagnostics, []);
      assert.deepEqual(result.config!.service.plugins, ['./plugins/geo.js']);
      assert.deepEqual(result.config!.components[1].options, { field: 'client_ip' });
    });

    it('reports a plugin that fails to load at its entry, and still checks the rest', async () => {
      const failing: LoadOptions['registryFor'] = async (plugins) => {
        if (plugins.includes('./plugins/missing.js')) throw new PluginLoadError('cannot load plugin module "./plugins/missing.js": not found', './plugins/missing.js');
        return testRegistry();
      };
      const result = await load(lines(
        'service:',
        '  plugins:',
        '    - ./plugins/geo.js',
        '    - ./plugins/missing.js',
        ...PIPE_HEAD,
        'filters:',
        '  geo: { type: geo, inputs: [app] }',
        'outputs:',
        '  o: { type: stdout, inputs: [geo], fromat: json }',
      ), { registryFor: failing });
      assert.deepEqual(printed(result), [
        '4:7: cannot load plugin module "./plugins/missing.js": not found',
        // no "unknown type geo": it may have come from the module that failed
        '10:37: unknown option "fromat" for stdout — did you mean "format"?',
      ]);
    });

    it('reports an error without a specifier at service.plugins', async () => {
      const failing: LoadOptions['registryFor'] = async (plugins) => {
        if (plugins.length > 0) throw new Error('boom');
        return testRegistry();
      };
      const result = await load(lines('service:', '  plugins: [x]', ...PIPE_HEAD, 'outputs:', '  o: { type: stdout, inputs: [app] }'), { registryFor: failing });
      assert.deepEqual(printed(result), ['2:3: cannot load plugins: boom']);
    });
  });

  it('reports every problem at once, in file order', async () => {
    const result = await load(lines(
      'service:',
      '  grace: soon',
      'inputs:',
      '  app: { type: stdni }',
      'filters:',
      '  access: { type: apache_access, inputs: [ap], format: comon }',
      'outputs:',
      '  o: { type: stdout, inputs: [access], fromat: json, port: "${PORT}" }',
    ));
    assert.deepEqual(printed(result), [
      '2:10: invalid duration "soon": use a number of seconds or a string like 250ms, 5s, 1m, 1h',
      '4:16: unknown type "stdni" — did you mean "stdin"?',
      '6:43: unknown input "ap" — did you mean "app"?',
      '6:56: invalid value "comon" for format — expected one of: combined, common; did you mean "common"?',
      '8:40: unknown option "fromat" for stdout — did you mean "format"?',
      '8:60: environment variable "PORT" is not set; set it or write ${PORT:-default}',
    ]);
    assert.equal(result.config, undefined);
  });
});
