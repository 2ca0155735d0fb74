#!/usr/bin/env node
// The CLI entry. Commands are compiled to dist/bin/commands and loaded only when invoked.
import { existsSync, readFileSync } from 'node:fs';
import { release } from 'node:os';

// `visor --version` without loading oclif: loading @oclif/core alone (~400 CommonJS files) took 0.3-0.5 s of
// the 0.55-0.7 s the command took, against 0.1-0.3 s for `node -e 0` on the same machine. It prints what oclif
// prints (Config#userAgent: name/version platform-arch node-version). Where oclif would print something else or
// more, oclif runs: on WSL (oclif reports the platform "wsl"), under DEBUG (its debug log), in a deleted
// working directory (its warning).
if (process.argv[2] === '--version' && !process.env.DEBUG && !maybeWsl() && cwdExists()) {
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const arch = process.arch === 'ia32' ? 'x86' : process.arch;
  console.log(`${pjson.name}/${pjson.version || '0.0.0'} ${process.platform}-${arch} node-${process.version}`);
} else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}

/** The signs is-wsl (oclif's platform check) looks at; any of them sends the command to oclif. */
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
