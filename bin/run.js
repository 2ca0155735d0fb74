#!/usr/bin/env node
// The CLI entry. Commands are compiled to dist/bin/commands and loaded only when invoked.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';

// Two commands skip oclif's command framework: loading @oclif/core (~160 CommonJS files, semver and minimatch among
// them) and its Config (which imports every command to list them) took ~0.15 s of every start-up on the 2-core
// machine CI uses, where `node -e 0` takes 0.06-0.2 s. `--version` prints what oclif would. `run` parses its flags
// with oclif's parser and the command's own definitions (dist/bin/run-direct.js) and runs the pipeline; arguments
// the parser rejects, and `--help` anywhere, go to oclif, which reports them. Under DEBUG or CLI_FLAGS_DEBUG
// (oclif's debug logs), in a deleted working directory (its warning) and, for --version, on WSL, oclif answers.
// `run` went through oclif for a while because a process that never loaded oclif spent 0.3-0.6 CPU-s more in the
// young-generation GC on the 1M-line P1 pipeline: the window aggregate's Map of open windows chained V8's rebuilt
// hash tables, and once one was promoted every closed window survived the scavenges (see Windows.takeDue, fixed
// there); loading oclif first had only made that first promotion unlikely.
const args = process.argv.slice(2);
const oclifWouldPrintMore = Boolean(process.env.DEBUG || process.env.CLI_FLAGS_DEBUG === '1') || !cwdExists();

if (args[0] === '--version' && !oclifWouldPrintMore && !maybeWsl()) {
  // What oclif prints: Config#userAgent (name/version platform-arch node-version); on WSL oclif says "wsl".
  const pjson = packageJson();
  const arch = process.arch === 'ia32' ? 'x86' : process.arch;
  console.log(`${pjson.name}/${pjson.version || '0.0.0'} ${process.platform}-${arch} node-${process.version}`);
} else if (!(args[0] === 'run' && !oclifWouldPrintMore && !args.includes('--help') && (await runDirect(args.slice(1))))) {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}

/** `visor run` without oclif's command framework; false when oclif must handle the arguments. */
async function runDirect(rest) {
  const { runDirect } = await import('../dist/bin/run-direct.js');
  return runDirect(rest, packageJson().version || '0.0.0');
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
