// Follows every file the globs match: finds them, notices rotation and truncation, reads whole lines,
// emits them with backpressure and advances checkpoints only on acknowledgement.
import { accessSync, constants, fstatSync, statSync } from 'node:fs';
import { readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { EncodedLines, type Event, type InputRuntime, type PluginContext } from '../../../core/index.js';
import { CheckpointStore } from './checkpoints.js';
import { EMPTY_FINGERPRINT, FINGERPRINT_BYTES, fingerprintOf, MARK_BYTES, markMatches, matches as fingerprintMatches, headsAgree, readHead, tooShortToCompare, type Fingerprint } from './fingerprint.js';
import { findCopy, headOfPath, holdsCopiedBytes, locateByInode, locateCopy, type Located } from './relocate.js';
import { isRotatedName, liveName, rotationCandidates, type Candidate } from './rotated-names.js';
import { identityKey, TailedFile, type LineOptions } from './tailed-file.js';
import type { TailOptions } from './schema.js';
import type { DirectoryWatcher } from './watcher.js';

const HOT_WINDOW_MS = 1000;
const HOT_RECHECK_MS = 10;

export class Tailer {
  private readonly files = new Map<string, TailedFile>();
  private readonly patterns: string[];
  /** The fixed directory part of each glob, to say clearly when it is missing. */
  private readonly baseDirs: string[];
  private readonly excluded: (p: string) => boolean;
  /** Whether a path is one the globs follow (and not excluded). */
  private readonly inGlobs: (p: string) => boolean;
  /** Paths that had a checkpoint at start-up: a new file there replaced one we were reading. */
  private checkpointedPaths = new Set<string>();
  private readonly lineOptions: LineOptions;
  private readonly buf: Buffer;
  private checkpoints!: CheckpointStore;
  private startFailure: Error | undefined;
  private watcher: DirectoryWatcher | undefined;
  private wakeUp: (() => void) | undefined;
  /** A wake-up that came while the loop was busy: the next sleep returns at once. */
  private woken = false;
  private discoverRequested = true;
  private pollDue = true;
  private checkpointScheduled = false;
  private lastCheckpointAt = 0;
  private firstDiscovery = true;
  /** Since when the globs match nothing (0: they match): the warning waits NOTHING_MATCHES_GRACE_MS from there. */
  private nothingSince = 0;
  private readonly warned = new Set<string>();
  private readonly m;

  constructor(private readonly options: TailOptions, private readonly context: PluginContext) {
    const globs = Array.isArray(options.path) ? options.path : [options.path];
    this.patterns = globs.map((g) => toPosix(path.resolve(context.configDir, g)));
    this.baseDirs = this.patterns.map((p) => {
      const { base, glob } = picomatch.scan(p);
      return glob ? base : path.dirname(base);
    });
    // `*.gz` (no slash) matches file names anywhere; patterns with a slash are paths like `path`.
    const namePatterns = options.exclude.filter((g) => !g.includes('/'));
    const pathPatterns = options.exclude.filter((g) => g.includes('/')).map((g) => toPosix(path.resolve(context.configDir, g)));
    const byName = namePatterns.length ? picomatch(namePatterns, { dot: true, basename: true }) : () => false;
    const byPath = pathPatterns.length ? picomatch(pathPatterns, { dot: true }) : () => false;
    this.excluded = (p) => byName(p) || byPath(p);
    const globbed = picomatch(this.patterns, { dot: true });
    this.inGlobs = (p) => globbed(toPosix(p)) && !this.excluded(toPosix(p));
    this.lineOptions = { maxLineBytes: options.max_line_bytes, longLines: options.long_lines, encoding: options.encoding, batchSize: options.batch_size, positions: options.position_field !== '', undecoded: false };
    this.buf = Buffer.allocUnsafe(Math.max(options.read_buffer, options.max_line_bytes + 1));
    const metrics = context.metrics;
    this.m = {
      watched: metrics.gauge('tail_files_watched', 'Files the globs match, being followed.'),
      open: metrics.gauge('tail_files_open', 'Files currently open.'),
      opened: metrics.counter('tail_files_opened_total', 'Files opened.'),
      rotated: metrics.counter('tail_files_rotated_total', 'Files rotated away or deleted while followed.'),
      truncated: metrics.counter('tail_files_truncated_total', 'Files truncated or rewritten in place (copytruncate).'),
      lines: metrics.counter('tail_lines_read_total', 'Lines read.'),
      longLines: metrics.counter('tail_long_lines_total', 'Lines longer than max_line_bytes (cut or skipped).'),
      invalid: metrics.counter('tail_invalid_utf8_lines_total', 'Lines with invalid UTF-8 bytes (replaced by U+FFFD).'),
      lag: metrics.gauge('tail_lag_bytes', 'Bytes written to followed files and not read yet (also while reading waits for the outputs).'),
      copies: metrics.counter('tail_copies_followed_total', 'Truncated files whose unread rest was read from their copy (copytruncate).'),
      skipped: metrics.discarded('line_too_long'),
    };
  }

  /** Per-file lag, for health reports. */
  lagByFile(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.files.values()) out[f.path] = f.lag;
    return out;
  }

  /** Before data flows, so before the agent says it started: checkpoints loaded and every file resumed or
   * positioned from the files as they are then. Deciding later raced with writers and rotations that follow
   * "visor started": under ab in CI the live file, truncated while the agent was stopped, grew past its copy
   * before the first look (the copy's 1,000 unread lines were skipped); under CPU load a rotation 200 ms after
   * "visor started" came before it, and the copy made while stopped was not found for its checkpoint (read
   * whole: 2,171 duplicates). A failure here fails the input in run(), as before, not the agent's start. */
  async start(): Promise<void> {
    try {
      this.checkpoints = new CheckpointStore(await this.context.dataDir());
      await this.checkpoints.load();
      this.checkpointedPaths = this.checkpoints.paths();
      await this.discover();
    } catch (err) {
      this.startFailure = err as Error;
    }
  }

  async run({ emit, signal, linesUndecoded }: InputRuntime): Promise<void> {
    // Lines as bytes only where they go to a worker undecoded; decoded here otherwise (no bounds, no second pass).
    this.lineOptions.undecoded = linesUndecoded;
    if (!this.checkpoints && !this.startFailure) await this.start();
    if (this.startFailure) throw this.startFailure;
    // Files that appeared between start() and the watcher below.
    this.discoverRequested = true;
    const timers = this.context.timers;
    // Reading waits for the outputs under backpressure; the lag gauge must grow then, so it has its own timer.
    timers.every(this.options.poll_interval, () => this.sampleLag());
    const stopWaiting = () => this.wakeUp?.();
    signal.addEventListener('abort', stopWaiting);
    timers.every(this.options.poll_interval, () => { this.pollDue = true; this.wake(); });
    timers.every(this.options.glob_interval, () => { this.discoverRequested = true; this.wake(); });
    // Safety net; writes normally follow acknowledgements (see scheduleCheckpoint).
    timers.every(Math.max(this.options.checkpoint_interval, 1000), () => this.saveCheckpoints());
    if (!this.options.exit_on_eof) {
      // chokidar is imported only for a watcher: a run that reads to the end (exit_on_eof) has none, and importing
      // it cost 10-17 ms of that run's start-up.
      const { DirectoryWatcher } = await import('./watcher.js');
      this.watcher = new DirectoryWatcher(this.patterns, this.context.logger, (event, file) => {
        if (event === 'change') this.markChanged(file);
        else this.discoverRequested = true;
        this.wake();
      });
    }
    try {
      while (!signal.aborted) {
        this.woken = false;
        if (this.discoverRequested) await this.discover();
        if (this.pollDue) await this.poll();
        const progressed = await this.readRound(emit, signal);
        if (this.options.exit_on_eof && !progressed && this.allAtEof()) {
          await this.poll();
          if (this.allAtEof()) {
            await this.readFinalLines(emit);
            return;
          }
          continue;
        }
        await this.closeFinished();
        await this.limitOpenFiles();
        if (!progressed) await this.sleep();
      }
    } finally {
      signal.removeEventListener('abort', stopWaiting);
      await this.watcher?.close();
    }
  }

  /** Called after the pipeline has drained, with every acknowledgement in. */
  async close(): Promise<void> {
    await this.saveCheckpoints();
    for (const f of this.files.values()) await f.close();
    this.m.open.set(0);
  }

  private wake(): void {
    this.woken = true;
    const w = this.wakeUp;
    this.wakeUp = undefined;
    w?.();
  }

  private sleep(): Promise<void> {
    if (this.woken || this.discoverRequested || this.pollDue) return Promise.resolve();
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      // The watcher reports at most one change per 50 ms: while a file is being written, look again
      // soon rather than waiting for the next poll, or the end of a burst would wait for the poll.
      if (this.hotFiles().length) {
        const t = setTimeout(() => {
          for (const f of this.hotFiles()) f.needsInspect = true;
          this.wake();
        }, HOT_RECHECK_MS);
        const done = this.wakeUp;
        this.wakeUp = () => { clearTimeout(t); done(); };
      }
    });
  }

  /** Files that grew within the last HOT_WINDOW_MS. */
  private hotFiles(): TailedFile[] {
    const since = Date.now() - HOT_WINDOW_MS;
    const hot: TailedFile[] = [];
    for (const f of this.files.values()) if (f.lastGrowth >= since) hot.push(f);
    return hot;
  }

  /** A watcher saw the file change: check it (truncation?) before reading on. */
  private markChanged(file: string): void {
    for (const f of this.files.values()) {
      if (f.path !== file) continue;
      f.atEof = false;
      f.needsInspect = true;
    }
  }

  private allAtEof(): boolean {
    for (const f of this.files.values()) if (!f.atEof) return false;
    return !this.discoverRequested;
  }

  /** Expand the globs; start following new files; notice files that left their path. */
  private async discover(): Promise<void> {
    this.discoverRequested = false;
    const initial = this.firstDiscovery;
    this.firstDiscovery = false;
    let paths: string[];
    try {
      paths = await glob(this.patterns, { absolute: true, onlyFiles: true, dot: true, followSymbolicLinks: true, expandDirectories: false });
    } catch (err) {
      this.warnOnce('glob', 'cannot list files', { error: err as Error });
      return;
    }
    paths = paths.filter((p) => !this.excluded(toPosix(p)));
    for (const dir of this.baseDirs) {
      const problem = directoryProblem(dir);
      if (problem === 'missing') this.warnOnce(`dir:${dir}`, 'directory does not exist (yet); its files will be picked up when it appears', { directory: dir });
      // Without this, an agent not in the group that owns the logs (adm for /var/log/apache2) only says that no file matches.
      if (problem === 'denied') this.warnOnce(`denied:${dir}`, 'permission denied: this user cannot list the directory, so its files are invisible (for /var/log/apache2, run visor as a user in group adm); watching for access', { directory: dir, uid: process.getuid?.() });
    }
    // Not at once: a file another component of the same pipeline is about to write (configs/file-mode.yaml) or a
    // server still starting is no reason to warn; a path that still matches nothing after the grace is.
    if (paths.length > 0) this.nothingSince = 0;
    else if (this.nothingSince === 0) this.nothingSince = Date.now();
    if (this.nothingSince > 0 && Date.now() - this.nothingSince >= NOTHING_MATCHES_GRACE_MS) {
      this.warnOnce('nothing', 'no file matches the path globs yet; watching for them', { path: this.patterns.join(', ') });
    }
    const present = new Map<string, Candidate>();
    for (const p of paths) {
      let st;
      try {
        st = await stat(p);
      } catch {
        continue; // vanished between glob and stat
      }
      const key = identityKey(st.dev, st.ino);
      if (present.has(key)) continue; // hard link or symlink to a file already seen
      present.set(key, { path: p, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs });
    }
    const since = initial ? await this.resumeCheckpointed(present) : undefined;
    for (const [key, { path: p, size }] of present) {
      const known = this.files.get(key);
      if (known) {
        known.path = p;
        known.detachedAt = undefined;
      } else {
        await this.follow(p, key, size, initial);
      }
    }
    if (since) await this.readUnseenGenerations(since);
    for (const f of this.files.values()) {
      if (!present.has(f.key) && f.detachedAt === undefined) {
        f.detachedAt = Date.now();
        f.atEof = false; // drain whatever was written before it moved
        this.m.rotated.inc();
        this.context.logger.info('file rotated away or deleted; draining it', { file: f.path, rotate_wait_ms: this.options.rotate_wait });
      }
    }
    this.m.watched.set(this.files.size);
  }

  /** Start-up: find every checkpointed file, wherever it is now (renamed or copied by a rotation while the
   * agent was stopped), and resume it at its checkpoint; outside the globs it is drained and let go. What
   * cannot be found is reported: the bytes known unread at the checkpoint are counted as lost. */
  private async resumeCheckpointed(present: Map<string, Candidate>): Promise<Map<string, number>> {
    const candidates = [...present.values()];
    const entries = this.checkpoints.all();
    // Inodes first, for every checkpoint, so that no copy search takes a file another checkpoint's inode holds.
    const byInode = new Map<string, Located>();
    for (const [key, cp] of entries) {
      const found = await locateByInode(key, cp, candidates);
      if (found) byInode.set(key, found);
    }
    const claimed = new Set([...byInode.values()].map((f) => f.key));
    /** Per live name (`access.log`), the last modification of the newest content resumed under a rotated name. */
    const newestRotated = new Map<string, number>();
    for (const [key, cp] of entries) {
      let found = byInode.get(key);
      const copy = await locateCopy(cp, (k) => k === key || claimed.has(k) || this.files.has(k));
      // The inode and a copy made since the checkpoint both look like the content (a server under load
      // writes identical lines: ab's are the same within a second). The inode is the content only if it
      // still holds what the copy holds after the checkpoint (logrotate's `copy`, or copytruncate killed
      // before its truncate); otherwise it was truncated and what it holds now is new. Size alone ("the
      // truncated original is the smaller") fails once the server has written more than the copy holds since
      // the truncate: the copy's unread lines were skipped (1,000 under ab in CI).
      if (!found || (copy && copy.mtimeMs > cp.seen && !(await holdsCopiedBytes(found, copy, cp.offset)))) found = copy;
      if (!found) {
        this.checkpoints.delete(key);
        const unread = (cp.size ?? cp.offset) - cp.offset;
        if (unread > 0) this.lost(cp.path, cp.offset, cp.size!, 'the file was not found at start-up under its name or a rotated name (deleted, compressed or moved elsewhere while the agent was stopped)');
        else this.context.logger.debug('a checkpointed file is gone; it had been read to its end', { file: cp.path });
        continue;
      }
      claimed.add(found.key);
      const live = path.join(path.dirname(cp.path), liveName(path.basename(cp.path)));
      const newest = newestRotated.get(live) ?? 0;
      newestRotated.set(live, found.path === live ? newest : Math.max(newest, found.mtimeMs));
      if (found.key !== key) this.checkpoints.delete(key);
      if (found.path !== cp.path || found.key !== key) {
        this.context.logger.info(found.key === key ? 'found a checkpointed file under a new name; resuming it at its checkpoint' : 'found the content of a checkpointed file in a copy (copytruncate); resuming it there at its checkpoint',
          { file: cp.path, now: found.path, offset: cp.offset });
      }
      await this.follow(found.path, found.key, found.size, true, { offset: cp.offset, fingerprint: cp.fingerprint, head: found.head, mark: cp.mark });
    }
    // What the agent had seen of each log: up to the checkpoints' last write, and no further than the newest
    // rotated content it resumed (a later rotation produced what is newer).
    const since = new Map<string, number>();
    for (const [live, newest] of newestRotated) since.set(live, newest > 0 ? Math.min(this.checkpoints.savedAt, newest) : this.checkpoints.savedAt);
    return since;
  }

  /** Start-up, after every file found was followed: rotated files of a checkpointed log modified after the
   * checkpoints were last written, or newer than the content resumed from a rotated name, and followed by
   * nothing: generations of the log written while the agent did not follow them (a rotation not noticed yet
   * at shutdown, then another while stopped, or one while starting). They are read whole, unless they are a
   * copy of the live file (killed between copytruncate's copy and its truncate). */
  private async readUnseenGenerations(since: Map<string, number>): Promise<void> {
    for (const [live, after] of since) {
      for (const c of await rotationCandidates(live)) {
        const key = identityKey(c.dev, c.ino);
        if (c.mtimeMs <= after || this.files.has(key) || c.size === 0) continue;
        const head = (await headOfPath(c.path)) ?? Buffer.alloc(0);
        // (First bytes and size alone are not enough: a live file truncated and regrown past the copy with lines
        // like the old ones, as ab's, agrees with them too.)
        let copyOfLive = false;
        for (const f of this.files.values()) {
          if (f.path === live && headsAgree(head, f.head) && (await holdsCopiedBytes(f, c, 0))) copyOfLive = true;
        }
        if (copyOfLive) continue;
        this.context.logger.info('a rotated file written while the agent did not follow it (not checkpointed, modified since): reading it whole', { file: c.path, size: c.size });
        await this.follow(c.path, key, c.size, true, { offset: 0, fingerprint: EMPTY_FINGERPRINT, head: Buffer.alloc(0) });
      }
    }
  }

  /** Start following a file. `resume`: where its content was checkpointed; otherwise a file first seen at
   * start-up begins per read_from, one appearing later at 0. A file outside the globs is drained and let go. */
  private async follow(p: string, key: string, size: number, initial: boolean, resume?: { offset: number; fingerprint: Fingerprint; head: Buffer; mark?: Fingerprint }): Promise<TailedFile | undefined> {
    const file = new TailedFile(p, key, 0);
    try {
      await this.reopen(file); // (renamed since it was listed: found by inode in its directory)
    } catch (err) {
      this.warnOnce(`open:${p}`, 'cannot open file; will retry', { file: p, error: (err as Error).message });
      return undefined;
    }
    // The size now, from the descriptor: the file may have been truncated since it was listed.
    file.size = (await file.fd!.stat().catch(() => undefined))?.size ?? size;
    size = file.size;
    let start = 0;
    if (resume) {
      start = resume.offset;
      file.fingerprint = resume.fingerprint;
      file.head = resume.head.subarray(0, resume.fingerprint.len);
      file.identityChecked = true;
      file.resumeMark(start, resume.mark);
    } else {
      const head = await readHead(file.fd!, size);
      const cp = this.checkpoints.get(key);
      if (cp && fingerprintMatches(cp.fingerprint, head) && cp.offset <= size) {
        start = cp.offset;
        file.fingerprint = cp.fingerprint;
        file.identityChecked = true;
      } else if (initial && this.options.read_from === 'end' && !this.checkpointedPaths.has(p)) {
        // (A new file at a path we have a checkpoint for replaced the old one while we were stopped:
        // everything in it came after that checkpoint, so it is read from 0.)
        start = await startOfLastLine(file.fd!, size, this.options.max_line_bytes);
      }
      // (A checkpoint whose fingerprint does not match is another file on a reused inode: read it from 0.)
      this.classify(file, head);
    }
    file.readPos = start;
    file.acked.committed = start;
    file.acked.onPinned = () => this.context.logger.warn(
      'an output rejected lines of this file for good; they are not retried in this run, and the file\'s checkpoint stays before them: after a restart, reading resumes there, so they and every later line of this file are delivered again (the later ones twice)',
      { file: file.path, checkpoint: file.acked.committed });
    if (!this.inGlobs(p)) file.detachedAt = Date.now();
    this.files.set(key, file);
    await file.checkFingerprint();
    this.checkpoint(file);
    if (this.openCount() > this.options.max_open_files) await file.close(); // reopened when its turn to read comes
    this.m.open.set(this.openCount());
    return file;
  }

  /** Whether a file about to be read from 0 is a copy of a followed file: copytruncate's copy under a
   * rotated name, before the original is truncated (its lines are the original's; they are read once, from
   * the original and then from the copy). Too few bytes to tell yet: decided at the next look. */
  private classify(file: TailedFile, head: Buffer): void {
    const dir = path.dirname(file.path);
    const name = path.basename(file.path);
    for (const other of this.files.values()) {
      if (other === file || other.copyOf || path.dirname(other.path) !== dir || !isRotatedName(path.basename(other.path), name)) continue;
      if (headsAgree(head, other.head)) {
        file.copyOf = other.key;
        file.atEof = true;
        this.context.logger.debug('a copy of a followed file (copytruncate): not read while the original holds its lines', { file: file.path, original: other.path });
        return;
      }
      if (tooShortToCompare(head) && other.head.subarray(0, head.length).equals(head)) return; // not decided yet
    }
    file.identityChecked = true;
  }

  /** stat every followed file: growth, truncation, rewritten content. */
  private async poll(): Promise<void> {
    this.pollDue = false;
    let lag = 0;
    for (const f of this.files.values()) {
      await this.inspect(f);
      lag += f.lag;
    }
    this.m.lag.set(lag);
    this.m.open.set(this.openCount());
  }

  /** `open`: open a closed file to check it; polls only stat closed files by path (no descriptor). */
  private async inspect(f: TailedFile, open = false): Promise<void> {
    f.needsInspect = false;
    try {
      if (!f.fd && !open) {
        // Closed to save descriptors: worth a look only if its path still holds it and it changed.
        const st = await stat(f.path).catch(() => undefined);
        const moved = !st || identityKey(st.dev, st.ino) !== f.key;
        if (moved || st.size !== f.size || st.mtimeMs !== f.mtimeMs) {
          f.atEof = false; // changed, or renamed while closed: reopen (and find) it to drain it
          f.needsInspect = true;
        }
        return;
      }
      if (!f.fd) await this.reopen(f);
      const st = await f.fd!.stat();
      const before = f.size;
      const touched = st.size !== before || st.mtimeMs !== f.mtimeMs;
      f.size = st.size;
      f.mtimeMs = st.mtimeMs;
      if (st.size !== before) f.lastGrowth = Date.now();
      // Same size but a new mtime can be content rewritten in place: the fingerprint tells.
      // A file shrinks only when truncated; regrown past where it was, only its first bytes can tell (and
      // identical lines, as a load generator writes, can fool them: hence the size check first).
      if (!f.copyOf && (st.size < Math.max(f.readPos, before) || (touched && !(await f.checkFingerprint())))) {
        await this.rewritten(f, before);
      }
      // Only new bytes make a file worth reading again: a partial last line alone does not.
      if (touched && f.size > f.readPos) f.atEof = false;
    } catch (err) {
      this.warnOnce(`poll:${f.path}`, 'cannot check file', { file: f.path, error: (err as Error).message });
    }
  }

  /** The content of `f` was replaced (truncated, or copytruncate). What was not read yet is read from the
   * copy when there is one (a followed copy, or a file under a rotated name with the old content); bytes the
   * file had when last seen that are in neither are counted as lost. Then `f` is read again from 0. */
  private async rewritten(f: TailedFile, lastSize: number): Promise<void> {
    this.m.truncated.inc();
    const copy = await this.copyOf(f);
    let recovered = f.readPos;
    if (copy) {
      copy.continueFrom(f);
      recovered = Math.max(f.readPos, copy.size);
      this.m.copies.inc();
      this.context.logger.info('file truncated after being copied (copytruncate); its unread rest is read from the copy, the file itself again from the start',
        { file: f.path, copy: copy.path, offset: copy.readPos, copy_size: copy.size });
    } else {
      this.context.logger.info('file truncated or rewritten; reading it again from the start', { file: f.path, size: f.size, offset: f.readPos });
    }
    if (lastSize > recovered) {
      this.lost(f.path, recovered, lastSize, copy
        ? 'written after logrotate copied the file and before it truncated it (copytruncate\'s own race): they are in no file'
        : 'the file was truncated before they were read, and no copy of it was found under a rotated name');
    }
    f.restart();
    f.size = (await f.fd!.stat()).size;
    await f.checkFingerprint();
  }

  /** A file holding the content `f` had before it was truncated: a copy already known (seen by the globs), or
   * one under a rotated name. Followed from then on (outside the globs: drained, then let go). */
  private async copyOf(f: TailedFile): Promise<TailedFile | undefined> {
    for (const g of this.files.values()) {
      if (g.copyOf !== f.key) continue;
      const st = await stat(g.path).catch(() => undefined);
      if (!st || identityKey(st.dev, st.ino) !== g.key) continue;
      g.size = st.size;
      if (g.size >= f.readPos && !(await g.ensureOpen().then((fd) => markMatches(fd, f.readPos, f.readMark)).catch(() => false))) continue;
      return g;
    }
    const found: Located | undefined = await findCopy(f.path, f.fingerprint, { offset: f.readPos, mark: f.readMark }, (k) => this.files.has(k));
    if (!found) return undefined;
    // Placed where `f` stood (continueFrom then takes over its acknowledgements), so that no checkpoint of
    // the copy ever points before what was delivered.
    return this.follow(found.path, found.key, found.size, false, { offset: Math.min(f.readPos, found.size), fingerprint: f.fingerprint, head: found.head });
  }

  /** Bytes that existed and will never be delivered: counted per file and logged with their range. */
  private lost(file: string, from: number, to: number, why: string): void {
    this.context.metrics.counter('tail_lost_bytes', 'Bytes that were in a followed file and can no longer be read (see the warning naming the file and range).', { file }).inc(to - from);
    this.context.logger.warn(`${to - from} bytes of a followed file were lost: ${why}`, { file, from, to });
  }

  /** The lag gauge, from the sizes of open files now (stat through the descriptor: cheap, no path lookup). */
  private async sampleLag(): Promise<void> {
    let lag = 0;
    for (const f of [...this.files.values()]) {
      const st = await f.fd?.stat().catch(() => undefined);
      if (st) f.observedSize = st.size;
      lag += f.lag;
    }
    this.m.lag.set(lag);
  }

  /** One batch from each file that has data; returns whether anything was read. */
  private async readRound(emit: InputRuntime['emit'], signal: AbortSignal): Promise<boolean> {
    let progressed = false;
    for (const f of this.files.values()) {
      if (signal.aborted) break;
      if (f.needsInspect) {
        await this.inspect(f, true);
        if (f.atEof) await this.releaseIfOverBudget(f);
      }
      if (f.atEof || f.copyOf) continue;
      if (await this.readBatch(f, emit, false)) progressed = true;
    }
    return progressed;
  }

  private async readBatch(f: TailedFile, emit: InputRuntime['emit'], final: boolean): Promise<boolean> {
    let result;
    let fileId = '';
    try {
      if (!f.fd) await this.reopen(f);
      // Shrunk since it was last looked at: truncated (copytruncate). Seen before reading on, or the read at
      // the old offset would take the new content's bytes there for lines. Checked by size, not content: a
      // server under load can write the same lines again, so the new content can look like the old. One fstat
      // per batch, synchronous: the kernel answers from the inode at once, and the promise version's round trip
      // through the thread pool cost ~0.15 µs a line in the 1M-line benchmark (a 1000-line batch per fstat).
      if (!f.copyOf && fstatSync(f.fd!.fd).size < Math.max(f.readPos, f.size)) {
        await this.inspect(f, true);
        if (f.atEof) return false;
      }
      if (f.readPos === 0 && !f.identityChecked) {
        // Appeared too short to tell whether it is a copy of a followed file: tell now, before reading it.
        const st = await f.fd!.stat();
        this.classify(f, await readHead(f.fd!, st.size));
        if (!f.identityChecked) {
          f.atEof = true; // looked at again when it grows
          return false;
        }
      }
      result = await f.read(this.buf, this.lineOptions, final);
      // Taken while the file is open (it may be closed for the descriptor budget before the emit).
      if (result?.starts?.length) fileId = await f.contentId();
    } catch (err) {
      this.warnOnce(`read:${f.path}`, 'cannot read file; will retry', { file: f.path, error: (err as Error).message });
      f.atEof = true;
      return false;
    }
    f.lastRead = Date.now();
    await this.releaseIfOverBudget(f);
    if (!result || result.bytes === 0) {
      f.atEof = true;
      return false;
    }
    f.readPos = result.end;
    if (result.end > f.size) f.size = result.end;
    if (result.commitEnd === result.end) f.markRead(result.end, fingerprintOf(this.buf.subarray(Math.max(0, result.bytes - MARK_BYTES), result.bytes)));
    this.context.metrics.receivedBytes.inc(result.bytes);
    this.m.lines.inc(result.count);
    if (result.longLines) this.m.longLines.inc(result.longLines);
    if (result.skippedLines) this.m.skipped.inc(result.skippedLines);
    if (result.invalidLines) this.m.invalid.inc(result.invalidLines);
    const settle = f.acked.track(result.commitEnd);
    if (result.count === 0) {
      settle(true); // only skipped bytes: nothing to deliver
      return true;
    }
    let events: Event[] | EncodedLines;
    if (result.undecoded) {
      const field = this.options.path_field;
      events = new EncodedLines({ ...result.undecoded, encoding: this.options.encoding, fields: field === '' ? {} : { [field]: f.path } });
    } else {
      events = this.toEvents(result.lines, f.path);
      if (result.starts) {
        const field = this.options.position_field;
        for (let i = 0; i < events.length; i++) events[i][field] = { file: fileId, offset: result.starts[i] };
      }
    }
    await emit(events, {
      onAck: (r) => {
        settle(r.status === 'delivered');
        this.scheduleCheckpoint();
      },
    });
    return true;
  }

  private toEvents(lines: string[], file: string): Event[] {
    const field = this.options.path_field;
    const events: Event[] = new Array(lines.length);
    if (field === 'file') for (let i = 0; i < lines.length; i++) events[i] = { message: lines[i], file };
    else if (field === '') for (let i = 0; i < lines.length; i++) events[i] = { message: lines[i] };
    else for (let i = 0; i < lines.length; i++) events[i] = { message: lines[i], [field]: file };
    return events;
  }

  /** exit_on_eof: a last line without newline will get none; emit it. */
  private async readFinalLines(emit: InputRuntime['emit']): Promise<void> {
    for (const f of this.files.values()) {
      if (f.readPos < f.size) await this.readBatch(f, emit, true);
    }
  }

  /** Files rotated away or deleted: closed once drained and quiet for rotate_wait. */
  private async closeFinished(): Promise<void> {
    const now = Date.now();
    for (const f of this.files.values()) {
      if (f.detachedAt === undefined || !f.atEof) continue;
      if (now - Math.max(f.detachedAt, f.lastGrowth) < this.options.rotate_wait) continue;
      if (f.acked.pending > 0) continue; // keep its checkpoint entry until the last batch is settled
      await f.close();
      this.files.delete(f.key);
      // Copies of it (copytruncate with no truncate seen) hold its lines: they go on where it ended.
      for (const g of this.files.values()) if (g.copyOf === f.key) g.continueFrom(f);
      // A failed batch pinned its checkpoint: keep it, so that a restart reads those lines again (the file is
      // found under its rotated name). Otherwise the file is done.
      if (!f.acked.isPinned) this.checkpoints.delete(f.key);
      this.context.logger.debug('closed rotated file', { file: f.path });
      this.m.watched.set(this.files.size);
      this.m.open.set(this.openCount());
    }
  }

  /** Open a file closed for the descriptor budget. If it was renamed meanwhile (rotation), look for it by
   * identity in its directory, where logrotate leaves it, so the lines written before the rename are read. */
  private async reopen(f: TailedFile): Promise<void> {
    try {
      await f.ensureOpen();
    } catch (err) {
      const found = await findByIdentity(path.dirname(f.path), f.key);
      if (!found) throw err;
      this.context.logger.debug('found a closed file under a new name', { file: f.path, now: found });
      f.path = found;
      await f.ensureOpen();
    }
    this.m.opened.inc();
  }

  /** Over the descriptor budget (many files active at once): give this one back until its next turn. */
  private async releaseIfOverBudget(f: TailedFile): Promise<void> {
    if (f.fd && this.openCount() > this.options.max_open_files) await f.close();
  }

  /** Above max_open_files, close files that are idle at their end (reopened when they grow). */
  private async limitOpenFiles(): Promise<void> {
    let open = this.openCount();
    if (open <= this.options.max_open_files) return;
    const idle = [...this.files.values()].filter((f) => f.fd && f.atEof && f.detachedAt === undefined).sort((a, b) => a.lastRead - b.lastRead);
    for (const f of idle) {
      if (open <= this.options.max_open_files) break;
      await f.close();
      open--;
    }
    this.m.open.set(open);
  }

  private openCount(): number {
    let n = 0;
    for (const f of this.files.values()) if (f.fd) n++;
    return n;
  }

  private checkpoint(f: TailedFile): void {
    if (f.copyOf) return; // its position is the original's
    const offset = f.acked.committed;
    this.checkpoints.set(f.key, { path: f.path, offset, size: Math.max(f.size, f.observedSize), fingerprint: f.fingerprint, mark: f.markAt(offset), seen: Date.now() });
  }

  /** After an acknowledgement: write soon, one write at a time, at most once per checkpoint_interval,
   * so that a crash repeats only what was delivered since (a few batches at most). */
  private scheduleCheckpoint(): void {
    if (this.checkpointScheduled) return;
    this.checkpointScheduled = true;
    const wait = Math.max(0, this.lastCheckpointAt + this.options.checkpoint_interval - Date.now());
    this.context.timers.after(wait, async () => {
      await this.saveCheckpoints();
      this.lastCheckpointAt = Date.now();
      this.checkpointScheduled = false;
    });
  }

  private async saveCheckpoints(): Promise<void> {
    if (!this.checkpoints) return;
    for (const f of [...this.files.values()]) {
      // A fingerprint taken when the file was nearly empty (just truncated) identifies nothing: take it now
      // from what the file holds, so that after a restart its content can be told from its next generation.
      if (f.fd && !f.copyOf && f.fingerprint.len < Math.min(f.size, FINGERPRINT_BYTES)) await f.checkFingerprint().catch(() => undefined);
      this.checkpoint(f);
    }
    try {
      await this.checkpoints.save();
    } catch (err) {
      this.warnOnce('checkpoint', 'cannot write checkpoints', { file: this.checkpoints.file, error: (err as Error).message });
    }
  }

  private warnOnce(key: string, msg: string, fields: Record<string, unknown>): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.context.logger.warn(msg, fields);
  }
}

/** How long the globs may match nothing at startup before a warning says so. */
const NOTHING_MATCHES_GRACE_MS = 5000;

async function findByIdentity(dir: string, key: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return undefined;
  }
  for (const name of names) {
    const st = await stat(path.join(dir, name)).catch(() => undefined);
    if (st?.isFile() && identityKey(st.dev, st.ino) === key) return path.join(dir, name);
  }
  return undefined;
}

/** Where reading starts in a file first seen at its end: after its last newline, so a line being
 * written at startup comes out whole rather than as a fragment. */
async function startOfLastLine(fd: FileHandle, size: number, maxLineBytes: number): Promise<number> {
  const len = Math.min(size, maxLineBytes + 1);
  if (len === 0) return size;
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fd.read(buf, 0, len, size - len);
  const nl = buf.lastIndexOf(10, bytesRead - 1);
  return nl < 0 ? (len < size ? size : 0) : size - len + nl + 1;
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Why the files of `dir` cannot be listed: it (or a directory above it) does not exist, or this user may not read
 * and search it (EACCES on the path, or no r+x on the directory itself). */
function directoryProblem(dir: string): 'missing' | 'denied' | undefined {
  try {
    statSync(dir);
    accessSync(dir, constants.R_OK | constants.X_OK);
    return undefined;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'EACCES' || code === 'EPERM' ? 'denied' : 'missing';
  }
}
