// The CLI as a user runs it: spawned processes, real stdin/stdout, real signals, real HTTP.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CliProcess, CLI, ROOT, runCli, tempDir } from './support/helpers.js';

/** The exit status of a finite run that lost events, as the README documents it. */
const EXIT_LOSSES = 3;

const PLAIN = `
inputs:
  in: { type: stdin }
outputs:
  out: { type: stdout, inputs: [in], format: text }
`;

describe('cli', function () {
  this.timeout(30000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => { tmp = await tempDir(); });
  afterEach(async () => { await tmp.remove(); });

  it('--version prints the version without loading any plugin', () => {
    const trace = path.join(ROOT, 'test/support/trace-imports.mjs');
    const r = spawnSync(process.execPath, ['--import', trace, CLI, '--version'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^visor\/0\.\d+\.\d+ /);
    const loaded = r.stderr.split('\n').filter((l) => l.startsWith('import '));
    assert.ok(loaded.length > 0, 'the import trace recorded nothing');
    assert.deepEqual(loaded.filter((l) => l.includes(`${ROOT}/dist/core/`) || l.includes(`${ROOT}/dist/plugins/`)), []);
  });

  it('--version prints exactly what oclif prints, without loading oclif', () => {
    const trace = path.join(ROOT, 'test/support/trace-imports.mjs');
    const fast = spawnSync(process.execPath, ['--import', trace, CLI, '--version'], { encoding: 'utf8' });
    assert.equal(fast.status, 0, fast.stderr);
    assert.deepEqual(fast.stderr.split('\n').filter((l) => l.startsWith('import ') && l.includes('@oclif')), []);
    // Any DEBUG sends the command through oclif (its debug log could print); a namespace nothing uses keeps it quiet.
    const env = { ...process.env, DEBUG: 'no-such-namespace' };
    const oclif = spawnSync(process.execPath, ['--import', trace, CLI, '--version'], { encoding: 'utf8', env });
    assert.equal(oclif.status, 0, oclif.stderr);
    assert.ok(oclif.stderr.split('\n').some((l) => l.startsWith('import ') && l.includes('@oclif/core')), 'the DEBUG run did not go through oclif');
    assert.equal(fast.stdout, oclif.stdout);
  });

  it('run and validate import only the built-in plugins the config names, and no prom-client before a scrape', async () => {
    const trace = path.join(ROOT, 'test/support/trace-imports.mjs');
    const log = await tmp.file('one.log', 'a line\n');
    const config = await tmp.file('p.yaml', `service: { data_dir: ${JSON.stringify(path.join(tmp.dir, 'data'))} }
inputs:
  in: { type: tail, path: [${JSON.stringify(log)}], read_from: beginning, exit_on_eof: true }
outputs:
  out: { type: stdout, inputs: [in], format: text }
`);
    for (const command of ['run', 'validate']) {
      const r = spawnSync(process.execPath, ['--import', trace, CLI, command, '-c', config], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const loaded = r.stderr.split('\n').filter((l) => l.startsWith('import '));
      const plugins = [...new Set(loaded.map((l) => /\/dist\/plugins\/(\w+\/\w+)/.exec(l)?.[1]).filter((p) => p !== undefined))].sort();
      assert.deepEqual(plugins, ['inputs/tail', 'outputs/stdout'], command);
      assert.deepEqual(loaded.filter((l) => l.includes('/prom-client/')), [], command);
      if (command === 'run') assert.equal(r.stdout, 'a line\n');
    }
  });

  it('run without oclif behaves as run through oclif: output, diagnostics, flag errors, help, exit status, $VISOR_CONFIG', async function () {
    this.timeout(120_000); // 26 CLI runs, half of them through oclif
    const trace = path.join(ROOT, 'test/support/trace-imports.mjs');
    const good = await tmp.file('good.yaml', PLAIN);
    const bad = await tmp.file('bad.yaml', 'inputs:\n  in: { type: stdn }\noutputs:\n  out: { type: stdout, inputs: [in], fromat: json }\n');
    // Any DEBUG sends the command through oclif; a namespace nothing uses keeps its debug log quiet.
    const run = (args: string[], env: Record<string, string>, viaOclif: boolean) => {
      const r = spawnSync(process.execPath, ['--import', trace, CLI, ...args], {
        encoding: 'utf8', input: 'one\ntwo\n', env: { ...process.env, VISOR_DATA_DIR: tmp.dir, VISOR_CONFIG: '', ...env, ...(viaOclif ? { DEBUG: 'no-such-namespace' } : {}) },
      });
      const loaded = r.stderr.split('\n').filter((l) => l.startsWith('import '));
      // The agent's log lines carry their time; the rest must match byte for byte.
      const stderr = r.stderr.split('\n').filter((l) => !l.startsWith('import ')).map((l) => l.replace(/^\S+Z /, 'TIME ')).join('\n');
      return { status: r.status, stdout: r.stdout, stderr, oclif: loaded.some((l) => l.includes('/@oclif/core/lib/index.js')) };
    };
    // [arguments, environment, whether oclif has to answer (the parser rejects them, or --help)]
    const cases: Array<[string[], Record<string, string>, boolean]> = [
      [['run', '-c', good], {}, false],
      [['run', '--config', good], {}, false],
      [['run', `--config=${good}`], {}, false],
      [['run', `-c${good}`], {}, false],
      [['run'], { VISOR_CONFIG: good }, false],
      [['run', '-c', bad], {}, false],
      [['run', '-c', path.join(tmp.dir, 'missing.yaml')], {}, false],
      [['run', '-c'], {}, true],
      [['run', '-x'], {}, true],
      [['run', 'extra'], {}, true],
      [['run', '-c', good, '--config', good], {}, true],
      [['run', '--help'], {}, true],
      [['run', '-c', '--help'], {}, true],
    ];
    for (const [args, env, oclifAnswers] of cases) {
      const fast = run(args, env, false);
      const oclif = run(args, env, true);
      assert.ok(oclif.oclif, `${args.join(' ')}: the DEBUG run did not go through oclif`);
      assert.equal(fast.oclif, oclifAnswers, `${args.join(' ')}: oclif loaded`);
      assert.deepEqual({ ...fast, oclif: true }, oclif, args.join(' '));
    }
    assert.equal(run(['run', '-c', good], {}, false).stdout, 'one\ntwo\n');
    assert.equal(run(['run', '-c', bad], {}, false).status, 78);
  });

  it('run: stdin to stdout as JSON with the built-in default config, exit 0 at end of input', async () => {
    const r = await runCli(['run'], { input: 'hello\nwörld\r\nlast line without newline', env: { VISOR_DATA_DIR: tmp.dir } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => JSON.parse(l)), [
      { message: 'hello' }, { message: 'wörld' }, { message: 'last line without newline' },
    ]);
    assert.match(r.stderr, /INFO +visor started/);
  });

  it('run: a large input arrives complete and in order through a pipe', async () => {
    const lines = Array.from({ length: 200_000 }, (_, i) => `line ${i}`);
    const config = await tmp.file('p.yaml', PLAIN);
    const r = await runCli(['run', '-c', config], { input: lines.join('\n') + '\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, lines.join('\n') + '\n');
  });

  it('validate: a valid config exits 0', async () => {
    const config = await tmp.file('ok.yaml', PLAIN);
    const r = await runCli(['validate', '-c', config]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid \(2 components\)/);
  });

  it('validate: prints every error located at FILE:LINE:COL and exits 78', async () => {
    const config = await tmp.file('bad.yaml', `inputs:
  in: { type: stdn }
outputs:
  out: { type: stdout, inputs: [inn], fromat: json }
`);
    const r = await runCli(['validate', '-c', config]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, new RegExp(`${config}:2:\\d+: unknown type "stdn" — did you mean "stdin"\\?`));
    assert.match(r.stderr, new RegExp(`${config}:4:\\d+: .*unknown input "inn" — did you mean "in"\\?`));
    assert.match(r.stderr, new RegExp(`${config}:4:\\d+: unknown option "fromat" for stdout — did you mean "format"\\?`));
  });

  it('validate: a secret option value never appears in the output', async () => {
    const config = await tmp.file('secret.yaml', `service:
  plugins: [${path.join(ROOT, 'test/fixtures/secret-plugin.js')}]
inputs:
  in: { type: stdin }
outputs:
  out: { type: secret_sink, inputs: [in], password: "\${MY_PASSWORD}", mode: 7 }
`);
    const r = await runCli(['validate', '-c', config], { env: { MY_PASSWORD: 'hunter2-s3cret' } });
    assert.equal(r.code, 78);
    assert.match(r.stderr, /mode/);
    assert.doesNotMatch(r.stderr + r.stdout, /hunter2-s3cret/);
  });

  it('run: an invalid config exits 78 with located errors', async () => {
    const config = await tmp.file('bad.yaml', 'inputs:\n  in: { type: stdin\n');
    const r = await runCli(['run', '-c', config]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, new RegExp(`${config}:\\d+:\\d+: `));
  });

  it('plugins: lists built-ins with options, types, defaults and descriptions from their schemas', async () => {
    const r = await runCli(['plugins']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^stdin \(input\)/m);
    assert.match(r.stdout, /^stdout \(output\)/m);
    assert.match(r.stdout, /format +json \| text \| template +\(default "json"\)/);
    assert.match(r.stdout, /max_line_bytes +size +\(default "64KiB"\)/);
    const one = await runCli(['plugins', 'stdout']);
    assert.doesNotMatch(one.stdout, /^stdin/m);
    const json = JSON.parse((await runCli(['plugins', '--json'])).stdout);
    assert.ok(json.some((p: { name: string; kind: string }) => p.name === 'blackhole' && p.kind === 'output'));
  });

  it('plugins: includes external plugins loaded by a config or by path', async () => {
    const r = await runCli(['plugins', 'anonymize_ip', '-c', path.join(ROOT, 'configs/anonymize.yaml')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^anonymize_ip \(filter, from .*anonymize_ip\.js\)/m);
    assert.match(r.stdout, /keep_octets +integer +\(default 3\)/);
  });

  it('run: loads an external plugin from a path given in the config', async () => {
    const r = await runCli(['run', '-c', path.join(ROOT, 'configs/anonymize.yaml')], { input: '203.0.113.77\n2001:db8:1:2::5\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '203.0.113.0\n2001:db8:1::\n');
  });

  describe('side outputs nobody reads, and finite runs that lose events', () => {
    // A Debian other_vhosts_access.log (vhost_combined) read with format: combined: no line fits, so every one goes to
    // access._unparsed, which nothing reads. This once gave no event, no message and exit 0.
    const VHOST_LINES = [
      'www.example.com:80 203.0.113.7 - - [10/Oct/2024:13:55:36 +0000] "GET / HTTP/1.1" 200 512 "-" "curl/8.0"',
      'www.example.com:443 203.0.113.8 - - [10/Oct/2024:13:55:37 +0000] "GET /a HTTP/1.1" 404 0 "-" "curl/8.0"',
      'shop.example.com:443 198.51.100.2 - - [10/Oct/2024:13:55:38 +0000] "POST /cart HTTP/1.1" 500 99 "-" "Mozilla/5.0"',
    ];
    const debianConfig = async () => {
      const log = await tmp.file('other_vhosts_access.log', VHOST_LINES.join('\n') + '\n');
      return tmp.file('vhosts.yaml', `service:
  data_dir: ${tmp.dir}/data
inputs:
  vhosts: { type: tail, path: ${log}, read_from: beginning, exit_on_eof: true }
filters:
  access: { type: apache_access, inputs: [vhosts], format: combined }
outputs:
  console: { type: stdout, inputs: [access], format: json }
`);
    };
    const unreadWarning = (config: string) => `${config}:6:3: warning: "access" sends lines it cannot parse to "access._unparsed", which no component reads: they are counted and discarded; add "access._unparsed" to some component's inputs to keep them`;

    it('validate: warns at the component about its unread _unparsed, and the config is still valid (exit 0)', async () => {
      const config = await debianConfig();
      const r = await runCli(['validate', '-c', config]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stderr, unreadWarning(config) + '\n');
      assert.match(r.stdout, /valid \(3 components\)/);
    });

    it(`run: warns at start-up and at the first discard, and exits ${EXIT_LOSSES} saying how many events were lost`, async () => {
      const config = await debianConfig();
      const r = await runCli(['run', '-c', config]);
      assert.equal(r.stdout, '');
      assert.equal(r.code, EXIT_LOSSES, r.stderr);
      const lines = r.stderr.split('\n');
      assert.equal(lines.filter((l) => l.includes(unreadWarning(config))).length, 1, r.stderr);
      assert.match(r.stderr, /WARN +discarded 3 events sent to "access\._unparsed" \(lines it cannot parse\): no component reads it; add "access\._unparsed" to some component's inputs to keep them .*component=access type=apache_access/);
      assert.match(r.stderr, /ERROR +the run did not deliver everything: 3 events discarded \(access: 3 unread_output__unparsed\); exit status 3\n$/);
    });

    it(`run: a filter that throws for some batches of a finite run: the other lines are written, exit ${EXIT_LOSSES} with the count`, async () => {
      const config = await tmp.file('throws.yaml', `service:
  plugins: [${path.join(ROOT, 'test/fixtures/throwing-filter.js')}]
inputs:
  in: { type: stdin, batch_size: 1 }
filters:
  f: { type: throw_on, inputs: [in], messages: [b, d] }
outputs:
  out: { type: stdout, inputs: [f], format: text }
`);
      const r = await runCli(['run', '-c', config], { input: 'a\nb\nc\nd\n' });
      assert.equal(r.stdout, 'a\nc\n');
      assert.equal(r.code, EXIT_LOSSES, r.stderr);
      assert.match(r.stderr, /ERROR +process failed .*cannot handle \\"b\\"/);
      assert.match(r.stderr, /ERROR +the run did not deliver everything: 2 events discarded \(f: 2 process_error\); 2 batches failed \(in: 2\); exit status 3\n$/);
    });

    it('plugins: shows the side outputs a plugin declares, with what it sends there', async () => {
      const r = await runCli(['plugins', 'window']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^  side outputs:\n    ID\._late: events that arrive after their window was emitted\n/m);
    });

    it('run: a finite run that delivered everything exits 0, even with a where filter dropping events (its _rejected unread)', async () => {
      const config = await tmp.file('clean.yaml', `inputs:
  in: { type: stdin }
filters:
  keep: { type: where, inputs: [in], condition: 'message != "b"' }
outputs:
  out: { type: stdout, inputs: [keep], format: text }
`);
      const validate = await runCli(['validate', '-c', config]);
      assert.equal(validate.code, 0, validate.stderr);
      assert.equal(validate.stderr, '');
      const r = await runCli(['run', '-c', config], { input: 'a\nb\nc\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'a\nc\n');
      assert.doesNotMatch(r.stderr, / (WARN|ERROR) /);
    });
  });

  it('SIGTERM drains: every line read before the signal is written, exit 0', async () => {
    const config = await tmp.file('p.yaml', PLAIN);
    const p = new CliProcess(['run', '-c', config]);
    await p.waitForStderr(/visor started/);
    const lines = Array.from({ length: 5000 }, (_, i) => `l${i}`);
    p.child.stdin!.write(lines.join('\n') + '\n');
    await p.waitFor((x) => x.stdout.includes('l0\n'), 'the first line');
    p.child.kill('SIGTERM');
    const r = await p.exited;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /shutting down signal=SIGTERM/);
    // stdin was read in chunks: whatever was read must have been written, in order, with no gap.
    const out = r.stdout.trim().split('\n');
    assert.deepEqual(out, lines.slice(0, out.length));
  });

  it('SIGHUP with a valid config replaces the pipeline without losing or repeating a line', async () => {
    const config = await tmp.file('p.yaml', PLAIN);
    const p = new CliProcess(['run', '-c', config]);
    await p.waitForStderr(/visor started/);
    p.child.stdin!.write('before\n');
    await p.waitFor((x) => x.stdout.includes('before\n'), 'first line');
    await writeFile(config, PLAIN.replace('format: text', 'format: json'));
    p.child.kill('SIGHUP');
    // Lines written while the reload happens must come out exactly once.
    p.child.stdin!.write('during-1\nduring-2\n');
    await p.waitForStderr(/configuration reloaded/);
    p.child.stdin!.write('after\n');
    await p.waitFor((x) => x.stdout.includes('"after"'), 'line after reload');
    p.child.stdin!.end();
    const r = await p.exited;
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.trim().split('\n').map((l) => (l.startsWith('{') ? JSON.parse(l).message : l));
    assert.deepEqual(out, ['before', 'during-1', 'during-2', 'after']);
    assert.ok(r.stdout.includes('{"message":"after"}'), 'the new config (json) is in effect');
  });

  it('SIGHUP with an invalid config logs located errors and keeps the running pipeline', async () => {
    const config = await tmp.file('p.yaml', PLAIN);
    const p = new CliProcess(['run', '-c', config]);
    await p.waitForStderr(/visor started/);
    await writeFile(config, PLAIN.replace('type: stdout', 'type: stdot'));
    p.child.kill('SIGHUP');
    await p.waitForStderr(/running pipeline is kept/);
    assert.match(p.stderr, new RegExp(`${config}:\\d+:\\d+: unknown type "stdot" — did you mean "stdout"\\?`));
    p.child.stdin!.write('still here\n');
    await p.waitFor((x) => x.stdout.includes('still here\n'), 'line after failed reload');
    p.child.stdin!.end();
    assert.equal((await p.exited).code, 0);
  });

  it('SIGHUP with a valid config whose pipeline cannot start goes back to the previous pipeline', async () => {
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const config = await tmp.file('p.yaml', PLAIN);
      const p = new CliProcess(['run', '-c', config]);
      await p.waitForStderr(/visor started/);
      await writeFile(config, `service:\n  http: { listen: 127.0.0.1:${port} }\n${PLAIN}`);
      p.child.kill('SIGHUP');
      await p.waitForStderr(/restarting the previous one/);
      assert.match(p.stderr, new RegExp(`cannot listen on 127.0.0.1:${port}`));
      p.child.stdin!.write('survived\n');
      await p.waitFor((x) => x.stdout.includes('survived\n'), 'line after the failed start');
      p.child.stdin!.end();
      assert.equal((await p.exited).code, 0);
    } finally {
      busy.close();
    }
  });

  it('/health and /metrics over real HTTP on loopback', async () => {
    const config = await tmp.file('p.yaml', `service:
  http: { listen: 127.0.0.1:0 }
${PLAIN}`);
    const p = new CliProcess(['run', '-c', config]);
    await p.waitForStderr(/http server listening.*url=(\S+)/);
    const url = /url=(\S+)/.exec(p.stderr)![1].replace(/"/g, '');
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+/);
    p.child.stdin!.write('a\nb\nc\n');
    await p.waitFor((x) => x.stdout.split('\n').length > 3, 'three lines');
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    const body = await health.json() as { status: string; components: Record<string, { healthy: boolean }> };
    assert.equal(body.status, 'running');
    assert.equal(body.components.out.healthy, true);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /visor_component_sent_events_total\{[^}]*component_id="in"[^}]*\} 3/);
    assert.match(metrics, /visor_component_received_events_total\{[^}]*component_id="out"[^}]*\} 3/);
    assert.match(metrics, /visor_component_sent_bytes_total\{[^}]*component_id="out"[^}]*\} 6/);
    p.child.kill('SIGINT');
    assert.equal((await p.exited).code, 0);
  });
});

describe('docs', () => {
  it('the README plugin reference is generated from the current plugin schemas (npm run docs)', async () => {
    const { readFileSync } = await import('node:fs');
    const { README, pluginReference, withReference } = await import('./support/readme-plugins.js');
    const readme = readFileSync(README, 'utf8');
    assert.equal(readme, withReference(readme, await pluginReference()), 'README.md is out of date: run npm run docs');
  });
});
