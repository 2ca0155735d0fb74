// Where a test run's config "is" when the test names no `file`: a fresh directory per run, removed once the run
// has finished, so that `service.data_dir` (`./data` by default) and every other relative path are the run's own.
// One fixed directory (`<tmpdir>/visor-test/`) was shared by every run of every test file, in parallel mocha
// workers and from one suite run to the next: a tail resumed from another test's checkpoint (it knows a file by
// its first bytes, and test files often start alike), and a window_merge journal left by an earlier run made a
// new test fail 3 runs out of 4 ("window not emitted: it was delivered before this merger started").
import { rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

export interface RunDir {
  /** The config file's path (the test's own, or `pipeline.yaml` in a fresh directory). */
  readonly file: string;
  /** Remove the fresh directory; nothing for the test's own file. */
  remove(): Promise<void>;
}

// The fresh directories of runs that have not finished: a test that fails before it stops its pipeline, or
// leaves one running, would leave its directory behind; those go when the process exits (mocha --exit too).
const unfinished = new Set<string>();
let atExit = false;

export async function runDir(file: string | undefined): Promise<RunDir> {
  if (file !== undefined) return { file, remove: async () => {} };
  const dir = await mkdtemp(path.join(os.tmpdir(), 'visor-test-'));
  if (!atExit) {
    atExit = true;
    process.once('exit', () => {
      for (const d of unfinished) rmSync(d, { recursive: true, force: true });
    });
  }
  unfinished.add(dir);
  return {
    file: path.join(dir, 'pipeline.yaml'),
    remove: async () => {
      await rm(dir, { recursive: true, force: true });
      unfinished.delete(dir);
    },
  };
}
