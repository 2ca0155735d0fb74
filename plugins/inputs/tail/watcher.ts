// Prompt notice of file changes through chokidar on the directories the globs start from. Only a hint:
// chokidar drops changes within 50 ms of the previous one, so the tailer reads to EOF after every event
// and polls as well.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import picomatch from 'picomatch';
import type { Logger } from '../../../core/index.js';

export type WatchEvent = 'change' | 'add' | 'unlink';

export class DirectoryWatcher {
  private readonly watcher: FSWatcher;

  constructor(patterns: string[], logger: Logger, onEvent: (event: WatchEvent, file: string) => void) {
    const roots = new Map<string, number>(); // directory -> depth to watch below it
    for (const p of patterns) {
      const { base, glob } = picomatch.scan(p);
      let dir = glob ? base || '/' : path.dirname(base);
      let depth = glob.includes('**') ? 8 : Math.max(0, glob.split('/').length - 1);
      // Watch the deepest directory that exists now (a missing one may appear later).
      while (!existsSync(dir) && path.dirname(dir) !== dir) {
        dir = path.dirname(dir);
        depth++;
      }
      if (dir === '/' || depth > 8) continue; // too wide to watch: the periodic glob finds these files
      roots.set(dir, Math.max(depth, roots.get(dir) ?? 0));
    }
    const depth = Math.max(0, ...roots.values());
    this.watcher = watch([...roots.keys()], { ignoreInitial: true, persistent: true, depth, awaitWriteFinish: false });
    this.watcher.on('change', (file) => onEvent('change', file));
    this.watcher.on('add', (file) => onEvent('add', file));
    this.watcher.on('unlink', (file) => onEvent('unlink', file));
    this.watcher.on('addDir', (dir) => onEvent('add', dir));
    this.watcher.on('error', (err) => logger.debug('file watcher error; polling continues', { error: err as Error }));
  }

  close(): Promise<void> {
    return this.watcher.close();
  }
}
