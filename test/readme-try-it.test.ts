// The README's "Try it" lines, run as written (npx visor, from the repository root) so that they stay true. The
// long-running ones run until their first report, then get Ctrl-C's SIGINT: they must exit 0 without a warning.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, tempDir } from './support/helpers.js';
import { kcatMissing } from './support/kafka.js';

const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

/** The command lines of the first ```sh block after `marker`, comments removed. */
function shellBlock(marker: string): string[] {
  const at = README.indexOf(marker);
  assert.ok(at >= 0, `README has no "${marker}"`);
  const block = /```sh\n([\s\S]*?)```/.exec(README.slice(at));
  assert.ok(block, `no sh block after "${marker}"`);
  return block[1].split('\n').map((l) => l.replace(/\s+#\s.*$/, '').trim()).filter((l) => l !== '');
}

/** Scripts still running: killed after each test, also when mocha's timeout ended it first. */
const running = new Set<ChildProcess>();

interface Run { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Runs `script` with bash -e in the repository; `until` (if given) is checked on each output chunk, and once it
 * holds the visor process (not npx, which would re-raise the signal) gets SIGINT, as Ctrl-C would send it. */
function bash(script: string, env: Record<string, string>, until?: (stdout: string) => boolean, ms = 40000): Promise<Run> {
  // npm_config_offline: `npx visor` must resolve to this repository's own bin, never ask the registry.
  const child = spawn('bash', ['-ec', script], { cwd: ROOT, detached: true, env: { ...process.env, npm_config_offline: 'true', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  let stdout = '';
  let stderr = '';
  let interrupted = false;
  const timer = setTimeout(() => { stderr += '\n[test: timed out]'; killGroup(child); }, ms);
  const check = () => {
    if (!until || interrupted || !until(stdout)) return;
    interrupted = true;
    const visor = visorProcesses(child.pid!);
    // Not an assertion here (an event handler): a throw would skip the cleanup and leave the kcat mock running.
    if (visor.length === 1) process.kill(visor[0], 'SIGINT');
    else {
      stderr += `\n[test: expected one visor process below bash, found ${visor.length}]`;
      killGroup(child);
    }
  };
  child.stdout!.setEncoding('utf8').on('data', (d: string) => { stdout += d; check(); });
  child.stderr!.setEncoding('utf8').on('data', (d: string) => { stderr += d; });
  return new Promise((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      running.delete(child);
      killGroup(child); // whatever a script left in the background (the kcat mock)
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function killGroup(child: ChildProcess): void {
  try {
    process.kill(-child.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

/** Pids of the descendants of `root` running the CLI (bin/run.js). */
function visorProcesses(root: number): number[] {
  const parent = new Map<number, number>();
  const cmdline = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parent.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
      cmdline.set(Number(entry), readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      // exited meanwhile
    }
  }
  const below = (pid: number): boolean => {
    for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) if (p === root) return true;
    return false;
  };
  return [...cmdline].filter(([pid, cmd]) => below(pid) && /^\S*node (\S*\/bin\/run\.js|\S*\/\.bin\/visor) run\b/.test(cmd)).map(([pid]) => pid);
}

/** A clean run: exit 0, and no warning or error in the agent's log. */
function assertClean(line: string, r: Run): void {
  assert.equal(r.code, 0, `${line}\nexit ${r.code} ${r.signal ?? ''}\nstderr: ${r.stderr.slice(-3000)}`);
  assert.doesNotMatch(r.stderr, /\b(WARN|ERROR)\b/, `${line} logged a warning:\n${r.stderr.slice(-3000)}`);
}

const lines = shellBlock('Try it, from a fresh clone');
const finite: Record<string, (stdout: string) => void> = {
  "printf 'hello\\nworld\\n' | npx visor run": (out) => {
    assert.deepEqual(out.trim().split('\n').map((l) => JSON.parse(l)), [{ message: 'hello' }, { message: 'world' }]);
  },
  "printf '203.0.113.77\\n' | npx visor run -c configs/anonymize.yaml": (out) => assert.match(out, /203\.0\.113\.0\b/),
  'npx visor generate --count 2000 --seed 1 | npx visor run -c configs/server-errors.yaml': (out) => {
    const events = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(events.length > 0, 'no 5xx event out of 2000 lines');
    for (const e of events) assert.ok(Number(e.status) >= 500 && e.status_class === 5 && typeof (e.client as { ip?: unknown } | undefined)?.ip === 'string', JSON.stringify(e));
  },
  'npx visor validate -c configs/anonymize.yaml': (out) => assert.match(out, /configs\/anonymize\.yaml: valid \(\d+ components\)/),
  'npx visor plugins --list': (out) => {
    const rows = out.trim().split('\n');
    assert.ok(rows.length >= 20, `${rows.length} rows`);
    for (const row of rows) assert.match(row, /^[a-z_]+ +(input|filter|aggregate|output) +built-in  \S/);
  },
};
const longRunning: Record<string, RegExp> = {
  'npx visor run -c configs/file-mode.yaml': /^report visor: /m,
  'npx visor run -c configs/tcp-mode.yaml': /^report visor: /m,
};

describe('README "Try it"', function () {
  this.timeout(60000);
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  beforeEach(async () => { tmp = await tempDir(); });
  afterEach(async () => {
    for (const child of running) killGroup(child);
    running.clear();
    await tmp.remove();
  });

  it('every line has a check here', () => {
    const known = [...Object.keys(finite), ...Object.keys(longRunning)];
    for (const line of lines) {
      if (line.includes('configs/kafka-mode.yaml')) continue; // run below with the kcat recipe
      assert.ok(known.includes(line), `README "Try it" line without a test: ${line}`);
    }
    assert.equal(lines.length, known.length + 1);
  });

  for (const [line, check] of Object.entries(finite)) {
    it(line, async () => {
      const r = await bash(line, { VISOR_DATA_DIR: tmp.dir });
      assertClean(line, r);
      check(r.stdout);
    });
  }

  for (const [line, firstReport] of Object.entries(longRunning)) {
    it(`${line} (until its first report, then Ctrl-C)`, async () => {
      const r = await bash(line, { VISOR_DATA_DIR: tmp.dir }, (out) => firstReport.test(out));
      assertClean(line, r);
      assert.match(r.stdout, firstReport);
      assert.match(r.stdout, /requests: [1-9]\d*/, 'the report counted no requests');
      assert.match(r.stderr, /INFO +shutting down signal=SIGINT[\s\S]*INFO +visor stopped/);
    });
  }

  it('the Kafka line, with the kcat mock-cluster recipe (until the first alert and report, then Ctrl-C)', async function () {
    const missing = kcatMissing();
    if (missing) {
      if (process.env.CI === 'true') assert.fail(missing);
      this.skip();
    }
    const recipe = shellBlock('No Kafka broker at hand?');
    const tryLine = lines.find((l) => l.includes('configs/kafka-mode.yaml'))!;
    // The recipe's visor line is the Try-it line with the mock's address instead of host:9092.
    assert.ok(recipe.some((l) => l.endsWith(tryLine.replace(/^KAFKA_BROKERS=\S+ /, ''))), `the recipe does not run "${tryLine}"`);
    // The README's /tmp/kcat.log, moved into the test's directory: two runs at once must not share it.
    const script = recipe.join('\n').replaceAll('/tmp/kcat.log', path.join(tmp.dir, 'kcat.log'));
    const r = await bash(script, { VISOR_DATA_DIR: tmp.dir, KAFKAJS_NO_PARTITIONER_WARNING: '1' }, (out) => /^report visor: /m.test(out), 55000);
    // bash -e: exit 0 means visor exited 0 and `kill %1` found the mock still running.
    assertClean('kafka recipe', r);
    assert.match(r.stderr, /INFO +joined consumer group/);
    assert.match(r.stdout, /^\[warning\] server-error: status >= 500/m);
    assert.match(r.stdout, /requests: [1-9]\d*/);
  });
});
