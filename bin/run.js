#!/usr/bin/env node
// The CLI entry. Commands are compiled to dist/bin/commands and loaded only when invoked.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';

// Two commands skip oclif when their arguments are simple: loading @oclif/core (~400 CommonJS files, semver and
// minimatch among them) and its Config took 0.15-0.3 s of every start-up on the 2-core machine CI uses, where
// `node -e 0` takes 0.06-0.2 s. They do what oclif would do; anything else (other commands and flags, --help,
// mistakes to report) goes to oclif, as do runs where oclif would print more: under DEBUG or CLI_FLAGS_DEBUG
// (its debug logs) and in a deleted working directory (its warning).
const args = process.argv.slice(2);
const oclifWouldPrintMore = Boolean(process.env.DEBUG || process.env.CLI_FLAGS_DEBUG === '1') || !cwdExists();
const runConfig = !oclifWouldPrintMore && args[0] === 'run' ? simpleRunConfig(args.slice(1)) : undefined;

if (args[0] === '--version' && !oclifWouldPrintMore && !maybeWsl()) {
  // What oclif prints: Config#userAgent (name/version platform-arch node-version); on WSL oclif says "wsl".
  const pjson = packageJson();
  const arch = process.arch === 'ia32' ? 'x86' : process.arch;
  console.log(`${pjson.name}/${pjson.version || '0.0.0'} ${process.platform}-${arch} node-${process.version}`);
} else if (runConfig) {
  // What oclif's Command does before run(): swallow EPIPE on stdout (`visor run | head`), drop VISOR_REDIRECTED.
  process.stdout.on('error', (err) => {
    if (err && err.code === 'EPIPE') return;
    throw err;
  });
  delete process.env.VISOR_REDIRECTED;
  const { runPipeline } = await import('../dist/bin/run-pipeline.js');
  await runPipeline(runConfig.file, packageJson().version || '0.0.0', (code) => process.exit(code)).catch(async (err) => {
    // An unexpected error, printed and turned into an exit status by oclif's handler as before.
    const { handle } = await import('@oclif/core/handle');
    await handle(err);
  });
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}

/** `visor run`'s config file when its arguments are ones oclif parses the same way: none (then $VISOR_CONFIG,
 * when set and not empty, as the flag's `env`), `-c FILE`, `--config FILE` or `--config=FILE`, with FILE neither
 * empty nor starting with `-`; undefined for anything else. */
function simpleRunConfig(rest) {
  const plain = (value) => value !== '' && !value.startsWith('-');
  if (rest.length === 0) return { file: process.env.VISOR_CONFIG || undefined };
  if (rest.length === 2 && (rest[0] === '-c' || rest[0] === '--config') && plain(rest[1])) return { file: rest[1] };
  if (rest.length === 1 && rest[0].startsWith('--config=') && plain(rest[0].slice('--config='.length))) return { file: rest[0].slice('--config='.length) };
  return undefined;
}

function packageJson() {
  return JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
}

/** The signs is-wsl (oclif's platform check) looks at; any of them sends --version to oclif. */
function maybeWsl() {
  if (process.platform !== 'linux') return false;
  if (release().toLowerCase().includes('microsoft')) return true;
  try {
    if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return true;
  } catch {
    // no /proc: is-wsl goes on to the paths below
  }
  return existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL');
}

function cwdExists() {
  try {
    process.cwd();
    return true;
  } catch {
    return false;
  }
}
