// Config loading that never surprises, and the CLI's small warts (issue 14), through the real CLI in dist/:
// alias bombs, deep nesting, oversized or non-regular config files, plugin modules whose import never settles,
// visor help, generate --count at full speed, analyze's LogFormat example and its 0-parsed exit status, plugins'
// flags and --list.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliProcess, ROOT, runCli, tempDir } from './support/helpers.js';

const EXIT_CONFIG = 78;
const EXIT_NOTHING_PARSED = 65;

const PIPELINE = `inputs:
  in: { type: stdin }
outputs:
  out: { type: stdout, inputs: [in], format: text }
`;

/** 9 anchors of 9 aliases of the previous: 9^9 = 387 million strings once expanded, in 500 bytes of text. */
function billionLaughs(): string {
  const names = 'abcdefghi'.split('');
  const lines = ['x:', `  ${names[0]}: &${names[0]} [${Array(9).fill('"lol"').join(', ')}]`];
  for (let i = 1; i < names.length; i++) lines.push(`  ${names[i]}: &${names[i]} [${Array(9).fill(`*${names[i - 1]}`).join(', ')}]`);
  return lines.join('\n') + '\n';
}

describe('config limits and CLI warts (real CLI)', function () {
  this.timeout(30000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => { tmp = await tempDir(); });
  afterEach(async () => { await tmp.remove(); });

  describe('config loading', () => {
    it('an alias bomb used in a component option: located error, exit 78, no JS error', async () => {
      const bomb = billionLaughs();
      const config = await tmp.file('bomb.yaml', `${bomb}inputs:\n  in: { type: stdin, max_line_bytes: *i }\noutputs:\n  out: { type: stdout, inputs: [in] }\n`);
      for (const command of ['validate', 'run']) {
        const started = Date.now();
        const r = await runCli([command, '-c', config]);
        assert.equal(r.code, EXIT_CONFIG, `${command}: ${r.stderr}`);
        // The first alias past the limit: line 7 (`f`) holds the aliases of `e`, 9^5 values each.
        assert.match(r.stderr, /bomb\.yaml:7:\d+: aliases expand this document to over 100000 more values/);
        assert.doesNotMatch(r.stderr, /ReferenceError|Excessive alias count|at .*\.js:\d+/);
        assert.ok(Date.now() - started < 10000, `took ${Date.now() - started} ms`);
      }
    });

    it('an alias bomb under an unknown top-level key is refused too (before anything walks it)', async () => {
      const config = await tmp.file('bomb.yaml', billionLaughs() + PIPELINE);
      const r = await runCli(['validate', '-c', config]);
      assert.equal(r.code, EXIT_CONFIG, r.stderr);
      assert.match(r.stderr, /bomb\.yaml:\d+:\d+: aliases expand this document/);
    });

    it('aliases used as intended (a shared map merged into many components) stay valid', async () => {
      const inputs = Array.from({ length: 30 }, (_, i) => `  in${i}: { type: stdin, <<: *defaults }`).join('\n');
      const config = await tmp.file('shared.yaml', `x-defaults: &defaults { max_line_bytes: 1000, long_lines: skip, batch_size: 10 }
inputs:
${inputs}
outputs:
  out: { type: stdout, inputs: [${Array.from({ length: 30 }, (_, i) => `in${i}`).join(', ')}] }
`);
      const r = await runCli(['validate', '-c', config]);
      // The only error is the unknown top-level key: the 30 merges are fine.
      assert.deepEqual(r.stderr.trim().split('\n'), [`${config}:1:1: unknown top-level key "x-defaults"; valid keys: service, inputs, filters, aggregates, outputs`, `${config}: 1 error`]);
    });

    it('14 aliases of an anchor of aliases in one option (yaml\'s own per-call limit of 100 refused it): checked normally', async () => {
      const config = await tmp.file('mid.yaml', `x-shared:
  a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
inputs:
  in: { type: stdin, nope: [${Array(14).fill('*b').join(', ')}] }
outputs:
  out: { type: stdout, inputs: [in] }
`);
      const r = await runCli(['validate', '-c', config]);
      assert.equal(r.code, EXIT_CONFIG, r.stderr);
      assert.match(r.stderr, /mid\.yaml:5:22: unknown option "nope" for stdin/);
      assert.doesNotMatch(r.stderr, /ReferenceError|Excessive alias count/);
    });

    it('nesting of thousands of levels: located error, exit 78, for flow and block style', async () => {
      const flow = await tmp.file('flow.yaml', `inputs:\n  in: { type: stdin, x: ${'['.repeat(5000)}${']'.repeat(5000)} }\n`);
      const r1 = await runCli(['validate', '-c', flow]);
      assert.equal(r1.code, EXIT_CONFIG, r1.stderr);
      assert.match(r1.stderr, /flow\.yaml:2:\d+: (the YAML is nested too deeply to parse|nested more than 64 levels deep)/);
      assert.doesNotMatch(r1.stderr, /Maximum call stack/);

      let block = 'inputs:\n  in:\n    type: stdin\n    x:\n';
      for (let i = 0, indent = '      '; i < 100; i++, indent += ' ') block += `${indent}k${i}:\n`;
      const deep = await tmp.file('block.yaml', block + PIPELINE.split('\n').slice(2).join('\n'));
      const r2 = await runCli(['run', '-c', deep]);
      assert.equal(r2.code, EXIT_CONFIG, r2.stderr);
      assert.match(r2.stderr, /block\.yaml:\d+:\d+: nested more than 64 levels deep/);
    });

    it('-c /dev/urandom, a directory, a 2 MiB file: refused at once with the fix named, exit 78', async () => {
      const big = path.join(tmp.dir, 'big.yaml');
      await writeFile(big, `# ${'x'.repeat(2 * 1024 * 1024)}\n${PIPELINE}`);
      const cases: [string, RegExp][] = [
        ['/dev/urandom', /^\/dev\/urandom:1:1: cannot read config file: it is a character device, not a regular file; give -c the path of a YAML pipeline config/m],
        [tmp.dir, /:1:1: cannot read config file: it is a directory, not a regular file/],
        [big, /big\.yaml:1:1: config file is 2\.0 MiB, over the 1 MiB limit for a pipeline config; is this the right file\?/],
      ];
      for (const [file, message] of cases) {
        const started = Date.now();
        const r = await runCli(['validate', '-c', file]);
        assert.equal(r.code, EXIT_CONFIG, r.stderr);
        assert.match(r.stderr, message);
        assert.ok(Date.now() - started < 5000, `${file}: took ${Date.now() - started} ms`);
      }
      const r = await runCli(['run', '-c', '/dev/urandom']);
      assert.equal(r.code, EXIT_CONFIG, r.stderr);
      assert.match(r.stderr, /not a regular file/);
    });

    it('a plugin module whose import never settles: a located timeout, exit 78 (not 13, not a hang)', async () => {
      const plugin = await tmp.file('hangs.js', 'await new Promise(() => {});\nexport default {};\n');
      const config = await tmp.file('p.yaml', `service:\n  plugins: [./hangs.js]\n${PIPELINE}`);
      const started = Date.now();
      const r = await runCli(['validate', '-c', config], { env: { VISOR_PLUGIN_IMPORT_TIMEOUT: '1500' } });
      assert.equal(r.code, EXIT_CONFIG, r.stderr);
      assert.match(r.stderr, /p\.yaml:2:13: plugin module "\.\/hangs\.js" did not finish loading within 1\.5 s \(a top-level await that never settles\?\)/);
      assert.ok(Date.now() - started >= 1500, 'gave up before the timeout');
      // run: the same, and the process ends although the import is still pending.
      const run = await runCli(['run', '-c', config], { env: { VISOR_PLUGIN_IMPORT_TIMEOUT: '1500' } });
      assert.equal(run.code, EXIT_CONFIG, run.stderr);
      assert.match(run.stderr, /did not finish loading within 1\.5 s/);
      // visor plugins --plugin: the same message, exit 78.
      const list = await runCli(['plugins', '--list', '--plugin', plugin], { env: { VISOR_PLUGIN_IMPORT_TIMEOUT: '1500' } });
      assert.equal(list.code, EXIT_CONFIG, list.stderr);
      assert.match(list.stderr, /^visor plugins: plugin module ".*hangs\.js" did not finish loading within 1\.5 s/m);
    });

    it('the default plugin import timeout is 10 s', async () => {
      await tmp.file('hangs.js', 'await new Promise(() => {});\nexport default {};\n');
      const config = await tmp.file('p.yaml', `service:\n  plugins: [./hangs.js]\n${PIPELINE}`);
      const p = new CliProcess(['validate', '-c', config]);
      p.child.stdin!.end();
      const r = await p.exited;
      assert.equal(r.code, EXIT_CONFIG, r.stderr);
      assert.match(r.stderr, /did not finish loading within 10 s/);
    });
  });

  describe('CLI', () => {
    it('visor help and visor help COMMAND print the --help pages; an unknown command exits 2', async () => {
      const [help, top, analyze, analyzeHelp, unknown] = await Promise.all([
        runCli(['help']), runCli(['--help']), runCli(['help', 'analyze']), runCli(['analyze', '--help']), runCli(['help', 'nosuch']),
      ]);
      assert.equal(help.code, 0, help.stderr);
      assert.equal(help.stdout, top.stdout);
      for (const command of ['analyze', 'generate', 'help', 'plugins', 'query', 'run', 'validate']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
      assert.equal(analyze.code, 0, analyze.stderr);
      assert.equal(analyze.stdout, analyzeHelp.stdout);
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /nosuch not found/);
    });

    it('analyze --help shows the LogFormat example with %>s, and the copied command parses every line', async () => {
      const r = await runCli(['analyze', '--help']);
      const example = /\$ visor analyze --log-format '(.*?)' access\.log/.exec(r.stdout);
      assert.ok(example, r.stdout);
      assert.equal(example[1], '%h %l %u %t "%r" %>s %b %D');
      const log = path.join(tmp.dir, 'access.log');
      const gen = await runCli(['generate', '--count', '706', '--seed', '3', '--log-format', example[1], '-o', log]);
      assert.equal(gen.code, 0, gen.stderr);
      const analyzed = await runCli(['analyze', '--json', '--no-progress', '--log-format', example[1], log]);
      assert.equal(analyzed.code, 0, analyzed.stderr);
      const summary = JSON.parse(analyzed.stdout) as { lines: number; parsed: number };
      assert.deepEqual([summary.lines, summary.parsed], [706, 706]);
    });

    it('analyze: 0 parsed of N>0 lines warns and exits 65; an empty file still exits 0', async () => {
      const log = path.join(tmp.dir, 'access.log');
      assert.equal((await runCli(['generate', '--count', '706', '--seed', '3', '--format', 'common', '-o', log])).code, 0);
      // The example as the help printed it before: `%>s` lost its `%>`.
      const r = await runCli(['analyze', '--no-progress', '--log-format', '%h %l %u %t "%r" s %b', log]);
      assert.equal(r.code, EXIT_NOTHING_PARSED, r.stderr);
      assert.match(r.stderr, /^visor analyze: none of the 706 lines parsed as access \(--log-format\); check --format \/ --log-format against the server's LogFormat \(exit status 65\)$/m);
      assert.match(r.stdout, /unparsed lines: 706 of 706/);
      const json = await runCli(['analyze', '--json', '--no-progress', '--format', 'error', log]);
      assert.equal(json.code, EXIT_NOTHING_PARSED, json.stderr);
      assert.equal((JSON.parse(json.stdout) as { parsed: number }).parsed, 0);
      const empty = await tmp.file('empty.log', '');
      const e = await runCli(['analyze', '--no-progress', empty]);
      assert.equal(e.code, 0, e.stderr);
    });

    it('generate --count N without --rate runs at full speed; without --count it keeps 10 lines/s', async () => {
      const started = Date.now();
      const r = await runCli(['generate', '--count', '50000', '--seed', '1']);
      const ms = Date.now() - started;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.split('\n').length - 1, 50000);
      // At the old silent default of 10 lines/s this took 83 minutes.
      assert.ok(ms < 15000, `took ${ms} ms`);
      // --rate still wins over the --count default.
      const paced = Date.now();
      const slow = await runCli(['generate', '--count', '6', '--rate', '4']);
      assert.equal(slow.stdout.split('\n').length - 1, 6);
      assert.ok(Date.now() - paced >= 1000, `6 lines at 4/s took ${Date.now() - paced} ms`);
      // The live stream's rate: 10 lines/s, so --duration 1s gives about 10 lines.
      const live = await runCli(['generate', '--duration', '1s']);
      const n = live.stdout.split('\n').length - 1;
      assert.ok(n >= 8 && n <= 12, `${n} lines in 1 s`);
    });

    it('plugins NAME --plugin X: flags in any order, a path without ./, a plugin directory', async () => {
      const header = /^anonymize_ip \(filter, from .*configs\/plugins\/anonymize_ip\.js\)$/m;
      const orders = [
        ['plugins', 'anonymize_ip', '--plugin', 'configs/plugins/anonymize_ip.js'],
        ['plugins', '--plugin', 'configs/plugins/anonymize_ip.js', 'anonymize_ip'],
        ['plugins', '-p', './configs/plugins/anonymize_ip.js', 'anonymize_ip'],
        ['plugins', '--plugin=configs/plugins/anonymize_ip.js', 'anonymize_ip'],
      ];
      for (const args of orders) {
        const r = await runCli(args, { cwd: ROOT });
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stdout, header, args.join(' '));
        assert.equal(r.stdout.match(/^\S+ \((input|filter|aggregate|output)/gm)?.length, 1, `${args.join(' ')} shows one plugin`);
      }
      // A plugin project directory: its package.json main.
      const project = path.join(tmp.dir, 'my-plugin');
      await mkdir(path.join(project, 'dist'), { recursive: true });
      await writeFile(path.join(project, 'package.json'), JSON.stringify({ name: 'my-plugin', type: 'module', main: 'dist/plugin.js' }));
      await writeFile(path.join(project, 'dist/plugin.js'), `export default { kind: 'filter', name: 'from_dir', description: 'A plugin from a directory.', schema: { type: 'object', properties: {} }, create: () => ({ process: (e) => e }) };\n`);
      const dir = await runCli(['plugins', '--plugin', 'my-plugin', 'from_dir'], { cwd: tmp.dir });
      assert.equal(dir.code, 0, dir.stderr);
      assert.match(dir.stdout, /^from_dir \(filter, from .*my-plugin\)$/m);
      // The same directory in a config's service.plugins.
      const config = await tmp.file('p.yaml', `service:\n  plugins: [./my-plugin]\ninputs:\n  in: { type: stdin }\nfilters:\n  f: { type: from_dir, inputs: [in] }\noutputs:\n  out: { type: stdout, inputs: [f], format: text }\n`);
      const run = await runCli(['run', '-c', config], { input: 'through the directory plugin\n' });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, 'through the directory plugin\n');
      // A directory that is no plugin: a message saying so, exit 78.
      const bad = await runCli(['plugins', '--plugin', tmp.dir]);
      assert.equal(bad.code, EXIT_CONFIG, bad.stderr);
      assert.match(bad.stderr, /is a directory without a package\.json "main" or an index\.js/);
    });

    it('plugins --list prints one line per plugin, external ones with their source', async () => {
      const [list, json] = await Promise.all([
        runCli(['plugins', '--list', '--plugin', 'configs/plugins/anonymize_ip.js'], { cwd: ROOT }),
        runCli(['plugins', '--json', '--plugin', 'configs/plugins/anonymize_ip.js'], { cwd: ROOT }),
      ]);
      assert.equal(list.code, 0, list.stderr);
      const plugins = JSON.parse(json.stdout) as { name: string; kind: string; source: string }[];
      const rows = list.stdout.trimEnd().split('\n');
      assert.equal(rows.length, plugins.length);
      rows.forEach((row, i) => {
        const [name, kind, source] = row.split(/ +/);
        assert.deepEqual([name, kind, source], [plugins[i].name, plugins[i].kind, plugins[i].source]);
      });
      assert.match(list.stdout, /^anonymize_ip +filter +\S*configs\/plugins\/anonymize_ip\.js +Masks IP addresses/m);
    });
  });
});
