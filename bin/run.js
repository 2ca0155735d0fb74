#!/usr/bin/env node
// The CLI entry. Commands are compiled to dist/bin/commands and loaded only when invoked.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';

// `--version` skips oclif: loading @oclif/core (~400 CommonJS files, semver and minimatch among them) and its Config
// took 0.15-0.3 s of every start-up on the 2-core machine CI uses, where `node -e 0` takes 0.06-0.2 s. It prints
// what oclif would; under DEBUG or CLI_FLAGS_DEBUG (oclif's debug logs), in a deleted working directory (its
// warning) and on WSL, oclif answers. `run` goes through oclif too, though it could start ~0.15 s sooner without
// it: measured on the 1M-line pipeline (tail -> apache_access -> window), a process that never loaded oclif spent
// 0.3-0.6 CPU-s more in the young-generation GC (scavenges of 3-5 ms instead of 0.4 ms, in every part of the run),
// and importing @oclif/core unused was enough to undo it. Until that is understood, steady throughput wins.
const args = process.argv.slice(2);
const oclifWouldPrintMore = Boolean(process.env.DEBUG || process.env.CLI_FLAGS_DEBUG === '1') || !cwdExists();

if (args[0] === '--version' && !oclifWouldPrintMore && !maybeWsl()) {
  // What oclif prints: Config#userAgent (name/version platform-arch node-version); on WSL oclif says "wsl".
  const pjson = packageJson();
  const arch = process.arch === 'ia32' ? 'x86' : process.arch;
  console.log(`${pjson.name}/${pjson.version || '0.0.0'} ${process.platform}-${arch} node-${process.version}`);
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
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
