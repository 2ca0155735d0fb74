// only_fields / except_fields (core/encoding.ts, Vector's encoding options): what the line outputs write of each
// event, the parsers' projection that follows from it, and the located config errors — through the real CLI.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createEncoder } from '../core/index.js';
import type { ComponentConfig } from '../core/config/model.js';
import { downstreamFields } from '../core/runtime/projection.js';
import type { AnyPlugin } from '../core/index.js';
import apacheAccess from '../plugins/filters/apache_access.js';
import tail from '../plugins/inputs/tail/index.js';
import file from '../plugins/outputs/file.js';
import { runCli, tempDir } from './support/helpers.js';

const LINE = '203.0.113.7 - alice [03/Dec/2026:10:00:00 +0000] "GET /a?b=1 HTTP/1.1" 404 512 "https://ref.example/" "curl/8.5.0"';

describe('only_fields and except_fields of the line outputs', () => {
  it('file: writes only the fields listed, in their order, missing ones left out; except_fields drops the raw line', async () => {
    const tmp = await tempDir('visor-fields-');
    try {
      const log = await tmp.file('access.log', `${LINE}\n`);
      const out = (name: string) => `${tmp.dir}/${name}.json`;
      const config = await tmp.file('p.yaml', [
        `service: { data_dir: ${JSON.stringify(`${tmp.dir}/data`)}, log_level: warn }`,
        'inputs:',
        `  logs: { type: tail, path: [${JSON.stringify(log)}], read_from: beginning, exit_on_eof: true }`,
        'filters:',
        '  access: { type: apache_access, inputs: [logs], format: combined }',
        'outputs:',
        `  only: { type: file, inputs: [access], path: ${JSON.stringify(out('only'))}, only_fields: [status, client_ip, no_such_field, timestamp] }`,
        `  except: { type: file, inputs: [access], path: ${JSON.stringify(out('except'))}, except_fields: [message, file, user_agent] }`,
        `  text: { type: stdout, inputs: [access], format: text, except_fields: [message] }`,
        '  rest: { type: blackhole, inputs: [access._unparsed] }',
        '',
      ].join('\n'));
      const r = await runCli(['run', '-c', config]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await readFile(out('only'), 'utf8'), '{"status":404,"client_ip":"203.0.113.7","timestamp":1796292000000}\n');
      const except = JSON.parse(await readFile(out('except'), 'utf8'));
      for (const gone of ['message', 'file', 'user_agent']) assert.ok(!(gone in except), `${gone} left out`);
      assert.equal(except.path, '/a');
      assert.equal(except.query, 'b=1');
      assert.equal(except.user, 'alice');
      // format text writes the message as it is: except_fields only shapes its JSON fallback.
      assert.equal(r.stdout, `${LINE}\n`);
    } finally {
      await tmp.remove();
    }
  });

  it('selects nested fields by path, building the nesting; except_fields removes a nested field without touching the event', () => {
    const event = { a: { b: 1, c: 2 }, d: 'x', message: 'raw' };
    assert.equal(createEncoder({ format: 'json', only_fields: ['a.c', 'd'] })(event), '{"a":{"c":2},"d":"x"}');
    assert.equal(createEncoder({ format: 'json', except_fields: ['a.b', 'message'] })(event), '{"a":{"c":2},"d":"x"}');
    assert.equal(createEncoder({ format: 'json', only_fields: ['a', 'message'], except_fields: ['message'] })(event), '{"a":{"b":1,"c":2}}');
    assert.deepEqual(event, { a: { b: 1, c: 2 }, d: 'x', message: 'raw' }, 'the event is shared with other branches: never edited');
    assert.equal(createEncoder({ format: 'text', except_fields: ['d'] })({ d: 1, e: 2 }), '{"e":2}', 'text: events without a message as JSON, selected');
  });

  it('the parser upstream parses only what is written (and what names the file)', () => {
    const c = (id: string, kind: ComponentConfig['kind'], type: string, inputs: string[], options: Record<string, unknown>): ComponentConfig =>
      ({ id, kind, type, inputs, options, buffer: { max_events: 1000 }, retry: undefined as never });
    const plugins = new Map<string, AnyPlugin>([tail, apacheAccess, file].map((p) => [p.name, p as AnyPlugin]));
    const graph = (options: Record<string, unknown>) => downstreamFields([
      c('logs', 'input', 'tail', [], {}),
      c('access', 'filter', 'apache_access', ['logs'], { field: 'message' }),
      c('out', 'output', 'file', ['access'], { format: 'json', ...options }),
    ], (x) => plugins.get(x.type)!);
    assert.deepEqual([...graph({ path: 'out/{{ vhost }}.log', only_fields: ['status', 'client_ip'] }).get('access')!].sort(), ['client_ip', 'status', 'timestamp', 'vhost']);
    assert.equal(graph({ path: 'out.log' }).get('access'), undefined, 'whole events: every field');
    assert.equal(graph({ path: 'out.log', except_fields: ['message'] }).get('access'), undefined, 'except_fields: every other field');
    assert.deepEqual([...graph({ path: 'out.log', format: 'template', template: '{{ client_ip }} {{ status }}' }).get('access')!].sort(), ['client_ip', 'status', 'timestamp']);
  });

  it('visor validate: a bad field path and only_fields beside a template are located errors naming the fix', async () => {
    const tmp = await tempDir('visor-fields-');
    try {
      const config = await tmp.file('p.yaml', [
        'inputs:',
        '  logs: { type: stdin }',
        'outputs:',
        '  a: { type: stdout, inputs: [logs], only_fields: [client_ip, "geo..country"] }',
        '  b: { type: file, inputs: [logs], path: out.log, format: template, template: "{{ status }}", except_fields: [message] }',
        '',
      ].join('\n'));
      const r = await runCli(['validate', '-c', config]);
      assert.equal(r.code, 78, r.stderr + r.stdout);
      const text = r.stderr + r.stdout;
      assert.match(text, /p\.yaml:4:\d+: .*"geo\.\.country" is not a field path: field names joined by dots/);
      assert.match(text, /p\.yaml:5:\d+: .*except_fields applies to format json and text; a template writes the fields it names: remove except_fields, or use format: json/);
    } finally {
      await tmp.remove();
    }
  });
});
